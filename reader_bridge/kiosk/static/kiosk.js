// reader_bridge kiosk: reload when the screen changes (card placed or taken, staff decision)
// and the on-screen keypads. No inline script: the page's CSP allows only this file.
"use strict";

(function () {
  const body = document.body;
  const version = Number(body.dataset.version || "0");

  async function watch() {
    for (;;) {
      try {
        const response = await fetch("/state?since=" + version, { cache: "no-store" });
        if (response.ok) {
          const state = await response.json();
          if (state.version !== version) {
            window.location.reload();
            return;
          }
        } else {
          await new Promise((resolve) => setTimeout(resolve, 1000));
        }
      } catch (error) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  let lastField = null;
  document.addEventListener("focusin", (event) => {
    const target = event.target;
    if (target instanceof HTMLInputElement && target.type !== "hidden") {
      lastField = target;
    }
  });

  document.querySelectorAll(".keypad").forEach((pad) => {
    pad.addEventListener("click", (event) => {
      const key = event.target.closest("button[data-key]");
      if (!key) return;
      const targetName = pad.dataset.target;
      const field = targetName === "focused"
        ? (lastField || pad.closest("form").querySelector("input:not([type=hidden])"))
        : document.getElementById(targetName);
      if (!field) return;
      const value = key.dataset.key;
      if (value === "clear") {
        field.value = "";
      } else if (value === "back") {
        field.value = field.value.slice(0, -1);
      } else if (!field.maxLength || field.maxLength < 0 || field.value.length < field.maxLength) {
        field.value += value;
      }
      field.focus();
    });
  });

  watch();
})();
