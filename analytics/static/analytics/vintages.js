/* Draws the vintage curves embedded in the page: one line per quarter of disbursements. */
(function () {
  "use strict";
  if (typeof window.Chart === "undefined") { return; }
  var data = JSON.parse(document.getElementById("vintage-chart-data").textContent);

  function draw(id, column, title) {
    var canvas = document.getElementById(id);
    if (!canvas) { return; }
    new window.Chart(canvas, {
      type: "line",
      data: {
        datasets: data.curves.map(function (curve) {
          return {
            label: curve.label,
            data: curve.points.map(function (p) { return { x: p[0], y: p[column] }; })
          };
        })
      },
      options: {
        animation: false,
        responsive: true,
        parsing: false,
        scales: {
          x: { type: "linear", title: { display: true, text: data.labels.mob } },
          y: { beginAtZero: true, title: { display: true, text: title } }
        }
      }
    });
  }

  draw("chart-vintage-30", 1, data.labels.dpd30);
  draw("chart-vintage-90", 2, data.labels.dpd90);
})();
