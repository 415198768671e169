// The agent console: queue, claim, live chat, notes, transfer and resolve over the agent service's
// HTTP API and WebSocket. Everything a customer wrote is put on the page with textContent, never
// as HTML. The token and the open conversation live in sessionStorage, so a reload resumes.
"use strict";

const $ = (id) => document.getElementById(id);
const store = window.sessionStorage;

const state = {
  token: store.getItem("agentToken"),
  agent: null,
  heartbeatSeconds: 45,
  queue: [],
  queueReceivedAt: 0,
  seenTickets: null, // ids already announced; null until the first queue arrives
  mine: [],
  current: store.getItem("openConversation"),
  shown: new Set(), // direction:stream id of each message on screen
  socket: null,
  retryDelay: 1000,
  typingSent: false,
  typingTimer: null,
  pendingSend: null, // {id, text, kind, conversationId}: reused on retry, so a retry is never stored twice
  sendRetryTimer: null,
};

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: { Authorization: `Bearer ${state.token}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(data.error || `request failed (${response.status})`);
    error.status = response.status;
    error.reason = data.reason;
    throw error;
  }
  return data;
}

// --- login, presence --------------------------------------------------------------------------

async function login(token) {
  state.token = token;
  const me = await api("POST", "/api/login");
  state.agent = me;
  state.heartbeatSeconds = me.heartbeat_seconds;
  store.setItem("agentToken", token);
  $("agent-name").textContent = me.name;
  $("login-view").hidden = true;
  $("session-bar").hidden = false;
  $("workspace").hidden = false;
  $("presence").value = store.getItem("presence") || "online";
  await heartbeat();
  window.setInterval(heartbeat, (state.heartbeatSeconds * 1000) / 3);
  window.setInterval(tickWaits, 1000);
  document.dispatchEvent(new CustomEvent("console:login", { detail: me })); // the dashboard, for a lead
  connect(); // its hello reopens the conversation this tab showed
  loadCannedReplies();
  loadAgents();
}

async function heartbeat() {
  try {
    await api("POST", "/api/presence", { status: $("presence").value });
  } catch (error) {
    $("connection").textContent = `Presence not sent: ${error.message}`;
  }
}

function logout() {
  api("POST", "/api/presence", { status: "offline" }).finally(() => {
    store.clear();
    window.location.reload();
  });
}

// --- live channel -----------------------------------------------------------------------------

function connect() {
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${window.location.host}/api/ws?token=${encodeURIComponent(state.token)}`);
  state.socket = socket;
  $("connection").textContent = "Connecting…";
  const ping = window.setInterval(() => {
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "ping" }));
  }, 20000);
  socket.onopen = () => {
    state.retryDelay = 1000;
    $("connection").textContent = "Live";
  };
  socket.onmessage = (event) => handlePush(JSON.parse(event.data));
  socket.onclose = () => {
    window.clearInterval(ping);
    $("connection").textContent = "Connection lost, reconnecting…";
    window.setTimeout(connect, state.retryDelay);
    state.retryDelay = Math.min(state.retryDelay * 2, 15000);
  };
}

function handlePush(push) {
  if (push.type === "hello") {
    setQueue(push.queue);
    setMine(push.mine);
    if (state.current) openConversation(state.current); // re-read what a gap may have missed
  } else if (push.type === "queue") {
    setQueue(push.queue);
  } else if (push.type === "event") {
    setMine(push.mine);
    onTicketEvent(push);
  } else if (push.type === "message" && push.conversation_id === state.current) {
    if (push.message.kind === "typing") {
      $("customer-typing").textContent = push.message.extra.typing ? "The customer is typing…" : "";
    } else {
      $("customer-typing").textContent = "";
      addMessage(push.message);
    }
  }
}

function onTicketEvent(push) {
  if (push.conversation_id !== state.current) return;
  const stillMine = push.mine.some((item) => item.conversation_id === state.current);
  if (!stillMine && push.event === "ticket_transferred") notice("Transferred: another agent has this chat now.");
  if (push.event === "ticket_abandoned") notice("The customer left the chat.");
  if (!stillMine) setComposerEnabled(false);
}

// --- queue and my chats -----------------------------------------------------------------------

function setQueue(queue) {
  const fresh = queue.filter((item) => state.seenTickets && !state.seenTickets.has(item.conversation_id));
  state.seenTickets = new Set([...(state.seenTickets || []), ...queue.map((item) => item.conversation_id)]);
  state.queue = queue;
  state.queueReceivedAt = Date.now();
  renderQueue();
  if (fresh.length) announce(fresh[0]);
}

function waitText(seconds) {
  const whole = Math.max(0, Math.floor(seconds));
  return whole < 60 ? `${whole} s` : `${Math.floor(whole / 60)} min ${whole % 60} s`;
}

function renderQueue() {
  $("queue").replaceChildren(...state.queue.map(queueCard));
  $("queue-count").textContent = `(${state.queue.length})`;
  $("queue-empty").hidden = state.queue.length > 0;
}

// Only the wait times change every second: the cards (and the focus on a Claim button) stay.
function tickWaits() {
  const elapsed = (Date.now() - state.queueReceivedAt) / 1000;
  for (const cell of $("queue").querySelectorAll("dd.wait")) {
    cell.textContent = waitText(Number(cell.dataset.waited) + elapsed);
  }
}

function queueCard(item) {
  const card = el("li", null, `card priority-${item.priority}`);
  card.dataset.conversation = item.conversation_id;
  const title = el("h3", reasonLabel(item.reason));
  const facts = el("dl", null, "facts");
  const wait = el("dd", waitText(item.wait_seconds), "wait");
  wait.dataset.waited = item.wait_seconds;
  facts.append(el("dt", "Priority"), el("dd", `${item.priority} of 5`), el("dt", "Waiting"), wait,
    el("dt", "Frustration"), el("dd", Number(item.frustration).toFixed(2)), el("dt", "Channel"), el("dd", item.channel));
  const claim = el("button", "Claim", "claim");
  claim.type = "button";
  claim.setAttribute("aria-label", `Claim: ${reasonLabel(item.reason)}, priority ${item.priority}`);
  claim.addEventListener("click", () => claimTicket(item.conversation_id));
  card.append(title, facts, el("p", item.summary, "summary"), claim);
  return card;
}

function reasonLabel(reason) {
  if (!reason) return "Handoff";
  const text = reason.replace(/^judgement:/, "").replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function setMine(mine) {
  state.mine = mine;
  $("mine-count").textContent = `(${mine.length} of ${state.agent.max_concurrent_chats})`;
  $("mine").replaceChildren(...mine.map((item) => {
    const entry = el("li");
    const open = el("button", `${reasonLabel(item.reason)} · ${item.summary}`, "open-chat");
    open.type = "button";
    if (item.conversation_id === state.current) open.setAttribute("aria-current", "true");
    open.addEventListener("click", () => openConversation(item.conversation_id));
    entry.append(open);
    return entry;
  }));
}

async function claimTicket(conversationId) {
  $("queue-error").textContent = "";
  try {
    await api("POST", `/api/conversations/${encodeURIComponent(conversationId)}/claim`);
    await openConversation(conversationId);
    $("message").focus();
  } catch (error) {
    $("queue-error").textContent = error.reason === "already_claimed"
      ? "Another agent claimed this conversation first." : error.message;
  }
}

// --- notifications ----------------------------------------------------------------------------

function announce(item) {
  if ($("notify-sound").checked) beep();
  if ($("notify-desktop").checked && window.Notification && Notification.permission === "granted") {
    new Notification("New customer waiting", { body: `${reasonLabel(item.reason)}: ${item.summary}` });
  }
}

function beep() {
  const audio = new (window.AudioContext || window.webkitAudioContext)();
  const tone = audio.createOscillator();
  const gain = audio.createGain();
  tone.frequency.value = 880;
  gain.gain.value = 0.1;
  tone.connect(gain).connect(audio.destination);
  tone.start();
  tone.stop(audio.currentTime + 0.2);
}

// --- one conversation -------------------------------------------------------------------------

async function openConversation(conversationId) {
  let data;
  try {
    data = await api("GET", `/api/conversations/${encodeURIComponent(conversationId)}`);
  } catch (error) {
    if (error.status === 403 || error.status === 404) closeConversation();
    else notice(error.message);
    return;
  }
  if (state.current !== conversationId) state.shown = new Set();
  if (verdict.conversationId && verdict.conversationId !== conversationId) hideVerdict();
  state.current = conversationId;
  store.setItem("openConversation", conversationId);
  $("conversation").hidden = false;
  renderTicket(data.ticket);
  renderHistory(data.closed_tickets || []);
  data.messages.forEach(addMessage);
  const mine = data.state.mode === "assigned" && data.state.agent_id === state.agent.id;
  setComposerEnabled(mine);
  notice(mine ? "" : `This conversation is ${data.state.mode === "bot" ? "back with the bot" : data.state.mode}.`);
  setMine(state.mine);
}

function closeConversation() {
  hideVerdict();
  state.current = null;
  store.removeItem("openConversation");
  $("conversation").hidden = true;
}

function renderTicket(ticket) {
  $("messages").replaceChildren();
  state.shown = new Set();
  $("customer-typing").textContent = "";
  if (!ticket) return;
  $("conversation-title").textContent = `Conversation: ${reasonLabel(ticket.reason)}`;
  $("ticket-summary").textContent = ticket.summary;
  const facts = $("ticket-facts");
  facts.replaceChildren();
  for (const [name, value] of [
    ["Reason", reasonLabel(ticket.reason)],
    ["Priority", `${ticket.priority} of 5`],
    ["Frustration", Number(ticket.frustration).toFixed(2)],
    ["Channel", ticket.channel],
  ]) {
    facts.append(el("dt", name), el("dd", value));
  }
  const slots = $("ticket-slots");
  slots.replaceChildren();
  for (const [name, value] of Object.entries(ticket.slots || {})) {
    if (value !== null && value !== "") slots.append(el("dt", name), el("dd", value));
  }
  if (!slots.children.length) slots.append(el("dt", "none"), el("dd", "the bot noted nothing for the agent"));
  $("bot-transcript").replaceChildren(...ticket.transcript.map((turn) => {
    const row = el("tr", null, turn.role);
    const customer = turn.role === "customer";
    const cells = [["Who", customer ? "Customer" : "Bot"], ["Message", turn.text],
      ["Intent", customer ? turn.intent : ""], ["Confidence", customer ? "" : decidedBy(turn)],
      ["Frustration", customer ? Number(turn.frustration).toFixed(2) : ""]];
    if (!customer && turn.sure === false) row.classList.add("unsure");
    for (const [label, text] of cells) {
      const cell = el("td", text);
      cell.dataset.label = label; // the narrow layout shows it in place of the column header
      row.append(cell);
    }
    return row;
  }));
}

// The confidence that decided a bot message (the chosen answer's for FAQ) and whether the bot was sure.
function decidedBy(turn) {
  if (turn.confidence === undefined || turn.confidence === null) return "";
  const confidence = Number(turn.confidence).toFixed(2);
  if (turn.decided_by === "person_request") return `${confidence} · asked for a person`;
  // A confident FAQ answer held back: the question was unlike any example the answer was taught from.
  if (turn.decided_by === "closeness") return `closeness ${confidence} · unlike what it was taught`;
  if (turn.sure === true) return `${confidence} · sure`;
  if (turn.sure === false) return `${confidence} · unsure`;
  return confidence;
}

// Where a message goes among those shown: stream ids ("ms-seq") of both streams come from one
// Redis clock, so they order the conversation, also when a message arrives late (a re-read after a
// reconnect, a push that overtook it).
function streamIdOrder(a, b) {
  const [aMs, aSeq] = String(a).split("-").map(Number);
  const [bMs, bSeq] = String(b).split("-").map(Number);
  return aMs - bMs || (aSeq || 0) - (bSeq || 0);
}

function addMessage(message) {
  const key = `${message.direction}:${message.stream_id}`; // the two streams number independently
  if (state.shown.has(key)) return;
  state.shown.add(key);
  const fromCustomer = message.direction === "inbox";
  const kind = message.kind === "note" ? "note" : fromCustomer ? "customer" : message.sender === "bot" ? "bot" : "agent";
  const who = { customer: "Customer", bot: "Bot", note: "Internal note", agent: message.extra.agent_name || "Agent" }[kind];
  const item = el("li", null, `message ${kind}`);
  item.dataset.streamId = message.stream_id;
  const time = new Date(message.ts * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  item.append(el("span", `${who} · ${time}`, "meta"), el("p", message.text, "text"));
  const later = [...$("messages").children].find((shown) => streamIdOrder(shown.dataset.streamId, message.stream_id) > 0);
  $("messages").insertBefore(item, later || null);
  item.scrollIntoView({ block: "nearest" });
}

function notice(text) {
  $("conversation-notice").textContent = text;
}

function setComposerEnabled(enabled) {
  for (const form of ["send-form", "transfer-form", "resolve-form"]) {
    for (const control of $(form).elements) control.disabled = !enabled;
  }
}

// --- sending, typing, canned replies ----------------------------------------------------------

// A message is on screen only once the service stored it. Until then the same id is sent again
// (the service stores each id once): by itself while the service or Redis is unavailable (503, or
// no answer), with a doubling pause, SEND_ATTEMPTS times; then, or after any other refusal, when
// the agent presses Send.
const SEND_ATTEMPTS = 6;
const MAX_SEND_RETRY_MS = 15000;

async function send(event) {
  event.preventDefault();
  const text = $("message").value.trim();
  if (!text || !state.current) return;
  const kind = $("as-note").checked ? "note" : "text";
  const pending = state.pendingSend;
  if (!pending || pending.text !== text || pending.kind !== kind || pending.conversationId !== state.current) {
    state.pendingSend = { id: crypto.randomUUID(), text, kind, conversationId: state.current };
  }
  window.clearTimeout(state.sendRetryTimer);
  $("send-error").textContent = "";
  await deliverSend(state.pendingSend, 1);
}

async function deliverSend(pending, attempt) {
  if (state.pendingSend !== pending) return; // stored meanwhile, or replaced by another message
  const { id, text, kind, conversationId } = pending;
  try {
    const sent = await api("POST", `/api/conversations/${encodeURIComponent(conversationId)}/messages`, { id, text, kind });
    if (state.pendingSend !== pending) return;
    state.pendingSend = null;
    $("send-error").textContent = "";
    if (state.current !== conversationId) return;
    if ($("message").value.trim() === text) $("message").value = "";
    $("as-note").checked = false;
    stopTyping();
    addMessage({ stream_id: sent.stream_id, direction: "outbox", sender: state.agent.id, kind, text,
      ts: Date.now() / 1000, extra: { agent_name: state.agent.name } });
  } catch (error) {
    if (state.pendingSend !== pending) return;
    const unavailable = error.status === undefined || error.status === 503;
    if (unavailable && attempt < SEND_ATTEMPTS) {
      $("send-error").textContent = `Not sent yet (${error.message}); retrying…`;
      const delay = Math.min(1000 * 2 ** (attempt - 1), MAX_SEND_RETRY_MS);
      state.sendRetryTimer = window.setTimeout(() => deliverSend(pending, attempt + 1), delay);
    } else {
      $("send-error").textContent = `Not sent (${error.message}); press Send to retry.`;
    }
  }
}

function onComposerKey(event) {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    $("send-form").requestSubmit();
  }
}

function onComposerInput() {
  if ($("as-note").checked || !state.current) return;
  if (!state.typingSent) postTyping(true);
  window.clearTimeout(state.typingTimer);
  state.typingTimer = window.setTimeout(stopTyping, 3000);
}

function stopTyping() {
  window.clearTimeout(state.typingTimer);
  if (state.typingSent) postTyping(false);
}

function postTyping(typing) {
  state.typingSent = typing;
  api("POST", `/api/conversations/${encodeURIComponent(state.current)}/typing`, { typing }).catch(() => {});
}

async function loadCannedReplies() {
  const { canned_replies: replies } = await api("GET", "/api/canned-replies");
  $("canned").replaceChildren(...replies.map((reply) => {
    const button = el("button", reply.title, "canned-reply");
    button.type = "button";
    button.title = reply.text;
    button.addEventListener("click", () => {
      $("message").value = reply.text;
      $("message").focus();
      onComposerInput();
    });
    return button;
  }));
}

// --- transfer and resolve ---------------------------------------------------------------------

async function loadAgents() {
  const { agents } = await api("GET", "/api/agents");
  $("transfer-to").replaceChildren(...agents.filter((agent) => agent.id !== state.agent.id).map((agent) => {
    const option = el("option", `${agent.name} (${agent.online ? "online" : "offline"}, ` +
      `${agent.active_chats}/${agent.max_concurrent_chats} chats)`);
    option.value = agent.id;
    return option;
  }));
}

async function transfer(event) {
  event.preventDefault();
  await act("transfer", { to_agent: $("transfer-to").value }, "Transferred.");
}

// The assistant's optional resolve field ({label, slots, pattern, placeholder} or null), from the page.
const resolveField = JSON.parse(document.querySelector('meta[name="resolve-field"]').content);

function addResolveField() {
  if (!resolveField) return;
  const input = el("input");
  input.id = "resolve-value";
  if (resolveField.pattern) input.pattern = resolveField.pattern;
  input.placeholder = resolveField.placeholder || "";
  const label = el("label", resolveField.label);
  label.htmlFor = input.id;
  $("resolve-form").prepend(label, input);
}

async function resolve(event) {
  event.preventDefault();
  const input = $("resolve-value");
  const value = input ? input.value.trim() : "";
  const slots = value ? Object.fromEntries(resolveField.slots.map((slot) => [slot, value])) : {};
  const conversationId = state.current;
  const result = await act("resolve", { slots }, "Resolved: the customer is back with the bot.");
  if (input) input.value = "";
  if (result) showVerdict(conversationId, result.handoff_id);
}

async function act(action, body, done) {
  $("action-error").textContent = "";
  try {
    const result = await api("POST", `/api/conversations/${encodeURIComponent(state.current)}/${action}`, body);
    setComposerEnabled(false);
    notice(result.warning ? `${done} ${result.warning}` : done);
    return result;
  } catch (error) {
    $("action-error").textContent = error.message;
    return null;
  }
}

// --- the verdict after a resolve ---------------------------------------------------------------
// Optional and after the fact: the resolve already happened. Needed / Not needed are stored at one
// click; Wrong answer and Out of date ask which intent or answer, the likeliest first.

const verdict = { conversationId: null, handoffId: null, kind: null, options: null };
const VERDICT_PICKS = {
  wrong_answer: { label: "The right intent or FAQ topic", all: "intents", first: "suggested_intents",
    firstLabel: "Ranked for the customer's last messages" },
  outdated: { label: "The answer that is out of date", all: "answers", first: "sent_answers",
    firstLabel: "Sent in this conversation" },
};

function showVerdict(conversationId, handoffId) {
  Object.assign(verdict, { conversationId, handoffId, kind: null, options: null });
  $("verdict-pick").hidden = true;
  $("verdict-error").textContent = "";
  $("verdict-form").hidden = false;
  $("verdict-form").querySelector("button[data-kind]").focus();
}

function hideVerdict() {
  $("verdict-form").hidden = true;
  verdict.conversationId = null;
}

async function chooseVerdict(kind) {
  $("verdict-error").textContent = "";
  verdict.kind = kind;
  const pick = VERDICT_PICKS[kind];
  if (!pick) {
    await saveVerdict({ kind });
    return;
  }
  try {
    verdict.options = verdict.options ||
      await api("GET", `/api/conversations/${encodeURIComponent(verdict.conversationId)}/verdict_options`);
  } catch (error) {
    $("verdict-error").textContent = `The bot's intents and answers cannot be read now (${error.message}).`;
    return;
  }
  const first = verdict.options[pick.first];
  const groups = [[pick.firstLabel, first], ["All", verdict.options[pick.all].filter((name) => !first.includes(name))]];
  $("verdict-name").replaceChildren(...groups.filter(([, names]) => names.length).map(([label, names]) => {
    const group = el("optgroup");
    group.label = label;
    group.append(...names.map((name) => {
      const option = el("option", name);
      option.value = name;
      return option;
    }));
    return group;
  }));
  $("verdict-name-label").textContent = pick.label;
  $("verdict-pick").hidden = false;
  $("verdict-name").focus();
}

async function saveVerdict(body) {
  try {
    await api("POST", `/api/conversations/${encodeURIComponent(verdict.conversationId)}/verdict`,
      { ...body, handoff_id: verdict.handoffId });
  } catch (error) {
    $("verdict-error").textContent = `Verdict not saved: ${error.message}`;
    return;
  }
  const conversationId = verdict.conversationId;
  hideVerdict();
  if (state.current === conversationId) await openConversation(conversationId);
  notice("Resolved, and your verdict is saved. Thank you!");
}

function onVerdictSubmit(event) {
  event.preventDefault();
  const name = $("verdict-name").value;
  if (!name || !VERDICT_PICKS[verdict.kind]) return;
  saveVerdict({ kind: verdict.kind, [verdict.kind === "wrong_answer" ? "intent" : "answer"]: name });
}

const VERDICT_LABELS = { needed: "needed", not_needed: "not needed", wrong_answer: "wrong answer",
  outdated: "out of date" };

// The handoffs resolved before: who, when, the customer's rating and the agent's verdict.
function renderHistory(closed) {
  $("history-box").hidden = !closed.length;
  $("history").replaceChildren(...closed.map((record) => {
    const when = new Date(record.resolved_at * 1000).toLocaleString();
    const parts = [`${when}, ${record.agent_name || record.agent_id}`];
    parts.push(record.satisfaction ? `rated ${record.satisfaction}/5` : "not rated");
    const given = record.verdict;
    if (given) {
      const named = given.intent || given.answer;
      parts.push(`verdict: ${VERDICT_LABELS[given.kind] || given.kind}${named ? ` (${named})` : ""}`);
    } else {
      parts.push("no verdict");
    }
    return el("li", parts.join(" · "));
  }));
}

// --- start ------------------------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", () => {
  addResolveField();
  $("login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    $("login-error").textContent = "";
    login($("token").value.trim()).catch((error) => {
      $("login-error").textContent = error.status === 401 ? "That token is not valid." : error.message;
    });
  });
  $("presence").addEventListener("change", () => {
    store.setItem("presence", $("presence").value);
    heartbeat();
  });
  $("notify-desktop").addEventListener("change", () => {
    if ($("notify-desktop").checked && window.Notification) Notification.requestPermission();
  });
  $("logout").addEventListener("click", logout);
  $("send-form").addEventListener("submit", send);
  $("message").addEventListener("keydown", onComposerKey);
  $("message").addEventListener("input", onComposerInput);
  $("transfer-form").addEventListener("submit", transfer);
  $("resolve-form").addEventListener("submit", resolve);
  for (const button of $("verdict-form").querySelectorAll("button[data-kind]")) {
    button.addEventListener("click", () => chooseVerdict(button.dataset.kind));
  }
  $("verdict-skip").addEventListener("click", hideVerdict);
  $("verdict-form").addEventListener("submit", onVerdictSubmit);
  // The lead's review page opens an example conversation of an alarm or a cluster here.
  document.addEventListener("console:open-conversation", (event) => openConversation(event.detail.conversationId));
  if (state.token) {
    login(state.token).catch(() => {
      store.removeItem("agentToken");
      $("login-view").hidden = false;
    });
  }
});
