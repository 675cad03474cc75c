// secret.js does the end-to-end encryption of secret chats in the browser.
//
// Keys: on the first page a signed-in account loads in this browser, the
// script makes an ECDH P-256 key pair with WebCrypto. The private key is
// made non-extractable and kept in IndexedDB: no script, this one included,
// can read its bytes, and it never leaves the browser. The public key goes
// to the server as a JWK (PATCH /api/v1/me), where the other side of a chat
// fetches it.
//
// Messages: both sides of a secret chat derive the same AES-256-GCM key:
// ECDH of their own private key with the other's public key, then HKDF-
// SHA-256 with the chat id in the salt, so each chat has its own key. Each
// message is encrypted with a fresh random 12-byte nonce, and the chat id and
// sender id are bound in as additional data, so the server cannot pass one
// person's message off as the other's. Only the ciphertext and nonce are
// sent (POST /api/v1/chats/{id}/messages); the text never leaves the page.
(function () {
  "use strict";

  var body = document.body;
  var userId = body.dataset.userId;
  if (!userId) return;

  var subtle = window.crypto && window.crypto.subtle;
  var utf8 = new TextEncoder();
  var ECDH = { name: "ECDH", namedCurve: "P-256" };
  var keyName = "user:" + userId;
  var chatKeys = {};

  var api = { decryptElement: decryptElement };
  window.ParleySecret = api;

  api.ready = setUp().catch(function (err) {
    return { status: "error", message: err.message };
  }).then(function (state) {
    report(state);
    return state;
  });

  onClick("[data-secret-takeover]", function (button) {
    button.disabled = true;
    makeKeys(true).then(function (rec) {
      return publish(rec.publicJwk);
    }).then(function () {
      location.reload();
    }, function (err) {
      button.disabled = false;
      problem("Could not set up secret chats here: " + err.message, false);
    });
  });

  var chat = document.querySelector('[data-live-chat][data-kind="secret"]');
  if (chat) initChat(chat);

  // setUp makes sure this browser holds the account's keys, making and
  // publishing them on first use. If the account's published key was made
  // in another browser, it does not silently replace it (that would make
  // the chats in the other browser unreadable); it offers to.
  async function setUp() {
    if (!subtle || !window.indexedDB) return { status: "unsupported" };
    var serverKey = body.dataset.publicKey || "";
    var rec = await idbGet(keyName);
    if (!rec) {
      if (serverKey) return { status: "elsewhere" };
      rec = await makeKeys(false);
      await publish(rec.publicJwk);
      return { status: "ready", keys: rec };
    }
    if (serverKey === rec.publicJwk) return { status: "ready", keys: rec };
    if (!serverKey) {
      await publish(rec.publicJwk);
      return { status: "ready", keys: rec };
    }
    return { status: "elsewhere" };
  }

  function report(state) {
    var text;
    if (state.status === "ready") {
      body.dataset.secretReady = "true";
      text = "This browser holds your secret-chat keys: your secret chats can be read here.";
    } else if (state.status === "elsewhere") {
      text = "Your secret-chat keys were made in another browser, so secret chats cannot be read here.";
      problem(text + " You can use this browser instead: it makes new keys, and messages sent before then can no longer be read in either browser.", true);
    } else if (state.status === "unsupported") {
      text = "This browser cannot do secret chats: it needs WebCrypto and IndexedDB, on a site served over HTTPS.";
      problem(text, false);
    } else {
      text = "Secret chats could not be set up: " + state.message;
      problem(text, false);
    }
    document.querySelectorAll("[data-secret-status]").forEach(function (el) { el.textContent = text; });
  }

  function problem(text, offerTakeover) {
    document.querySelectorAll("[data-secret-problem]").forEach(function (box) {
      box.hidden = false;
      box.querySelector("[data-secret-problem-text]").textContent = text;
      var button = box.querySelector("[data-secret-takeover]");
      if (button) button.hidden = !offerTakeover;
    });
  }

  async function makeKeys(replace) {
    var pair = await subtle.generateKey(ECDH, false, ["deriveBits"]);
    var jwk = await subtle.exportKey("jwk", pair.publicKey);
    var rec = {
      privateKey: pair.privateKey,
      publicKey: pair.publicKey,
      publicJwk: JSON.stringify({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y })
    };
    try {
      await idbPut(keyName, rec, replace);
    } catch (err) {
      // Another tab made keys first: use those.
      var existing = await idbGet(keyName);
      if (existing) return existing;
      throw err;
    }
    return rec;
  }

  async function publish(publicJwk) {
    var resp = await fetch("/api/v1/me", {
      method: "PATCH",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ public_key: publicJwk })
    });
    if (!resp.ok) throw new Error(await errorMessage(resp));
    body.dataset.publicKey = publicJwk;
  }

  // ---- A secret chat page ----

  function initChat(el) {
    var chatId = Number(el.dataset.chatId);
    var peer = el.dataset.peer;
    var form = document.querySelector("[data-secret-form]");
    var send = form && form.querySelector("[data-secret-send]");
    var box = form && form.querySelector("textarea");
    var error = form && form.querySelector("[data-secret-error]");

    chatKey(chatId, peer).then(function () {
      if (send) send.disabled = false;
      el.dataset.secretKey = "ready";
    }, function (err) {
      el.dataset.secretKey = "failed";
      problemIfNone(err.message);
    });
    document.querySelectorAll("#messages [data-ciphertext]").forEach(decryptElement);

    if (!form) return;
    form.addEventListener("submit", async function (ev) {
      ev.preventDefault();
      var text = box.value;
      if (!text.trim()) {
        showError("Type a message first.");
        box.focus();
        return;
      }
      send.disabled = true;
      try {
        var key = await chatKey(chatId, peer);
        var sealed = await encrypt(key, chatId, userId, text);
        var resp = await fetch("/api/v1/chats/" + chatId + "/messages", {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(sealed)
        });
        if (!resp.ok) throw new Error(await errorMessage(resp));
        var msg = await resp.json();
        box.value = "";
        error.hidden = true;
        if (window.ParleyLive) window.ParleyLive.show(msg);
      } catch (err) {
        showError("Not sent: " + err.message);
      } finally {
        send.disabled = false;
        box.focus();
      }
    });

    function showError(text) {
      error.textContent = text;
      error.hidden = false;
    }
  }

  function problemIfNone(text) {
    var box = document.querySelector("[data-secret-problem]");
    if (box && box.hidden) problem(text, false);
  }

  // chatKey derives (once per page) the AES-GCM key of a secret chat.
  function chatKey(chatId, peer) {
    if (!chatKeys[chatId]) chatKeys[chatId] = deriveChatKey(chatId, peer);
    return chatKeys[chatId];
  }

  async function deriveChatKey(chatId, peer) {
    var state = await api.ready;
    if (state.status !== "ready") throw new Error("this browser does not hold your secret-chat keys");
    var resp = await fetch("/api/v1/users/" + encodeURIComponent(peer), { credentials: "same-origin" });
    if (!resp.ok) throw new Error("could not load the other person’s key: " + await errorMessage(resp));
    var user = await resp.json();
    if (!user.public_key) throw new Error(peer + " has no secret-chat key yet");
    var jwk = JSON.parse(user.public_key);
    var peerKey = await subtle.importKey("jwk", { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y }, ECDH, false, []);
    var shared = await subtle.deriveBits({ name: "ECDH", public: peerKey }, state.keys.privateKey, 256);
    var material = await subtle.importKey("raw", shared, "HKDF", false, ["deriveKey"]);
    return subtle.deriveKey(
      { name: "HKDF", hash: "SHA-256", salt: utf8.encode("parley secret chat " + chatId), info: utf8.encode("parley/secret-chat/v1 AES-256-GCM") },
      material, { name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
  }

  function additionalData(chatId, senderId) {
    return utf8.encode("parley:" + chatId + ":" + senderId);
  }

  async function encrypt(key, chatId, senderId, text) {
    var nonce = crypto.getRandomValues(new Uint8Array(12));
    var ct = await subtle.encrypt({ name: "AES-GCM", iv: nonce, additionalData: additionalData(chatId, senderId) }, key, utf8.encode(text));
    return { ciphertext: toBase64(ct), nonce: toBase64(nonce) };
  }

  // decryptElement shows the text of one secret message element (rendered
  // by the server or added live) in place of its ciphertext.
  async function decryptElement(li) {
    var chatEl = document.querySelector("[data-live-chat]");
    var target = li.querySelector(".msg-text");
    try {
      var chatId = Number(chatEl.dataset.chatId);
      var key = await chatKey(chatId, chatEl.dataset.peer);
      var plain = await subtle.decrypt(
        { name: "AES-GCM", iv: fromBase64(li.dataset.nonce), additionalData: additionalData(chatId, li.dataset.senderId) },
        key, fromBase64(li.dataset.ciphertext));
      target.textContent = new TextDecoder().decode(plain);
      target.classList.remove("msg-encrypted");
      li.dataset.decrypted = "true";
    } catch (err) {
      target.textContent = "This message cannot be decrypted in this browser.";
      target.classList.remove("msg-encrypted");
      target.classList.add("msg-undecryptable");
      li.dataset.decrypted = "false";
    }
  }

  // ---- Helpers ----

  function onClick(selector, fn) {
    document.addEventListener("click", function (ev) {
      var el = ev.target.closest(selector);
      if (el) fn(el);
    });
  }

  async function errorMessage(resp) {
    try {
      var data = await resp.json();
      if (data && data.error && data.error.message) return data.error.message;
    } catch (e) { /* not the API's error body */ }
    return "the server answered " + resp.status;
  }

  function toBase64(buf) {
    var bytes = new Uint8Array(buf);
    var s = "";
    for (var i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
    return btoa(s);
  }

  function fromBase64(s) {
    var bin = atob(s);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  function idb() {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open("parley-secret", 1);
      req.onupgradeneeded = function () { req.result.createObjectStore("keys"); };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }

  async function idbGet(key) {
    var db = await idb();
    return new Promise(function (resolve, reject) {
      var req = db.transaction("keys").objectStore("keys").get(key);
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }

  // idbPut stores a value; unless replace, it fails if the key exists.
  async function idbPut(key, value, replace) {
    var db = await idb();
    return new Promise(function (resolve, reject) {
      var tx = db.transaction("keys", "readwrite");
      var store = tx.objectStore("keys");
      if (replace) store.put(value, key);
      else store.add(value, key);
      tx.oncomplete = function () { resolve(); };
      tx.onabort = function () { reject(tx.error || new Error("could not store the keys")); };
    });
  }
})();
