// live.js keeps Parley's pages current over the live WebSocket
// (/api/v1/live), with no framework and nothing loaded from elsewhere.
//
// A chat page carries its chat id and the pts (the chat's update counter)
// it was rendered at in data attributes. The socket opens with
// ?resume=CHAT:PTS, so the server first sends what happened after the page
// was rendered, then live updates. Each update has a pts; one at or below
// the last pts seen is a duplicate and is dropped. When the socket drops,
// the script reconnects with growing, jittered delays and resumes from the
// last pts it saw, so nothing is missed and nothing is shown twice. The chat
// list does the same for every chat in it.
//
// Every update arrives as this viewer may see it: a message removed, or
// withheld in the viewer's country, comes without its content and with a
// notice saying why (message.moderated replaces it in place). A "chat"
// frame says the whole chat was banned or withheld here (with a notice), or
// restored (without one).
(function () {
  "use strict";

  var body = document.body;
  var me = Number(body.dataset.userId || 0);

  localizeTimes(document);
  sendOnCtrlEnter();

  var chat = document.querySelector("[data-live-chat]");
  var list = document.querySelector("[data-live-list]");
  if (chat) {
    initChat(chat);
  } else if (list) {
    initList(list);
  }

  // connect keeps one socket open. resume() gives the resume list for each
  // (re)connection; onFrame gets every frame. body[data-live] says whether
  // the page is live ("open"), so tests and styles can tell.
  function connect(resume, onFrame) {
    var attempt = 0;
    var timer = 0;
    var ws = null;
    var stopped = false;
    var status = document.querySelector("[data-live-status]");

    function setState(state, text) {
      body.dataset.live = state;
      if (status && status.textContent !== text) status.textContent = text;
    }
    function open() {
      clearTimeout(timer);
      var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/api/v1/live";
      var r = resume();
      if (r) url += "?resume=" + encodeURIComponent(r);
      setState("connecting", attempt > 0 ? "Reconnecting…" : "");
      try {
        ws = new WebSocket(url);
      } catch (e) {
        retry();
        return;
      }
      ws.onmessage = function (ev) {
        var frame;
        try {
          frame = JSON.parse(ev.data);
        } catch (e) {
          return;
        }
        if (frame.type === "ready") {
          setState("open", attempt > 0 ? "Reconnected." : "");
          attempt = 0;
        }
        onFrame(frame);
      };
      ws.onclose = function (ev) {
        ws = null;
        if (ev.code === 1008) {
          // The account was suspended or terminated and its sessions
          // signed out: reconnecting cannot succeed.
          clearTimeout(timer);
          stopped = true;
          setState("closed", "Disconnected: " + (ev.reason || "this account can no longer be used") + ".");
          return;
        }
        retry();
      };
    }
    function retry() {
      var delay = Math.min(30000, 1000 * Math.pow(2, attempt));
      delay = delay / 2 + Math.random() * delay / 2;
      attempt++;
      setState("offline", "Offline. Trying again in " + Math.ceil(delay / 1000) + " s…");
      timer = setTimeout(open, delay);
    }
    window.addEventListener("online", function () {
      if (!ws && !stopped) {
        attempt = 0;
        open();
      }
    });
    open();
  }

  // ---- The chat page ----

  function initChat(el) {
    var chatId = Number(el.dataset.chatId);
    var last = Number(el.dataset.pts);
    var secret = el.dataset.kind === "secret";
    var latest = el.dataset.latest === "true";
    var canPost = el.dataset.canPost === "true";
    var canDeleteOthers = el.dataset.canDeleteOthers === "true";
    var hasOlder = el.dataset.hasOlder === "true";
    // A page rendered while the chat was hidden has no history to go on
    // from; when the chat is restored it is loaded afresh.
    var renderedHidden = el.dataset.hidden === "true";
    var messages = document.getElementById("messages");
    var template = document.getElementById("message-template");
    var banner = document.querySelector("[data-chat-notice]");
    var announcer = document.querySelector("[data-live-announce]");
    markSeen(chatId, last);

    // The secret-chat script shows a message it just sent without waiting
    // for the socket; the socket's copy is then recognised and dropped.
    window.ParleyLive = { show: function (m) { addMessage(m, false); } };

    connect(function () { return chatId + ":" + last; }, function (frame) {
      if (frame.type === "chat" && frame.chat_id === chatId) {
        setChatNotice(frame.notice);
        return;
      }
      if (frame.type !== "update" || !frame.update || frame.update.chat_id !== chatId) return;
      var u = frame.update;
      if (u.pts <= last) return;
      last = u.pts;
      markSeen(chatId, last);
      if (u.kind === "message.new") addMessage(u.message, true);
      else if (u.kind === "message.edited") editMessage(u.message);
      else if (u.kind === "message.deleted") removeMessage(u.message.seq);
      else if (u.kind === "message.moderated") moderateMessage(u.message);
    });

    // heldFromOthers: someone else's post waiting for review is not shown
    // until a moderator approves it (a message.moderated then brings it).
    function heldFromOthers(m) {
      return !!m.notice && m.notice.kind === "held" && m.sender_id !== me;
    }

    function addMessage(m, live) {
      if (document.getElementById("m-" + m.seq)) return; // already on the page
      if (heldFromOthers(m)) return;
      if (!latest) {
        // An older page: point to the newest messages instead.
        show(document.querySelector("[data-new-messages]"));
        return;
      }
      var li = build(m);
      var next = null;
      for (var n = messages.firstElementChild; n; n = n.nextElementSibling) {
        if (Number(n.dataset.seq) > m.seq) {
          next = n;
          break;
        }
      }
      var atBottom = window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 150;
      messages.insertBefore(li, next);
      var empty = document.querySelector("[data-empty]");
      if (empty) empty.remove();
      if (live) li.classList.add("msg-new");
      if (secret && window.ParleySecret) window.ParleySecret.decryptElement(li);
      if (atBottom || m.sender_id === me) li.scrollIntoView({ block: "nearest" });
    }

    function editMessage(m) {
      var li = document.getElementById("m-" + m.seq);
      if (!li) return;
      li.querySelector(".msg-text").textContent = m.text || "";
      if (!li.querySelector(".msg-edited")) {
        var mark = document.createElement("span");
        mark.className = "msg-edited";
        mark.textContent = "edited";
        var meta = li.querySelector(".msg-meta");
        meta.appendChild(document.createTextNode(" "));
        meta.appendChild(mark);
      }
    }

    function removeMessage(seq) {
      var li = document.getElementById("m-" + seq);
      if (li) li.remove();
    }

    // moderateMessage shows a message as enforcement left it: in place if
    // it is on the page, else where its seq puts it (a held post approved
    // later), unless it belongs to an older page than this one.
    function moderateMessage(m) {
      var li = document.getElementById("m-" + m.seq);
      if (heldFromOthers(m) || m.deleted_at) {
        if (li) li.remove();
        return;
      }
      if (!li) {
        var first = messages.firstElementChild;
        if (latest && (!first || !hasOlder || m.seq > Number(first.dataset.seq))) addMessage(m, true);
        return;
      }
      var fresh = build(m);
      if (li.classList.contains("msg-new")) fresh.classList.add("msg-new");
      li.replaceWith(fresh);
      if (secret && window.ParleySecret) window.ParleySecret.decryptElement(fresh);
      if (m.notice) announce("Message " + m.seq + ": " + m.notice.text);
    }

    // setChatNotice shows why the chat is hidden from this viewer, and
    // stops the composer, or takes both back when the chat is restored.
    function setChatNotice(notice) {
      if (notice) {
        banner.replaceChildren(noticeElement(notice));
      } else {
        if (renderedHidden) {
          location.reload();
          return;
        }
        banner.replaceChildren();
      }
      var compose = document.getElementById("compose");
      if (compose) {
        compose.toggleAttribute("data-disabled", !!notice);
        compose.querySelectorAll("textarea, input, button").forEach(function (n) {
          if (notice) {
            if (!n.disabled) n.dataset.noticeDisabled = "true";
            n.disabled = true;
          } else if (n.dataset.noticeDisabled) {
            delete n.dataset.noticeDisabled;
            n.disabled = false;
          }
        });
      }
    }

    function announce(text) {
      if (announcer) announcer.textContent = text;
    }

    // build makes a message element like the server's "message" partial,
    // from the page's <template>. Text goes in with textContent only.
    function build(m) {
      var li = template.content.firstElementChild.cloneNode(true);
      var own = m.sender_id === me;
      var base = "/chats/" + chatId + "/messages/" + m.seq;
      var mod = m.moderation || {};
      // As on the server's page: content taken out for this viewer (any
      // notice but "held") has nothing to edit, label or reveal, and
      // nothing with a notice is forwarded.
      var contentHidden = !!m.notice && m.notice.kind !== "held";
      li.id = "m-" + m.seq;
      li.dataset.seq = m.seq;
      li.dataset.senderId = m.sender_id;
      if (own) li.classList.add("msg-own");
      li.querySelector(".msg-sender").textContent = m.sender_name || "Someone";
      li.querySelector(".msg-time").href = "#m-" + m.seq;
      var time = li.querySelector("time");
      time.dateTime = m.created_at;
      localizeTime(time);
      if (m.edited_at) show(li.querySelector(".msg-edited"));
      if (m.notice) li.querySelector("[data-notice]").replaceWith(noticeElement(m.notice));
      if (mod.label && !contentHidden) show(li.querySelector(".label")).textContent = mod.label.reason;
      if (m.forward) {
        var fwd = show(li.querySelector(".msg-forward")).querySelector("a");
        fwd.href = "/chats/" + m.forward.chat_id + "#m-" + m.forward.seq;
        if (m.forward.chat_title) fwd.replaceChildren(isolated(m.forward.chat_title));
        else fwd.textContent = "another chat";
      }
      if (m.reply_to_seq) {
        var reply = show(li.querySelector(".msg-reply")).querySelector("a");
        reply.href = "#m-" + m.reply_to_seq;
        var orig = document.querySelector("#m-" + m.reply_to_seq + " .msg-text");
        var quote = orig && !secret ? orig.textContent.trim() : "";
        if (quote.length > 60) quote = quote.slice(0, 59) + "…";
        reply.textContent = "In reply to message " + m.reply_to_seq;
        if (quote) reply.append(": “", isolated(quote), "”");
      }
      var text = li.querySelector(".msg-text");
      if (secret) {
        li.dataset.ciphertext = m.ciphertext || "";
        li.dataset.nonce = m.nonce || "";
        text.classList.add("msg-encrypted");
        text.textContent = "Encrypted message (decrypting…)";
      } else {
        text.textContent = m.text || "";
      }
      if (m.media_id) {
        var link = show(li.querySelector(".msg-image"));
        link.href = "/media/" + encodeURIComponent(m.media_id);
        var img = link.querySelector("img");
        img.src = "/media/" + encodeURIComponent(m.media_id) + "?thumb=1";
        img.alt = "Image from " + (m.sender_name ? "\u2068" + m.sender_name + "\u2069" : "someone") + ", open full size";
      }
      if (m.views > 0) show(li.querySelector(".msg-views")).textContent = m.views === 1 ? "1 view" : m.views + " views";
      if (canPost && !secret) action(li, "reply", "/chats/" + chatId + "?reply=" + m.seq + "#compose", " to message " + m.seq);
      if (!secret && !m.notice) action(li, "forward", base + "/forward", " message " + m.seq);
      if (own && !secret && !contentHidden) action(li, "edit", base + "/edit", " message " + m.seq);
      if (own || canDeleteOthers) {
        var del = show(li.querySelector('[data-action="delete"]'));
        del.action = base + "/delete";
        del.querySelector(".visually-hidden").textContent = " message " + m.seq;
      }
      if (mod.age_restricted && !contentHidden) {
        // Behind the same disclosure the server writes: the content is
        // shown when the viewer opens it.
        var gate = show(li.querySelector(".age-gate"));
        gate.appendChild(li.querySelector(".msg-text"));
        gate.appendChild(li.querySelector(".msg-image"));
      }
      li.querySelectorAll("[hidden]").forEach(function (n) { n.remove(); });
      return li;
    }

    function action(li, name, href, hidden) {
      var a = show(li.querySelector('[data-action="' + name + '"]'));
      a.href = href;
      a.querySelector(".visually-hidden").textContent = hidden;
    }
  }

  // ---- The chat list ----

  function initList(ul) {
    var pts = {};
    var refreshing = null;
    ul.querySelectorAll("[data-chat-id]").forEach(function (li) {
      pts[li.dataset.chatId] = Number(li.dataset.pts);
      markUnread(li);
    });

    connect(function () {
      return Object.keys(pts).slice(0, 1000).map(function (id) { return id + ":" + pts[id]; }).join(",");
    }, function (frame) {
      if (frame.type === "joined" || frame.type === "left") {
        refresh();
        return;
      }
      if (frame.type !== "update" || !frame.update) return;
      var u = frame.update;
      var li = ul.querySelector('[data-chat-id="' + u.chat_id + '"]');
      if (!li) {
        refresh();
        return;
      }
      if (u.pts <= pts[u.chat_id]) return;
      pts[u.chat_id] = u.pts;
      li.dataset.pts = u.pts;
      if (u.kind !== "message.new") return;
      var m = u.message;
      if (m.notice && m.notice.kind === "held" && m.sender_id !== me) return; // not shown until approved
      var preview = li.querySelector(".chat-preview");
      // As the server writes it: the sender and the text each isolated.
      if (li.dataset.kind === "secret") preview.replaceChildren(isolated("Encrypted message"));
      else if (m.notice && !m.text && !m.media_id) preview.replaceChildren(isolated(excerpt(m.notice.text, 80)));
      else if (m.moderation && m.moderation.age_restricted) preview.replaceChildren(isolated(m.sender_name || "Someone"), ": ", isolated("Age-restricted message"));
      else preview.replaceChildren(isolated(m.sender_name || "Someone"), ": ", isolated(m.text ? excerpt(m.text, 80) : "Image"));
      var time = li.querySelector(".chat-item-time");
      if (!time) {
        time = document.createElement("time");
        time.className = "chat-item-time";
        li.querySelector(".chat-item-top").appendChild(time);
      }
      time.dateTime = m.created_at;
      localizeTime(time);
      if (m.sender_id === me) markSeen(u.chat_id, u.pts);
      ul.insertBefore(li, ul.firstElementChild);
      markUnread(li);
    });

    // refresh reloads the list when a chat appears or goes, for example
    // when someone starts a direct chat with this account.
    function refresh() {
      if (refreshing) return;
      refreshing = fetch("/chats", { credentials: "same-origin" }).then(function (resp) {
        if (!resp.ok) throw new Error(resp.status);
        return resp.text();
      }).then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.querySelector("[data-live-list]");
        if (!fresh) return;
        ul.replaceChildren.apply(ul, Array.prototype.map.call(fresh.children, function (n) { return document.importNode(n, true); }));
        ul.querySelectorAll("[data-chat-id]").forEach(function (li) {
          var id = li.dataset.chatId;
          if (!(id in pts) || pts[id] < Number(li.dataset.pts)) pts[id] = Number(li.dataset.pts);
          markUnread(li);
        });
        localizeTimes(ul);
        var empty = document.querySelector("[data-empty]");
        if (empty && ul.children.length) empty.remove();
      }).catch(function () {}).then(function () { refreshing = null; });
    }
  }

  // ---- Helpers ----

  // seenKey names the last pts this account saw of a chat in this browser;
  // the chat list marks chats with newer updates as new.
  function seenKey(chatId) { return "parley.seen." + me + "." + chatId; }

  function markSeen(chatId, pts) {
    try {
      localStorage.setItem(seenKey(chatId), String(pts));
    } catch (e) { /* storage may be off; the marks are a convenience */ }
  }

  function markUnread(li) {
    var seen = 0;
    try {
      seen = Number(localStorage.getItem(seenKey(li.dataset.chatId)) || 0);
    } catch (e) { /* see markSeen */ }
    var unread = Number(li.dataset.pts) > seen && !!li.querySelector(".chat-item-time");
    li.classList.toggle("is-unread", unread);
    var badge = li.querySelector("[data-unread]");
    if (badge) badge.hidden = !unread;
  }

  // isolated puts text someone wrote in a <bdi>, as the server's templates
  // do, so that a right-to-left name or message cannot reorder the words
  // around it.
  function isolated(text) {
    var el = document.createElement("bdi");
    el.textContent = text;
    return el;
  }

  function show(el) {
    if (el) el.hidden = false;
    return el;
  }

  // noticeElement makes what the server's "notice" partial writes: the
  // notice's text and, for the account it is about, a link to the
  // statement of reasons.
  function noticeElement(notice) {
    var p = document.createElement("p");
    p.className = "notice";
    p.setAttribute("role", "note");
    p.textContent = notice.text;
    if (notice.statement_id) {
      var a = document.createElement("a");
      a.href = "/statements/" + encodeURIComponent(notice.statement_id);
      a.textContent = "Why?";
      p.appendChild(document.createTextNode(" "));
      p.appendChild(a);
    }
    return p;
  }

  function excerpt(text, n) {
    text = text.replace(/\s+/g, " ").trim();
    return text.length > n ? text.slice(0, n - 1) + "…" : text;
  }

  // The server writes times in UTC; show them in the reader's time zone.
  function localizeTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(localizeTime);
  }

  function localizeTime(el) {
    var d = new Date(el.dateTime);
    if (isNaN(d)) return;
    var now = new Date();
    var opts = { hour: "2-digit", minute: "2-digit" };
    if (d.toDateString() !== now.toDateString()) {
      opts.day = "numeric";
      opts.month = "short";
    }
    el.textContent = d.toLocaleString(undefined, opts);
    el.title = d.toLocaleString();
  }

  // Ctrl+Enter (or Cmd+Enter) in a message box sends it.
  function sendOnCtrlEnter() {
    document.addEventListener("keydown", function (ev) {
      var t = ev.target;
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey) && t.tagName === "TEXTAREA" && t.form) {
        ev.preventDefault();
        t.form.requestSubmit();
      }
    });
  }
})();
