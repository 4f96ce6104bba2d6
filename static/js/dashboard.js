/* Komek dashboards: draws the charts from the JSON embedded with json_script
   (#dashboard-data) into <canvas data-chart="…" data-kind="bar|line|doughnut">, and toggles
   each chart's table view (<button data-toggle-table="…">). No inline scripts. */
(function () {
  "use strict";
  var PALETTE = ["#0d6efd", "#6f42c1", "#0b5394", "#6c757d"];
  // Numbers as the page's language writes them (ru, kk: 12 345; en: 12,345).
  var LOCALE = document.documentElement.lang || "ru";
  var NUMBER = new Intl.NumberFormat(LOCALE);

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
      // Colours come with the data and mean the same everywhere (approved green, rejected
      // orange-red, no decision grey, category 6 dark red); a hidden figure (null) is a gap.
      var datasets = spec.series.map(function (s, i) {
        var colour = s.color || PALETTE[i % PALETTE.length];
        return {
          label: s.label,
          data: s.data,
          backgroundColor: s.colors || colour,
          borderColor: kind === "doughnut" ? "#ffffff" : s.colors || colour,
          fill: false,
          spanGaps: false,
          tension: 0.2
        };
      });
      canvas.chart = new window.Chart(canvas, {
        type: kind,
        data: { labels: spec.labels, datasets: datasets },
        options: {
          locale: LOCALE,
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          plugins: {
            legend: { display: datasets.length > 1 || kind === "doughnut" },
            tooltip: {
              callbacks: {
                label: function (ctx) {
                  var v = ctx.raw;
                  var shown = v === null || v === undefined ? "•" : NUMBER.format(v);
                  return (ctx.dataset.label ? ctx.dataset.label + ": " : "") + shown;
                }
              }
            }
          },
          scales: kind === "doughnut" ? {} : {
            y: {
              beginAtZero: true,
              ticks: { precision: 0, callback: function (v) { return NUMBER.format(v); } }
            }
          }
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
