// Live updates for the desk: the pages work without this script; it only
// listens to the agent's events and refreshes the inbox's lists, or shows
// a line of news on other pages.
(function () {
  "use strict";
  if (!window.EventSource) { return; }
  var news = document.getElementById("news");
  var live = document.getElementById("live");
  var source = null;

  function refresh() {
    fetch("/inbox/live", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) { live.innerHTML = html; })
      .catch(function () { /* the next event, or a reload, will do */ });
  }

  function listen() {
    source = new EventSource("/events");
    source.addEventListener("desk", function (message) {
      var e = JSON.parse(message.data);
      if (news) {
        news.textContent = e.text;
        news.hidden = false;
      }
      if (live) { refresh(); }
    });
    source.addEventListener("open", function () {
      document.body.setAttribute("data-live", "on");
    });
  }

  // A page left for another (or kept in the back-forward cache) closes its
  // stream: browsers allow a few connections per server, and streams left
  // open would hold them.
  window.addEventListener("pagehide", function () {
    if (source) { source.close(); source = null; }
    document.body.removeAttribute("data-live");
  });
  window.addEventListener("pageshow", function (e) {
    if (e.persisted && !source) {
      listen();
      if (live) { refresh(); }
    }
  });
  listen();
})();
