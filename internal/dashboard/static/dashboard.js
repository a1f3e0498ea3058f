// Keeps the page's content current: every data-refresh milliseconds it fetches
// the same URL again and swaps the content in (nothing when the tab is hidden or
// while a field of the content is being typed in).
(function () {
  var main = document.getElementById("content");
  var every = parseInt(document.body.dataset.refresh, 10);
  if (!main || !every) return;
  function tick() {
    var typing = main.contains(document.activeElement) && document.activeElement.tagName === "INPUT";
    if (document.hidden || typing) { setTimeout(tick, every); return; }
    fetch(location.href, { headers: { "X-Tugboat-Refresh": "1" }, cache: "no-store" })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        var next = new DOMParser().parseFromString(html, "text/html").getElementById("content");
        if (next && next.innerHTML !== main.innerHTML) main.innerHTML = next.innerHTML;
        document.body.dataset.refreshed = String(Date.now());
      })
      .catch(function () {})
      .finally(function () { setTimeout(tick, every); });
  }
  setTimeout(tick, every);
})();
