//! The page `nnc serve` shows: the program in an editor beside its training, in one file
//! with its script and style (nothing is fetched from elsewhere). It draws only what the
//! server sends: diagnostics from `/api/check`, losses from `/api/events`.

pub(crate) const PAGE: &str = r##"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>nnc serve</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 0; display: flex; flex-direction: column; height: 100vh; }
  header { padding: 6px 12px; background: #24292f; color: #fff; display: flex; gap: 12px; align-items: center; }
  header button { font: inherit; }
  main { flex: 1; display: flex; min-height: 0; }
  #left { flex: 1; display: flex; flex-direction: column; border-right: 1px solid #ccc; }
  #editor { flex: 1; position: relative; min-height: 0; }
  #source, #colours { position: absolute; inset: 0; margin: 0; box-sizing: border-box; font: 13px/1.4 ui-monospace, monospace;
    padding: 8px; border: 0; tab-size: 2; white-space: pre-wrap; overflow-wrap: break-word; overflow: auto; }
  #source { resize: none; background: transparent; color: transparent; caret-color: #000; z-index: 1; }
  #colours { color: #24292f; pointer-events: none; }
  .t-comment { color: #6a737d; } .t-block { color: #d73a49; font-weight: bold; } .t-name { color: #6f42c1; }
  .t-layer { color: #005cc5; font-weight: bold; } .t-setting { color: #e36209; } .t-activation { color: #22863a; }
  .t-constant { color: #032f62; } .t-number { color: #005cc5; } .t-string { color: #032f62; }
  .t-operator { color: #d73a49; } .t-invalid { color: #b31d28; background: #ffeef0; }
  #diagnostics { max-height: 30%; overflow: auto; margin: 0; padding: 6px 12px; background: #fff8f0; font: 13px ui-monospace, monospace; }
  #diagnostics:empty { display: none; }
  .code { color: #b00; font-weight: bold; }
  #right { flex: 1; padding: 8px 12px; overflow: auto; }
  #status { font-weight: bold; }
  svg { background: #fafafa; border: 1px solid #ddd; }
  #results { font: 13px ui-monospace, monospace; white-space: pre-wrap; }
  #changed { padding: 6px 12px; background: #fff3bf; border-bottom: 1px solid #e0c060; }
  header input { width: 6em; font: inherit; }
  header label { font-size: 13px; }
  #diagnosis { font: 13px system-ui, sans-serif; padding-left: 18px; }
  #diagnosis:empty { display: none; }
  #trace { font: 12px/1.3 ui-monospace, monospace; background: #f6f8fa; padding: 8px; overflow: auto; max-height: 60vh; }
  #trace:empty { display: none; }
  .hint { color: #555; }
</style>
</head>
<body>
<header>
  <strong>nnc serve</strong> <span id="path"></span>
  <button id="run">Run</button> <button id="pause">Pause</button> <button id="stop">Stop</button> <button id="step">Step</button>
  <button id="reset">Reset</button> <button id="save">Save</button>
  <button id="reload">Reload from disk</button>
  <label>learning rate <input id="lr" type="number" min="0" step="any" placeholder="program's"></label>
  <label>seed <input id="seed" type="number" min="0" step="1" placeholder="program's"></label>
  <label>epochs/s <input id="eps" type="number" min="0" step="any" placeholder="all out"></label>
  <span id="status">loading</span>
</header>
<div id="changed" hidden>
  The file changed on disk. <button id="take">Reload it</button> <button id="keep">Keep what is in the editor</button>
</div>
<main>
  <section id="left">
    <div id="editor">
      <pre id="colours" aria-hidden="true"></pre>
      <textarea id="source" spellcheck="false" aria-label="program"></textarea>
    </div>
    <ul id="diagnostics"></ul>
  </section>
  <section id="right">
    <svg id="chart" width="520" height="300" aria-label="loss per epoch"></svg>
    <div><img id="decision" alt="decision boundary" width="520" hidden></div>
    <div id="figures"></div>
    <div id="results"></div>
    <ul id="diagnosis" aria-label="diagnosis"></ul>
    <pre id="trace" aria-label="the trace of a step"></pre>
  </section>
</main>
<script>
"use strict";
const token = new URLSearchParams(location.search).get("token") || "";
const $ = (id) => document.getElementById(id);
const call = (method, path, body) =>
  fetch(path, { method, body, headers: { "X-NNC-Token": token } }).then((r) => r.json());
let losses = [], valLosses = [], epochs = 1, stream = null, checking = null;
// The file's text as last loaded, saved or dismissed: a different text on disk is offered.
let onDisk = null;

function setStatus(text) { $("status").textContent = text; }

// Syntax colouring by the editors' TextMate grammar (GET /api/grammar), applied with
// TextMate's rules for the parts it uses (match, begin/end with captures, includes): the
// coloured text lies under the transparent text of the editor.
let grammar = null;
const CLASSES = [
  ["comment", "t-comment"], ["keyword.control", "t-block"], ["entity.name", "t-name"],
  ["storage.type.layer", "t-layer"], ["keyword.other.setting", "t-setting"],
  ["support.function.activation", "t-activation"], ["support.function.math", "t-activation"],
  ["support.constant", "t-constant"], ["constant.numeric", "t-number"], ["string", "t-string"],
  ["keyword.operator", "t-operator"], ["invalid", "t-invalid"],
];
function classOf(scope) {
  const found = CLASSES.find(([prefix]) => (scope || "").startsWith(prefix));
  return found ? found[1] : null;
}
function resolve(patterns) {
  const out = [];
  for (const p of patterns) {
    if (p.include) {
      const rule = grammar.repository[p.include.slice(1)];
      if (rule) out.push(...(rule.patterns && !rule.begin && !rule.match ? resolve(rule.patterns) : [rule]));
    } else if (p.patterns && !p.begin && !p.match) {
      out.push(...resolve(p.patterns));
    } else {
      out.push(p);
    }
  }
  return out;
}
function earliest(line, pos, candidates) {
  let best = null;
  for (const c of candidates) {
    const re = new RegExp(c.source, "gd");
    re.lastIndex = pos;
    const m = re.exec(line);
    if (m && m[0].length > 0 && (best === null || m.index < best.match.index)) best = { match: m, candidate: c };
  }
  return best;
}
// Appends `text` to `out`, in a span of the scope's colour when it has one.
function emit(out, text, scope) {
  if (!text) return;
  const cls = classOf(scope);
  if (!cls) { out.append(text); return; }
  const span = document.createElement("span");
  span.className = cls;
  span.textContent = text;
  out.append(span);
}
// A begin or end match: its numbered captures coloured, the rest as the rule's own scope.
function emitMatch(out, match, captures, scope) {
  const groups = [];
  for (let g = 1; g < match.length; g++) {
    if (match[g] !== undefined && captures && captures[g]) groups.push([match.indices[g], captures[g].name]);
  }
  if (captures && captures[0]) { emit(out, match[0], captures[0].name); return; }
  let at = match.index;
  for (const [[start, end], name] of groups) {
    emit(out, match.input.slice(at, start), scope);
    emit(out, match.input.slice(start, end), name);
    at = end;
  }
  emit(out, match.input.slice(at, match.index + match[0].length), scope);
}
function colour(text) {
  const out = $("colours");
  out.textContent = "";
  if (!grammar) { out.textContent = text; return; }
  const stack = [];
  text.split("\n").forEach((line, number) => {
    if (number > 0) out.append("\n");
    let pos = 0;
    while (pos < line.length) {
      const top = stack.length ? stack[stack.length - 1] : null;
      const candidates = resolve(top ? top.patterns : grammar.patterns).map((rule) => ({ source: rule.match || rule.begin, rule }));
      if (top) candidates.unshift({ source: top.end, rule: top, end: true });
      const found = earliest(line, pos, candidates);
      const stop = found ? found.match.index : line.length;
      emit(out, line.slice(pos, stop), null);
      if (!found) break;
      const { match, candidate } = found;
      if (candidate.end) {
        emitMatch(out, match, candidate.rule.endCaptures, candidate.rule.name);
        stack.pop();
      } else if (candidate.rule.begin) {
        emitMatch(out, match, candidate.rule.beginCaptures, candidate.rule.name);
        stack.push(candidate.rule);
      } else {
        emit(out, match[0], candidate.rule.name);
      }
      pos = match.index + match[0].length;
    }
  });
  // A last empty line still takes its height, so the two layers scroll alike.
  out.append("\n");
  out.scrollTop = $("source").scrollTop;
}

function showDiagnostics(list) {
  const box = $("diagnostics");
  box.textContent = "";
  for (const d of list) {
    const item = document.createElement("li");
    const code = document.createElement("span");
    code.className = "code";
    code.textContent = d.code;
    item.append(code, ` ${d.line}:${d.column} ${d.message}` + (d.help ? ` (help: ${d.help})` : ""));
    box.append(item);
  }
  return list.length === 0;
}

function check() {
  return call("POST", "/api/check", $("source").value).then((r) => {
    const ok = showDiagnostics(r.diagnostics || []);
    setStatus(ok ? "valid" : `${r.diagnostics.length} error(s)`);
    return ok;
  });
}

function draw() {
  const svg = $("chart"), w = 520, h = 300, pad = 40;
  const all = losses.concat(valLosses).map((p) => p[1]).filter((v) => v !== null && v > 0);
  if (all.length === 0) {
    svg.innerHTML = `<text x="${pad}" y="16" font-size="12">loss by epoch: none yet (Run trains the program)</text>`;
    svg.dataset.points = "0";
    svg.dataset.last = "";
    return;
  }
  const top = Math.max(...all, 1e-12), bottom = Math.min(...all, top);
  const logTop = Math.log10(top), logBottom = Math.log10(bottom) - 1e-9;
  const x = (e) => pad + (w - 2 * pad) * (e / Math.max(epochs, 1));
  const y = (v) => h - pad - (h - 2 * pad) * ((Math.log10(v) - logBottom) / (logTop - logBottom || 1));
  const path = (points, colour) => {
    const d = points.filter((p) => p[1] !== null && p[1] > 0).map((p, i) => `${i ? "L" : "M"}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join("");
    return d ? `<path d="${d}" fill="none" stroke="${colour}" stroke-width="2"/>` : "";
  };
  svg.innerHTML =
    `<text x="${pad}" y="16" font-size="12">loss (log scale) by epoch: train (blue), validation (orange)</text>` +
    `<text x="4" y="${pad}" font-size="11">${top.toPrecision(3)}</text>` +
    `<text x="4" y="${h - pad}" font-size="11">${bottom.toPrecision(3)}</text>` +
    `<text x="${w - pad}" y="${h - 8}" font-size="11" text-anchor="end">${epochs}</text>` +
    path(losses, "#1f77b4") + path(valLosses, "#ff7f0e");
  svg.dataset.points = String(losses.length);
  svg.dataset.last = losses.length ? String(losses[losses.length - 1][1]) : "";
}

// The image a figure is shown in: the decision boundary's, or one made for it (the loss
// surface, a minimize block's function and path).
function figureImage(name) {
  if (name === "decision") return $("decision");
  const id = "figure-" + name;
  let img = document.getElementById(id);
  if (!img) {
    img = document.createElement("img");
    img.id = id;
    img.alt = name;
    img.width = 520;
    $("figures").append(img);
  }
  return img;
}

// nnc's diagnosis of each trained block, as `nnc run` prints it: at the end, or (`when`)
// what it has seen so far of the block training now.
function showDiagnosis(jobs, when) {
  const list = $("diagnosis");
  list.textContent = "";
  list.dataset.live = when ? "true" : "false";
  for (const job of jobs) {
    for (const finding of job.diagnosis || []) {
      const item = document.createElement("li");
      item.dataset.kind = finding.kind;
      const hint = document.createElement("div");
      hint.className = "hint";
      hint.textContent = finding.evidence.join("; ") + " — what to do: " + finding.hint;
      item.append(`${job.model}${when ? " (" + when + ")" : ""}: ${finding.message}`, hint);
      list.append(item);
    }
  }
}

// The run's settings as a query: each field the user filled in.
function settings() {
  const query = new URLSearchParams();
  for (const [field, name] of [["lr", "lr"], ["seed", "seed"], ["eps", "eps"]]) {
    const value = $(field).value.trim();
    if (value !== "") query.set(name, value);
  }
  const text = query.toString();
  return text ? "?" + text : "";
}

function listen() {
  if (stream) stream.close();
  losses = []; valLosses = []; epochs = 1;
  stream = new EventSource(`/api/events?from=0&token=${encodeURIComponent(token)}`);
  stream.onmessage = (message) => {
    const event = JSON.parse(message.data).data;
    if (event.event === "epoch") {
      epochs = event.epochs;
      losses.push([event.epoch, event.loss]);
      if (event.val_loss !== null) valLosses.push([event.epoch, event.val_loss]);
      if (!paused) setStatus(`${event.model}: epoch ${event.epoch}/${event.epochs}, loss ${event.loss}`);
      draw();
    } else if (event.event === "figure") {
      // Drawn by the server with nnc plot's code; shown as an image, so nothing in it runs.
      const img = figureImage(event.name);
      if (img && event.svg) {
        img.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(event.svg);
        img.hidden = false;
        img.dataset.epoch = String(event.epoch);
      }
    } else if (event.event === "diagnosis") {
      showDiagnosis([{ model: event.model, diagnosis: event.findings }], `so far, at epoch ${event.epoch}`);
    } else if (event.event === "done") {
      stream.close();
      setPaused(false);
      const lines = event.jobs.map((j) => `${j.model}: final loss ${j.final_loss} after ${j.epochs} epochs` +
        (j.interrupted ? " (stopped)" : "") + ` (learning rate ${j.learning_rate}, seed ${j.seed})\n` +
        j.splits.map((s) => `  ${s.name}: ${s.rows} rows, loss ${s.loss}` +
          (s.scores.accuracy !== undefined ? `, accuracy ${(100 * s.scores.accuracy).toFixed(1)}%` : "")).join("\n"));
      $("results").textContent = lines.join("\n");
      showDiagnosis(event.jobs);
      setStatus("done");
    } else if (event.event === "error") {
      stream.close();
      showDiagnostics(event.diagnostics);
      setStatus("failed");
    }
  };
}

$("run").onclick = () => check().then((ok) => {
  if (!ok) return;
  $("results").textContent = "";
  setPaused(false);
  $("diagnosis").textContent = "";
  $("figures").textContent = "";
  call("POST", "/api/run" + settings(), $("source").value).then((r) => {
    if (r.error) { setStatus(r.error); return; }
    setStatus("running");
    listen();
  });
});
$("stop").onclick = () => { setPaused(false); call("POST", "/api/stop"); };
// Pause holds the run where it is (the server waits at its next progress report);
// pressed again, it goes on.
let paused = false;
function setPaused(value) {
  paused = value;
  $("pause").textContent = paused ? "Resume" : "Pause";
}
$("pause").onclick = () => {
  const next = !paused;
  call("POST", next ? "/api/pause" : "/api/resume").then(() => {
    setPaused(next);
    if (next) setStatus("paused");
  });
};
// Step shows the next training step with real numbers (`nnc trace --step N`): the
// matrices of the forward pass, the gradients and the update, as the course writes them.
let traceStep = 0;
$("step").onclick = () => {
  traceStep += 1;
  const query = settings();
  const path = "/api/trace" + (query ? query + "&" : "?") + "step=" + traceStep;
  call("POST", path, $("source").value).then((r) => {
    if (r.diagnostics) { showDiagnostics(r.diagnostics); setStatus("cannot trace"); return; }
    if (r.error) { setStatus(r.error); return; }
    $("trace").textContent = r.text;
    setStatus(`step ${r.step}`);
  });
};
// Reset stops a run and clears what it drew; the next Step is the first again.
$("reset").onclick = () => {
  call("POST", "/api/stop");
  if (stream) stream.close();
  losses = []; valLosses = []; epochs = 1; traceStep = 0;
  for (const id of ["results", "diagnosis", "figures", "trace"]) $(id).textContent = "";
  $("decision").hidden = true;
  draw();
  setStatus("reset");
};
$("save").onclick = () => {
  const text = $("source").value;
  call("PUT", "/api/program", text).then((r) => {
    if (!r.error) onDisk = text;
    setStatus(r.error || "saved");
  });
};
$("reload").onclick = () => load();
$("take").onclick = () => load();
$("keep").onclick = () => { $("changed").hidden = true; };
$("source").oninput = () => {
  traceStep = 0;
  colour($("source").value);
  clearTimeout(checking);
  checking = setTimeout(check, 300);
};
$("source").onscroll = () => { $("colours").scrollTop = $("source").scrollTop; };

function load() {
  return call("GET", "/api/program").then((r) => {
    $("path").textContent = r.path;
    $("source").value = r.source;
    colour(r.source);
    onDisk = r.source;
    $("changed").hidden = true;
    return check();
  });
}

// Every two seconds: has another program (an editor, git) changed the file?
function watchDisk() {
  call("GET", "/api/program").then((r) => {
    if (onDisk !== null && r.source !== undefined && r.source !== onDisk) {
      onDisk = r.source;
      $("changed").hidden = r.source === $("source").value;
    }
  }).catch(() => {}).finally(() => setTimeout(watchDisk, 2000));
}
call("GET", "/api/grammar").then((g) => { grammar = g; colour($("source").value); }).catch(() => {});
load().then(watchDisk);
draw();
</script>
</body>
</html>
"##;
