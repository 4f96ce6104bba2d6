/* Komek dashboards: draws the charts from the JSON embedded with json_script
   (#dashboard-data) into <canvas data-chart="…" data-kind="bar|line|doughnut">, and toggles
   each chart's table view (<button data-toggle-table="…">). No inline scripts. */
(function () {
  "use strict";
  var PALETTE = ["#0d6efd", "#198754", "#dc3545", "#fd7e14", "#6f42c1", "#20c997", "#6c757d"];

  function toggleTables() {
    document.querySelectorAll("[data-toggle-table]").forEach(function (button) {
      button.addEventListener("click", function () {
        var table = document.getElementById("table-" + button.getAttribute("data-toggle-table"));
        if (!table) return;
        var show = table.hidden;
        table.hidden = !show;
        button.setAttribute("aria-expanded", show ? "true" : "false");
      });
    });
  }

  function draw(data) {
    if (typeof window.Chart === "undefined") return;
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var spec = data[canvas.getAttribute("data-chart")];
      if (!spec) return;
      var kind = canvas.getAttribute("data-kind") || "bar";
      var datasets = spec.series.map(function (s, i) {
        var colour = PALETTE[i % PALETTE.length];
        return {
          label: s.label,
          data: s.data,
          backgroundColor: kind === "doughnut" ? PALETTE.slice(0, s.data.length) : colour,
          borderColor: colour,
          fill: false,
          tension: 0.2
        };
      });
      canvas.chart = new window.Chart(canvas, {
        type: kind,
        data: { labels: spec.labels, datasets: datasets },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          plugins: { legend: { display: datasets.length > 1 || kind === "doughnut" } },
          scales: kind === "doughnut" ? {} : { y: { beginAtZero: true, ticks: { precision: 0 } } }
        }
      });
      canvas.setAttribute("data-drawn", "1");
    });
  }

  function init() {
    toggleTables();
    var node = document.getElementById("dashboard-data");
    if (node) draw(JSON.parse(node.textContent));
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
