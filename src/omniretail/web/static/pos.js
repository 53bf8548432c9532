/* The till: focus the scan field, show the change to give and the cash counted as the associate types,
   print the receipt. Everything works without it; this only saves keystrokes. */
(function () {
  "use strict";
  var lang = document.documentElement.lang || "en";

  function amount(text) {
    var value = parseFloat(String(text || "").replace(/\s/g, "").replace(",", "."));
    return isNaN(value) ? null : value;
  }

  function format(value, currency) {
    try {
      return new Intl.NumberFormat(lang, { style: "currency", currency: currency }).format(value);
    } catch (e) {
      return value.toFixed(2) + " " + currency;
    }
  }

  // The scan field takes the focus unless a field with an error should have it.
  var scan = document.getElementById("f-code");
  var invalid = document.querySelector("[aria-invalid='true']");
  if (invalid) {
    invalid.focus();
  } else if (scan) {
    scan.focus();
  }

  // Change to give for the cash handed over.
  var total = document.getElementById("cart-total");
  var tendered = document.getElementById("f-tendered");
  var change = document.getElementById("change-due");
  if (total && tendered && change && total.dataset.total) {
    var due = amount(total.dataset.total);
    var currency = total.dataset.currency;
    var update = function () {
      var given = amount(tendered.value);
      if (given === null || due === null) {
        change.textContent = "";
      } else if (given >= due) {
        change.textContent = change.dataset.label.replace("{amount}", format(given - due, currency));
      } else {
        change.textContent = change.dataset.short.replace("{amount}", format(due - given, currency));
      }
    };
    tendered.addEventListener("input", update);
    update();
  }

  // The drawer counted note by note, against what is expected.
  var countTotal = document.getElementById("count-total");
  var expected = document.getElementById("expected-cash");
  if (countTotal && expected) {
    var pieces = document.querySelectorAll("input[data-face]");
    var recount = function () {
      var sum = 0, any = false;
      pieces.forEach(function (input) {
        var n = parseInt(input.value, 10);
        if (!isNaN(n) && n >= 0) {
          sum += n * parseFloat(input.dataset.face);
          any = true;
        }
      });
      if (!any) {
        countTotal.textContent = "";
        return;
      }
      sum = Math.round(sum * 100) / 100;
      var diff = Math.round((sum - amount(expected.dataset.expected)) * 100) / 100;
      var cur = countTotal.dataset.currency;
      countTotal.textContent = countTotal.dataset.label.replace("{counted}", format(sum, cur))
        .replace("{difference}", (diff > 0 ? "+" : "") + format(diff, cur));
    };
    pieces.forEach(function (input) { input.addEventListener("input", recount); });
    recount();
  }

  var print = document.getElementById("print-receipt");
  if (print) {
    print.hidden = false;
    print.addEventListener("click", function () { window.print(); });
  }
})();
