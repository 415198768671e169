"""The lead's dashboard in the console, in a real browser, against an agent service (no Rasa needed)
reading an insights database the test filled: a lead sees the charts drawn and the figures' numbers,
an agent never sees the dashboard."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from handoff.agent_service.agents import LEAD_ROLE, Agent, hash_token, write_agents
from handoff.insights.reading import utc_now
from handoff.settings import HandoffSettings
from rasa_bot.settings import PROJECT_ROOT
from tests.agent_service.service_process import ServiceProcess
from tests.browser.pages import DESKTOP, PHONE, screenshots
from tests.insights.known_rows import fill_database
from tests.redis_server import running_redis

LEAD = {"id": "lena", "name": "Lena Lead", "token": "lena-lead-token-0123456789"}
AGENT = {"id": "arno", "name": "Arno Agent", "token": "arno-agent-token-0123456789"}
CHARTS = ["containment-chart", "rate-chart", "precision-chart", "ratings-chart"]


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """An agent service with a lead and an agent, reading a filled insights database."""
    chartjs = Path(os.environ.get("HANDOFF_CHARTJS_FILE", PROJECT_ROOT / HandoffSettings().chartjs_file))
    if not chartjs.is_file():
        pytest.fail(f"{chartjs} is missing: run `make setup` (npm ci installs chart.js)")
    work = tmp_path_factory.mktemp("dashboard")
    write_agents(work / "agents.yml", [Agent(LEAD["id"], LEAD["name"], hash_token(LEAD["token"]), LEAD_ROLE),
                                       Agent(AGENT["id"], AGENT["name"], hash_token(AGENT["token"]))])
    with running_redis(work) as redis_url:
        process = ServiceProcess(work, {
            "redis_url": redis_url, "agents_file": str(work / "agents.yml"), "rasa_url": "http://127.0.0.1:9",
            "rasa_jwt_secret": "dashboard-test-secret-0123456789",
            "insights_database_url": fill_database(work / "insights.sqlite3", now=utc_now()),
            "chartjs_file": str(chartjs),
            # The known rows' confidences were set around these thresholds, not whatever `make tune` ships.
            "intent_threshold": "0.70", "answer_threshold": "0.30"}).start()
        yield process
        process.stop()


def logged_in(page: Page, service: ServiceProcess, token: str) -> Page:
    page.goto(f"{service.url}/console")
    page.get_by_label("Agent token").fill(token)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#connection")).to_have_text("Live")
    return page


def canvas_is_drawn(page: Page, canvas_id: str) -> bool:
    """Whether any pixel of the canvas is not transparent."""
    return page.evaluate("""(id) => {
        const canvas = document.getElementById(id);
        const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
        for (let index = 3; index < pixels.length; index += 4) if (pixels[index] !== 0) return true;
        return false;
    }""", canvas_id)


def test_a_lead_sees_the_charts_and_the_numbers(service: ServiceProcess, new_page: Callable[[], Page],
                                                 artifacts: Path) -> None:
    page = logged_in(new_page(), service, LEAD["token"])
    page.get_by_role("button", name="Dashboard").click()
    dashboard = page.locator("#dashboard")
    expect(dashboard).to_be_visible()
    expect(page.locator("#workspace")).to_be_hidden()
    expect(page.locator("#containment-summary")).to_have_text("10.0% of 20 finished conversations (1 still open)")
    expect(page.locator("#rate-summary")).to_contain_text("15 handoffs in 23 customer turns")
    frustration = page.locator("#precision-table tr").filter(has_text="frustration")
    expect(frustration).to_contain_text("33.3%")
    expect(frustration).to_contain_text("13.8% – 60.9%")
    expect(frustration.locator("td.low")).to_have_text("low: check frustration_threshold")
    expect(page.locator("#times-table tr").filter(has_text="Handle time").locator("td")).to_have_text(
        ["Handle time", "13", "360.0", "660.0"])
    expect(page.locator("#abandonment-summary")).to_have_text("Abandoned: 2 of 15 ended handoffs (13.3%)")
    expect(page.locator("#ratings-table tr").filter(has_text="mean").locator("td")).to_have_text(
        ["After a person: mean of 1-5", "4", "3.50"])
    expect(page.locator("#low-confidence-summary")).to_contain_text("2 of 7 (28.6%")
    for canvas in CHARTS:
        page.wait_for_function("(id) => window.Chart && window.Chart.getChart(id)", arg=canvas)
        assert canvas_is_drawn(page, canvas), canvas
    screenshots(page, artifacts, "console-dashboard")
    page.set_viewport_size(PHONE)
    page.wait_for_function("() => document.documentElement.scrollWidth <= window.innerWidth")  # no sideways scroll
    page.set_viewport_size(DESKTOP)

    dashboard.get_by_label("Period", exact=True).select_option("24h")  # the review page has a Period too
    expect(page.locator("#containment-summary")).to_have_text(
        "– of 0 finished conversations (1 still open)")  # only the open conversation is that recent
    page.get_by_role("button", name="Back to chats").click()
    expect(page.locator("#workspace")).to_be_visible()


def test_an_agent_never_sees_the_dashboard(service: ServiceProcess, new_page: Callable[[], Page]) -> None:
    page = logged_in(new_page(), service, AGENT["token"])
    expect(page.locator("#queue-title")).to_be_visible()
    expect(page.get_by_role("button", name="Dashboard")).to_have_count(0)  # hidden: not in the accessibility tree
    expect(page.locator("#dashboard")).to_be_hidden()
    assert page.evaluate("typeof window.Chart") == "undefined"  # chart.js is not even loaded
