// Access receipts of the transparency log, checked in the browser (no inline script: strict CSP).
//
// Every element with data-receipt-url (a row of the access log) gets its receipt (JSON) and
// checks it with WebCrypto, exactly as docs/transparency-log.md describes:
//   1. the log key "<name>+<key id hex>+<base64(0x01 || Ed25519 public key)>": the key ID is
//      the first 4 bytes of SHA-256(name || 0x0A || 0x01 || public key);
//   2. the checkpoint (signed note): a signature line "— <name> <base64(key id || signature)>"
//      whose Ed25519 signature over the note body verifies;
//   3. the body's tree size equals the receipt's, and the RFC 9162 inclusion proof takes
//      SHA-256(0x00 || entry) at leaf_index to the body's root hash;
//   4. the entry is the access-log row shown (type "access", same id).
// The result goes to the row's [data-receipt-status]; texts come from #receipt-messages.
(function () {
  "use strict";

  var subtle = window.crypto && window.crypto.subtle;

  function fromB64(text) {
    var raw = atob(text);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }

  function concat() {
    var total = 0;
    var parts = Array.prototype.slice.call(arguments);
    parts.forEach(function (p) { total += p.length; });
    var out = new Uint8Array(total);
    var at = 0;
    parts.forEach(function (p) { out.set(p, at); at += p.length; });
    return out;
  }

  function equal(a, b) {
    if (a.length !== b.length) return false;
    for (var i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  function hex(bytes) {
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function sha256(bytes) {
    return subtle.digest("SHA-256", bytes).then(function (d) { return new Uint8Array(d); });
  }

  function nodeHash(left, right) {
    return sha256(concat(new Uint8Array([1]), left, right));
  }

  function fail(reason) {
    var error = new Error(reason);
    error.receipt = true;
    throw error;
  }

  // RFC 9162 2.1.3.2 (the same steps as onshi.audit.merkle.verify_inclusion).
  async function verifyInclusion(index, size, leaf, proof, root) {
    if (!(index >= 0 && index < size)) return false;
    var fn = index, sn = size - 1, r = leaf;
    for (var i = 0; i < proof.length; i++) {
      if (sn === 0) return false;
      if (fn % 2 === 1 || fn === sn) {
        r = await nodeHash(proof[i], r);
        while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
      } else {
        r = await nodeHash(r, proof[i]);
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    return sn === 0 && equal(r, root);
  }

  async function checkReceipt(receipt, accessId) {
    if (!receipt || receipt.version !== 1) fail("not a version 1 receipt");
    // Split at the first two '+' only: the base64 key may contain '+'.
    var keyText = String(receipt.log_key);
    var first = keyText.indexOf("+");
    var second = keyText.indexOf("+", first + 1);
    if (first < 1 || second < 0) fail("bad log key");
    var keyParts = [keyText.slice(0, first), keyText.slice(first + 1, second), keyText.slice(second + 1)];
    var name = keyParts[0];
    var keyBytes = fromB64(keyParts[2]);
    if (keyBytes.length !== 33 || keyBytes[0] !== 1) fail("not an Ed25519 key");
    var publicKey = keyBytes.slice(1);
    var nameBytes = new TextEncoder().encode(name);
    var keyId = (await sha256(concat(nameBytes, new Uint8Array([10, 1]), publicKey))).slice(0, 4);
    if (hex(keyId) !== keyParts[1].toLowerCase()) fail("key ID does not match the key");

    var note = String(receipt.checkpoint);
    var split = note.indexOf("\n\n");
    if (split < 0) fail("bad checkpoint");
    var body = note.slice(0, split + 1);
    var lines = note.slice(split + 2).replace(/\n$/, "").split("\n");
    var signed = false;
    var cryptoKey;
    try {
      cryptoKey = await subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
    } catch (e) {
      var unsupported = new Error("unsupported");
      unsupported.unsupported = true;
      throw unsupported;
    }
    for (var i = 0; i < lines.length; i++) {
      var line = lines[i];
      if (line.indexOf("\u2014 " + name + " ") !== 0) continue;
      var sig = fromB64(line.slice(name.length + 3));
      if (sig.length !== 68 || !equal(sig.slice(0, 4), keyId)) continue;
      signed = await subtle.verify(
        { name: "Ed25519" }, cryptoKey, sig.slice(4), new TextEncoder().encode(body));
      if (!signed) fail("the checkpoint signature does not verify");
    }
    if (!signed) fail("the checkpoint is not signed by the log key");

    var bodyLines = body.split("\n");
    var size = parseInt(bodyLines[1], 10);
    var root = fromB64(bodyLines[2]);
    if (size !== receipt.tree_size) fail("tree size differs from the checkpoint");
    var entry = fromB64(receipt.entry);
    var leaf = await sha256(concat(new Uint8Array([0]), entry));
    var proof = receipt.inclusion_proof.map(fromB64);
    if (!(await verifyInclusion(receipt.leaf_index, size, leaf, proof, root))) {
      fail("the inclusion proof does not lead to the signed root");
    }
    var decoded = JSON.parse(new TextDecoder().decode(entry));
    if (decoded.type !== "access" || String(decoded.id) !== String(accessId)) {
      fail("the receipt is for another entry");
    }
    return { index: receipt.leaf_index, size: size };
  }

  function messages() {
    var el = document.getElementById("receipt-messages");
    return el ? el.dataset : {};
  }

  function fill(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, function (m, k) {
      return k in values ? values[k] : m;
    });
  }

  function show(cell, state, text) {
    var status = cell.querySelector("[data-receipt-status]");
    if (!status) return;
    status.textContent = text;
    cell.dataset.receiptState = state;
  }

  async function check(cell) {
    var msg = messages();
    if (cell.dataset.receiptState) return;
    show(cell, "checking", msg.msgChecking);
    if (!subtle) { show(cell, "unsupported", msg.msgUnsupported); return; }
    try {
      var response = await fetch(cell.dataset.receiptUrl, { credentials: "same-origin" });
      if (response.status === 409) { show(cell, "pending", msg.msgPending); return; }
      if (!response.ok) fail("HTTP " + response.status);
      var result = await checkReceipt(await response.json(), cell.dataset.accessId);
      show(cell, "verified", msg.msgVerified + ": " + fill(msg.msgVerifiedDetail, result));
    } catch (e) {
      if (e.unsupported) { show(cell, "unsupported", msg.msgUnsupported); return; }
      var reason = e.receipt ? e.message : String(e && e.message || e);
      show(cell, "failed", msg.msgFailed + ": " + fill(msg.msgFailedDetail, { reason: reason }));
    }
  }

  function checkAll() {
    document.querySelectorAll("[data-receipt-url]").forEach(function (cell) { check(cell); });
  }

  window.onshiReceipts = { checkReceipt: checkReceipt };
  document.addEventListener("DOMContentLoaded", checkAll);
  document.addEventListener("htmx:afterSwap", checkAll);
}());
