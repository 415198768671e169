// The lead's review page in the console: drift alarms (GET /api/alarms, cleared with
// POST /api/alarms/<id>/clear) and the clusters of handed-off and fallback messages proposed as
// training examples (GET /api/review), each accepted, relabelled, dismissed or (a new topic) made a
// new FAQ topic with its answer with POST /api/review/<key>. Customers' words and leads' answers go on
// the page with textContent only, never as HTML.
"use strict";

const review = { labels: null, since: "30d" };
const reviewEl = (id) => document.getElementById(id);

function when(iso) {
  return iso ? `${iso.slice(0, 16).replace("T", " ")} UTC` : "–";
}

// Example conversations: each opens in the console's chat view when the console still keeps it.
function conversationLinks(ids, problem) {
  const links = el("div", ids.length ? "Conversations:" : "", "links");
  for (const id of ids) {
    const button = el("button", id);
    button.type = "button";
    button.addEventListener("click", () => openFromReview(id, problem));
    links.append(button);
  }
  return links;
}

async function openFromReview(conversationId, problem) {
  problem.textContent = "";
  try {
    await api("GET", `/api/conversations/${encodeURIComponent(conversationId)}`);
  } catch {
    problem.textContent = `Conversation ${conversationId} cannot be opened here: only handed-off conversations ` +
      "are kept in the console, for as long as their retention allows.";
    return;
  }
  closeReview();
  document.dispatchEvent(new CustomEvent("console:open-conversation", { detail: { conversationId } }));
}

function showCount(listId, countId, emptyId) {
  const count = reviewEl(listId).children.length;
  reviewEl(countId).textContent = `(${count})`;
  reviewEl(emptyId).hidden = count > 0;
}

// --- alarms -------------------------------------------------------------------------------------

function alarmCard(alarm) {
  const item = el("li", null, "card alarm");
  item.append(el("h3", `${alarm.headline}: ${alarm.subject}`));
  item.append(el("p", alarm.detail));
  item.append(el("p", `Since ${when(alarm.since)} · raised ${when(alarm.raised_at)} · severity ` +
    `${Number(alarm.severity).toFixed(2)}`, "muted"));
  const problem = el("p", "", "error");
  item.append(conversationLinks(alarm.examples || [], problem));
  const clear = el("button", "Clear");
  clear.type = "button";
  clear.addEventListener("click", async () => {
    clear.disabled = true;
    try {
      await api("POST", `/api/alarms/${encodeURIComponent(alarm.id)}/clear`);
      item.remove();
      showCount("alarms", "alarms-count", "alarms-empty");
    } catch (error) {
      problem.textContent = `Not cleared: ${error.message}`;
      clear.disabled = false;
    }
  });
  const row = el("div", null, "decide");
  row.append(clear);
  item.append(row, problem);
  return item;
}

// --- proposals ----------------------------------------------------------------------------------

function proposalTitle(proposal) {
  return proposal.label === null ? "New topic" : `More examples for intent ${proposal.label}`;
}

function proposalCard(proposal) {
  const item = el("li", null, proposal.label === null ? "card new-topic" : "card");
  const title = el("h3", proposalTitle(proposal));
  title.id = `proposal-${proposal.key}`;
  item.setAttribute("aria-labelledby", title.id);
  item.append(title, el("p", `${proposal.count} messages · first ${when(proposal.first_seen)} · last ` +
    `${when(proposal.last_seen)}`, "muted"));
  const examples = el("ul", null, "examples");
  for (const text of proposal.examples) examples.append(el("li", text));
  const problem = el("p", "", "error");
  const decide = decider(proposal, item, problem);
  item.append(examples, conversationLinks(proposal.conversations || [], problem), decisionRow(proposal, decide));
  if (proposal.label === null) item.append(newTopicForm(proposal, decide));
  item.append(problem);
  return item;
}

// Posts one decision on the cluster; the card leaves the list when it is stored, or shows why not.
function decider(proposal, item, problem) {
  return async (body, button) => {
    problem.textContent = "";
    button.disabled = true;
    try {
      const decided = await api("POST", `/api/review/${encodeURIComponent(proposal.key)}`,
        { ...body, since: review.since });
      item.remove();
      showCount("proposals", "proposals-count", "proposals-empty");
      reviewEl("review-status").textContent = decidedText(decided, body);
      if (decided.action === "new_topic") offerLabel(decided.label);
    } catch (error) {
      problem.textContent = `Not saved: ${error.message}`;
      button.disabled = false;
    }
  };
}

function decidedText(decided, body) {
  if (decided.action === "dismiss") return `Dismissed ${decided.count} messages`;
  if (decided.action === "new_topic") {
    return `New FAQ topic ${decided.label}: ${decided.count} examples and the answer "${body.answer.trim()}" ` +
      "will be exported";
  }
  return `${decided.count} examples for ${decided.label} will be exported`;
}

// A topic a lead just created is a label the other clusters may be relabelled to.
function offerLabel(label) {
  if (!review.labels || review.labels.includes(label)) return;
  review.labels = [...(review.labels || []), label].sort();
  for (const select of document.querySelectorAll("#proposals select")) {
    const option = el("option", label);
    option.value = label;
    select.append(option);
  }
}

// A new topic's own FAQ topic: its name (faq/<name>) and the answer the bot is to give.
function newTopicForm(proposal, decide) {
  const form = el("div", null, "decide new-topic-form");
  const topic = el("input");
  topic.id = `topic-${proposal.key}`;
  topic.maxLength = 40;
  topic.placeholder = "e.g. gift_cards";
  topic.autocomplete = "off";
  topic.spellcheck = false;
  const topicLabel = el("label", "Topic name");
  topicLabel.htmlFor = topic.id;
  const answer = el("textarea");
  answer.id = `answer-${proposal.key}`;
  answer.maxLength = 1000;
  answer.rows = 3;
  const answerLabel = el("label", "Answer");
  answerLabel.htmlFor = answer.id;
  const create = el("button", "New FAQ topic");
  create.type = "button";
  const ready = () => { create.disabled = topic.value.trim() === "" || answer.value.trim() === ""; };
  ready();
  topic.addEventListener("input", ready);
  answer.addEventListener("input", ready);
  create.addEventListener("click", () =>
    decide({ action: "new_topic", topic: topic.value.trim(), answer: answer.value }, create));
  form.append(topicLabel, topic, answerLabel, answer, create);
  return form;
}

function decisionRow(proposal, decide) {
  const row = el("div", null, "decide");
  if (proposal.label !== null) {
    const accept = el("button", "Accept");
    accept.type = "button";
    accept.addEventListener("click", () => decide({ action: "accept" }, accept));
    row.append(accept);
  }
  const select = el("select");
  select.id = `relabel-${proposal.key}`;
  const label = el("label", "Relabel as");
  label.htmlFor = select.id;
  // No label is preselected unless it is the proposal's own: a new topic must never be relabelled
  // to whatever intent happens to come first.
  const choose = el("option", "Choose an intent…");
  choose.value = "";
  select.append(choose);
  for (const name of review.labels || []) {
    const option = el("option", name);
    option.value = name;
    option.selected = name === proposal.label;
    select.append(option);
  }
  select.disabled = !review.labels;
  const relabel = el("button", "Relabel", "secondary");
  relabel.type = "button";
  const relabelReady = () => { relabel.disabled = !review.labels || select.value === ""; };
  relabelReady();
  select.addEventListener("change", relabelReady);
  relabel.addEventListener("click", () => decide({ action: "relabel", label: select.value }, relabel));
  const dismiss = el("button", "Dismiss", "secondary");
  dismiss.type = "button";
  dismiss.addEventListener("click", () => decide({ action: "dismiss" }, dismiss));
  row.append(label, select, relabel, dismiss);
  return row;
}

// --- the page -----------------------------------------------------------------------------------

async function loadReview() {
  review.since = reviewEl("review-since").value;
  reviewEl("review-error").textContent = "";
  reviewEl("review-status").textContent = "Loading…";
  try {
    const [alarms, queue] = await Promise.all([api("GET", "/api/alarms"),
      api("GET", `/api/review?since=${encodeURIComponent(review.since)}`)]);
    review.labels = queue.labels;
    reviewEl("alarms").replaceChildren(...alarms.alarms.map(alarmCard));
    reviewEl("proposals").replaceChildren(...queue.proposals.map(proposalCard));
    showCount("alarms", "alarms-count", "alarms-empty");
    showCount("proposals", "proposals-count", "proposals-empty");
    reviewEl("review-status").textContent = queue.labels ? "" : "The bot's intents cannot be read now: relabel later.";
  } catch (error) {
    reviewEl("review-status").textContent = "";
    reviewEl("review-error").textContent = `The review cannot be shown: ${error.message}`;
  }
}

function closeReview() {
  reviewEl("review").hidden = true;
  reviewEl("workspace").hidden = false;
  reviewEl("review-toggle").setAttribute("aria-expanded", "false");
  reviewEl("review-toggle").textContent = "Review";
}

function toggleReview() {
  if (!reviewEl("review").hidden) {
    closeReview();
    return;
  }
  reviewEl("dashboard").hidden = true;
  reviewEl("dashboard-toggle").setAttribute("aria-expanded", "false");
  reviewEl("dashboard-toggle").textContent = "Dashboard";
  reviewEl("workspace").hidden = true;
  reviewEl("review").hidden = false;
  reviewEl("review-toggle").setAttribute("aria-expanded", "true");
  reviewEl("review-toggle").textContent = "Back to chats";
  loadReview();
}

document.addEventListener("console:login", (event) => {
  if (event.detail.role !== "lead") return;
  reviewEl("review-toggle").hidden = false;
});

document.addEventListener("DOMContentLoaded", () => {
  reviewEl("review-toggle").addEventListener("click", toggleReview);
  reviewEl("review-since").addEventListener("change", loadReview);
  // Opening the dashboard closes the review first (the dashboard's own handler then shows itself).
  reviewEl("dashboard-toggle").addEventListener("click", () => {
    if (!reviewEl("review").hidden) {
      reviewEl("review").hidden = true;
      reviewEl("review-toggle").setAttribute("aria-expanded", "false");
      reviewEl("review-toggle").textContent = "Review";
      reviewEl("workspace").hidden = false;
    }
  }, { capture: true });
});
