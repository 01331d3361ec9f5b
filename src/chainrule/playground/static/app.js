// The chainrule playground page: controls, the WebSocket to this tab's training session, the URL.
// The server (chainrule.playground.server) trains and checks every setting; this page only shows.
"use strict";

const $ = (id) => document.getElementById(id);
const FEATURE_ORDER = ["x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2"];
const state = {
  ws: null, session: null, config: null, defaults: null, data: null, frame: null, playing: false,
  history: { train: [], test: [], grad_norms: [] }, weight: { layer: 0, i: 0, j: 0 },
  framesThisSecond: 0, urlApplied: false,
};

function send(message) {
  if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(message));
}
function sendSettings(settings) { send({ type: "config", settings }); }

function showMessage(text) { const el = $("message"); el.textContent = text; el.hidden = false; }
function hideMessage() { $("message").hidden = true; }

// ---- the URL holds every setting that differs from the defaults ------------------------------
function urlSettings() {
  const settings = {};
  for (const [k, v] of new URLSearchParams(location.search)) settings[k] = v;
  return settings;
}
function writeURL(config) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(config)) {
    const text = Array.isArray(v) ? v.join(",") : String(v);
    const base = state.defaults[k], baseText = Array.isArray(base) ? base.join(",") : String(base);
    if (text !== baseText) params.set(k, text);
  }
  const query = params.toString();
  history.replaceState(null, "", query ? `?${query}` : location.pathname);
}

// ---- controls -----------------------------------------------------------------------------------
function syncControls(config) {
  for (const el of document.querySelectorAll("header [name], .data [name]")) {
    const v = config[el.name];
    if (v === undefined) continue;
    if (el.type === "checkbox") el.checked = Boolean(v); else el.value = String(v);
    el.classList.remove("bad");
  }
  $("noise-value").textContent = config.noise;
  $("train-percent-value").textContent = config.train_percent;
  for (const el of document.querySelectorAll(".opt")) el.hidden = !el.classList.contains(`opt-${config.optimizer}`);
  $("batch-size").disabled = config.regime !== "minibatch";
  $("layer-count").textContent = config.hidden.length;
}

function wireControls() {
  for (const el of document.querySelectorAll("header [name], .data [name]")) {
    const submit = () => {
      el.classList.add("bad"); // cleared when the server accepts the value
      sendSettings({ [el.name]: el.type === "checkbox" ? el.checked : el.value });
    };
    el.addEventListener("change", submit);
    if (el.tagName === "INPUT" && el.type !== "checkbox" && el.type !== "range") {
      el.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); submit(); } });
    }
  }
  $("noise").addEventListener("input", () => { $("noise-value").textContent = $("noise").value; });
  $("train-percent").addEventListener("input", () => { $("train-percent-value").textContent = $("train-percent").value; });
  $("play").addEventListener("click", () => send({ type: state.playing ? "pause" : "play" }));
  $("step").addEventListener("click", () => send({ type: "step" }));
  $("reset").addEventListener("click", () => send({ type: "reset" }));
  $("regenerate").addEventListener("click", () => send({ type: "regenerate" }));
  $("add-layer").addEventListener("click", () => sendSettings({ hidden: [...state.config.hidden, 2] }));
  $("remove-layer").addEventListener("click", () => sendSettings({ hidden: state.config.hidden.slice(0, -1) }));
  $("step-once").addEventListener("click", () => send({ type: "explain", ...state.weight }));
  $("show-test").addEventListener("change", drawPoints);
  $("discretize").addEventListener("change", () => state.frame && drawFrame(state.frame));
  $("points").addEventListener("click", choosePoint);
  window.addEventListener("resize", () => state.frame && drawLinks());
}

// ---- the network ------------------------------------------------------------------------------
function buildNetwork(config) {
  const net = $("network");
  const size = 50;
  let html = '<svg id="links"></svg><div class="layer features">';
  html += '<div class="layer-head">inputs</div>';
  for (const f of FEATURE_ORDER) {
    const on = config.features.includes(f);
    html += `<div class="node feature${on ? "" : " off"}" data-feature="${f}" title="click to ${on ? "remove" : "add"} this input">
      <canvas width="${size}" height="${size}" data-feature="${f}"></canvas><span>${Draw.FEATURE_LABELS[f]}</span></div>`;
  }
  html += "</div>";
  config.hidden.forEach((n, k) => {
    html += `<div class="layer"><div class="layer-head"><button data-layer="${k}" data-delta="-1">&minus;</button><button data-layer="${k}" data-delta="1">+</button><br>${n} neuron${n > 1 ? "s" : ""}</div>`;
    for (let u = 0; u < n; u++) html += `<div class="node"><canvas class="neuron" data-layer="${k}" data-unit="${u}" width="${size}" height="${size}"></canvas></div>`;
    html += "</div>";
  });
  const out = config.hidden.length;
  html += `<div class="layer"><div class="layer-head">output</div><div class="node"><canvas class="neuron output-node" data-layer="${out}" data-unit="0" width="${size}" height="${size}"></canvas></div></div>`;
  net.innerHTML = html;
  for (const c of net.querySelectorAll(".feature canvas")) Draw.paintFeature(c, c.dataset.feature, size);
  for (const node of net.querySelectorAll(".feature")) {
    node.addEventListener("click", () => {
      const f = node.dataset.feature, now = state.config.features;
      sendSettings({ features: now.includes(f) ? now.filter((x) => x !== f) : [...now, f] });
    });
  }
  for (const b of net.querySelectorAll(".layer-head button")) {
    b.addEventListener("click", () => {
      const hidden = [...state.config.hidden];
      hidden[+b.dataset.layer] += +b.dataset.delta;
      sendSettings({ hidden });
    });
  }
  for (const c of net.querySelectorAll("canvas.neuron")) {
    c.addEventListener("mouseenter", (e) => showNeuron(c, e));
    c.addEventListener("mousemove", (e) => moveTooltip(e));
    c.addEventListener("mouseleave", () => { $("tooltip").hidden = true; });
    c.addEventListener("click", () => send({ type: "graph", layer: +c.dataset.layer, unit: +c.dataset.unit }));
  }
  $("links").addEventListener("click", (e) => {
    const p = e.target.closest(".link");
    if (!p) return;
    state.weight = { layer: +p.dataset.layer, i: +p.dataset.i, j: +p.dataset.j };
    showChosenWeight();
    drawLinks();
  });
  state.weight = { layer: 0, i: 0, j: 0 };
  showChosenWeight();
}

function showChosenWeight() {
  const { layer, i, j } = state.weight;
  $("chosen-weight").innerHTML = `w<sub>${i + 1}${j + 1}</sub> of layer ${layer + 1}`;
}

function showNeuron(canvas, e) {
  const p = state.frame && state.frame.point;
  const k = +canvas.dataset.layer, u = +canvas.dataset.unit;
  const tip = $("tooltip");
  if (!p) { tip.textContent = "no values at the chosen point"; } else {
    const f = Panels.fmt;
    tip.innerHTML = `unit ${u + 1} of layer ${k + 1} at (${f(p.point[0], 2)}, ${f(p.point[1], 2)}):<br>
      a = ${f(p.a[k][u])}<br>z = ${f(p.z[k][u])}<br>&delta; = &part;E<sub>n</sub>/&part;a = ${f(p.delta[k][u], 6)}`;
  }
  tip.hidden = false;
  moveTooltip(e);
}
function moveTooltip(e) { const t = $("tooltip"); t.style.left = `${e.pageX + 12}px`; t.style.top = `${e.pageY + 12}px`; }

function drawLinks() {
  if (!state.frame) return;
  Draw.paintLinks($("links"), $("network"), state.frame.weights);
  const { layer, i, j } = state.weight;
  const chosen = $("links").querySelector(`.link[data-layer="${layer}"][data-i="${i}"][data-j="${j}"]`);
  if (chosen) chosen.classList.add("chosen");
}

// ---- frames -------------------------------------------------------------------------------------
function drawPoints() {
  const p = state.frame && state.frame.point;
  Draw.paintPoints($("points"), state.data, $("show-test").checked, p ? p.point : null);
}

function choosePoint(e) {
  if (!state.data) return;
  const r = e.target.getBoundingClientRect();
  const x1 = ((e.clientX - r.left) / r.width) * 12 - 6, x2 = 6 - ((e.clientY - r.top) / r.height) * 12;
  let best = null, bestD = Infinity;
  for (const row of state.data.train) { const d = (row[0] - x1) ** 2 + (row[1] - x2) ** 2; if (d < bestD) { bestD = d; best = row; } }
  send({ type: "point", x1: best[0], x2: best[1], label: best[2] });
}

function drawFrame(m) {
  const discrete = $("discretize").checked;
  Draw.paintMap($("boundary"), m.boundary, m.grid, discrete);
  for (const c of document.querySelectorAll("canvas.neuron")) {
    const k = +c.dataset.layer, u = +c.dataset.unit;
    if (c.classList.contains("output-node")) Draw.paintMap(c, m.boundary, m.grid, false);
    else if (m.neurons[k] && m.neurons[k][u]) Draw.paintMap(c, m.neurons[k][u], m.neuron_grid, false);
  }
  drawLinks();
  drawPoints();
}

function onFrame(m) {
  state.frame = m;
  state.framesThisSecond += 1;
  state.playing = m.playing;
  $("play").textContent = m.playing ? "\u275A\u275A pause" : "\u25B6 play";
  $("play").classList.toggle("playing", m.playing);
  $("epoch").textContent = String(m.epoch);
  $("train-loss").textContent = m.train_loss === null ? "NaN" : m.train_loss.toFixed(3);
  $("test-loss").textContent = m.test_loss === null ? "NaN" : m.test_loss.toFixed(3);
  const h = state.history;
  for (const key of ["train", "test", "grad_norms"]) {
    h[key] = h[key].slice(0, m.history.start).concat(m.history[key]);
  }
  if (m.diverged) showMessage(m.diverged);
  drawFrame(m);
  Draw.paintCurves($("loss-curve"), [
    { values: h.train, color: "#999" }, { values: h.test, color: "#000" },
  ], { markers: [
    { epoch: m.best_epoch, color: "#1a7f37", label: "best test" },
    { epoch: m.stop_epoch, color: "#c00", dash: [3, 3], label: "early stop" },
  ] });
  Draw.paintCurves($("step-losses"), [{ values: m.step_losses, color: "#0877bd" }]);
  const nLayers = m.weights.length;
  const series = [];
  let legend = "";
  for (let k = 0; k < nLayers; k++) {
    const color = Draw.LAYER_COLORS[k % Draw.LAYER_COLORS.length];
    series.push({ values: h.grad_norms.map((row) => row[k]), color });
    legend += `<span style="color:${color}">&#9632; layer ${k + 1}: ${Panels.fmt(m.grad_norms[k], 5)}</span> `;
  }
  Draw.paintCurves($("grad-norms"), series, { log: true });
  $("grad-legend").innerHTML = `‖&part;E/&part;W‖ per epoch (log scale): ${legend}`;
}

function onMessage(m) {
  if (m.type === "hello") {
    state.session = m.session;
    state.defaults = m.config;
    $("export-model").href = `/export/model?session=${encodeURIComponent(m.session)}`;
    $("export-code").href = `/export/code?session=${encodeURIComponent(m.session)}`;
    const fromURL = urlSettings();
    if (Object.keys(fromURL).length) sendSettings(fromURL);
  } else if (m.type === "config") {
    hideMessage();
    state.config = m.config;
    if (m.reset || !$("network").querySelector(".layer")) {
      state.history = { train: [], test: [], grad_norms: [] };
      buildNetwork(m.config);
    }
    syncControls(m.config);
    if (state.defaults) writeURL(m.config);
  } else if (m.type === "data") {
    state.data = m;
    drawPoints();
  } else if (m.type === "frame") {
    onFrame(m);
  } else if (m.type === "error") {
    showMessage(m.message);
    if (state.config) syncControls(state.config);
    for (const el of document.querySelectorAll("header [name], .data [name]")) el.classList.remove("bad");
  } else if (m.type === "explain") {
    Panels.explain($("explain"), m, state.config.hidden.length + 1);
  } else if (m.type === "graph") {
    Panels.graph($("graph"), $("graph-dot"), $("graph-title"), m);
  }
}

function connect() {
  const ws = new WebSocket(`ws://${location.host}/ws`);
  state.ws = ws;
  ws.onmessage = (e) => onMessage(JSON.parse(e.data));
  ws.onclose = () => showMessage("The connection to the playground server closed; restart 'chainrule playground' and reload.");
}

setInterval(() => { $("fps").textContent = String(state.framesThisSecond); state.framesThisSecond = 0; }, 1000);
wireControls();
connect();
