// Drawing for the chainrule playground: heat maps, data points, the network and the curves.
// Values arrive as bytes b = round((v + 1) * 127.5) for v in [-1, 1] (see frames.py).
"use strict";

const Draw = (() => {
  const NEG = [245, 147, 34], MID = [232, 234, 235], POS = [8, 119, 189];
  const DOMAIN = 6;
  const LAYER_COLORS = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d"];

  // Colour of a value in [-1, 1]: orange (negative), light grey (0), blue (positive).
  const PALETTE = [];
  for (let b = 0; b < 256; b++) {
    const v = b / 127.5 - 1, t = Math.abs(v), end = v < 0 ? NEG : POS;
    PALETTE.push(MID.map((m, k) => Math.round(m + (end[k] - m) * t)));
  }
  function colorOf(v) {
    const c = PALETTE[Math.max(0, Math.min(255, Math.round((v + 1) * 127.5)))];
    return `rgb(${c[0]},${c[1]},${c[2]})`;
  }

  function decode(b64) {
    const text = atob(b64), out = new Uint8Array(text.length);
    for (let k = 0; k < text.length; k++) out[k] = text.charCodeAt(k);
    return out;
  }

  // Paint a grid of bytes (row by row from the top) into a canvas of the grid's size.
  function paintBytes(canvas, bytes, size, discretize) {
    if (canvas.width !== size) { canvas.width = size; canvas.height = size; }
    const ctx = canvas.getContext("2d"), img = ctx.createImageData(size, size);
    for (let k = 0; k < size * size; k++) {
      let b = bytes[k];
      if (discretize) b = b >= 128 ? 255 : 0;
      const c = PALETTE[b];
      img.data[4 * k] = c[0]; img.data[4 * k + 1] = c[1]; img.data[4 * k + 2] = c[2];
      img.data[4 * k + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }
  function paintMap(canvas, b64, size, discretize) { paintBytes(canvas, decode(b64), size, discretize); }

  // An input feature's own map, computed here: it never changes.
  const FEATURES = {
    x1: (a, b) => a / DOMAIN, x2: (a, b) => b / DOMAIN,
    x1sq: (a, b) => (a * a) / (DOMAIN * DOMAIN), x2sq: (a, b) => (b * b) / (DOMAIN * DOMAIN),
    x1x2: (a, b) => (a * b) / (DOMAIN * DOMAIN), sinx1: (a, b) => Math.sin(a), sinx2: (a, b) => Math.sin(b),
  };
  const FEATURE_LABELS = {
    x1: "X<sub>1</sub>", x2: "X<sub>2</sub>", x1sq: "X<sub>1</sub><sup>2</sup>", x2sq: "X<sub>2</sub><sup>2</sup>",
    x1x2: "X<sub>1</sub>X<sub>2</sub>", sinx1: "sin(X<sub>1</sub>)", sinx2: "sin(X<sub>2</sub>)",
  };
  function paintFeature(canvas, name, size) {
    const bytes = new Uint8Array(size * size);
    for (let r = 0; r < size; r++) {
      for (let c = 0; c < size; c++) {
        const a = ((c + 0.5) / size) * 2 * DOMAIN - DOMAIN, b = DOMAIN - ((r + 0.5) / size) * 2 * DOMAIN;
        const v = Math.max(-1, Math.min(1, FEATURES[name](a, b)));
        bytes[r * size + c] = Math.round((v + 1) * 127.5);
      }
    }
    paintBytes(canvas, bytes, size, false);
  }

  // Data points over the output map; the chosen input point as a ring.
  function paintPoints(canvas, data, showTest, chosen) {
    const ctx = canvas.getContext("2d"), w = canvas.width, h = canvas.height;
    ctx.clearRect(0, 0, w, h);
    if (!data) return;
    const px = (x) => ((x + DOMAIN) / (2 * DOMAIN)) * w, py = (y) => ((DOMAIN - y) / (2 * DOMAIN)) * h;
    const value = (y) => (data.problem === "classification" ? 2 * y - 1 : y);
    const sets = showTest ? [[data.train, "#fff"], [data.test, "#000"]] : [[data.train, "#fff"]];
    for (const [rows, stroke] of sets) {
      for (const [x1, x2, y] of rows) {
        ctx.beginPath();
        ctx.arc(px(x1), py(x2), 3.2, 0, 2 * Math.PI);
        ctx.fillStyle = colorOf(value(y));
        ctx.fill();
        ctx.strokeStyle = stroke;
        ctx.lineWidth = 1;
        ctx.stroke();
      }
    }
    if (chosen) {
      ctx.beginPath();
      ctx.arc(px(chosen[0]), py(chosen[1]), 7, 0, 2 * Math.PI);
      ctx.strokeStyle = "#d00";
      ctx.lineWidth = 2;
      ctx.stroke();
    }
  }

  // A line chart of several series on one canvas; `log` plots log10 of positive values.
  function paintCurves(canvas, series, { log = false, markers = [] } = {}) {
    const ctx = canvas.getContext("2d"), w = canvas.width, h = canvas.height;
    ctx.clearRect(0, 0, w, h);
    const n = Math.max(1, ...series.map((s) => s.values.length)) - 1 || 1;
    const tf = (v) => (v === null || !isFinite(v) || (log && v <= 0) ? null : log ? Math.log10(v) : v);
    let lo = Infinity, hi = -Infinity;
    for (const s of series) for (const v of s.values) { const t = tf(v); if (t !== null) { lo = Math.min(lo, t); hi = Math.max(hi, t); } }
    if (!isFinite(lo)) return;
    if (!log) lo = Math.min(0, lo);
    if (hi - lo < 1e-9) hi = lo + 1;
    const X = (k) => (k / n) * (w - 4) + 2, Y = (t) => h - 2 - ((t - lo) / (hi - lo)) * (h - 14);
    for (const m of markers) {
      if (m.epoch === null || m.epoch === undefined) continue;
      ctx.strokeStyle = m.color; ctx.setLineDash(m.dash || []); ctx.lineWidth = 1;
      ctx.beginPath(); ctx.moveTo(X(m.epoch), 10); ctx.lineTo(X(m.epoch), h); ctx.stroke();
      ctx.setLineDash([]); ctx.fillStyle = m.color; ctx.font = "9px sans-serif";
      ctx.fillText(m.label, Math.min(X(m.epoch) + 2, w - 60), 9);
    }
    for (const s of series) {
      ctx.strokeStyle = s.color; ctx.lineWidth = 1.5; ctx.beginPath();
      let pen = false;
      s.values.forEach((v, k) => {
        const t = tf(v);
        if (t === null) { pen = false; return; }
        if (pen) ctx.lineTo(X(k), Y(t)); else ctx.moveTo(X(k), Y(t));
        pen = true;
      });
      ctx.stroke();
    }
    if (log) {
      ctx.fillStyle = "#666"; ctx.font = "9px sans-serif";
      ctx.fillText(`1e${hi.toFixed(1)}`, 2, 20); ctx.fillText(`1e${lo.toFixed(1)}`, 2, h - 4);
    }
  }

  // The weights as lines: blue positive, orange negative, thickness |w|.
  function paintLinks(svg, network, weights) {
    const box = network.getBoundingClientRect();
    svg.setAttribute("width", box.width); svg.setAttribute("height", box.height);
    const centre = (el) => {
      const r = el.getBoundingClientRect();
      return [r.left - box.left + r.width / 2, r.top - box.top + r.height / 2, r.width / 2];
    };
    const columns = [...network.querySelectorAll(".layer")].map((col) => [...col.querySelectorAll(".node:not(.off) canvas")]);
    let html = "";
    weights.forEach((layer, k) => {
      const from = columns[k], to = columns[k + 1];
      if (!from || !to) return;
      layer.weight.forEach((row, i) => row.forEach((w, j) => {
        if (!to[i] || !from[j]) return;
        const [x1, y1, r1] = centre(from[j]), [x2, y2, r2] = centre(to[i]);
        const a = x1 + r1, b = x2 - r2, mid = (a + b) / 2;
        const value = w === null ? 0 : w;
        const width = Math.min(8, 0.5 + Math.abs(value) * 2);
        const color = w === null ? "#d00" : colorOf(Math.max(-1, Math.min(1, value * 2)));
        html += `<path class="link" data-layer="${k}" data-i="${i}" data-j="${j}" d="M${a},${y1} C${mid},${y1} ${mid},${y2} ${b},${y2}" stroke="${color}" stroke-width="${width.toFixed(2)}"><title>w${i + 1}${j + 1} of layer ${k + 1} = ${w === null ? "not finite" : value.toFixed(4)}</title></path>`;
      }));
    });
    svg.innerHTML = html;
  }

  return { LAYER_COLORS, FEATURE_LABELS, colorOf, decode, paintMap, paintFeature, paintPoints, paintCurves, paintLinks };
})();
