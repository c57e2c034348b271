// htmx error answers, one mechanism for every htmx request (no inline script: the strict CSP
// allows only same-origin files). htmx 2 does not swap 4xx/5xx answers by default, so a refused
// form would show nothing and leave the previous result on screen. The server marks an answer
// that is a fragment meant to replace its target (the form again, with each problem next to its
// field and no stale result) with the header "Onshi-Fragment: error"; such answers are swapped
// like a success. Any other error answer (a full error page, a lost session) is not swapped: its
// message goes into the page's live region #htmx-error, so the failure is never silent.
(function () {
  "use strict";

  var HEADER = "Onshi-Fragment";

  function region() {
    return document.getElementById("htmx-error");
  }

  function clear() {
    var box = region();
    if (box) {
      box.hidden = true;
      box.textContent = "";
    }
  }

  function show(text) {
    var box = region();
    if (!box) {
      return;
    }
    box.textContent = text;
    box.hidden = false;
  }

  function messageOf(xhr) {
    var box = region();
    var fallback = box ? box.dataset.generic || "" : "";
    var html = xhr && xhr.responseText;
    if (!html) {
      return fallback;
    }
    var doc = new DOMParser().parseFromString(html, "text/html");
    var node = doc.querySelector("[data-error-message]");
    return node && node.textContent.trim() ? node.textContent.trim() : fallback;
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    var detail = event.detail;
    var status = detail.xhr ? detail.xhr.status : 0;
    if (status < 400) {
      clear();
      return;
    }
    if (detail.xhr.getResponseHeader(HEADER) === "error") {
      detail.shouldSwap = true;
      detail.isError = false;
      clear();
      return;
    }
    if (!detail.xhr.getResponseHeader("HX-Redirect")) {
      show(messageOf(detail.xhr));
    }
  });

  document.addEventListener("htmx:sendError", function () {
    var box = region();
    show(box ? box.dataset.offline || "" : "");
  });
})();
