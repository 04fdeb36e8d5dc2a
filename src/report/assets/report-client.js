// Faultline report client: draws the history graph (canvas), the counterexample timelines and the plots (uPlot)
// from the JSON in #report-data. Plain browser JavaScript, inlined into report.html by src/report/html.ts.
// Data layout: see ReportData in src/report/data.ts (ops are stored in columns, times in ms).
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var ops = data.ops;
  var OUTCOMES = ['ok', 'fail', 'info'];
  var COLORS = { ok: '#3b9a52', fail: '#d9534f', info: '#e0a526', prefix: '#4a78c2', unplaced: '#b0122b' };
  var FAULT_FILL = 'rgba(255, 140, 0, 0.13)';
  var FAULT_EDGE = 'rgba(220, 110, 0, 0.7)';
  var LEADER = '#7b3fb5';
  /** The role strip above each node's lanes: what the node's srvr said over time. */
  var ROLE_COLORS = {
    leader: LEADER,
    follower: '#a9d3b4',
    observer: '#a8c4e0',
    standalone: LEADER,
    'not-serving': '#f0ad4e',
    down: '#333',
  };
  var ROLE_STRIP = 7;
  var rolesOf = new Map(
    (data.roles || []).map(function (r) {
      return [r.node, r.spans];
    }),
  );

  function endOf(row) {
    var e = ops.end[row];
    return e < 0 ? data.durationMs : e;
  }

  function fmtSeconds(ms) {
    return (ms / 1000).toFixed(ms < 10000 ? 3 : 2) + ' s';
  }

  function describeOp(row) {
    var lane = data.lanes[ops.lane[row]];
    var outcome = OUTCOMES[ops.outcome[row]];
    var lines = [];
    lines.push(
      '#' +
        ops.index[row] +
        '  process ' +
        lane.process +
        ' → ' +
        lane.node +
        (ops.key[row] ? '  key ' + ops.key[row] : ''),
    );
    lines.push(
      ops.fNames[ops.f[row]] +
        ' ' +
        (ops.input[row] || 'null') +
        (ops.end[row] >= 0 ? '  ⇒ ' + outcome + ' ' + (ops.output[row] || '') : '  ⇒ never completed'),
    );
    if (ops.error[row]) lines.push('error: ' + ops.error[row]);
    lines.push(
      'invoked ' +
        fmtSeconds(ops.start[row]) +
        (ops.end[row] >= 0 ? ', took ' + (ops.end[row] - ops.start[row]).toFixed(1) + ' ms' : ''),
    );
    return lines.join('\n');
  }

  /** Rows sorted by start per lane. A process runs one op at a time, so ends are sorted too. */
  function rowsByLane(rows) {
    var byLane = new Map();
    rows.forEach(function (row) {
      var l = ops.lane[row];
      if (!byLane.has(l)) byLane.set(l, []);
      byLane.get(l).push(row);
    });
    byLane.forEach(function (list) {
      list.sort(function (a, b) {
        return ops.start[a] - ops.start[b];
      });
    });
    return byLane;
  }

  /** First position in a lane's rows whose op ends at or after t. */
  function firstEndingAfter(list, t) {
    var lo = 0,
      hi = list.length;
    while (lo < hi) {
      var mid = (lo + hi) >> 1;
      if (endOf(list[mid]) < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  function niceStep(rangeMs, pixels) {
    var target = rangeMs / Math.max(1, pixels / 90);
    var pow = Math.pow(10, Math.floor(Math.log10(target)));
    var steps = [1, 2, 5, 10];
    for (var i = 0; i < steps.length; i++) if (steps[i] * pow >= target) return steps[i] * pow;
    return 10 * pow;
  }

  /**
   * A zoomable lane chart of operations. options.rows: the op rows to show (default all);
   * options.labels: Map row → text drawn on the bar; options.emphasis: Map row → colour replacing the outcome's.
   */
  function Timeline(container, options) {
    options = options || {};
    this.container = container;
    this.canvas = container.querySelector('canvas');
    this.tooltip = container.querySelector('.tooltip');
    this.labels = options.labels || new Map();
    this.emphasis = options.emphasis || new Map();
    var rows = options.rows;
    if (!rows) {
      rows = new Array(ops.start.length);
      for (var i = 0; i < rows.length; i++) rows[i] = i;
    }
    this.byLane = rowsByLane(rows);
    this.laneOrder = Array.from(this.byLane.keys()).sort(function (a, b) {
      return a - b;
    });
    this.laneH = this.laneOrder.length > 80 ? 7 : this.laneOrder.length > 30 ? 11 : 18;
    this.axisH = 46; // time axis, fault labels, leader labels
    this.gutter = 96;
    var lo = Infinity,
      hi = -Infinity;
    // With focus rows (a counterexample's unplaceable ops), the view ends where they end: one long op of the
    // prefix must not stretch the view until the stuck ops are thinner than a pixel.
    var focus = options.focus;
    rows.forEach(function (r) {
      lo = Math.min(lo, ops.start[r]);
      hi = Math.max(hi, focus ? ops.start[r] : endOf(r));
    });
    if (focus)
      focus.forEach(function (r) {
        hi = Math.max(hi, endOf(r));
      });
    if (!isFinite(lo)) {
      lo = 0;
      hi = data.durationMs || 1;
    }
    var pad = options.rows ? Math.max(5, (hi - lo) * 0.05) : 0;
    this.home = [Math.max(0, lo - pad), hi + pad];
    if (!options.rows) this.home = [0, Math.max(hi, data.durationMs, 1)];
    this.view = this.home.slice();
    this.laneY = new Map();
    var y = this.axisH,
      lastNode = null;
    var self = this;
    this.nodeStarts = [];
    this.laneOrder.forEach(function (l) {
      var node = data.lanes[l].node;
      if (node !== lastNode) {
        if (lastNode !== null) y += 6;
        if (rolesOf.has(node)) y += ROLE_STRIP;
        self.nodeStarts.push({ node: node, y: y });
        lastNode = node;
      }
      self.laneY.set(l, y);
      y += self.laneH;
    });
    this.height = y + 4;
    this.bindEvents();
    this.resize();
  }

  Timeline.prototype.resize = function () {
    var ratio = window.devicePixelRatio || 1;
    this.width = Math.max(300, this.container.clientWidth);
    this.canvas.width = Math.round(this.width * ratio);
    this.canvas.height = Math.round(this.height * ratio);
    this.canvas.style.width = this.width + 'px';
    this.canvas.style.height = this.height + 'px';
    this.ctx = this.canvas.getContext('2d');
    this.ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    this.draw();
  };

  Timeline.prototype.x = function (t) {
    return this.gutter + ((t - this.view[0]) / (this.view[1] - this.view[0])) * (this.width - this.gutter - 8);
  };

  Timeline.prototype.t = function (x) {
    return this.view[0] + ((x - this.gutter) / (this.width - this.gutter - 8)) * (this.view[1] - this.view[0]);
  };

  Timeline.prototype.draw = function () {
    // The shown time range, readable from outside (tests, users' scripts): "start,end" in ms.
    this.container.dataset.view = this.view[0].toFixed(1) + ',' + this.view[1].toFixed(1);
    var ctx = this.ctx,
      self = this,
      W = this.width,
      H = this.height;
    ctx.fillStyle = '#fff'; // opaque, so screenshots and pixel checks see what a reader sees
    ctx.fillRect(0, 0, W, H);
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    ctx.save();
    ctx.beginPath();
    ctx.rect(this.gutter, 0, W - this.gutter, H);
    ctx.clip();
    // Fault bands behind everything, labelled at the top.
    data.faults.forEach(function (band, i) {
      var x0 = Math.max(self.gutter, self.x(band.start)),
        x1 = Math.min(W, self.x(band.end));
      if (x1 < self.gutter || x0 > W) return;
      ctx.fillStyle = FAULT_FILL;
      ctx.fillRect(x0, 16, Math.max(1, x1 - x0), H - 16);
      ctx.fillStyle = FAULT_EDGE;
      ctx.fillRect(x0, 16, 1, H - 16);
      ctx.fillStyle = '#8a4b00';
      ctx.fillText(i + 1 + ' ' + band.name + (band.targets.length ? ' ' + band.targets.join(',') : ''), x0 + 3, 24);
    });
    // Each node's roles, in a strip just above its lanes.
    this.nodeStarts.forEach(function (n) {
      (rolesOf.get(n.node) || []).forEach(function (span) {
        var x0 = Math.max(self.gutter, self.x(span[0])),
          x1 = Math.min(W, self.x(span[1]));
        if (x1 < self.gutter || x0 > W) return;
        ctx.fillStyle = ROLE_COLORS[span[2]] || '#999';
        ctx.fillRect(x0, n.y - ROLE_STRIP, Math.max(1, x1 - x0), ROLE_STRIP - 2);
      });
    });
    // Ops, culled to the view by binary search per lane.
    var t0 = this.view[0],
      t1 = this.view[1];
    var outlined = [];
    this.laneOrder.forEach(function (l) {
      var list = self.byLane.get(l),
        y = self.laneY.get(l) + 1,
        h = self.laneH - 2;
      for (var k = firstEndingAfter(list, t0); k < list.length; k++) {
        var row = list[k];
        if (ops.start[row] > t1) break;
        var x0 = self.x(ops.start[row]),
          x1 = self.x(endOf(row));
        var color = self.emphasis.get(row) || COLORS[OUTCOMES[ops.outcome[row]]];
        ctx.fillStyle = color;
        // Emphasised ops (a counterexample's) stay wide enough to see their colour however far out the view is.
        if (self.emphasis.has(row)) x1 = Math.max(x1, x0 + 5);
        ctx.fillRect(x0, y, Math.max(1, x1 - x0), h);
        if (ops.end[row] < 0) {
          ctx.fillStyle = 'rgba(255,255,255,0.6)';
          ctx.fillRect(x1 - 6, y, 6, h);
        }
        if (self.emphasis.has(row) || self.labels.has(row)) outlined.push([row, x0, x1, y, h]);
      }
    });
    ctx.textAlign = 'left';
    outlined.forEach(function (o) {
      ctx.strokeStyle = '#111';
      ctx.lineWidth = 1;
      ctx.strokeRect(o[1] + 0.5, o[3] + 0.5, Math.max(1, o[2] - o[1]) - 1, o[4] - 1);
      var label = self.labels.get(o[0]);
      if (label && self.laneH >= 11) {
        ctx.fillStyle = '#fff';
        ctx.fillText(label, Math.max(self.gutter, o[1]) + 2, o[3] + o[4] / 2);
      }
    });
    // Leader changes: dashed vertical lines.
    ctx.setLineDash([4, 3]);
    data.leaders.forEach(function (m) {
      var x = self.x(m.time);
      if (x < self.gutter || x > W) return;
      ctx.strokeStyle = LEADER;
      ctx.beginPath();
      ctx.moveTo(x + 0.5, 28);
      ctx.lineTo(x + 0.5, H);
      ctx.stroke();
      ctx.fillStyle = LEADER;
      ctx.fillText('leader ' + m.from + '→' + m.to + (m.inferred ? ' (by this fault)' : ''), x + 3, 38);
    });
    ctx.setLineDash([]);
    // The log oracle's findings: solid red lines (grey when documented), labelled with the pattern and node.
    (data.logFindings || []).forEach(function (f, i) {
      if (f.time === null) return;
      var x = self.x(f.time);
      if (x < self.gutter || x > W) return;
      ctx.strokeStyle = f.documented ? '#999' : '#c0392b';
      ctx.beginPath();
      ctx.moveTo(x + 0.5, 28);
      ctx.lineTo(x + 0.5, H);
      ctx.stroke();
      ctx.fillStyle = ctx.strokeStyle;
      ctx.fillText('log ' + f.pattern + ' @' + f.node, x + 3, 50 + (i % 4) * 11);
    });
    ctx.restore();
    // Time axis.
    ctx.fillStyle = '#fff';
    ctx.fillRect(this.gutter, 0, W - this.gutter, 14);
    ctx.fillStyle = '#333';
    ctx.strokeStyle = '#ccc';
    var step = niceStep(t1 - t0, W - this.gutter);
    ctx.textAlign = 'center';
    for (var t = Math.ceil(t0 / step) * step; t <= t1; t += step) {
      var x = this.x(t);
      ctx.fillRect(x, 10, 1, 4);
      ctx.fillText(
        (t / 1000).toFixed(step < 1 ? 4 : step < 10 ? 3 : step < 100 ? 2 : step < 1000 ? 1 : 0) + ' s',
        Math.max(x, this.gutter + 14),
        6,
      );
    }
    // Lane labels grouped by node.
    ctx.textAlign = 'left';
    ctx.fillStyle = '#fafafa';
    ctx.fillRect(0, 0, this.gutter, H);
    this.nodeStarts.forEach(function (n) {
      ctx.fillStyle = '#222';
      ctx.font = 'bold 12px system-ui, sans-serif';
      ctx.fillText(n.node, 4, n.y + 7);
    });
    ctx.font = '10px system-ui, sans-serif';
    if (this.laneH >= 11) {
      this.laneOrder.forEach(function (l) {
        ctx.fillStyle = '#666';
        ctx.textAlign = 'right';
        ctx.fillText('p' + data.lanes[l].process, self.gutter - 4, self.laneY.get(l) + self.laneH / 2);
      });
    }
    ctx.textAlign = 'left';
  };

  Timeline.prototype.rowAt = function (px, py) {
    var self = this,
      hit = -1;
    this.laneOrder.forEach(function (l) {
      var y = self.laneY.get(l);
      if (py < y || py >= y + self.laneH) return;
      var list = self.byLane.get(l);
      var slack = ((self.view[1] - self.view[0]) / self.width) * 2; // 2 px of tolerance for thin bars
      var t = self.t(px);
      var k = firstEndingAfter(list, t - slack);
      if (k < list.length && ops.start[list[k]] <= t + slack) hit = list[k];
    });
    return hit;
  };

  Timeline.prototype.zoomTo = function (t0, t1) {
    var span = Math.max(1, t1 - t0);
    this.view = [t0, t0 + span];
    this.draw();
  };

  Timeline.prototype.bindEvents = function () {
    var self = this,
      drag = null;
    this.canvas.addEventListener(
      'wheel',
      function (ev) {
        ev.preventDefault();
        var t = self.t(ev.offsetX),
          factor = Math.exp(ev.deltaY * 0.0015);
        var span = Math.max(0.5, (self.view[1] - self.view[0]) * factor);
        var frac = (t - self.view[0]) / (self.view[1] - self.view[0]);
        self.zoomTo(t - frac * span, t - frac * span + span);
      },
      { passive: false },
    );
    this.canvas.addEventListener('mousedown', function (ev) {
      drag = { x: ev.clientX, view: self.view.slice() };
    });
    window.addEventListener('mouseup', function () {
      drag = null;
    });
    window.addEventListener('mousemove', function (ev) {
      if (!drag) return;
      var dt = ((ev.clientX - drag.x) / (self.width - self.gutter - 8)) * (drag.view[1] - drag.view[0]);
      self.zoomTo(drag.view[0] - dt, drag.view[1] - dt);
    });
    this.canvas.addEventListener('dblclick', function () {
      self.zoomTo(self.home[0], self.home[1]);
    });
    this.canvas.addEventListener('mousemove', function (ev) {
      if (drag) return;
      var row = self.rowAt(ev.offsetX, ev.offsetY);
      if (row < 0) {
        var band = data.faults.find(function (b) {
          return ev.offsetY < 30 && self.t(ev.offsetX) >= b.start && self.t(ev.offsetX) <= b.end;
        });
        if (!band) {
          self.tooltip.hidden = true;
          return;
        }
        self.tooltip.textContent =
          band.name + ': ' + fmtSeconds(band.start) + ' – ' + fmtSeconds(band.end) + '\n' + band.detail;
      } else {
        self.tooltip.textContent =
          describeOp(row) + (self.labels.has(row) ? '\nlinearization step ' + self.labels.get(row) : '');
      }
      self.tooltip.hidden = false;
      self.tooltip.style.left = Math.min(ev.offsetX + 14, self.width - 360) + 'px';
      self.tooltip.style.top = ev.offsetY + 14 + 'px';
    });
    this.canvas.addEventListener('mouseleave', function () {
      self.tooltip.hidden = true;
    });
  };

  // --- History graph, with every counterexample's ops outlined.
  var emphasis = new Map();
  data.counterexamples.forEach(function (c) {
    c.unplaced.forEach(function (u) {
      emphasis.set(u.row, COLORS.unplaced);
    });
  });
  var main = new Timeline(document.getElementById('timeline'), { emphasis: emphasis });
  var timelines = [main];

  // --- Counterexamples: the tail of the longest linearizable prefix (numbered) and the unplaceable ops.
  data.counterexamples.forEach(function (c, i) {
    var labels = new Map(),
      marks = new Map();
    var first = c.prefixLength - c.prefix.length + 1;
    c.prefix.forEach(function (row, k) {
      labels.set(row, String(first + k));
      marks.set(row, COLORS.prefix);
    });
    c.unplaced.forEach(function (u) {
      labels.set(u.row, '✗');
      marks.set(u.row, COLORS.unplaced);
    });
    var rows = c.prefix.concat(
      c.unplaced.map(function (u) {
        return u.row;
      }),
    );
    var cx = new Timeline(document.getElementById('cx-' + i), {
      rows: rows,
      labels: labels,
      emphasis: marks,
      focus: c.unplaced.map(function (u) {
        return u.row;
      }),
    });
    timelines.push(cx);
    var button = document.querySelector('.show-in-history[data-index="' + i + '"]');
    if (button)
      button.addEventListener('click', function () {
        main.zoomTo(cx.home[0], cx.home[1]);
        document.getElementById('history').scrollIntoView();
      });
  });

  // --- Plots.
  function faultBandsHook(u) {
    var ctx = u.ctx;
    ctx.save();
    data.faults.forEach(function (band) {
      var x0 = u.valToPos(band.start / 1000, 'x', true),
        x1 = u.valToPos(band.end / 1000, 'x', true);
      x0 = Math.max(x0, u.bbox.left);
      x1 = Math.min(x1, u.bbox.left + u.bbox.width);
      if (x1 <= x0) return;
      ctx.fillStyle = FAULT_FILL;
      ctx.fillRect(x0, u.bbox.top, x1 - x0, u.bbox.height);
      ctx.fillStyle = '#8a4b00';
      ctx.font = 11 * devicePixelRatio + 'px system-ui, sans-serif';
      ctx.fillText(band.name, x0 + 4, u.bbox.top + 12 * devicePixelRatio);
    });
    ctx.restore();
  }

  var PALETTE = ['#3b9a52', '#4a78c2', '#8e44ad', '#16a085', '#2c3e50', '#c0392b', '#d35400', '#7f8c8d'];
  var OUTCOME_SHAPE = { ok: 1, fail: 0.85, info: 0.6 };
  function plotWidth(el) {
    return Math.max(320, el.clientWidth);
  }

  function latencyPlot() {
    var el = document.getElementById('latency-plot');
    if (!el || data.latency.length === 0) return null;
    // uPlot wants one shared, sorted x: every point gets its own row, null in the other series.
    var points = [];
    data.latency.forEach(function (s, si) {
      for (var k = 0; k < s.x.length; k++) points.push([s.x[k], si, Math.max(0.01, s.y[k])]);
    });
    points.sort(function (a, b) {
      return a[0] - b[0];
    });
    var xs = points.map(function (p) {
      return p[0];
    });
    var ys = data.latency.map(function () {
      return new Array(points.length).fill(null);
    });
    points.forEach(function (p, k) {
      ys[p[1]][k] = p[2];
    });
    var fs = Array.from(
      new Set(
        data.latency.map(function (s) {
          return s.f;
        }),
      ),
    );
    var series = [{ label: 'time (s)' }].concat(
      data.latency.map(function (s) {
        var base = s.outcome === 'ok' ? PALETTE[fs.indexOf(s.f) % PALETTE.length] : COLORS[s.outcome];
        return {
          label: s.label,
          stroke: base,
          fill: base,
          paths: function () {
            return null;
          },
          points: {
            show: true,
            size: 3 + 2 * OUTCOME_SHAPE[s.outcome],
            fill: base,
            stroke: s.outcome === 'ok' ? base : '#000',
            width: s.outcome === 'ok' ? 0 : 0.5,
          },
          value: function (u, v) {
            return v == null ? '—' : v.toFixed(1) + ' ms';
          },
        };
      }),
    );
    return new uPlot(
      {
        title:
          'Latency by invocation time (log scale; per f and outcome' +
          (data.latency.some(function (s) {
            return s.x.length >= 4000;
          })
            ? '; slowest op per time bucket'
            : '') +
          ')',
        width: plotWidth(el),
        height: 320,
        scales: { x: { time: false }, y: { distr: 3 } },
        axes: [{ label: 'seconds since start' }, { label: 'latency (ms)', size: 60 }],
        series: series,
        hooks: { drawClear: [faultBandsHook] },
        cursor: { points: { show: false } },
      },
      [xs].concat(ys),
      el,
    );
  }

  function throughputPlot() {
    var el = document.getElementById('throughput-plot');
    var tp = data.throughput;
    if (!el || tp.x.length === 0) return null;
    return new uPlot(
      {
        title: 'Throughput (completions per second, by outcome)',
        width: plotWidth(el),
        height: 240,
        scales: { x: { time: false } },
        axes: [{ label: 'seconds since start' }, { label: 'ops/s', size: 60 }],
        series: [{ label: 'time (s)' }].concat(
          OUTCOMES.map(function (o) {
            return { label: o, stroke: COLORS[o], width: 1.5, paths: uPlot.paths.stepped({ align: 1 }) };
          }),
        ),
        hooks: { drawClear: [faultBandsHook] },
      },
      [tp.x, tp.ok, tp.fail, tp.info],
      el,
    );
  }

  /** Clock offsets per node (seconds): wall clock solid, monotonic dashed, as steps between readings. */
  function clockPlot() {
    var el = document.getElementById('clock-plot');
    if (!el || !data.clocks || data.clocks.length === 0) return null;
    var times = [];
    data.clocks.forEach(function (c) {
      c.points.forEach(function (p) {
        times.push(p[0]);
      });
    });
    times = Array.from(new Set(times)).sort(function (a, b) {
      return a - b;
    });
    var index = new Map(
      times.map(function (t, i) {
        return [t, i];
      }),
    );
    var columns = [
      times.map(function (t) {
        return t / 1000;
      }),
    ];
    var series = [{ label: 'time (s)' }];
    data.clocks.forEach(function (c, ci) {
      var color = PALETTE[ci % PALETTE.length];
      [1, 2].forEach(function (field) {
        var col = new Array(times.length).fill(null);
        c.points.forEach(function (p) {
          if (p[field] !== null) col[index.get(p[0])] = p[field] / 1000;
        });
        columns.push(col);
        series.push({
          label: c.node + (field === 1 ? ' wall' : ' monotonic'),
          stroke: color,
          width: field === 1 ? 2 : 1.5,
          dash: field === 1 ? undefined : [6, 4],
          spanGaps: true,
          paths: uPlot.paths.stepped({ align: 1 }),
          points: { show: true, size: 5 },
          value: function (u, v) {
            return v == null ? '—' : v.toFixed(3) + ' s';
          },
        });
      });
    });
    return new uPlot(
      {
        title: 'Clock offsets read back from each node (server clock − true time)',
        width: plotWidth(el),
        height: 280,
        scales: { x: { time: false, range: [0, data.durationMs / 1000] } },
        axes: [{ label: 'seconds since start' }, { label: 'offset (s)', size: 60 }],
        series: series,
        hooks: { drawClear: [faultBandsHook] },
      },
      columns,
      el,
    );
  }

  /** Membership bands: one row per node, its role in each configuration, fault bands behind. */
  function MembershipChart(container) {
    this.container = container;
    this.canvas = container.querySelector('canvas');
    this.rowH = 18;
    this.gutter = 96;
    this.height = 26 + data.membership.length * (this.rowH + 4) + 6;
    this.resize();
  }
  MembershipChart.prototype.resize = function () {
    var ratio = window.devicePixelRatio || 1;
    this.width = Math.max(300, this.container.clientWidth);
    this.canvas.width = Math.round(this.width * ratio);
    this.canvas.height = Math.round(this.height * ratio);
    this.canvas.style.width = this.width + 'px';
    this.canvas.style.height = this.height + 'px';
    var ctx = this.canvas.getContext('2d');
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    this.draw(ctx);
  };
  MembershipChart.prototype.draw = function (ctx) {
    var self = this,
      W = this.width,
      H = this.height,
      span = Math.max(1, data.durationMs);
    var x = function (t) {
      return self.gutter + (t / span) * (W - self.gutter - 8);
    };
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, W, H);
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    data.faults.forEach(function (band) {
      ctx.fillStyle = FAULT_FILL;
      ctx.fillRect(x(band.start), 16, Math.max(1, x(band.end) - x(band.start)), H - 16);
    });
    var MEMBER = { participant: '#4a78c2', observer: '#a8c4e0' };
    data.membership.forEach(function (m, i) {
      var y = 22 + i * (self.rowH + 4);
      ctx.fillStyle = '#222';
      ctx.textAlign = 'left';
      ctx.font = 'bold 12px system-ui, sans-serif';
      ctx.fillText(m.node, 4, y + self.rowH / 2);
      ctx.font = '10px system-ui, sans-serif';
      m.spans.forEach(function (s) {
        var x0 = x(s[0]),
          x1 = x(s[1]);
        ctx.fillStyle = MEMBER[s[2]] || '#999';
        ctx.fillRect(x0, y, Math.max(1, x1 - x0 - 1), self.rowH);
        if (x1 - x0 > 40) {
          ctx.fillStyle = s[2] === 'participant' ? '#fff' : '#123';
          ctx.fillText('v' + s[3], x0 + 3, y + self.rowH / 2);
        }
      });
    });
    ctx.fillStyle = '#333';
    ctx.textAlign = 'center';
    var step = niceStep(span, W - this.gutter);
    for (var t = 0; t <= span; t += step) {
      ctx.fillRect(x(t), 10, 1, 4);
      ctx.fillText((t / 1000).toFixed(step < 1000 ? 1 : 0) + ' s', Math.max(x(t), this.gutter + 14), 6);
    }
    ctx.textAlign = 'left';
  };

  var membershipEl = document.getElementById('membership-chart');
  if (membershipEl && data.membership && data.membership.length) timelines.push(new MembershipChart(membershipEl));

  var plots = [];
  // The plots sit below the first screen: draw them after the history graph has been painted.
  requestAnimationFrame(function () {
    setTimeout(function () {
      [latencyPlot(), throughputPlot(), clockPlot()].forEach(function (p) {
        if (p) plots.push(p);
      });
      document.body.setAttribute('data-plots-ready', 'true');
    }, 0);
  });

  var resizeTimer = null;
  window.addEventListener('resize', function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      timelines.forEach(function (t) {
        t.resize();
      });
      plots.forEach(function (p) {
        p.setSize({ width: plotWidth(p.root.parentElement), height: p.height });
      });
    }, 100);
  });
  // Time from navigation start to the first screen drawn (read by the browser tests).
  document.body.setAttribute('data-ready-ms', performance.now().toFixed(0));
  document.body.setAttribute('data-report-ready', 'true');
})();
