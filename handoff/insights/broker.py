"""A Rasa event broker that puts each turn's events on the capture stream in Redis.

Name it in endpoints.yml (the launcher does, see rasa_bot/system.py):

    event_broker:
      type: handoff.insights.broker.RedisStreamEventBroker
      url: 127.0.0.1
      port: 6379
      db: 0
      password: ...

`publish` only buffers (handoff.insights.publisher): a slow, full or absent Redis drops events
(counted, logged) and never delays or fails the customer's turn.
"""

from __future__ import annotations

from asyncio import AbstractEventLoop
from collections.abc import Mapping
from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.shared.core.domain import Domain
from rasa.utils.endpoints import EndpointConfig

from handoff.insights.events import slim_event
from handoff.insights.publisher import StreamPublisher
from handoff.redis_connections import RedisConnections, open_connections, redis_url
from handoff.settings import get_handoff_settings
from handoff.store_scripts import Keys


class RedisStreamEventBroker(EventBroker):
    """Publishes the slim form of each user, bot and action event to `Keys.insights`."""

    def __init__(self, connections: RedisConnections, publisher: StreamPublisher, with_text: bool = False) -> None:
        self.connections = connections
        self.publisher = publisher
        self.with_text = with_text  # customers' scrubbed words too (the `review_capture_text` setting)
        self.responses: Mapping[str, Any] = {}  # the domain's, for the answers' versions (see use_domain)

    def use_domain(self, domain: Domain) -> None:
        """Versions answers by the responses of `domain` (the tracker store gives the model's)."""
        self.responses = domain.responses

    @classmethod
    async def from_endpoint_config(cls, broker_config: EndpointConfig,
                                   event_loop: AbstractEventLoop | None = None) -> RedisStreamEventBroker:
        """The broker for the Redis named in endpoints.yml (url, port, db, password, use_ssl)."""
        extra = broker_config.kwargs
        url = redis_url(broker_config.url or "127.0.0.1", int(extra.get("port", 6379)), int(extra.get("db", 0)),
                        extra.get("password"), bool(extra.get("use_ssl", False)))
        return cls.for_url(url)

    @classmethod
    def for_url(cls, url: str) -> RedisStreamEventBroker:
        """The broker for the Redis at `url`, with the plugin's settings."""
        settings = get_handoff_settings()
        connections = open_connections(url)
        publisher = StreamPublisher(connections.commands, Keys(settings.key_prefix).insights,
                                    settings.insights_stream_maxlen, settings.insights_stream_expire_seconds,
                                    settings.insights_buffer_events)
        return cls(connections, publisher, settings.review_capture_text)

    def publish(self, event: dict[str, Any]) -> None:
        """Buffers the event for the stream; never blocks, never raises."""
        try:
            slim = slim_event(event, self.responses, self.with_text)
        except (AttributeError, TypeError, ValueError) as error:  # an odd event must not fail the turn
            self.publisher.drop(1, f"it could not be read ({type(error).__name__})")
            return
        if slim is not None:
            self.publisher.offer(slim)

    async def close(self) -> None:
        await self.publisher.drain()
        await self.connections.close()
