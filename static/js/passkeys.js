// Passkey ceremonies for the patient pages (no inline script: the CSP forbids it).
//
// A button with data-passkey="register" or data-passkey="sign-in" starts a ceremony:
//   data-options-url  POST here (JSON) for the WebAuthn options (bytes as base64url)
//   data-verify-url   POST the credential here (JSON); the answer is {redirect} or {error}
//   data-csrf         the CSRF token, sent as X-CSRF-Token
//   data-code         (registration) the enrolment code, sent with both requests
//   data-msg-*        texts in the page's language: unsupported, cancelled, failed, working
// Messages go to the element named by data-status (an aria-live region).
(function () {
  "use strict";

  function toBytes(b64url) {
    var b64 = b64url.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) b64 += "=";
    var raw = atob(b64);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out.buffer;
  }

  function toB64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var raw = "";
    for (var i = 0; i < bytes.length; i++) raw += String.fromCharCode(bytes[i]);
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function creationOptions(json) {
    var options = Object.assign({}, json);
    options.challenge = toBytes(json.challenge);
    options.user = Object.assign({}, json.user, { id: toBytes(json.user.id) });
    options.excludeCredentials = (json.excludeCredentials || []).map(function (c) {
      return Object.assign({}, c, { id: toBytes(c.id) });
    });
    return options;
  }

  function requestOptions(json) {
    var options = Object.assign({}, json);
    options.challenge = toBytes(json.challenge);
    options.allowCredentials = (json.allowCredentials || []).map(function (c) {
      return Object.assign({}, c, { id: toBytes(c.id) });
    });
    return options;
  }

  function registrationJSON(credential) {
    var response = credential.response;
    var transports = typeof response.getTransports === "function" ? response.getTransports() : [];
    return {
      id: credential.id,
      rawId: toB64url(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: {
        clientDataJSON: toB64url(response.clientDataJSON),
        attestationObject: toB64url(response.attestationObject),
        transports: transports,
      },
    };
  }

  function assertionJSON(credential) {
    var response = credential.response;
    return {
      id: credential.id,
      rawId: toB64url(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: {
        clientDataJSON: toB64url(response.clientDataJSON),
        authenticatorData: toB64url(response.authenticatorData),
        signature: toB64url(response.signature),
        userHandle: response.userHandle ? toB64url(response.userHandle) : null,
      },
    };
  }

  function postJSON(url, csrf, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRF-Token": csrf,
      },
      body: JSON.stringify(body),
    }).then(function (response) {
      return response
        .json()
        .catch(function () {
          return {};
        })
        .then(function (data) {
          if (!response.ok) {
            var error = new Error(data.error || "");
            error.serverMessage = data.error || "";
            throw error;
          }
          return data;
        });
    });
  }

  function say(button, text, isError) {
    var status = document.getElementById(button.dataset.status || "");
    if (!status) return;
    status.textContent = text;
    status.classList.toggle("is-error", Boolean(isError));
  }

  function run(button) {
    var kind = button.dataset.passkey;
    var csrf = button.dataset.csrf || "";
    var extra = button.dataset.code ? { code: button.dataset.code } : {};
    if (!window.PublicKeyCredential || !navigator.credentials) {
      say(button, button.dataset.msgUnsupported || "", true);
      return;
    }
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    say(button, button.dataset.msgWorking || "", false);
    postJSON(button.dataset.optionsUrl, csrf, extra)
      .then(function (options) {
        if (kind === "register") {
          return navigator.credentials
            .create({ publicKey: creationOptions(options) })
            .then(registrationJSON);
        }
        return navigator.credentials
          .get({ publicKey: requestOptions(options) })
          .then(assertionJSON);
      })
      .then(function (credential) {
        return postJSON(
          button.dataset.verifyUrl,
          csrf,
          Object.assign({ credential: credential }, extra)
        );
      })
      .then(function (result) {
        window.location.assign(result.redirect || "/me");
      })
      .catch(function (error) {
        var text = error && error.serverMessage;
        if (!text && error && (error.name === "NotAllowedError" || error.name === "AbortError")) {
          text = button.dataset.msgCancelled;
        }
        say(button, text || button.dataset.msgFailed || "", true);
        button.disabled = false;
        button.removeAttribute("aria-busy");
      });
  }

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target.closest("[data-passkey]") : null;
    if (!target) return;
    event.preventDefault();
    run(target);
  });
})();
