// Draws the patient page's charts with Chart.js (vendored): the data comes from the page's json_script blocks.
// Clinical figures arrive as decimal strings; they become numbers here, for plotting only.
(function () {
  function xy(points) { return points.map(function (p) { return { x: Number(p.x), y: Number(p.y) }; }); }

  function data(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  var ANNOTATIONS = {
    "x-band": function (a) { return { type: "box", xMin: Number(a.from), xMax: Number(a.to), backgroundColor: "rgba(242,193,78,0.25)", borderWidth: 0, label: { display: true, content: a.label, position: "start" } }; },
    "x-line": function (a) { return { type: "line", xMin: Number(a.at), xMax: Number(a.at), borderColor: "#5b6775", borderWidth: 1, borderDash: [4, 4], label: { display: true, content: a.label, position: "end" } }; },
    "y-line": function (a) { return { type: "line", yMin: Number(a.at), yMax: Number(a.at), borderColor: "#b3261e", label: { display: true, content: a.label, position: "start" } }; }
  };

  function bound(value) { return value === undefined || value === null ? undefined : Number(value); }

  // One record chart as web/charts.py describes it: one x axis and ONE y axis, in the axis's unit. Ticks and
  // tooltips show the server's own wording of each value (e.g. "1+" on the Modified Ashworth scale).
  function recordChart(spec) {
    var canvas = document.getElementById(spec.id);
    if (!canvas) return;
    var ticks = spec.y.ticks ? spec.y.ticks.map(function (t) { return { value: Number(t.value), label: t.label }; }) : null;
    var annotations = {};
    spec.annotations.forEach(function (a, i) { annotations["a" + i] = ANNOTATIONS[a.kind](a); });
    var y = { type: "linear", min: bound(spec.y.min), max: bound(spec.y.max), title: { display: true, text: spec.y.title } };
    if (ticks) {
      y.afterBuildTicks = function (axis) { axis.ticks = ticks.map(function (t) { return { value: t.value }; }); };
      y.ticks = { autoSkip: false, callback: function (value) {
        var tick = ticks.find(function (t) { return t.value === value; });
        return tick ? tick.label : value;
      } };
    }
    var x = { type: spec.x.type, min: bound(spec.x.min), max: bound(spec.x.max), title: { display: true, text: spec.x.title } };
    if (spec.x.labels) x.labels = spec.x.labels;
    new Chart(canvas, {
      type: "line",
      data: { datasets: spec.datasets.map(function (d) {
        return {
          label: d.label,
          data: d.points.map(function (p) { return { x: Number(p.x), y: Number(p.y), text: p.text, at: p.x_text }; }),
          borderColor: d.color, backgroundColor: d.color,
          borderDash: d.dashed ? [6, 4] : [],
          stepped: d.stepped ? "before" : false,
          pointRadius: d.points.map(function (p) { return p.emphasis ? 7 : 3; })
        };
      }) },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        plugins: {
          title: { display: true, text: spec.title },
          annotation: { annotations: annotations },
          tooltip: { callbacks: {
            title: function (items) { return items.length ? items[0].raw.at : ""; },
            label: function (item) { return item.dataset.label + ": " + item.raw.text; }
          } }
        },
        scales: { x: x, y: y }
      }
    });
  }

  // V1: NEWS2 over hours before now, the policy's medium and high thresholds shaded.
  function news2Series(series) {
    var canvas = document.getElementById("news2-series");
    if (!canvas || !series) return;
    new Chart(canvas, {
      type: "line",
      data: { datasets: [
        { label: "NEWS2", data: xy(series.points), borderColor: "#0b5cad", pointRadius: 5 }
      ] },
      options: {
        animation: false,
        plugins: { annotation: { annotations: {
          medium: { type: "box", yMin: series.medium_from, yMax: series.high_from, backgroundColor: "rgba(240,140,0,0.15)", borderWidth: 0, label: { display: true, content: "medium", position: "start" } },
          high: { type: "box", yMin: series.high_from, backgroundColor: "rgba(179,38,30,0.15)", borderWidth: 0, label: { display: true, content: "high", position: "start" } }
        } } },
        scales: {
          x: { type: "linear", max: 0, title: { display: true, text: "hours before now" } },
          y: { beginAtZero: true, suggestedMax: series.high_from, title: { display: true, text: "NEWS2" } }
        }
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var charts = data("record-charts") || {};
    [].concat(charts.response || [], charts.vitals || [], charts.pump || []).forEach(recordChart);
    news2Series(data("news2-series-data"));
  });
})();
