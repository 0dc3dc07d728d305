// SPDX-License-Identifier: MIT
//
// The browser's side of the --timeline page (cli/timeline.ts writes the
// rest): its style and its script, inline in every page so it needs no
// network. The script draws on canvases, only the rows in view, and puts
// what came from the run in the DOM as text (textContent), never as markup.

/** The page's style sheet. */
export const PAGE_STYLE = `
html, body { margin: 0; height: 100%; background: #fff; color: #222; font: 13px/1.35 system-ui, sans-serif; }
main { display: flex; flex-direction: column; height: 100vh; }
header { padding: 6px 10px 4px; border-bottom: 1px solid #ddd; }
h1 { font-size: 14px; margin: 0 0 2px; font-family: ui-monospace, monospace; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
#summary, #hint { margin: 0; color: #555; }
#hint { font-size: 11px; }
#legend { list-style: none; margin: 3px 0; padding: 0; display: flex; flex-wrap: wrap; gap: 14px; }
#legend li { display: flex; align-items: center; gap: 5px; }
#legend li[title] { cursor: pointer; }
#legend i { display: inline-block; width: 12px; height: 12px; border-radius: 2px; }
.lost { color: #b00; font-weight: bold; }
#overview { display: block; width: 100%; border-bottom: 1px solid #ddd; cursor: pointer; }
#scroller { flex: 1; overflow-y: auto; overflow-x: hidden; position: relative; }
#rows { position: sticky; top: 0; display: block; }
#tooltip { position: fixed; z-index: 2; max-width: 640px; padding: 6px 8px; background: #fffff4; border: 1px solid #999;
  box-shadow: 0 2px 6px rgba(0,0,0,.2); font: 12px/1.4 ui-monospace, monospace; white-space: pre-wrap; word-break: break-all; pointer-events: none; }
#tooltip b { font-family: system-ui, sans-serif; }
`;

/**
 * The page's script: it reads the run from #run-data, draws it, handles the
 * pointer, and sets the root element's data-* attributes. Plain ES2017 in a
 * string (the build has no DOM types), with no template literal inside so
 * it can sit in this one.
 */
export const PAGE_SCRIPT = String.raw`
(function () {
  'use strict';
  var t0 = performance.now();
  var root = document.getElementById('timeline');
  var run = JSON.parse(document.getElementById('run-data').textContent);
  var procs = run.processes;
  var outcomes = run.outcomes;
  var n = procs.length;
  var ROW = 16, AXIS = 22, OVERVIEW = 96, LABEL = 300, INDENT = 12, MAX_INDENT = 16, MIN_BAR = 3;
  var total = Math.max(run.durationMs, 0.001);
  var view = { from: 0, to: total };
  var overview = document.getElementById('overview');
  var canvas = document.getElementById('rows');
  var scroller = document.getElementById('scroller');
  var sizer = document.getElementById('sizer');
  var tooltip = document.getElementById('tooltip');
  var hover = -1, selected = -1;

  function duration(ms) {
    if (ms < 1) return Math.round(ms * 1000) + ' \u00b5s';
    if (ms < 1000) return (ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : String(Math.round(ms))) + ' ms';
    var s = ms / 1000;
    if (s < 60) return (s < 10 ? s.toFixed(2) : s.toFixed(1)) + ' s';
    var whole = Math.round(s);
    return Math.floor(whole / 60) + ' min ' + String(whole % 60).padStart(2, '0') + ' s';
  }
  function endOf(p) { return p.e === null ? total : p.e; }
  function text(tag, content, cls) {
    var el = document.createElement(tag);
    el.textContent = content;
    if (cls) el.className = cls;
    return el;
  }

  // Tree guides: for each row, the depths at which an ancestor's line goes on past it.
  var lastChild = new Array(n).fill(true);
  var lastSeen = {};
  for (var i = 0; i < n; i++) {
    var key = procs[i].p;
    if (lastSeen[key] !== undefined) lastChild[lastSeen[key]] = false;
    lastSeen[key] = i;
  }
  var guides = new Array(n);
  var open = [];
  for (i = 0; i < n; i++) {
    var d = procs[i].d;
    open.length = d;
    guides[i] = open.slice(0);
    open[d] = !lastChild[i];
  }

  // Header: what ran, how it ended, the legend with counts.
  document.getElementById('command').textContent = run.command || '(unknown command)';
  var summary = document.getElementById('summary');
  summary.textContent = (run.exitStatus === null ? 'exit status unknown' : 'exit status ' + run.exitStatus) + ' \u00b7 ' +
    duration(run.durationMs) + ' \u00b7 ' + n + (n === 1 ? ' process' : ' processes') + ' \u00b7 started ' + run.startTime;
  if (run.lost > 0) summary.appendChild(text('span', ' \u00b7 ' + run.lost + ' records lost: the picture misses processes', 'lost'));
  var counts = outcomes.map(function () { return 0; });
  procs.forEach(function (p) { counts[p.o]++; });
  var legend = document.getElementById('legend');
  outcomes.forEach(function (o, k) {
    var li = document.createElement('li');
    var swatch = document.createElement('i');
    swatch.style.background = o.color;
    li.appendChild(swatch);
    li.appendChild(text('span', o.label + ': ' + counts[k]));
    if (counts[k] > 0) {
      li.title = 'Go to the next one';
      li.addEventListener('click', function () { jump(k); });
    }
    legend.appendChild(li);
  });
  // The legend's click: the next process of an outcome, after the one selected last.
  function jump(k) {
    for (var step = 1; step <= n; step++) {
      var i = (selected + step) % n;
      if (procs[i].o !== k) continue;
      selected = i;
      var top = AXIS + i * ROW;
      if (top < scroller.scrollTop + AXIS || top + ROW > scroller.scrollTop + scroller.clientHeight) {
        scroller.scrollTop = Math.max(0, top - scroller.clientHeight / 2);
      }
      draw();
      return;
    }
  }

  function x(ms, left, width) { return left + (ms - view.from) / (view.to - view.from) * width; }
  function ticks(width) {
    var span = view.to - view.from, raw = span / Math.max(1, width / 110);
    var mag = Math.pow(10, Math.floor(Math.log10(raw))), step = mag;
    [1, 2, 5, 10].some(function (m) { step = m * mag; return step >= raw; });
    var out = [];
    for (var k = Math.ceil(view.from / step); k * step <= view.to; k++) out.push(k * step);
    return { step: step, list: out };
  }
  function decimals(step) { return Math.max(0, -Math.floor(Math.log10(step) + 1e-9)); }
  function tickLabel(t, step) {
    if (step >= 100) return (t / 1000).toFixed(decimals(step / 1000)) + ' s';
    if (step >= 0.1) return t.toFixed(decimals(step)) + ' ms';
    return (t * 1000).toFixed(0) + ' \u00b5s';
  }
  function setup(c, cssWidth, cssHeight) {
    var ratio = window.devicePixelRatio || 1;
    c.style.width = cssWidth + 'px';
    c.style.height = cssHeight + 'px';
    c.width = Math.round(cssWidth * ratio);
    c.height = Math.round(cssHeight * ratio);
    var g = c.getContext('2d');
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    return g;
  }

  // Every process, squeezed into the overview's height, on the same time
  // scale as the rows at zoom 1; what did not succeed is drawn last and at
  // least 3 px each way, so a failure among 2,000 processes shows.
  // Returns the bars drawn of each outcome.
  function drawOverview() {
    var w = overview.clientWidth, h = OVERVIEW;
    var g = setup(overview, w, h);
    var left = LABEL, width = Math.max(10, w - LABEL - 8);
    g.fillStyle = '#fff';
    g.fillRect(0, 0, w, h);
    g.font = '11px system-ui, sans-serif';
    g.textBaseline = 'middle';
    g.fillStyle = '#444';
    g.fillText('all ' + n + (n === 1 ? ' process' : ' processes') + ', top to bottom', 6, 12);
    g.fillStyle = '#777';
    g.fillText('click to go there', 6, 28);
    var drawn = outcomes.map(function () { return 0; });
    var SUCCESS = 0;
    [true, false].forEach(function (succeeded) {
      for (var i = 0; i < n; i++) {
        var p = procs[i];
        if ((p.o === SUCCESS) !== succeeded) continue;
        var y = Math.floor(i * h / n), y2 = Math.max(y + 1, Math.floor((i + 1) * h / n));
        var a = left + Math.round(p.s / total * width), b = left + Math.round(endOf(p) / total * width);
        var minimum = succeeded ? 1 : 3;
        g.fillStyle = outcomes[p.o].color;
        g.fillRect(a, Math.min(y, h - minimum), Math.max(minimum, b - a), Math.max(minimum, Math.min(y2 - y, 6)));
        drawn[p.o]++;
      }
    });
    // The part shown below: time span and rows in view.
    var first = Math.floor(scroller.scrollTop / ROW), rowsShown = Math.ceil(scroller.clientHeight / ROW);
    var vy = Math.floor(first * h / n), vh = Math.max(2, Math.ceil(Math.min(n, rowsShown) * h / n));
    var vx = left + Math.round(view.from / total * width), vw = Math.max(2, Math.round((view.to - view.from) / total * width));
    g.strokeStyle = '#1a4f9c';
    g.lineWidth = 1;
    g.strokeRect(vx + 0.5, vy + 0.5, vw - 1, Math.min(vh, h - vy) - 1);
    return drawn;
  }

  function drawRows() {
    var w = scroller.clientWidth, h = scroller.clientHeight;
    sizer.style.height = Math.max(0, AXIS + n * ROW - scroller.clientHeight) + 'px';
    w = scroller.clientWidth;
    var g = setup(canvas, w, h);
    var top = scroller.scrollTop;
    var plotLeft = LABEL, plotWidth = Math.max(10, w - LABEL - 8);
    g.fillStyle = '#fff';
    g.fillRect(0, 0, w, h);
    var first = Math.max(0, Math.floor(top / ROW)), last = Math.min(n - 1, Math.ceil((top + h - AXIS) / ROW));
    var tk = ticks(plotWidth);
    // Stripes and grid under everything.
    for (var i = first; i <= last; i++) {
      var y = AXIS + i * ROW - top;
      if (i === selected) { g.fillStyle = '#fff0a8'; g.fillRect(0, y, w, ROW); }
      else if (i === hover) { g.fillStyle = '#e3edfc'; g.fillRect(0, y, w, ROW); }
      else if (i % 2 === 1) { g.fillStyle = '#f5f6f8'; g.fillRect(0, y, w, ROW); }
    }
    g.fillStyle = '#e4e4e4';
    tk.list.forEach(function (t) { g.fillRect(Math.round(x(t, plotLeft, plotWidth)), AXIS, 1, h - AXIS); });
    g.save();
    g.beginPath();
    g.rect(plotLeft, AXIS, plotWidth + 8, h - AXIS);
    g.clip();
    // Fork lines: from the parent's row down to the child's, at the child's start.
    g.fillStyle = '#a9adb3';
    for (i = first; i <= last; i++) {
      var p = procs[i];
      if (p.p < 0) continue;
      var cx = Math.round(x(p.s, plotLeft, plotWidth));
      var py = Math.max(AXIS, AXIS + p.p * ROW - top + ROW - 3), cy = AXIS + i * ROW - top + 3;
      if (cy > py) g.fillRect(cx, py, 1, cy - py);
    }
    for (i = first; i <= last; i++) {
      p = procs[i];
      y = AXIS + i * ROW - top;
      var a = Math.round(x(p.s, plotLeft, plotWidth)), b = Math.round(x(endOf(p), plotLeft, plotWidth));
      g.fillStyle = outcomes[p.o].color;
      g.fillRect(a, y + 3, Math.max(MIN_BAR, b - a), ROW - 6);
      g.fillStyle = '#1d1d1d';
      p.rx.forEach(function (t) { g.fillRect(Math.round(x(t, plotLeft, plotWidth)), y + 2, 1, ROW - 4); });
      // A failed exec: a notch above and below the bar, leaving its colour whole.
      g.fillStyle = '#4a2a6e';
      p.fx.forEach(function (t) {
        var fx = Math.round(x(t, plotLeft, plotWidth));
        g.fillRect(fx, y, 1, 3);
        g.fillRect(fx, y + ROW - 3, 1, 3);
      });
    }
    g.restore();
    // Labels: the tree, then the name and the command line.
    g.save();
    g.beginPath();
    g.rect(0, AXIS, LABEL - 6, h - AXIS);
    g.clip();
    g.font = '12px ui-monospace, monospace';
    g.textBaseline = 'middle';
    for (i = first; i <= last; i++) {
      p = procs[i];
      y = AXIS + i * ROW - top;
      var depth = Math.min(p.d, MAX_INDENT);
      g.fillStyle = '#b9bdc3';
      for (var k = 1; k < depth; k++) if (guides[i][k]) g.fillRect(4 + (k - 1) * INDENT + 3, y, 1, ROW);
      if (depth > 0) {
        var gx = 4 + (depth - 1) * INDENT + 3;
        g.fillRect(gx, y, 1, lastChild[i] ? ROW / 2 : ROW);
        g.fillRect(gx, y + ROW / 2, INDENT - 4, 1);
      }
      var lx = 4 + depth * INDENT + (p.d > MAX_INDENT ? 10 : 0);
      g.fillStyle = '#111';
      g.fillText(p.n, lx, y + ROW / 2 + 1);
      var nameWidth = g.measureText(p.n).width;
      g.fillStyle = '#777';
      g.fillText(p.a, lx + nameWidth + 8, y + ROW / 2 + 1);
    }
    g.restore();
    // The axis on top.
    g.fillStyle = '#fff';
    g.fillRect(0, 0, w, AXIS);
    g.fillStyle = '#ccc';
    g.fillRect(0, AXIS - 1, w, 1);
    g.font = '11px system-ui, sans-serif';
    g.textBaseline = 'middle';
    g.fillStyle = '#444';
    g.fillText('process', 6, AXIS / 2);
    tk.list.forEach(function (t) {
      var tx = Math.round(x(t, plotLeft, plotWidth));
      g.fillRect(tx, AXIS - 6, 1, 5);
      var label = tickLabel(t, tk.step);
      if (tx + 3 + g.measureText(label).width <= w) g.fillText(label, tx + 3, AXIS / 2 - 2);
    });
  }

  var drawnCounts = null;
  function draw() {
    drawnCounts = drawOverview();
    drawRows();
  }

  function rowAt(clientY) {
    var r = canvas.getBoundingClientRect();
    var i = Math.floor((clientY - r.top - AXIS + scroller.scrollTop) / ROW);
    return clientY - r.top < AXIS || i < 0 || i >= n ? -1 : i;
  }
  function showTooltip(i, cx, cy) {
    if (i < 0) { tooltip.hidden = true; return; }
    var p = procs[i];
    tooltip.textContent = '';
    tooltip.appendChild(text('b', p.n + ' (pid ' + p.pid + ')'));
    tooltip.appendChild(document.createTextNode('\n' + p.a + '\n'));
    tooltip.appendChild(text('b', outcomes[p.o].label + ': ' + p.x));
    tooltip.appendChild(document.createTextNode('\nfrom ' + duration(p.s) + ' to ' + (p.e === null ? 'the end' : duration(p.e)) +
      ', lasted ' + duration(endOf(p) - p.s) + (p.m.length ? '\n' + p.m.join('\n') : '')));
    tooltip.hidden = false;
    var tw = tooltip.offsetWidth, th = tooltip.offsetHeight;
    tooltip.style.left = Math.max(0, Math.min(cx + 14, window.innerWidth - tw - 4)) + 'px';
    tooltip.style.top = (cy + 16 + th > window.innerHeight ? Math.max(0, cy - th - 8) : cy + 16) + 'px';
  }
  canvas.addEventListener('mousemove', function (ev) {
    var i = rowAt(ev.clientY);
    if (i !== hover) { hover = i; drawRows(); }
    showTooltip(i, ev.clientX, ev.clientY);
  });
  canvas.addEventListener('mouseleave', function () { hover = -1; tooltip.hidden = true; drawRows(); });
  overview.addEventListener('mousemove', function (ev) {
    var r = overview.getBoundingClientRect();
    showTooltip(Math.min(n - 1, Math.floor((ev.clientY - r.top) / OVERVIEW * n)), ev.clientX, ev.clientY);
  });
  overview.addEventListener('mouseleave', function () { tooltip.hidden = true; });
  overview.addEventListener('click', function (ev) {
    var r = overview.getBoundingClientRect();
    var i = Math.floor((ev.clientY - r.top) / OVERVIEW * n);
    scroller.scrollTop = Math.max(0, i * ROW - scroller.clientHeight / 2);
  });
  scroller.addEventListener('scroll', function () { drawOverview(); drawRows(); });
  canvas.addEventListener('wheel', function (ev) {
    var r = canvas.getBoundingClientRect();
    var plotWidth = Math.max(10, r.width - LABEL - 8);
    var span = view.to - view.from;
    if (ev.ctrlKey || ev.metaKey) {
      ev.preventDefault();
      var at = view.from + Math.min(1, Math.max(0, (ev.clientX - r.left - LABEL) / plotWidth)) * span;
      var next = Math.min(total, Math.max(total / 1e6, span * Math.exp(ev.deltaY * 0.002)));
      view.from = at - (at - view.from) * next / span;
      view.to = view.from + next;
    } else if (ev.shiftKey || Math.abs(ev.deltaX) > Math.abs(ev.deltaY)) {
      ev.preventDefault();
      var shift = (ev.shiftKey ? ev.deltaY : ev.deltaX) / plotWidth * span;
      view.from += shift;
      view.to += shift;
    } else {
      return;
    }
    if (view.from < 0) { view.to -= view.from; view.from = 0; }
    if (view.to > total) { view.from = Math.max(0, view.from - (view.to - total)); view.to = total; }
    draw();
  }, { passive: false });
  canvas.addEventListener('dblclick', function () { view.from = 0; view.to = total; draw(); });
  window.addEventListener('resize', draw);

  draw();
  root.setAttribute('data-bars', String(drawnCounts.reduce(function (s, c) { return s + c; }, 0)));
  outcomes.forEach(function (o, k) {
    root.setAttribute('data-' + o.name.replace(/[A-Z]/g, function (c) { return '-' + c.toLowerCase(); }), String(drawnCounts[k]));
  });
  root.setAttribute('data-plot-top', String(Math.round(overview.getBoundingClientRect().top)));
  root.setAttribute('data-row-height', String(ROW));
  root.setAttribute('data-axis-height', String(AXIS));
  root.setAttribute('data-render-ms', (performance.now() - t0).toFixed(1));
  root.setAttribute('data-rendered', 'true');
})();
`;
