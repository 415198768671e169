// The website chat widget: the rasa-webchat socket.io protocol (session_request -> session_confirm,
// user_uttered -> bot_uttered) plus our handoff events (handoff_status, agent_typing, user_typing,
// satisfaction; bot_feedback_offer / bot_feedback: a thumb up/down after the bot's goodbye in a
// conversation no person had), so the customer always sees who answers: the assistant, the queue, or a person.
// Text from the server is shown with textContent, never as HTML.
"use strict";

(() => {
  // The page names the storage key (the agent service fills it from the settings), so two assistants
  // on one site keep apart.
  const storageMeta = document.querySelector('meta[name="chat-storage-key"]');
  const STORAGE_KEY = (storageMeta && storageMeta.content) || "handoffChat";
  const SESSION_KEY = `${STORAGE_KEY}Session`;
  const HISTORY_KEY = `${STORAGE_KEY}History`;
  const HUMAN_MODES = ["queued", "waiting_offline", "assigned"];
  const STATUS_POLL_MS = { human: 2000, bot: 10000 };

  const $ = (id) => document.getElementById(id);
  const server = document.querySelector('meta[name="chat-server"]').content;
  let socket = null;
  let mode = "bot";
  let pollTimer = null;
  let typingSent = false;
  let typingTimer = null;
  let rated = false;

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  // --- the log, kept for this tab so a reload shows the conversation again ---------------------

  function history() {
    return JSON.parse(window.sessionStorage.getItem(HISTORY_KEY) || "[]");
  }

  function remember(entry) {
    window.sessionStorage.setItem(HISTORY_KEY, JSON.stringify([...history(), entry].slice(-200)));
  }

  function show(entry, keep = true) {
    const item = el("li", null, `chat-message ${entry.who}`);
    if (entry.label) item.append(el("span", entry.label, "chat-sender"));
    item.append(el("p", entry.text, "chat-text"));
    $("chat-log").append(item);
    item.scrollIntoView({ block: "nearest" });
    if (keep) remember(entry);
    return item;
  }

  function showButtons(buttons) {
    const row = el("li", null, "chat-buttons");
    for (const button of buttons) {
      const choice = el("button", button.title, "chat-choice");
      choice.type = "button";
      choice.addEventListener("click", () => {
        row.remove();
        send(button.payload || button.title, button.title);
      });
      row.append(choice);
    }
    $("chat-log").append(row);
  }

  // --- status: who answers ------------------------------------------------------------------------

  function onStatus(status) {
    const wasHuman = HUMAN_MODES.includes(mode);
    mode = status.mode;
    const line = $("chat-status");
    if (mode === "queued") {
      const minutes = Math.max(1, Math.ceil((status.wait_seconds || 0) / 60));
      line.textContent = `Connecting you to a person… You're number ${status.position} in the queue, ` +
        `about ${minutes} min.`;
    } else if (mode === "waiting_offline") {
      line.textContent = "Nobody from our team is online right now; a person will answer here when they're back.";
    } else if (mode === "assigned") {
      line.textContent = `You're chatting with ${status.agent_name}.`;
    } else if (mode === "bot") {
      line.textContent = "You're chatting with our assistant.";
      if (wasHuman) show({ who: "system", text: "You are back with the assistant." });
    } else {
      line.textContent = "Live support status is unavailable right now.";
    }
    if (!HUMAN_MODES.includes(mode)) $("chat-typing").textContent = "";
    else $("chat-bot-feedback").hidden = true; // a person joined: the thumbs are for the bot alone
    $("chat-rating").hidden = !(status.rating_due && !rated);
    schedulePoll();
  }

  function schedulePoll() {
    window.clearTimeout(pollTimer);
    const delay = HUMAN_MODES.includes(mode) ? STATUS_POLL_MS.human : STATUS_POLL_MS.bot;
    pollTimer = window.setTimeout(() => socket.emit("status_request", {}), delay);
  }

  // --- sending ------------------------------------------------------------------------------------

  // A message counts as delivered only when the server acknowledges it. Until then it is sent
  // again with the SAME id (the server stores each id once), after the server's retry_after and
  // then a doubling pause, up to SEND_ATTEMPTS tries; a refusal that retrying cannot fix stops.
  const SEND_ATTEMPTS = 8;
  const ACK_TIMEOUT_MS = 15000;
  const MAX_RETRY_DELAY_MS = 30000;

  function send(message, shown) {
    $("chat-error").textContent = "";
    const item = show({ who: "customer", label: "You", text: shown || message });
    deliver({ message, message_id: crypto.randomUUID() }, item, 1);
    stopTyping();
  }

  function deliver(payload, item, attempt) {
    const sessionId = window.localStorage.getItem(SESSION_KEY);
    socket.timeout(ACK_TIMEOUT_MS).emit("user_uttered", { ...payload, session_id: sessionId }, (timedOut, ack) => {
      if (!timedOut && ack && ack.ok) {
        markPending(item, "");
        if (!$("chat-log").querySelector(".undelivered")) $("chat-error").textContent = "";
        return;
      }
      const retryable = timedOut || !ack || ack.retry_after !== undefined;
      if (!retryable || attempt >= SEND_ATTEMPTS) {
        markPending(item, "Not delivered.");
        $("chat-error").textContent = (ack && ack.error) || "Your message could not be delivered; please send it again.";
        return;
      }
      markPending(item, "Not delivered, retrying…");
      const first = ((ack && ack.retry_after) || 1) * 1000;
      const delay = Math.min(first * 2 ** (attempt - 1), MAX_RETRY_DELAY_MS);
      window.setTimeout(() => deliver(payload, item, attempt + 1), delay);
    });
  }

  function markPending(item, text) {
    let note = item.querySelector(".chat-pending");
    if (!text) {
      if (note) note.remove();
      item.classList.remove("undelivered");
      return;
    }
    if (!note) {
      note = el("span", null, "chat-pending");
      note.setAttribute("role", "status");
      item.append(note);
    }
    note.textContent = text;
    item.classList.add("undelivered");
  }

  function onSubmit(event) {
    event.preventDefault();
    const input = $("chat-input");
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    send(text);
  }

  function onInput() {
    if (!HUMAN_MODES.includes(mode)) return;
    if (!typingSent) {
      typingSent = true;
      socket.emit("user_typing", { typing: true });
    }
    window.clearTimeout(typingTimer);
    typingTimer = window.setTimeout(stopTyping, 3000);
  }

  function stopTyping() {
    window.clearTimeout(typingTimer);
    if (typingSent) {
      typingSent = false;
      socket.emit("user_typing", { typing: false });
    }
  }

  function rate(rating) {
    socket.emit("satisfaction", { rating });
  }

  function thumb(helpful) {
    socket.emit("bot_feedback", { helpful });
  }

  // --- socket -------------------------------------------------------------------------------------

  function onBotUttered(data) {
    const meta = data.metadata || {};
    if (meta.sender === "agent") {
      $("chat-typing").textContent = "";
      show({ who: "agent", label: meta.agent_name || "Support agent", text: data.text });
    } else if (meta.sender === "system" && meta.kind === "error") {
      return; // a refusal of a message we sent: its ack says it, next to that message
    } else if (meta.sender === "system") {
      show({ who: "system", text: data.text });
    } else if (data.text) {
      show({ who: "bot", label: "Assistant", text: data.text });
    }
    const buttons = data.quick_replies || data.buttons || [];
    if (buttons.length) showButtons(buttons);
    socket.emit("status_request", {});
  }

  function connect() {
    socket = window.io(server, { path: "/socket.io" });
    socket.on("connect", () => {
      socket.emit("session_request", { session_id: window.localStorage.getItem(SESSION_KEY) });
    });
    socket.on("session_confirm", (sessionId) => {
      window.localStorage.setItem(SESSION_KEY, typeof sessionId === "string" ? sessionId : sessionId.session_id);
      socket.emit("status_request", {});
    });
    socket.on("bot_uttered", onBotUttered);
    socket.on("handoff_status", onStatus);
    socket.on("agent_typing", (data) => {
      $("chat-typing").textContent = data.typing ? `${data.agent_name || "The agent"} is typing…` : "";
    });
    socket.on("satisfaction_saved", (data) => {
      if (!data.saved) return;
      rated = true;
      $("chat-rating").hidden = true;
      show({ who: "system", text: "Thank you for your rating!" });
    });
    socket.on("bot_feedback_offer", () => {
      $("chat-bot-feedback").hidden = false;
    });
    socket.on("bot_feedback_saved", (data) => {
      $("chat-bot-feedback").hidden = true;
      if (data.saved) show({ who: "system", text: "Thank you for your feedback!" });
    });
    socket.on("handoff_error", (data) => $("chat-error").textContent = data.error);
    socket.on("disconnect", () => { $("chat-status").textContent = "Reconnecting…"; });
  }

  function toggle() {
    const panel = $("chat-panel");
    const open = panel.hidden;
    panel.hidden = !open;
    $("chat-launcher").setAttribute("aria-expanded", String(open));
    if (open) $("chat-input").focus();
  }

  document.addEventListener("DOMContentLoaded", () => {
    history().forEach((entry) => show(entry, false));
    $("chat-launcher").addEventListener("click", toggle);
    $("chat-close").addEventListener("click", toggle);
    $("chat-form").addEventListener("submit", onSubmit);
    $("chat-input").addEventListener("input", onInput);
    for (const button of $("chat-rating").querySelectorAll("button[data-rating]")) {
      button.addEventListener("click", () => rate(Number(button.dataset.rating)));
    }
    for (const button of $("chat-bot-feedback").querySelectorAll("button[data-helpful]")) {
      button.addEventListener("click", () => thumb(button.dataset.helpful === "true"));
    }
    connect();
  });
})();
