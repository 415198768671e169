// The lead's dashboard in the console: the figures of GET /api/insights as charts (chart.js, loaded
// only when a lead opens it) and, for every chart, the same numbers as a table. Agents without the
// lead role never see the button. Text goes on the page with textContent only.
"use strict";

const dash = { token: null, charts: {}, loading: null };
const PERCENT = (share) => (share === null || share === undefined ? "–" : `${(share * 100).toFixed(1)}%`);
const NUMBER = (value, digits = 1) => (value === null || value === undefined ? "–" : Number(value).toFixed(digits));
const byId = (id) => document.getElementById(id);

function cell(tag, text, className) {
  const node = document.createElement(tag);
  node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function fillTable(id, headers, rows, caption) {
  const table = byId(id);
  const head = document.createElement("thead");
  const headRow = document.createElement("tr");
  for (const header of headers) {
    const th = cell("th", header);
    th.scope = "col";
    headRow.append(th);
  }
  head.append(headRow);
  const body = document.createElement("tbody");
  for (const row of rows) {
    const tr = document.createElement("tr");
    for (const value of row) tr.append(value instanceof Node ? value : cell("td", value));
    body.append(tr);
  }
  table.replaceChildren(cell("caption", caption, "visually-hidden"), head, body);
}

function loadChartJs() {
  if (window.Chart) return Promise.resolve();
  dash.loading = dash.loading || new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = "/vendor/chart.umd.js";
    script.onload = resolve;
    script.onerror = () => reject(new Error("chart.js could not be loaded"));
    document.head.append(script);
  });
  return dash.loading;
}

function draw(id, config) {
  if (dash.charts[id]) dash.charts[id].destroy();
  config.options = { responsive: true, maintainAspectRatio: false, animation: false, ...config.options };
  dash.charts[id] = new window.Chart(byId(id), config);
}

function bucketLabels(period) {
  return period.buckets.map((bucket) => (period.bucket === "hour" ? bucket.slice(11, 16) : bucket.slice(5, 10)));
}

function showContainment(figures) {
  const contained = figures.containment;
  byId("containment-summary").textContent = `${PERCENT(contained.share)} of ${contained.n} finished conversations ` +
    `(${contained.open} still open)`;
  draw("containment-chart", {
    type: "bar",
    data: { labels: bucketLabels(figures.period), datasets: [{ label: "% contained", backgroundColor: "#2f6f4f",
      data: contained.series.map((entry) => (entry.share === null ? null : entry.share * 100)) }] },
    options: { scales: { y: { min: 0, max: 100 } } },
  });
  const failures = Object.entries(contained.not_contained).map(([why, count]) => [`not contained: ${why.replace(/_/g, " ")}`, count]);
  fillTable("containment-table", ["", "Conversations"], [["contained", contained.contained], ...failures],
    "Conversations contained and why the others were not");
}

function showRate(figures) {
  const rate = figures.handoff_rate;
  byId("rate-summary").textContent = `${rate.n_handoffs} handoffs in ${rate.n_turns} customer turns ` +
    `(${PERCENT(rate.per_turn)} of turns, ${PERCENT(rate.per_conversation)} of ${rate.n_conversations} conversations)`;
  const colours = ["#1a5fb4", "#c0392b", "#e08e0b", "#2f6f4f", "#7b3fa0", "#5b6472"];
  draw("rate-chart", {
    type: "line",
    data: { labels: bucketLabels(figures.period), datasets: Object.entries(rate.triggers).map(([trigger, series], index) => ({
      label: trigger, borderColor: colours[index % colours.length], backgroundColor: colours[index % colours.length],
      data: series.per_turn.map((value) => (value === null ? null : value * 100)) })) },
    options: { scales: { y: { min: 0, title: { display: true, text: "per 100 turns" } } } },
  });
  fillTable("rate-table", ["Trigger", "Handoffs", "Per turn", "Per conversation"],
    Object.entries(rate.triggers).map(([trigger, series]) => {
      const turns = rate.n_turns, conversations = rate.n_conversations;
      return [trigger, series.n, PERCENT(turns ? series.n / turns : null),
        PERCENT(conversations ? series.n / conversations : null)];
    }), "Handoffs per trigger over the period");
}

function showPrecision(figures) {
  const rows = figures.precision;
  draw("precision-chart", {
    type: "bar",
    data: { labels: rows.map((row) => row.trigger), datasets: [
      { label: "precision %", backgroundColor: "#1a5fb4", data: rows.map((row) => row.precision * 100) },
      { label: "95% interval %", backgroundColor: "#8aa4c8", data: rows.map((row) => [row.interval[0] * 100, row.interval[1] * 100]) },
    ] },
    options: { indexAxis: "y", scales: { x: { min: 0, max: 100 } } },
  });
  fillTable("precision-table", ["Trigger", "Verdicts", "Needed", "Precision", "95% interval", "Look at"],
    rows.map((row) => [row.trigger, row.n, row.counted_needed, PERCENT(row.precision),
      `${PERCENT(row.interval[0])} – ${PERCENT(row.interval[1])}`,
      row.look_at.length ? cell("td", `low: check ${row.look_at.join(", ")}`, "low") : "–"]),
    "Handoff precision per trigger");
}

function showPeople(figures) {
  const times = figures.times;
  fillTable("times-table", ["Seconds", "n", "Median", "p90"], [
    ["Wait for a person", times.wait.n, NUMBER(times.wait.median), NUMBER(times.wait.p90)],
    ["First human response", times.first_response.n, NUMBER(times.first_response.median), NUMBER(times.first_response.p90)],
    ["Handle time", times.handle.n, NUMBER(times.handle.median), NUMBER(times.handle.p90)],
  ], "Times to a person and handle times");
  const abandonment = times.abandonment;
  byId("abandonment-summary").textContent = `Abandoned: ${abandonment.abandoned} of ${abandonment.n} ended handoffs ` +
    `(${PERCENT(abandonment.share)})`;
  const { bot, human } = figures.ratings;
  draw("ratings-chart", {
    type: "bar",
    data: { labels: ["Bot only: thumbs up", `After a person: ${human.good_from} or 5`], datasets: [{
      label: "% satisfied", backgroundColor: ["#2f6f4f", "#1a5fb4"],
      data: [bot.share === null ? null : bot.share * 100, human.share_good === null ? null : human.share_good * 100] }] },
    options: { scales: { y: { min: 0, max: 100 } } },
  });
  fillTable("ratings-table", ["Ratings", "n", "Figure"], [
    ["Bot only: thumbs up", bot.n, PERCENT(bot.share)],
    ["After a person: mean of 1-5", human.n, NUMBER(human.mean, 2)],
    [`After a person: ${human.good_from} or 5`, human.n, PERCENT(human.share_good)],
  ], "Ratings of bot-only and human conversations");
  const low = figures.low_confidence;
  byId("low-confidence-summary").textContent = `Answers given with low confidence: ${low.low} of ${low.n} ` +
    `(${PERCENT(low.share)}; under the threshold + ${low.band.toFixed(2)})`;
}

async function loadDashboard() {
  const since = byId("dashboard-since").value;
  byId("dashboard-error").textContent = "";
  byId("dashboard-status").textContent = "Loading…";
  try {
    const [response] = await Promise.all([
      fetch(`/api/insights?since=${encodeURIComponent(since)}`, { headers: { Authorization: `Bearer ${dash.token}` } }),
      loadChartJs(),
    ]);
    const figures = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(figures.error || `request failed (${response.status})`);
    showContainment(figures);
    showRate(figures);
    showPrecision(figures);
    showPeople(figures);
    byId("dashboard-status").textContent = `${figures.period.start.slice(0, 16)} to ${figures.period.end.slice(0, 16)} UTC`;
  } catch (error) {
    byId("dashboard-status").textContent = "";
    byId("dashboard-error").textContent = `The figures cannot be shown: ${error.message}`;
  }
}

function toggleDashboard() {
  const opening = byId("dashboard").hidden;
  byId("dashboard").hidden = !opening;
  byId("workspace").hidden = opening;
  byId("dashboard-toggle").setAttribute("aria-expanded", String(opening));
  byId("dashboard-toggle").textContent = opening ? "Back to chats" : "Dashboard";
  if (opening) loadDashboard();
}

document.addEventListener("console:login", (event) => {
  if (event.detail.role !== "lead") return;
  dash.token = window.sessionStorage.getItem("agentToken");
  byId("dashboard-toggle").hidden = false;
});

document.addEventListener("DOMContentLoaded", () => {
  byId("dashboard-toggle").addEventListener("click", toggleDashboard);
  byId("dashboard-since").addEventListener("change", loadDashboard);
});
