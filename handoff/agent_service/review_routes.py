"""The lead's review queue (docs/review.md, "The review page"): `GET /api/review?since=30d` lists the
clusters of handed-off and fallback utterances not yet decided on, with the labels a relabel may use;
`POST /api/review/<key>` records the lead's decision on one cluster (accept, relabel, dismiss, or
new_topic: a new FAQ topic with its answer, stored as a relabel to `faq/<topic>` that carries the
answer), once. Leads only. `python -m handoff.review export` turns the accepted ones into
data/reviewed.yml (and new topics' answers into domain/reviewed.yml)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, json
from sqlalchemy.engine import Engine

from handoff.agent_service.access import require_role
from handoff.agent_service.agents import LEAD_ROLE
from handoff.agent_service.errors import ApiError, json_body
from handoff.agent_service.insights_access import guarded, in_thread, read_engine, write_engine
from handoff.agent_service.rasa_client import RasaUnavailable
from handoff.agent_service.review_queue import DEFAULT_SINCE, ReviewQueue, decided_keys, describe
from handoff.agent_service.verdict_routes import DomainCache
from handoff.insights.period import SinceError, parse_since
from handoff.review.clusters import Proposal
from handoff.review.new_topics import NewTopicError, clean_answer, new_topic_label
from handoff.review.store import (
    ACCEPT,
    ACTIONS,
    DISMISS,
    RELABEL,
    AlreadyDecided,
    new_topic_answers,
    record_decision,
)

MAX_KEY_LENGTH = 128
NEW_TOPIC = "new_topic"  # the API's action for a new FAQ topic (stored as a relabel with an answer)
REQUEST_ACTIONS = (*ACTIONS, NEW_TOPIC)
FIELDS = {"action", "label", "since", "topic", "answer"}


def blueprint() -> Blueprint:
    bp = Blueprint("review")
    bp.add_route(review_queue, "/api/review", methods=["GET"])
    bp.add_route(decide, "/api/review/<key:str>", methods=["POST"])
    return bp


def relabel_targets(intents: Iterable[str], new_topics: Iterable[str] = ()) -> list[str]:
    """The domain's intents and FAQ topics an example may be labelled with: a retrieval intent
    (`faq`) only through its topics (`faq/late_fees`); and the FAQ topics leads created that the
    running bot does not know yet (so a second cluster about one can join it)."""
    names = set(intents)
    retrieval = {name.partition("/")[0] for name in names if "/" in name}
    return sorted((names - retrieval) | set(new_topics))


def since_of(raw: Any) -> str:
    """The period `since` names; 400 for anything but e.g. 24h, 7d, 30d."""
    if not isinstance(raw, str):
        raise ApiError(400, "since must be a number of hours or days such as 7d")
    try:
        parse_since(raw)
    except SinceError as error:
        raise ApiError(400, str(error)) from None
    return raw.strip()


async def labels_or_none(domain: DomainCache, new_topics: Iterable[str]) -> list[str] | None:
    """The labels a relabel may use; None while Rasa cannot tell (the console then offers none)."""
    try:
        return relabel_targets((await domain.names()).intents, new_topics)
    except RasaUnavailable:
        return None


async def domain_intents(domain: DomainCache) -> tuple[str, ...]:
    """The intents and FAQ topics of the bot's domain; 503 when Rasa cannot tell."""
    try:
        return (await domain.names()).intents
    except RasaUnavailable as exc:
        raise ApiError(503, f"the bot's intents cannot be read now: {exc}", reason="rasa_unavailable") from exc


async def review_queue(request: Request) -> HTTPResponse:
    """The undecided clusters of the period `since`, most examples first."""
    require_role(request.ctx.agent, LEAD_ROLE)
    since = since_of(request.args.get("since", DEFAULT_SINCE))
    queue: ReviewQueue = request.app.ctx.review_queue
    engine = read_engine(request)
    proposals = await guarded(queue.open_proposals(engine, since))
    new_topics = await in_thread(new_topic_answers, engine)
    return json({"since": since, "labels": await labels_or_none(request.app.ctx.domain, new_topics),
                 "proposals": [describe(proposal) for proposal in sorted(proposals, key=_size, reverse=True)]})


async def decide(request: Request, key: str) -> HTTPResponse:
    """The lead's decision on the cluster `key` of the period `since` (the one the console showed):
    404 for a cluster the period does not have, 409 when it was decided already."""
    require_role(request.ctx.agent, LEAD_ROLE)
    body = json_body(request)
    requested, label = _decision(body)
    since = since_of(body.get("since", DEFAULT_SINCE))
    if len(key) > MAX_KEY_LENGTH:
        raise ApiError(404, "no such cluster in the review queue", reason="unknown_cluster")
    engine = read_engine(request)
    action, answer = requested, None
    if requested == RELABEL:
        await _check_label(request.app.ctx.domain, label, await in_thread(new_topic_answers, engine))
    if key in await in_thread(decided_keys, engine):
        raise ApiError(409, "this cluster was decided already", reason="decided")
    if requested == NEW_TOPIC:  # after the 409: a repeated request names the topic it created itself
        action, label, answer = RELABEL, *await _new_topic(request.app.ctx.domain, engine, body)
    queue: ReviewQueue = request.app.ctx.review_queue
    proposal = next((p for p in await guarded(queue.proposals(engine, since)) if p.key == key), None)
    if proposal is None:
        raise ApiError(404, "no such cluster in the review queue", reason="unknown_cluster")
    if action == ACCEPT:
        if proposal.label is None:
            raise ApiError(400, "a new topic has no intent yet: relabel it to one or make it a new FAQ topic",
                           reason="bad_decision")
        label = proposal.label
    texts = [example.text for example in proposal.examples]
    try:
        await in_thread(record_decision, write_engine(request), key, action, label, texts, request.ctx.agent.id,
                        answer)
    except AlreadyDecided:  # another lead's decision stored between the check above and this one
        raise ApiError(409, "this cluster was decided already", reason="decided") from None
    queue.forget()
    return json({"key": key, "action": requested, "label": label if action != DISMISS else None,
                 "count": len(texts)})


def _size(proposal: Proposal) -> int:
    return len(proposal.examples)


def _decision(body: dict[str, Any]) -> tuple[str, str | None]:
    """(action, label) from the body; 400 for an unknown action, or a label, topic or answer where
    none belongs."""
    unknown = sorted(set(body) - FIELDS)
    if unknown:
        raise ApiError(400, f"unknown fields: {', '.join(unknown)}", reason="bad_decision")
    action, label = body.get("action"), body.get("label")
    if action not in REQUEST_ACTIONS:
        raise ApiError(400, f"action must be one of {', '.join(REQUEST_ACTIONS)}", reason="bad_decision")
    if action != NEW_TOPIC and ("topic" in body or "answer" in body):
        raise ApiError(400, f"only new_topic takes a topic and an answer, not {action}", reason="bad_decision")
    if action == RELABEL and (not isinstance(label, str) or not label):
        raise ApiError(400, "relabel needs a label: an intent or an FAQ topic faq/<topic>", reason="bad_decision")
    if action != RELABEL and label is not None:
        raise ApiError(400, f"only relabel takes a label, not {action}", reason="bad_decision")
    return action, label


async def _new_topic(domain: DomainCache, engine: Engine, body: dict[str, Any]) -> tuple[str, str]:
    """(`faq/<topic>`, answer) of a new_topic decision; 400 for a malformed name or answer, or a name
    the bot or an earlier new topic uses; 503 when Rasa cannot tell its names."""
    taken = {*await domain_intents(domain), *await in_thread(new_topic_answers, engine)}
    try:
        label = new_topic_label(body.get("topic"), taken)
    except NewTopicError as exc:
        raise ApiError(400, str(exc), reason="bad_topic") from None
    try:
        return label, clean_answer(body.get("answer"))
    except NewTopicError as exc:
        raise ApiError(400, str(exc), reason="bad_answer") from None


async def _check_label(domain: DomainCache, label: str | None, new_topics: Iterable[str]) -> None:
    """400 unless `label` is an intent or FAQ topic of the bot's domain or a new topic a lead created;
    503 when Rasa cannot tell."""
    targets = relabel_targets(await domain_intents(domain), new_topics)
    if label not in targets:
        raise ApiError(400, f"{str(label)[:60]!r} is no intent or FAQ topic (faq/<topic>) of the bot's domain",
                       reason="bad_label")
