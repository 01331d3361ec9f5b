// The lecture's panels: one weight's chain rule after "step once", one neuron's graph.
"use strict";

const Panels = (() => {
  const fmt = (v, d = 4) => (v === null || v === undefined || !isFinite(v) ? "–" : Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : v.toFixed(d));
  const sub = (i, j) => `<sub>${i}${j}</sub>`;
  const layerName = (k, total) => (k === total - 1 ? "the output layer" : `hidden layer ${k + 1}`);

  // Text of the chain rule for w_ij of layer k, with the step's numbers.
  function explain(el, m, nLayers) {
    const i = m.i + 1, j = m.j + 1, k = m.layer + 1;
    const input = m.layer === 0 ? `x<sub>${j}</sub> (input feature ${j})` : `z<sub>${j}</sub><sup>(${k - 1})</sup>`;
    const rows = m.delta.map((d, n) => `<tr><td>${n + 1}</td><td>${fmt(d, 6)}</td><td>${fmt(m.z[n])}</td><td>${fmt(d * m.z[n], 6)}</td></tr>`).join("");
    let html = `<p><b>w${sub(i, j)}<sup>(${k})</sup></b> connects ${input} to unit ${i} of ${layerName(m.layer, nLayers)}.
      The chain rule: &part;E/&part;w${sub(i, j)} = &Sigma;<sub>n</sub> &part;E/&part;a<sub>i</sub><sup>n</sup> &middot; &part;a<sub>i</sub><sup>n</sup>/&part;w${sub(i, j)}
      = &Sigma;<sub>n</sub> &delta;<sub>${i}</sub><sup>n</sup> z<sub>${j}</sub><sup>n</sup> over the minibatch of ${m.batch_size}.</p>
      <table><tr><th>n</th><th>&delta;<sub>${i}</sub></th><th>z<sub>${j}</sub></th><th>&delta;&middot;z</th></tr>${rows}
      ${m.batch_size > m.delta.length ? `<tr><td colspan="4">… ${m.batch_size - m.delta.length} more samples</td></tr>` : ""}</table>
      <p>&Sigma;<sub>n</sub> &delta; z = <b id="explain-sum">${fmt(m.sum_delta_z, 6)}</b>; autograd's &part;E/&part;w = <b id="explain-grad">${fmt(m.grad, 6)}</b>
      ${m.regularization !== "none" ? `(it includes the ${m.regularization.toUpperCase()} penalty's term)` : ""}.</p>`;
    if (m.recursion) {
      const r = m.recursion;
      const terms = r.w_next.map((w, q) => `${fmt(w)}&middot;${fmt(r.delta_next[q], 5)}`).join(" + ");
      const total = r.w_next.reduce((s, w, q) => s + w * r.delta_next[q], 0);
      html += `<p>Backward, for sample 1: &delta;<sub>${i}</sub><sup>(${k})</sup> = &sigma;&prime;(a<sub>${i}</sub>) &Sigma;<sub>m</sub> w<sub>m${i}</sub><sup>(${k + 1})</sup> &delta;<sub>m</sub><sup>(${k + 1})</sup>
        = ${fmt(r.sigma_prime)} &times; (${terms}) = <b>${fmt(r.sigma_prime * total, 6)}</b>
        (traced: ${fmt(m.delta[0], 6)})${r.exact ? "" : " — with batch norm or dropout between the layers the recursion has more factors than this"}.</p>`;
    } else {
      html += `<p>At the output, &delta; = &part;E/&part;a = (prediction &minus; target)/N: the loss's own derivative.</p>`;
    }
    html += `<p>Update (${m.optimizer}, &eta; = ${m.learning_rate}): w ${fmt(m.w_before, 6)} &rarr; <b>${fmt(m.w_after, 6)}</b>
      ${m.optimizer === "sgd" ? `= w &minus; &eta; &part;E/&part;w` : "(the optimizer's rule with its state)"}; batch loss ${fmt(m.loss)}.</p>`;
    el.innerHTML = html;
  }

  // One neuron's graph: inputs and weights, products, the sum a, the activation z.
  function graph(svg, dotEl, titleEl, m) {
    const byName = Object.fromEntries(m.nodes.map((n) => [n.name, n]));
    const inputs = m.nodes.filter((n) => !n.name.includes("·") && n.name !== "a" && n.name !== "z" && !/^[wb]\d/.test(n.name));
    const weights = m.nodes.filter((n) => /^w\d/.test(n.name));
    const products = m.nodes.filter((n) => n.name.includes("·"));
    const bias = m.nodes.find((n) => /^b\d/.test(n.name));
    const W = 150, H = 44, gap = 8, colX = [10, 200, 390, 560];
    const rows = inputs.length * 2 + 1;
    const height = rows * (H / 2 + gap) + 40;
    const pos = {};
    inputs.forEach((n, q) => { pos[weights[q].name] = [colX[0], 10 + q * 2 * (H / 2 + gap)]; pos[n.name] = [colX[0], 10 + (q * 2 + 1) * (H / 2 + gap)]; });
    pos[bias.name] = [colX[0], 10 + inputs.length * 2 * (H / 2 + gap)];
    products.forEach((n, q) => { pos[n.name] = [colX[1], 10 + (q * 2 + 0.5) * (H / 2 + gap)]; });
    pos.a = [colX[2], height / 2 - H / 2];
    if (byName.z) pos.z = [colX[3], height / 2 - H / 2];
    let html = "<defs><marker id='arrow' viewBox='0 0 10 10' refX='9' refY='5' markerWidth='6' markerHeight='6' orient='auto'><path d='M0,0L10,5L0,10z' fill='#888'/></marker></defs>";
    for (const e of m.edges) {
      const [x1, y1] = pos[e.from], [x2, y2] = pos[e.to];
      const a = [x1 + (e.from in byName && pos[e.from][0] === colX[0] ? W - 40 : W - 10), y1 + H / 4], b = [x2, y2 + H / 4];
      html += `<line x1="${a[0]}" y1="${a[1]}" x2="${b[0]}" y2="${b[1]}" stroke="#888" marker-end="url(#arrow)"/>`;
      html += `<text class="local" x="${(a[0] + b[0]) / 2}" y="${(a[1] + b[1]) / 2 - 3}">${fmt(e.local, 3)}</text>`;
    }
    for (const n of m.nodes) {
      if (!pos[n.name]) continue;
      const [x, y] = pos[n.name], wide = pos[n.name][0] === colX[0] ? W - 40 : W - 10;
      html += `<g class="gnode"><rect x="${x}" y="${y}" width="${wide}" height="${H / 2 + 6}" rx="4"/>
        <text x="${x + 4}" y="${y + 11}"><tspan class="gname">${n.name}</tspan> = ${fmt(n.value)}</text>
        <text x="${x + 4}" y="${y + 23}" class="ggrad">&part;E/&part; = ${fmt(n.grad, 5)}</text></g>`;
    }
    svg.setAttribute("height", height);
    svg.setAttribute("width", colX[3] + W);
    svg.innerHTML = html;
    const kind = m.activation === "linear" ? "output unit (a is the logit or the value)" : `${m.activation} unit`;
    titleEl.innerHTML = `Unit ${m.unit + 1} of layer ${m.layer + 1}, a ${kind}, at the chosen point: values, local derivatives on the edges, and &part;E<sub>n</sub>/&part;node (E<sub>n</sub> = ${fmt(m.loss)}).`;
    dotEl.textContent = m.dot;
  }

  return { explain, graph, fmt };
})();
