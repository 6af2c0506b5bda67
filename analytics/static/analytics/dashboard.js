/* Draws the dashboard's charts from the figures embedded in the page (Chart.js, vendored). */
(function () {
  "use strict";
  if (typeof window.Chart === "undefined") { return; }
  var data = JSON.parse(document.getElementById("analytics-chart-data").textContent);
  var t = data.labels;

  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (canvas) { new window.Chart(canvas, config); }
  }

  draw("chart-stages", {
    type: "bar",
    data: {
      labels: data.stages.labels,
      datasets: [
        { label: t.mean, data: data.stages.mean },
        { label: t.median, data: data.stages.median },
        { label: t.p90, data: data.stages.p90 }
      ]
    },
    options: { animation: false, responsive: true }
  });

  draw("chart-funnel", {
    type: "bar",
    data: { labels: data.funnel.labels, datasets: [{ label: t.count, data: data.funnel.counts }] },
    options: { animation: false, indexAxis: "y", responsive: true }
  });

  var pointColours = data.control.outside.map(function (out) { return out ? "#c0392b" : "#2c3e50"; });
  draw("chart-control", {
    type: "line",
    data: {
      labels: data.control.labels,
      datasets: [
        { label: t.weekly, data: data.control.mean, pointBackgroundColor: pointColours,
          pointRadius: data.control.outside.map(function (out) { return out ? 6 : 3; }) },
        { label: t.centre, data: data.control.centre, borderDash: [4, 4], pointRadius: 0 },
        { label: t.ucl, data: data.control.ucl, borderDash: [2, 2], pointRadius: 0 },
        { label: t.lcl, data: data.control.lcl, borderDash: [2, 2], pointRadius: 0 }
      ]
    },
    options: { animation: false, responsive: true }
  });

  draw("chart-portfolio", {
    type: "bar",
    data: { labels: data.portfolio.labels, datasets: [{ label: t.balance, data: data.portfolio.balance }] },
    options: { animation: false, responsive: true }
  });
})();
