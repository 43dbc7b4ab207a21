// The console's only script: live parts reload themselves. Everything else works without it.
"use strict";
(function () {
  function refresh(region) {
    var url = region.getAttribute("data-refresh");
    var every = Math.max(2, parseInt(region.getAttribute("data-every"), 10) || 10) * 1000;
    function tick() {
      if (document.hidden) {
        return;
      }
      fetch(url, { headers: { "X-Requested-With": "XMLHttpRequest" }, credentials: "same-origin", cache: "no-store" })
        .then(function (response) {
          if (response.status === 401 || response.redirected) {
            window.location.reload(); // the session ended: the page shows the sign-in
            return null;
          }
          return response.ok ? response.text() : null;
        })
        .then(function (html) {
          if (html !== null && html !== undefined) {
            region.innerHTML = html;
          }
        })
        .catch(function () { /* the next tick tries again */ });
    }
    window.setInterval(tick, every);
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-refresh]").forEach(refresh);
  });
})();
