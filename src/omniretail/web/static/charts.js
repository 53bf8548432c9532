// The dashboard's charts, drawn with Chart.js (static/vendor) from the JSON the page carries.
// Each chart repeats a table on the page, so the page is complete without this script.
(function () {
  "use strict";
  var dataEl = document.getElementById("chart-data");
  if (!dataEl || typeof window.Chart === "undefined") { return; }
  var data = JSON.parse(dataEl.textContent);
  var text = JSON.parse((document.getElementById("chart-text") || {}).textContent || "{}");
  var locale = document.documentElement.lang || "en";
  var reduced = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  var palette = ["#1f3a5f", "#0b7a75", "#b35c00", "#6b3fa0", "#1e6b34", "#b3261e", "#4a4f57"];

  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.color = "#1a1a1a";
  if (reduced) { Chart.defaults.animation = false; }

  function money(currency) {
    var format = new Intl.NumberFormat(locale, { style: "currency", currency: currency });
    return function (value) { return format.format(value); };
  }

  function count(value) { return new Intl.NumberFormat(locale).format(value); }

  function todayChart(canvas) {
    var currency = canvas.dataset.currency;
    var rows = data.by_channel.filter(function (r) { return r.currency === currency; });
    return new Chart(canvas, {
      type: "bar",
      data: {
        labels: rows.map(function (r) { return r.channel; }),
        datasets: [
          { label: (text.orders || "Orders"), data: rows.map(function (r) { return r.orders; }),
            backgroundColor: palette[0], yAxisID: "orders" },
          { label: (text.revenue || "Revenue") + " (" + currency + ")",
            data: rows.map(function (r) { return r.revenue; }), backgroundColor: palette[2], yAxisID: "revenue" }
        ]
      },
      options: {
        maintainAspectRatio: false,
        scales: {
          orders: { position: "left", beginAtZero: true, ticks: { precision: 0, callback: count } },
          revenue: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false },
                     ticks: { callback: money(currency) } }
        }
      }
    });
  }

  function seriesChart(canvas) {
    var currency = canvas.dataset.currency;
    var series = data.series[currency] || { orders: [], revenue: [] };
    return new Chart(canvas, {
      type: "line",
      data: {
        labels: data.days,
        datasets: [
          { label: (text.orders || "Orders") + " (" + currency + ")", data: series.orders,
            borderColor: palette[0], backgroundColor: palette[0], yAxisID: "orders", tension: 0.2 },
          { label: (text.revenue || "Revenue") + " (" + currency + ")", data: series.revenue,
            borderColor: palette[2], backgroundColor: palette[2], yAxisID: "revenue", tension: 0.2,
            borderDash: [6, 3] }
        ]
      },
      options: {
        maintainAspectRatio: false,
        scales: {
          orders: { position: "left", beginAtZero: true, ticks: { precision: 0, callback: count } },
          revenue: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false },
                     ticks: { callback: money(currency) } }
        }
      }
    });
  }

  function waitingChart(canvas) {
    var rows = data.waiting.filter(function (r) { return r.orders > 0; });
    return new Chart(canvas, {
      type: "doughnut",
      data: {
        labels: rows.map(function (r) { return r.label; }),
        datasets: [{ data: rows.map(function (r) { return r.orders; }),
                     backgroundColor: rows.map(function (_r, i) { return palette[i % palette.length]; }) }]
      },
      options: { maintainAspectRatio: false, plugins: { legend: { position: "right" } } }
    });
  }

  var makers = { today: todayChart, series: seriesChart, waiting: waitingChart };
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var make = makers[canvas.dataset.chart];
    if (make) { canvas.chart = make(canvas); canvas.dataset.drawn = "true"; }
  });
})();
