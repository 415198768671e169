"""Human handoff for Rasa assistants: the shared state layer, channels and agent service.

Reusable: nothing here imports the assistant's own actions or data. Every process that loads the
plugin (Rasa, the action server, the agent service) logs conversation ids only as short hashes
(`handoff.log_redaction`).
"""

from handoff.log_redaction import install_log_redaction
from handoff.models import (
    AppendResult,
    ChatMessage,
    ClaimResult,
    ConversationState,
    GuardedAppend,
    HandoffEvent,
    HandoffRequestResult,
    QueueEntry,
    Ticket,
    TransitionResult,
)
from handoff.store import HandoffError, HandoffStore, StoreConfig, StoreUnavailable

install_log_redaction()

__all__ = [
    "AppendResult",
    "ChatMessage",
    "ClaimResult",
    "ConversationState",
    "GuardedAppend",
    "HandoffError",
    "HandoffEvent",
    "HandoffRequestResult",
    "HandoffStore",
    "QueueEntry",
    "StoreConfig",
    "StoreUnavailable",
    "Ticket",
    "TransitionResult",
]
