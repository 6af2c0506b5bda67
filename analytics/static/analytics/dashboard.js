/* The dashboard fills in each figure's placeholder from its section's URL (one request per
   figure), then draws the charts of the sections it inserted (Chart.js, vendored). A figure's
   own page draws its chart from the section already in the page. */
(function () {
  "use strict";

  var charts = {
    stages: function (d) {
      return {
        type: "bar",
        data: {
          labels: d.categories,
          datasets: [
            { label: d.labels.mean, data: d.mean },
            { label: d.labels.median, data: d.median },
            { label: d.labels.p90, data: d.p90 }
          ]
        },
        options: { animation: false, responsive: true }
      };
    },
    funnel: function (d) {
      return {
        type: "bar",
        data: { labels: d.categories, datasets: [{ label: d.labels.count, data: d.counts }] },
        options: { animation: false, indexAxis: "y", responsive: true }
      };
    },
    control: function (d) {
      return {
        type: "line",
        data: {
          labels: d.categories,
          datasets: [
            { label: d.labels.weekly, data: d.mean,
              pointBackgroundColor: d.outside.map(function (out) { return out ? "#c0392b" : "#2c3e50"; }),
              pointRadius: d.outside.map(function (out) { return out ? 6 : 3; }) },
            { label: d.labels.centre, data: d.centre, borderDash: [4, 4], pointRadius: 0 },
            { label: d.labels.ucl, data: d.ucl, borderDash: [2, 2], pointRadius: 0 },
            { label: d.labels.lcl, data: d.lcl, borderDash: [2, 2], pointRadius: 0 }
          ]
        },
        options: { animation: false, responsive: true }
      };
    },
    portfolio: function (d) {
      return {
        type: "bar",
        data: { labels: d.categories, datasets: [{ label: d.labels.balance, data: d.balance }] },
        options: { animation: false, responsive: true }
      };
    }
  };

  // Each canvas names its kind (data-chart) and the JSON block of its data (data-chart-data).
  function draw(root) {
    if (typeof window.Chart === "undefined") { return; }
    root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var build = charts[canvas.getAttribute("data-chart")];
      var source = document.getElementById(canvas.getAttribute("data-chart-data"));
      if (!build || !source || window.Chart.getChart(canvas)) { return; }
      new window.Chart(canvas, build(JSON.parse(source.textContent)));
    });
  }

  function failed(slot) {
    var placeholder = slot.querySelector(".figure-placeholder");
    var status = slot.querySelector(".figure-status");
    slot.setAttribute("data-state", "failed");
    if (placeholder) { placeholder.setAttribute("aria-busy", "false"); }
    if (status) {
      status.textContent = slot.getAttribute("data-error-text");
      status.classList.remove("muted");
      status.classList.add("error");
    }
  }

  function load(slot) {
    fetch(slot.getAttribute("data-figure-url"), {
      headers: { "X-Requested-With": "fetch" },
      credentials: "same-origin"
    }).then(function (response) {
      // A redirect (to the login page, the session having ended) is not the section either.
      if (!response.ok || response.redirected) { throw new Error(String(response.status)); }
      return response.text();
    }).then(function (html) {
      if (!html.trim()) {  // a figure with nothing to show (no SLA deadlines, no decline)
        slot.hidden = true;
        slot.innerHTML = "";
        slot.setAttribute("data-state", "empty");
        return;
      }
      slot.innerHTML = html;
      draw(slot);
      slot.setAttribute("data-state", "loaded");
    }).catch(function () { failed(slot); });
  }

  draw(document);
  document.querySelectorAll("[data-figure-url]").forEach(load);
})();
