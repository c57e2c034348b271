// Reception screen: live verification results over server-sent events (no inline script; the
// strict CSP allows only same-origin files). The server renders every card; this file only puts
// each one in place: a card replaces the one with the same id, or goes on top of its list.
// EventSource reconnects by itself and sends Last-Event-ID, and the server replays what was
// missed. When the browser gives up (the server answered an error, e.g. the session ended), the
// page is reloaded after a pause, which sends a signed-out clerk to the sign-in page.
(function () {
  "use strict";

  var live = document.querySelector("[data-reception-stream]");
  if (!live || !window.EventSource) {
    return;
  }
  var status = document.getElementById("reception-status");
  var lastId = null;

  function setStatus(key) {
    if (status && status.dataset[key]) {
      status.textContent = status.dataset[key];
    }
  }

  function parse(html) {
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content.firstElementChild;
  }

  function place(listId, html) {
    var card = parse(html);
    var list = document.getElementById(listId);
    if (!card || !card.id || !list) {
      return;
    }
    var replaces = card.dataset.replaces && document.getElementById(card.dataset.replaces);
    if (replaces) {
      replaces.remove();
    }
    var existing = document.getElementById(card.id);
    if (card.dataset.remove === "true") {
      if (existing) {
        existing.remove();
      }
    } else if (existing) {
      existing.replaceWith(card);
    } else {
      list.prepend(card);
      var empty = document.getElementById(listId + "-empty");
      if (empty) {
        empty.remove();
      }
    }
    if (card.dataset.announce && status && status.dataset.textNew) {
      status.textContent = status.dataset.textNew + " " + card.dataset.announce;
    }
    if (window.htmx && card.isConnected) {
      window.htmx.process(card);
    }
  }

  function connect() {
    var url = live.dataset.receptionStream;
    if (lastId !== null) {
      url = url.replace(/([?&]after=)\d*/, "$1" + lastId);
    }
    var source = new EventSource(url);
    source.addEventListener("open", function () {
      setStatus("textLive");
    });
    source.addEventListener("verification", function (event) {
      if (event.lastEventId) {
        lastId = event.lastEventId;
      }
      place("reception-feed", event.data);
    });
    source.addEventListener("pending", function (event) {
      place("reception-pending", event.data);
    });
    source.addEventListener("error", function () {
      setStatus("textReconnecting");
      if (source.readyState === EventSource.CLOSED) {
        window.setTimeout(function () {
          window.location.reload();
        }, 5000);
      }
    });
  }

  connect();
})();
