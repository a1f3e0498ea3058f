// Keeps the page's content current: the dashboard sends a server-sent event
// ("change", on /updates) when something the pages show changed; the page then
// fetches its URL again and swaps the content in. No polling. While the tab is
// hidden or a field of the content is being typed in, the fetch waits.
(function () {
  var main = document.getElementById("content");
  if (!main || !window.EventSource || !document.body.dataset.follow) return;
  var busy = false, pending = false;
  function typing() {
    return main.contains(document.activeElement) && document.activeElement.tagName === "INPUT";
  }
  function refresh() {
    if (busy || document.hidden || typing()) { pending = true; return; }
    busy = true; pending = false;
    fetch(location.href, { headers: { "X-Tugboat-Refresh": "1" }, cache: "no-store", credentials: "same-origin" })
      .then(function (r) {
        if (r.status === 401) { location.reload(); throw new Error("logged out"); }
        return r.text();
      })
      .then(function (html) {
        var next = new DOMParser().parseFromString(html, "text/html").getElementById("content");
        if (next && next.innerHTML !== main.innerHTML) main.innerHTML = next.innerHTML;
        document.body.dataset.refreshed = String(Date.now());
      })
      .catch(function () {})
      .finally(function () { busy = false; if (pending) refresh(); });
  }
  var updates = new EventSource("/updates");
  updates.addEventListener("change", refresh);
  // After a lost connection changes may have been missed.
  var lost = false;
  updates.onerror = function () { lost = true; document.body.dataset.live = ""; };
  updates.onopen = function () { document.body.dataset.live = "1"; if (lost) { lost = false; refresh(); } };
  document.addEventListener("visibilitychange", function () { if (pending) refresh(); });
  main.addEventListener("focusout", function () { if (pending) setTimeout(refresh, 0); });
})();
