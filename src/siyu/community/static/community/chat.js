/* Siyu chat panel (community/chat_panel.html documents the data-* parameters).
 *
 * - History: the page renders the latest 30 messages; "load earlier" asks ?before_id=.
 * - Live: a websocket (data-ws-url: absolute, or a path on this origin) pushes
 *   {"type": "message", "message": {...}}; it reconnects with a growing backoff, and while
 *   it is down the panel polls ?after_id= every few seconds (Django's runserver and the
 *   test live server have no websockets).
 * - Posting goes through the HTTP API (the source of truth); a refusal shows its reason.
 * - Read marks: what the panel showed while the page was visible, up to the last id.
 * Plain JavaScript, no build step; text is always inserted as text (never as HTML).
 */
(function () {
  "use strict";

  var PAGE = 30;
  var POLL_MS = 6000;
  var MAX_BACKOFF_MS = 30000;
  var SAFE_URL = /^(\/(?!\/)|https?:\/\/)/i;

  function cookie(name) {
    var match = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return match ? decodeURIComponent(match[1]) : "";
  }

  function node(tag, className, text) {
    var el = document.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined && text !== null) el.textContent = String(text);
    return el;
  }

  function yuan(fen) {
    var n = Number(fen);
    if (fen === null || fen === undefined || !isFinite(n)) return "";
    var sign = n < 0 ? "-" : "";
    n = Math.abs(Math.round(n));
    var cents = String(n % 100);
    return sign + "¥" + Math.floor(n / 100) + "." + (cents.length < 2 ? "0" + cents : cents);
  }

  function hhmm(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) return "";
    var h = String(d.getHours()), m = String(d.getMinutes());
    return (h.length < 2 ? "0" + h : h) + ":" + (m.length < 2 ? "0" + m : m);
  }

  function withQuery(url, key, value) {
    return url + (url.indexOf("?") >= 0 ? "&" : "?") + key + "=" + encodeURIComponent(value);
  }

  function Chat(root) {
    var d = root.dataset;
    this.root = root;
    this.historyUrl = d.historyUrl;
    this.postUrl = d.postUrl;
    this.readUrl = d.readUrl;
    this.wsUrl = d.wsUrl;
    this.meKind = d.meKind;
    this.meId = Number(d.meId);
    this.postWithForm = d.postForm === "true";
    this.csrf = d.csrf || cookie("csrftoken");
    this.text = {
      earlier: d.i18nEarlier, loading: d.i18nLoading, offline: d.i18nOffline,
      failed: d.i18nFailed, automatic: d.i18nAutomatic
    };
    this.list = root.querySelector("[data-chat-list]");
    this.empty = root.querySelector("[data-chat-empty]");
    this.status = root.querySelector("[data-chat-status]");
    this.earlier = root.querySelector("[data-chat-earlier]");
    this.form = root.querySelector("[data-chat-form]");
    this.input = root.querySelector("[data-chat-text]");
    this.sendButton = root.querySelector("[data-chat-send]");
    this.error = root.querySelector("[data-chat-error]");
    this.ids = {};
    this.firstId = 0;
    this.lastId = 0;
    this.readUpTo = 0;
    this.socket = null;
    this.attempts = 0;
    this.pollTimer = null;
    this.reconnectTimer = null;
    this.polling = false;
    this.readTimer = null;

    var rendered = this.list.querySelectorAll("[data-id]");
    for (var i = 0; i < rendered.length; i++) this.remember(Number(rendered[i].dataset.id));
    this.bind();
    if (!rendered.length) this.fetchLatest();
    this.scrollToEnd();
    this.scheduleRead();
    this.connect();
  }

  Chat.prototype.remember = function (id) {
    this.ids[id] = true;
    if (!this.firstId || id < this.firstId) this.firstId = id;
    if (id > this.lastId) this.lastId = id;
  };

  Chat.prototype.bind = function () {
    var self = this;
    if (this.earlier) this.earlier.addEventListener("click", function () { self.loadEarlier(); });
    if (this.form) {
      this.form.addEventListener("submit", function (event) {
        if (self.postWithForm) return;  // the page's own handler takes it (a reload)
        event.preventDefault();
        self.send();
      });
      this.input.addEventListener("keydown", function (event) {
        if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
          event.preventDefault();
          if (!self.postWithForm) self.send();
          else if (self.input.value.trim()) self.form.submit();
        }
      });
    }
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") {
        self.scheduleRead();
        if (!self.socketOpen()) self.fetchNew();
      }
    });
  };

  // --- rendering -------------------------------------------------------------------------

  Chat.prototype.render = function (m) {
    var sender = m.sender || {};
    var system = m.sender_kind === "system";
    var mine = !system && sender.kind === this.meKind && Number(sender.id) === this.meId;
    var li = node("li", "chat-msg " + (system ? "chat-system" : mine ? "chat-mine" : "chat-theirs"));
    li.dataset.id = m.id;
    var meta = node("div", "chat-meta");
    if (!mine) {
      meta.appendChild(node("span", "chat-who", sender.name || this.text.automatic));
      meta.appendChild(document.createTextNode(" "));
    }
    var time = node("time", "", hhmm(m.created_at));
    time.setAttribute("datetime", m.created_at || "");
    meta.appendChild(time);
    li.appendChild(meta);
    var bubble = node("div", "chat-bubble");
    if (m.text) bubble.appendChild(node("p", "chat-text", m.text));
    var card = m.card;
    if (card && typeof card === "object") {
      var link = node("a", "chat-card");
      if (card.url && SAFE_URL.test(String(card.url))) link.href = String(card.url);
      if (card.image && SAFE_URL.test(String(card.image))) {
        var img = node("img");
        img.src = String(card.image);
        img.alt = "";
        img.loading = "lazy";
        link.appendChild(img);
      }
      var body = node("span", "chat-card-body");
      body.appendChild(node("b", "", card.title || ""));
      if (card.subtitle) body.appendChild(node("small", "", card.subtitle));
      if (card.price !== null && card.price !== undefined) {
        body.appendChild(node("span", "chat-price", yuan(card.price)));
      }
      link.appendChild(body);
      bubble.appendChild(link);
    }
    li.appendChild(bubble);
    return li;
  };

  Chat.prototype.nearEnd = function () {
    var list = this.list;
    return list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  };

  Chat.prototype.scrollToEnd = function () {
    this.list.scrollTop = this.list.scrollHeight;
  };

  /* Insert messages (any order) where their ids belong; skip those already shown. */
  Chat.prototype.add = function (messages, keepPosition) {
    var stick = this.nearEnd();
    var oldHeight = this.list.scrollHeight;
    var added = 0;
    for (var i = 0; i < messages.length; i++) {
      var m = messages[i];
      if (!m || typeof m.id !== "number" || this.ids[m.id]) continue;
      var el = this.render(m);
      var before = null;
      var children = this.list.children;
      for (var j = children.length - 1; j >= 0; j--) {
        if (Number(children[j].dataset.id) > m.id) before = children[j];
        else break;
      }
      this.list.insertBefore(el, before);
      this.remember(m.id);
      added++;
    }
    if (added && this.empty) this.empty.hidden = true;
    if (keepPosition) this.list.scrollTop += this.list.scrollHeight - oldHeight;
    else if (added && stick) this.scrollToEnd();
    if (added) this.scheduleRead();
    return added;
  };

  Chat.prototype.showStatus = function (text) {
    if (!this.status) return;
    this.status.textContent = text || "";
    this.status.hidden = !text;
  };

  Chat.prototype.showError = function (text) {
    if (!this.error) return;
    this.error.textContent = text || "";
    this.error.hidden = !text;
  };

  // --- HTTP ------------------------------------------------------------------------------

  Chat.prototype.request = function (method, url, body) {
    var headers = { "Accept": "application/json" };
    if (method !== "GET") {
      headers["X-CSRFToken"] = this.csrf || cookie("csrftoken");
      if (body !== undefined) headers["Content-Type"] = "application/json";
    }
    return fetch(url, {
      method: method,
      headers: headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body)
    });
  };

  Chat.prototype.getMessages = function (key, value) {
    var url = key ? withQuery(this.historyUrl, key, value) : this.historyUrl;
    return this.request("GET", url).then(function (response) {
      if (!response.ok) throw new Error("history " + response.status);
      return response.json();
    });
  };

  Chat.prototype.fetchLatest = function () {
    var self = this;
    return this.getMessages().then(function (rows) {
      self.add(rows);
      if (self.earlier) self.earlier.parentNode.hidden = rows.length < PAGE;
      self.scrollToEnd();
    }).catch(function () {});
  };

  Chat.prototype.loadEarlier = function () {
    var self = this;
    if (!this.firstId) return;
    this.earlier.disabled = true;
    this.earlier.textContent = this.text.loading;
    this.getMessages("before_id", this.firstId).then(function (rows) {
      self.add(rows, true);
      if (rows.length < PAGE) self.earlier.parentNode.hidden = true;
    }).catch(function () {}).then(function () {
      self.earlier.disabled = false;
      self.earlier.textContent = self.text.earlier;
    });
  };

  /* Catch up from the last id (a page at a time, until a short page). */
  Chat.prototype.fetchNew = function () {
    var self = this;
    if (this.fetching) return Promise.resolve();
    this.fetching = true;
    var step = function () {
      return self.getMessages("after_id", self.lastId).then(function (rows) {
        self.add(rows);
        if (rows.length >= PAGE) return step();
      });
    };
    return step().catch(function () {}).then(function () { self.fetching = false; });
  };

  Chat.prototype.send = function () {
    var self = this;
    var text = this.input.value.trim();
    if (!text || this.sending) return;
    this.sending = true;
    this.sendButton.disabled = true;
    this.showError("");
    this.request("POST", this.postUrl, { text: text }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (response.status === 201) {
          self.input.value = "";
          self.add([data]);
          self.scrollToEnd();
          return;
        }
        var fields = (data && data.fields) || {};
        self.showError(fields.text || fields.card || data.message || self.text.failed);
      });
    }).catch(function () {
      self.showError(self.text.failed);
    }).then(function () {
      self.sending = false;
      self.sendButton.disabled = false;
      self.input.focus();
    });
  };

  Chat.prototype.scheduleRead = function () {
    var self = this;
    if (this.readTimer) clearTimeout(this.readTimer);
    this.readTimer = setTimeout(function () { self.markRead(); }, 400);
  };

  Chat.prototype.markRead = function () {
    if (document.visibilityState === "hidden" || this.lastId <= this.readUpTo) return;
    var upTo = this.lastId;
    this.readUpTo = upTo;
    if (this.socketOpen()) {
      this.socket.send(JSON.stringify({ type: "read", up_to: upTo }));
      return;
    }
    var self = this;
    this.request("POST", withQuery(this.readUrl, "up_to", upTo)).then(function (response) {
      if (!response.ok && self.readUpTo === upTo) self.readUpTo = 0;
    }).catch(function () { if (self.readUpTo === upTo) self.readUpTo = 0; });
  };

  // --- websocket, backoff and polling ------------------------------------------------------

  Chat.prototype.socketOpen = function () {
    return this.socket !== null && this.socket.readyState === 1;
  };

  Chat.prototype.socketAddress = function () {
    var url = this.wsUrl || "";
    if (url.charAt(0) === "/") {
      url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + url;
    }
    return url;
  };

  Chat.prototype.connect = function () {
    var self = this;
    this.reconnectTimer = null;
    if (!("WebSocket" in window) || !this.wsUrl) {
      this.startPolling();
      return;
    }
    var socket;
    try {
      socket = new WebSocket(this.socketAddress());
    } catch (e) {
      this.startPolling();
      this.reconnect();
      return;
    }
    this.socket = socket;
    socket.onopen = function () {
      self.attempts = 0;
      self.stopPolling();
      self.fetchNew();  // what arrived while it was down
    };
    socket.onmessage = function (event) {
      var data;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      if (data && data.type === "message" && data.message) self.add([data.message]);
      else if (data && data.type === "error") {
        var fields = data.fields || {};
        self.showError(fields.text || data.message || self.text.failed);
      }
    };
    socket.onclose = function () {
      if (self.socket === socket) self.socket = null;
      self.startPolling();
      self.reconnect();
    };
    socket.onerror = function () { /* onclose follows */ };
  };

  Chat.prototype.reconnect = function () {
    var self = this;
    if (this.reconnectTimer) return;
    var delay = Math.min(MAX_BACKOFF_MS, 1000 * Math.pow(2, this.attempts));
    delay = delay / 2 + Math.random() * delay / 2;
    this.attempts = Math.min(this.attempts + 1, 10);
    this.reconnectTimer = setTimeout(function () { self.connect(); }, delay);
  };

  Chat.prototype.startPolling = function () {
    var self = this;
    if (this.pollTimer) return;
    if (this.attempts > 1) this.showStatus(this.text.offline);
    this.pollTimer = setInterval(function () {
      if (document.visibilityState !== "hidden") self.fetchNew();
    }, POLL_MS);
  };

  Chat.prototype.stopPolling = function () {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = null;
    this.showStatus("");
  };

  function start() {
    var roots = document.querySelectorAll("[data-chat]");
    for (var i = 0; i < roots.length; i++) {
      if (!roots[i].siyuChat) roots[i].siyuChat = new Chat(roots[i]);
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
