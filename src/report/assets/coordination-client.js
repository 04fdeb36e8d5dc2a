// Faultline report: the coordination view (issue #15). One row per client process on the run's time axis, with
// the fault bands behind: lock holds or leadership terms as bands (green; orange when the holder lost its
// connection or session; red when a later holder began while it was still on), watch notifications as ticks
// coloured by event type. Reads the same inlined report data as report-client.js.
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var view = data.coordination;
  var container = document.getElementById('coordination-view');
  if (!view || !container) return;
  var canvas = container.querySelector('canvas');
  var ROW = view.kind === 'watch' ? 14 : 16;
  var LEFT = 56;
  var TOP = 18;
  var COLOURS = {
    band: '#3b9a52',
    troubled: '#e08a1e',
    overlapped: '#c62828',
    NodeCreated: '#1565c0',
    NodeDeleted: '#6a1b9a',
    NodeDataChanged: '#00897b',
    NodeChildrenChanged: '#f9a825',
    other: '#555555',
  };
  var rows = new Map(
    view.processes.map(function (p, i) {
      return [p, i];
    }),
  );

  function draw() {
    var width = Math.max(400, container.clientWidth || 1200);
    var height = TOP + Math.max(1, view.processes.length) * ROW + 20;
    var ratio = window.devicePixelRatio || 1;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    canvas.style.width = width + 'px';
    canvas.style.height = height + 'px';
    var ctx = canvas.getContext('2d');
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, width, height);
    var span = Math.max(1, data.durationMs);
    var x = function (ms) {
      return LEFT + ((width - LEFT - 8) * ms) / span;
    };
    // Faults behind everything, as in the history graph.
    data.faults.forEach(function (band) {
      ctx.fillStyle = 'rgba(255, 140, 0, 0.13)';
      ctx.fillRect(x(band.start), TOP, Math.max(1, x(band.end) - x(band.start)), height - TOP - 20);
    });
    ctx.font = '11px sans-serif';
    ctx.fillStyle = '#333333';
    ctx.textBaseline = 'middle';
    view.processes.forEach(function (p, i) {
      ctx.fillText('p' + p, 4, TOP + i * ROW + ROW / 2);
    });
    view.bands.forEach(function (b) {
      var row = rows.get(b.process);
      ctx.fillStyle = b.overlapped ? COLOURS.overlapped : b.troubled ? COLOURS.troubled : COLOURS.band;
      ctx.fillRect(x(b.start), TOP + row * ROW + 2, Math.max(2, x(b.end) - x(b.start)), ROW - 4);
    });
    view.ticks.forEach(function (t) {
      var row = rows.get(t.process);
      ctx.fillStyle = COLOURS[t.type] || COLOURS.other;
      ctx.fillRect(Math.round(x(t.time)) - 1, TOP + row * ROW + 1, 3, ROW - 2);
    });
    // A time axis in seconds.
    ctx.fillStyle = '#666666';
    var steps = [1000, 2000, 5000, 10000, 20000, 30000, 60000, 120000, 300000, 600000, 1800000, 3600000];
    var step =
      steps.find(function (st) {
        return span / st <= 12;
      }) || 3600000;
    for (var s = 0; s <= span; s += step) ctx.fillText((s / 1000).toFixed(0) + ' s', x(s), height - 8);
  }

  var legend = document.getElementById('coordination-legend');
  if (legend) {
    var items =
      view.kind === 'watch'
        ? ['NodeCreated', 'NodeDeleted', 'NodeDataChanged', 'NodeChildrenChanged']
        : ['band', 'troubled', 'overlapped'];
    var labels = {
      band: view.kind === 'lock' ? 'hold' : 'term',
      troubled: 'holder lost its connection or session',
      overlapped: 'a later holder began while it was on',
    };
    legend.innerHTML = items
      .map(function (k) {
        return (
          '<span style="display:inline-block;width:10px;height:10px;margin:0 4px 0 12px;background:' +
          COLOURS[k] +
          '"></span>' +
          (labels[k] || k)
        );
      })
      .join('');
  }
  draw();
  window.addEventListener('resize', draw);
  document.body.setAttribute('data-coordination-ready', 'true');
})();
