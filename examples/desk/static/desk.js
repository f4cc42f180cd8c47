// Live updates for the desk: the pages work without this script; it only
// listens to the agent's events and refreshes the inbox's lists, or shows
// a line of news on other pages.
(function () {
  "use strict";
  if (!window.EventSource) { return; }
  var news = document.getElementById("news");
  var live = document.getElementById("live");
  var source = new EventSource("/events");
  source.addEventListener("desk", function (message) {
    var e = JSON.parse(message.data);
    if (news) {
      news.textContent = e.text;
      news.hidden = false;
    }
    if (live) {
      fetch("/inbox/live", { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) { live.innerHTML = html; })
        .catch(function () { /* the next event, or a reload, will do */ });
    }
  });
  source.addEventListener("open", function () {
    document.body.setAttribute("data-live", "on");
  });
})();
