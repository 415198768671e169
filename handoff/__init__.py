"""Human handoff for Rasa assistants: the shared state layer, channels and agent service.

Reusable: nothing here imports the assistant's own actions or data.
"""

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
