"""Slack channel with human handoff: Rasa's Slack channel, routed like the widget and REST.

Slack's Events API and button clicks (Interactivity) post to `/webhooks/handoff_slack/webhook`.
Compared with Rasa's own channel:
- every request must carry a valid signature made with the app's signing secret and be at most
  five minutes old (Rasa's check); others get 401;
- Slack resends events it thinks were not acknowledged (`X-Slack-Retry-Num`): each event id is
  taken once, durably in Redis, so a retry reaching another process or a restarted one is not
  answered again; the app's own posts, edits, deletions and joins are ignored;
- the message goes through the CustomerRouter: to Rasa while the bot serves the customer, to the
  agent while a human does; agent replies are posted back by `handoff.slack.delivery`;
- the conversation is one customer in a DM with the app, or in one channel thread
  (`handoff.slack.address`); answers go to the thread the customer wrote in. In a channel the app answers when mentioned (or everywhere in the
  optional `slack_channel`), and afterwards to the customer's replies in its thread.
Events are acknowledged at once and handled in the background, since Slack waits only 3 seconds.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Coroutine
from typing import Any
from urllib.parse import parse_qs

from rasa.core.channels.channel import InputChannel, OutputChannel
from rasa.core.channels.slack import SlackBot, SlackInput
from rasa.shared.exceptions import InvalidConfigException
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from slack_sdk.errors import SlackApiError

from handoff.channels.common import ChannelContext
from handoff.channels.customer_channel import CustomerChannel
from handoff.channels.customer_turn import CustomerTurns
from handoff.channels.refusals import apology
from handoff.channels.router import CustomerMessage, MessageRejected
from handoff.metrics import channel_metrics
from handoff.models import OUTBOX_FEED
from handoff.slack.config import SlackConfig, SlackConfigError, resolve_slack_config
from handoff.slack.delivery import SlackDelivery
from handoff.slack.events import MalformedEvent, SlackMessage, button_click, customer_message
from handoff.slack.state import SlackState
from handoff.slack.tail import LeasedEventTail, RetryLater
from handoff.slack.web import call, web_client
from handoff.store import StoreUnavailable
from handoff.task_stop import cancel_and_wait

logger = logging.getLogger(__name__)

RETRY_HEADER = "X-Slack-Retry-Num"
INTERACTIONS = ("block_actions", "interactive_message")


def read_payload(request: Request) -> dict[str, Any]:
    """The JSON object Slack sent: the body of an event, or the `payload` form field of a click."""
    try:
        if request.content_type.startswith("application/x-www-form-urlencoded"):
            fields = parse_qs(request.body.decode("utf-8"))
            payload = json.loads(fields.get("payload", [""])[0])
        else:
            payload = json.loads(request.body or b"")
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedEvent("the body must be a JSON Slack event or a form with a JSON payload") from exc
    if not isinstance(payload, dict):
        raise MalformedEvent("the payload must be a JSON object")
    return payload


class CountingSlackOutput(SlackBot):
    """Rasa's Slack output on the configured API URL, counting posts so the router knows whether
    the bot spoke."""

    def __init__(self, config: SlackConfig, channel: str, thread_ts: str | None) -> None:
        super().__init__(config.bot_token, channel, thread_ts)
        self.client = web_client(config)
        self.sent = 0

    async def _post_message(self, channel: str, **kwargs: Any) -> None:
        self.sent += 1
        await super()._post_message(channel, **kwargs)


class BackgroundTasks:
    """Work the channel runs beside its requests (delivery, acknowledged events), cancelled when the
    server stops."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task] = set()

    def start(self, work: Coroutine[Any, Any, None], name: str | None = None) -> None:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self, _app: Sanic, _loop: Any) -> None:
        await cancel_and_wait(list(self._tasks))


class HandoffSlackInput(CustomerChannel, SlackInput):
    """Slack input channel with human handoff; configured in credentials.yml and the environment."""

    @classmethod
    def name(cls) -> str:
        return "handoff_slack"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        try:
            config = resolve_slack_config(credentials, os.environ)
        except SlackConfigError as exc:
            raise InvalidConfigException(str(exc)) from exc
        if config is None or not config.channel_enabled:
            raise InvalidConfigException(
                "the Slack channel is in the credentials but has no bot token and signing secret: set "
                "HANDOFF_SLACK_BOT_TOKEN and HANDOFF_SLACK_SIGNING_SECRET (or slack_token and "
                "slack_signing_secret), or remove the channel")
        return cls(config, listen_channel=(credentials or {}).get("slack_channel"))

    def __init__(self, config: SlackConfig, listen_channel: str | None = None,
                 context: ChannelContext | None = None) -> None:
        SlackInput.__init__(self, slack_token=config.bot_token, slack_channel=listen_channel,
                            slack_signing_secret=config.signing_secret)
        CustomerChannel.__init__(self, context)
        self.config = config
        settings = self.context.settings
        self.state = SlackState(settings.redis_url, settings.key_prefix)

    def get_output_channel(self, channel: str | None = None,
                           thread_id: str | None = None) -> OutputChannel | None:
        # Without a channel (Rasa's API asking for "the latest channel") there is no address to
        # post to: the conversation id is not a Slack channel. Rasa then collects the replies.
        return CountingSlackOutput(self.config, channel, thread_id) if channel else None

    def add_routes(self, bp: Blueprint, turns: CustomerTurns) -> None:
        store = self.context.store
        delivery = LeasedEventTail(store, self.state, "delivery", SlackDelivery(store, self.state, web_client(self.config)),
                                   feed=OUTBOX_FEED)
        background = BackgroundTasks()

        @bp.after_server_start
        async def start(_app: Sanic, _loop: Any) -> None:
            background.start(delivery.run(), name="slack-delivery")

        bp.before_server_stop(background.stop)
        bp.after_server_stop(self.close)

        @bp.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            return await self.receive(request, turns, background)

    async def close(self, _app: Sanic, _loop: Any) -> None:
        await self.state.close()
        await self.context.store.close()

    async def receive(self, request: Request, turns: CustomerTurns, background: BackgroundTasks) -> HTTPResponse:
        """Answers Slack at once and handles a customer's new message in the background."""
        if not self.is_request_from_slack_authentic(request):
            return response.text("invalid or stale Slack signature", status=401)
        try:
            payload = read_payload(request)
        except MalformedEvent as exc:
            return response.text(str(exc), status=400)
        if payload.get("type") == "url_verification":
            return response.json({"challenge": payload.get("challenge")})
        try:
            if payload.get("type") == "event_callback":
                message = customer_message(payload)
            elif payload.get("type") in INTERACTIONS:
                message = button_click(payload)
            else:
                return response.text("ignored: neither an event nor a button click")
        except MalformedEvent as exc:
            return response.text(f"malformed event: {exc}", status=400)
        if message is None:
            return response.text("ignored: not a customer's new message")
        if not await self.first_delivery(message.event_id, retried=RETRY_HEADER in request.headers):
            return response.text("already handled", headers={"X-Slack-No-Retry": "1"})
        background.start(self._handle(message, turns))
        return response.text("")

    async def first_delivery(self, event_id: str, retried: bool) -> bool:
        """Whether the event is new. Without Redis a first attempt is answered (the bot keeps
        serving), a retry is not (it may have been answered already)."""
        try:
            return await self.state.first_sight(event_id)
        except StoreUnavailable as exc:
            logger.warning("slack event %s: redis unavailable (%s)", event_id, exc)
            return not retried

    async def _addressed(self, message: SlackMessage) -> bool:
        """Whether the message is meant for the assistant (see the module doc)."""
        conversation_id = message.address.conversation_id
        try:
            if message.direct:
                return True
            if message.mention or message.address.channel == self.slack_channel:
                await self.state.remember_thread(conversation_id)
                return True
            return message.in_thread and await self.state.knows_thread(conversation_id)
        except StoreUnavailable as exc:
            logger.warning("slack thread of %s unknown, redis unavailable: %s", conversation_id, exc)
            return message.mention or message.address.channel == self.slack_channel

    async def _handle(self, message: SlackMessage, turns: CustomerTurns) -> None:
        address = message.address
        try:
            if not await self._addressed(message):
                return
            if message.direct:
                await self._note_reply_thread(message)
            output = CountingSlackOutput(self.config, address.channel, message.reply_thread)
            metadata = {"out_channel": address.channel, "thread_id": message.reply_thread,
                        "slack_user": address.user, "slack_team": address.team}
            routed = CustomerMessage(address.conversation_id, message.text, message.message_id,
                                     self.name(), metadata)
            channel_metrics.message_routed(self.name(), await turns.route(routed, output, lambda: output.sent))
        except MessageRejected as rejected:
            channel_metrics.message_refused(self.name(), rejected)
            await self._tell(message, apology(rejected))
        except Exception:  # a background task: nobody else would see the failure
            logger.exception("slack message %s of %s failed", message.message_id, address.conversation_id)

    async def _note_reply_thread(self, message: SlackMessage) -> None:
        """Records where in the DM the customer wrote, so agent replies go there too."""
        try:
            await self.state.set_reply_thread(message.address.conversation_id, message.reply_thread)
        except StoreUnavailable as exc:  # the bot still answers; agents are unreachable anyway
            logger.warning("slack reply thread of %s not recorded: %s", message.address.conversation_id, exc)

    async def _tell(self, message: SlackMessage, text: str) -> None:
        try:
            await call(web_client(self.config).chat_postMessage(
                channel=message.address.channel, thread_ts=message.reply_thread, text=text))
        except (SlackApiError, RetryLater) as exc:
            logger.error("could not tell %s: %s", message.address.conversation_id, exc)

