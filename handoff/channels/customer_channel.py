"""The base every customer channel with human handoff builds on.

Rasa asks an input channel for a Sanic blueprint. `CustomerChannel.blueprint` makes the part all
our channels have in common (the channel context, the health route, freezing the start-up heap,
a `CustomerTurns` that routes messages to the bot or the agent, knowing from Rasa's tracker
store which buttons the bot offered, and the process's `/metrics`) and leaves the channel's own routes and events to
`add_routes`. See docs/adding-a-channel.md.
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine
from typing import Any

from rasa.core.channels.channel import InputChannel
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from handoff.channels.commands import TrackerButtons
from handoff.channels.common import ChannelContext, freeze_heap_after_start
from handoff.channels.customer_turn import CustomerTurns, OnNewMessage
from handoff.channels.metrics_route import ServesMetrics
from handoff.metrics import channel_metrics

Handler = Callable[..., Coroutine[Any, Any, HTTPResponse]]


def route_handler(method: Handler) -> Handler:
    """A handler method as the plain function Sanic needs: a blueprint marks each handler with its
    name, an attribute a bound method cannot take. Path parameters are passed on by name."""

    @functools.wraps(method)
    async def handler(request: Request, **path: str) -> HTTPResponse:
        return await method(request, **path)

    return handler


class CustomerChannel(InputChannel, ABC):
    """A Rasa input channel whose customers are routed to the bot or to a human agent."""

    def __init__(self, context: ChannelContext | None = None) -> None:
        self.context = context or ChannelContext.from_settings()

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        bp = self.new_blueprint()
        freeze_heap_after_start(bp, self.context.settings)

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        buttons = TrackerButtons()
        bp.after_server_start(buttons.attach)
        settings = self.context.settings
        bp.ctx.metrics_token = settings.metrics_token
        channel_metrics.register_channel(self.name(), settings.judgement_intents)
        self.add_routes(bp, CustomerTurns(self.context.router, on_new_message, buttons.payloads,
                                          self.context.limits))
        return bp

    def new_blueprint(self) -> ServesMetrics:
        """An empty blueprint named after the channel; a channel serving more than HTTP (socket.io)
        returns its own kind. Either adds `/metrics` to the Rasa app (`metrics_route.py`)."""
        return ServesMetrics(f"{self.name()}_webhook", type(self).__module__)

    @abstractmethod
    def add_routes(self, bp: Blueprint, turns: CustomerTurns) -> None:
        """Adds the channel's own routes, events and listeners; `turns` routes customer messages."""
