"""`python -m handoff.insights report --since 7d [--out report.html]`: the dashboard's figures as one
self-contained HTML file (plots inlined as PNG data, no script, no outside resource), for a lead who
wants to keep or mail them. Every text it includes is HTML-escaped."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

from handoff.insights.report_plots import containment_plot, handoff_rate_plot, precision_plot

STYLE = ("body{font-family:sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem;color:#222}"
         "table{border-collapse:collapse;margin:.5rem 0 1rem}td,th{border:1px solid #ccc;padding:.25rem .5rem;"
         "text-align:left}img{max-width:100%}.low{color:#b00020;font-weight:bold}")


def number(value: Any, digits: int = 2) -> str:
    """A figure as text: "–" for none, percentages for shares handled by `percent`."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    head = "".join(f"<th scope='col'>{escape(header)}</th>" for header in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(cell))}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def image(uri: str, description: str) -> str:
    return f"<img src='{escape(uri)}' alt='{escape(description)}'>"


def _containment(figures: dict[str, Any]) -> str:
    contained = figures["containment"]
    failures = contained["not_contained"]
    return ("<h2>Containment</h2>"
            f"<p>{percent(contained['share'])} of {contained['n']} finished conversations contained "
            f"({contained['open']} still open, not counted).</p>"
            + table(["Not contained because", "Conversations"], [(name, count) for name, count in failures.items()])
            + image(containment_plot(figures), "Share of conversations contained per bucket")
            + table(["Bucket", "Finished", "Contained", "Share"],
                    [(entry["bucket"], entry["n"], entry["contained"], percent(entry["share"]))
                     for entry in contained["series"]]))


def _handoff_rate(figures: dict[str, Any]) -> str:
    rate = figures["handoff_rate"]
    rows = [(trigger, series["n"], *series["handoffs"]) for trigger, series in rate["triggers"].items()]
    buckets = figures["period"]["buckets"]
    return ("<h2>Handoff rate by trigger</h2>"
            f"<p>{rate['n_handoffs']} handoffs in {rate['n_turns']} customer turns of {rate['n_conversations']} "
            f"conversations: {percent(rate['per_turn'])} of turns, {percent(rate['per_conversation'])} of "
            "conversations.</p>"
            + image(handoff_rate_plot(figures), "Handoffs per 100 customer turns per trigger and bucket")
            + table(["Trigger", "Total", *buckets], [("customer turns", rate["n_turns"], *rate["turns"]), *rows]))


def _precision(figures: dict[str, Any]) -> str:
    rows = figures["precision"]
    if not rows:
        return "<h2>Handoff precision</h2><p>No handoff of the period has a verdict yet.</p>"
    body = [(row["trigger"], row["n"], row["counted_needed"], percent(row["precision"]),
             f"{percent(row['interval'][0])} – {percent(row['interval'][1])}", ", ".join(row["look_at"]) or "–")
            for row in rows]
    return ("<h2>Handoff precision by trigger</h2>"
            "<p>Share of handoffs with a verdict that a person was needed for (needed, wrong answer and out "
            "of date count as needed), with the 95% Wilson interval. Settings are named where at least 10 "
            "verdicts put the whole interval under 70%.</p>"
            + image(precision_plot(figures), "Precision per trigger with its interval")
            + table(["Trigger", "Verdicts", "Needed", "Precision", "95% interval", "Look at"], body))


def _people(figures: dict[str, Any]) -> str:
    times, ratings = figures["times"], figures["ratings"]
    spread_rows = [(label, times[key]["n"], number(times[key]["median"], 1), number(times[key]["p90"], 1))
                   for key, label in (("wait", "Wait for a person (request to claim)"),
                                      ("first_response", "First human response (from the request)"),
                                      ("handle", "Handle time (claim to end)"))]
    abandonment = times["abandonment"]
    bot, human = ratings["bot"], ratings["human"]
    return ("<h2>People: times, abandonment, ratings</h2>"
            + table(["Seconds", "n", "Median", "p90"], spread_rows)
            + f"<p>Abandoned: {abandonment['abandoned']} of {abandonment['n']} ended handoffs "
              f"({percent(abandonment['share'])}).</p>"
            + table(["Ratings", "n", "Figure"],
                    [("Bot only: thumbs up", bot["n"], percent(bot["share"])),
                     ("After a person: mean of 1-5", human["n"], number(human["mean"])),
                     (f"After a person: {human['good_from']} or 5", human["n"], percent(human["share_good"]))]))


def _low_confidence(figures: dict[str, Any]) -> str:
    low = figures["low_confidence"]
    return ("<h2>Answers given with low confidence</h2>"
            f"<p>{low['low']} of {low['n']} answered turns ({percent(low['share'])}) decided with a confidence "
            f"under their threshold plus {low['band']:.2f}.</p>")


def render(figures: dict[str, Any], title: str = "Handoff insights") -> str:
    """The whole report page."""
    period = figures["period"]
    return ("<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
            f"<h1>{escape(title)}</h1><p>Period: last {escape(period['since'])}, {escape(period['start'])} to "
            f"{escape(period['end'])} UTC, by {escape(period['bucket'])}.</p>"
            + _containment(figures) + _handoff_rate(figures) + _precision(figures) + _people(figures)
            + _low_confidence(figures) + "</body></html>")
