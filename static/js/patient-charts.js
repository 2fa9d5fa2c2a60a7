// Draws the patient page's charts with Chart.js (vendored): the data comes from the page's json_script blocks.
// Clinical figures arrive as decimal strings; they become numbers here, for plotting only.
(function () {
  function xy(points) { return points.map(function (p) { return { x: Number(p.x), y: Number(p.y) }; }); }

  function data(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function responseCurve(curve) {
    var canvas = document.getElementById(curve.id);
    if (!canvas) return;
    var points = curve.points;
    new Chart(canvas, {
      type: "line",
      data: {
        datasets: [
          { label: "Modified Ashworth (mean)", data: points.map(function (p) { return { x: p.h, y: Number(p.ashworth) }; }), borderColor: "#0b5cad", pointRadius: points.map(function (p) { return p.baseline ? 7 : 3; }) },
          { label: "Penn spasm frequency", data: points.map(function (p) { return { x: p.h, y: Number(p.penn) }; }), borderColor: "#b3261e", borderDash: [6, 4], pointRadius: points.map(function (p) { return p.baseline ? 7 : 3; }) }
        ]
      },
      options: {
        animation: false,
        plugins: {
          title: { display: true, text: curve.title },
          annotation: { annotations: {
            window: { type: "box", xMin: curve.window[0], xMax: curve.window[1], backgroundColor: "rgba(242,193,78,0.25)", borderWidth: 0, label: { display: true, content: "4-8 h assessment window", position: "start" } },
            dose: { type: "line", xMin: 0, xMax: 0, borderColor: "#5b6775", borderWidth: 1, label: { display: true, content: "dose", position: "end" } }
          } }
        },
        scales: {
          x: { type: "linear", title: { display: true, text: "hours since the dose (baseline before 0)" }, suggestedMin: -1, suggestedMax: 9 },
          y: { min: 0, max: 4, title: { display: true, text: "score" } }
        }
      }
    });
  }

  function doseHistory(history) {
    var canvas = document.getElementById("dose-history");
    if (!canvas || !history) return;
    var annotations = { alarm: { type: "line", yScaleID: "volume", yMin: Number(history.alarm_ml), yMax: Number(history.alarm_ml), borderColor: "#b3261e", label: { display: true, content: "alarm volume", position: "start" } } };
    history.refills.forEach(function (day, i) {
      annotations["refill" + i] = { type: "line", xMin: day, xMax: day, borderColor: "#1e6b34", borderDash: [4, 4], label: { display: true, content: "refill", position: "end" } };
    });
    new Chart(canvas, {
      type: "line",
      data: { datasets: [
        { label: "daily dose (mcg/day)", data: xy(history.dose), stepped: "before", borderColor: "#0b5cad", yAxisID: "dose" },
        { label: "reservoir volume (mL, projected to the alarm)", data: xy(history.volume), borderColor: "#8a5a00", borderDash: [6, 4], yAxisID: "volume" }
      ] },
      options: {
        animation: false,
        plugins: { annotation: { annotations: annotations } },
        scales: {
          x: { type: "linear", title: { display: true, text: "days since implant" } },
          dose: { position: "left", beginAtZero: true, title: { display: true, text: "mcg/day" } },
          volume: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false }, title: { display: true, text: "mL" } }
        }
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
    (data("response-curves") || []).forEach(responseCurve);
    doseHistory(data("dose-history-data"));
    news2Series(data("news2-series-data"));
  });
})();
