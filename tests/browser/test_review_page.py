"""The lead's review page in a real browser, against an agent service (and a stand-in for Rasa's
domain) reading an insights database the test filled: a lead sees the proposed clusters with the
customers' words as text (markup in them never runs), accepts, relabels and dismisses one each, and
clears a drift alarm; a lead makes a new-topic cluster a new FAQ topic with its answer; an agent has no
Review button."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from handoff.agent_service.agents import LEAD_ROLE, Agent, hash_token, write_agents
from handoff.drift.alarms import store_alarms
from handoff.drift.monitor import Alarm
from handoff.insights.database import open_database
from handoff.insights.reading import utc_now
from handoff.insights.schema import drift_alarms, review_decisions, review_utterances
from handoff.review.utterances import normalise
from rasa_bot.settings import PROJECT_ROOT
from tests.agent_service.fake_rasa import FakeRasa
from tests.agent_service.service_process import ServiceProcess
from tests.browser.pages import screenshots
from tests.browser.test_dashboard import logged_in
from tests.redis_server import running_redis

LEAD = {"id": "rita", "name": "Rita Lead", "token": "rita-lead-token-0123456789"}
AGENT = {"id": "otto", "name": "Otto Agent", "token": "otto-agent-token-0123456789"}
XSS = "<img src=x onerror=window.__xss=1>"

# Handed-off messages as the capture stores them (scrubbed), with the bot's top intent: late fees and
# order tracking the bot knows (its training data agrees), paying in bitcoin it never learned.
TOPICS = {
    "fees": (["how high is the late fee", "what is this late fee on my bill", "late fee charged again?",
              "how much is the late fee", "what late fee do you charge"], "faq"),
    "crypto": (["can I pay with bitcoin", "do you take bitcoin payments", "is paying in bitcoin possible",
                "bitcoin accepted as payment?", "pay my bill with bitcoin please", f"can I pay with bitcoin {XSS}"],
               "nlu_fallback"),
    "orders": (["where is my order", "status of my order please", "has my order shipped yet",
                "where is my order <order>", "where is my order now"], "check_order_status"),
}
ALARM_DETAIL = "4 of 6 verdicts say out of date"
ALARM_CONVERSATION = "conv-fees-1"


def fill_database(path: Path, topics: tuple[str, ...] = tuple(TOPICS), alarm: bool = True) -> str:
    """A migrated insights database with the topics' messages (handed off a day ago) and one open alarm."""
    url = f"sqlite:///{path}"
    engine = open_database(url)
    now = utc_now().replace(microsecond=0)
    rows = [{"event_id": f"{topic}-{index}", "conversation_id": f"conv-{topic}-{index}",
             "at": now - timedelta(days=1, minutes=index), "text": text, "normalised": normalise(text),
             "top_intents": [{"name": intent, "confidence": 0.6}], "reason": "handoff", "model_id": "m1"}
            for topic, (texts, intent) in TOPICS.items() if topic in topics for index, text in enumerate(texts)]
    with engine.begin() as connection:
        connection.execute(review_utterances.insert(), rows)
        if alarm:
            store_alarms(connection, [Alarm("stale_answer", "utter_faq/late_fees@3f2a", now - timedelta(hours=2),
                                            now, 120, ALARM_DETAIL, 4.0, [ALARM_CONVERSATION])], "m1")
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("review-db") / "insights.sqlite3"


@contextmanager
def running_service(work: Path, database_url: str) -> Iterator[ServiceProcess]:
    """An agent service with a lead and an agent, the insights database `database_url` and Rasa's domain."""
    write_agents(work / "agents.yml", [Agent(LEAD["id"], LEAD["name"], hash_token(LEAD["token"]), LEAD_ROLE),
                                       Agent(AGENT["id"], AGENT["name"], hash_token(AGENT["token"]))])
    rasa = FakeRasa(secrets.token_urlsafe(32)).start()
    with running_redis(work) as redis_url:
        process = ServiceProcess(work, {
            "redis_url": redis_url, "agents_file": str(work / "agents.yml"), "rasa_url": rasa.url,
            "rasa_jwt_secret": rasa.jwt_secret, "insights_database_url": database_url,
            "review_project_root": str(PROJECT_ROOT)}).start()
        yield process
        process.stop()
    rasa.stop()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, database: Path) -> Iterator[ServiceProcess]:
    with running_service(tmp_path_factory.mktemp("review"), fill_database(database)) as process:
        yield process


def cluster(page: Page, example: str) -> Locator:
    """The proposal card listing `example` among its texts."""
    return page.locator("#proposals > li").filter(has=page.get_by_text(example, exact=True))


def stored_decisions(database: Path) -> dict[str, tuple[str, str | None]]:
    return {key: (action, label) for key, (action, label, _) in stored_answers(database).items()}


def stored_answers(database: Path) -> dict[str, tuple[str, str | None, str | None]]:
    """Each decision's action, label and new topic's answer by its cluster's key."""
    engine = open_database(f"sqlite:///{database}")
    with engine.connect() as connection:
        rows = connection.execute(select(review_decisions.c.proposal_key, review_decisions.c.action,
                                         review_decisions.c.label, review_decisions.c.answer)).all()
    engine.dispose()
    return {row.proposal_key: (row.action, row.label, row.answer) for row in rows}


def card_key(page: Page, card: Locator) -> str:
    """The cluster key a proposal card stands for."""
    return str(page.evaluate("(card) => card.getAttribute('aria-labelledby').slice('proposal-'.length)",
                             card.element_handle()))


def open_alarm_count(database: Path) -> int:
    engine = open_database(f"sqlite:///{database}")
    with engine.connect() as connection:
        count = len(connection.execute(select(drift_alarms.c.id).where(drift_alarms.c.cleared_at.is_(None))).all())
    engine.dispose()
    return count


def test_a_lead_decides_each_cluster_and_clears_the_alarm(service: ServiceProcess, database: Path,
                                                           new_page: Callable[[], Page], expected_errors: list[str],
                                                           artifacts: Path) -> None:
    expected_errors.append("404")  # the browser logs the alarm's conversation the console no longer keeps
    page = logged_in(new_page(), service, LEAD["token"])
    page.get_by_role("button", name="Review").click()
    expect(page.locator("#review")).to_be_visible()
    expect(page.locator("#workspace")).to_be_hidden()

    alarm = page.locator("#alarms > li")
    expect(alarm).to_have_count(1)
    expect(alarm.get_by_role("heading")).to_have_text("Answer marked out of date: utter_faq/late_fees@3f2a")
    expect(alarm).to_contain_text(ALARM_DETAIL)
    alarm.get_by_role("button", name=ALARM_CONVERSATION).click()
    expect(alarm.locator(".error")).to_contain_text(f"Conversation {ALARM_CONVERSATION} cannot be opened here")

    proposals = page.locator("#proposals > li")
    expect(proposals).to_have_count(3)
    expect(page.locator("#proposals-count")).to_have_text("(3)")
    fees, crypto, orders = (cluster(page, TOPICS[topic][0][0]) for topic in ("fees", "crypto", "orders"))
    expect(fees.get_by_role("heading")).to_have_text("More examples for intent faq/late_fees")
    expect(crypto.get_by_role("heading")).to_have_text("New topic")
    expect(crypto.get_by_role("button", name="Accept")).to_have_count(0)  # a new topic has no intent to accept
    expect(orders.get_by_role("heading")).to_have_text("More examples for intent check_order_status")
    expect(crypto.locator(".examples li")).to_have_count(6)
    expect(crypto.get_by_text(f"can I pay with bitcoin {XSS}", exact=True)).to_be_visible()  # shown as text
    assert page.locator("#proposals img").count() == 0 and page.evaluate("window.__xss") is None
    screenshots(page, artifacts, "console-review")
    keys = {topic: card_key(page, card) for topic, card in (("fees", fees), ("crypto", crypto), ("orders", orders))}

    expect(fees.get_by_label("Relabel as")).to_have_value("faq/late_fees")  # the proposal's own label
    fees.get_by_role("button", name="Accept").click()
    expect(page.locator("#review-status")).to_have_text("5 examples for faq/late_fees will be exported")
    expect(fees).to_have_count(0)
    expect(crypto.get_by_label("Relabel as")).to_have_value("")  # nothing chosen for a new topic
    expect(crypto.get_by_role("button", name="Relabel")).to_be_disabled()
    crypto.get_by_label("Relabel as").select_option("faq/payment_methods")
    crypto.get_by_role("button", name="Relabel").click()
    expect(page.locator("#review-status")).to_have_text("6 examples for faq/payment_methods will be exported")
    expect(crypto).to_have_count(0)
    orders.get_by_role("button", name="Dismiss").click()
    expect(page.locator("#review-status")).to_have_text("Dismissed 4 messages")  # "<order>" one is unsure: unproposed
    expect(proposals).to_have_count(0)
    expect(page.locator("#proposals-empty")).to_be_visible()
    assert stored_decisions(database) == {keys["fees"]: ("accept", "faq/late_fees"),
                                          keys["crypto"]: ("relabel", "faq/payment_methods"),
                                          keys["orders"]: ("dismiss", None)}

    alarm.get_by_role("button", name="Clear").click()
    expect(alarm).to_have_count(0)
    expect(page.locator("#alarms-empty")).to_be_visible()
    assert open_alarm_count(database) == 0
    again = logged_in(new_page(), service, LEAD["token"])  # decided clusters and cleared alarms stay gone
    again.get_by_role("button", name="Review").click()
    expect(again.locator("#proposals-empty")).to_be_visible()
    expect(again.locator("#alarms-empty")).to_be_visible()
    assert page.evaluate("window.__xss") is None


@pytest.fixture()
def topic_service(tmp_path: Path) -> Iterator[tuple[ServiceProcess, Path]]:
    """A service whose database holds a new topic (bitcoin) and a known one (late fees), no alarm;
    requested before `new_page` so that it stops after the pages closed."""
    database = tmp_path / "insights.sqlite3"
    with running_service(tmp_path, fill_database(database, ("fees", "crypto"), alarm=False)) as process:
        yield process, database


def test_a_lead_makes_a_new_topic_cluster_a_new_faq_topic(topic_service: tuple[ServiceProcess, Path],
                                                           new_page: Callable[[], Page],
                                                           expected_errors: list[str]) -> None:
    expected_errors.append("400")  # the browser logs the refused topic names
    service, database = topic_service
    page = logged_in(new_page(), service, LEAD["token"])
    page.get_by_role("button", name="Review").click()
    crypto, fees = cluster(page, TOPICS["crypto"][0][0]), cluster(page, TOPICS["fees"][0][0])
    expect(crypto.get_by_role("heading")).to_have_text("New topic")
    expect(fees.get_by_role("button", name="New FAQ topic")).to_have_count(0)  # only on a new topic
    key = card_key(page, crypto)
    create = crypto.get_by_role("button", name="New FAQ topic")
    expect(create).to_be_disabled()
    answer = f"We don't take bitcoin yet {XSS}\n<b>Cards</b> and PayPal work."
    crypto.get_by_label("Topic name").fill("late_fees")  # the bot has that FAQ topic already
    crypto.get_by_label("Answer").fill(answer)
    create.click()
    expect(crypto.locator(".error")).to_contain_text("'late_fees' is already an intent or FAQ topic")
    crypto.get_by_label("Topic name").fill("Pay with Bitcoin")
    create.click()
    expect(crypto.locator(".error")).to_contain_text("topic must be 3-40 lower-case letters")
    assert stored_answers(database) == {}
    crypto.get_by_label("Topic name").fill("pay_with_bitcoin")
    create.click()
    expect(crypto).to_have_count(0)
    expect(page.locator("#review-status")).to_have_text(
        f'New FAQ topic faq/pay_with_bitcoin: 6 examples and the answer "{answer}" will be exported')
    assert page.locator("#review img, #review b").count() == 0 and page.evaluate("window.__xss") is None
    assert stored_answers(database) == {key: ("relabel", "faq/pay_with_bitcoin", answer)}
    fees.get_by_label("Relabel as").select_option("faq/pay_with_bitcoin")  # offered to the other clusters
    expect(fees.get_by_role("button", name="Relabel")).to_be_enabled()


def test_an_agent_has_no_review(service: ServiceProcess, new_page: Callable[[], Page]) -> None:
    page = logged_in(new_page(), service, AGENT["token"])
    expect(page.locator("#queue-title")).to_be_visible()
    expect(page.get_by_role("button", name="Review")).to_have_count(0)
    expect(page.locator("#review")).to_be_hidden()
