"""Who may see and act on a conversation: the rules every conversation endpoint shares.

- unknown conversation (never handed off): 404
- assigned: only its owner may read or act (403 for other agents)
- queued / waiting / resolved / abandoned: any agent may read; acting needs the right mode (409)
- a route for some roles only (e.g. leads): 403 for an agent without the role
"""

from __future__ import annotations

from handoff.agent_service.agents import Agent
from handoff.agent_service.errors import ApiError
from handoff.models import ASSIGNED, ConversationState, GuardedAppend
from handoff.store import HandoffStore
from handoff.utf8_text import NOT_UTF8, is_utf8_text

MAX_CONVERSATION_ID_LENGTH = 256


def check_conversation_id(conversation_id: str) -> None:
    """400 for an id no conversation can have: empty, too long, or not storable (a console's JSON can
    name one with a lone surrogate)."""
    if not conversation_id:
        raise ApiError(400, "a conversation id is required")
    if len(conversation_id) > MAX_CONVERSATION_ID_LENGTH:
        raise ApiError(400, f"conversation id longer than {MAX_CONVERSATION_ID_LENGTH} characters")
    if not is_utf8_text(conversation_id):
        raise ApiError(400, f"the conversation id {NOT_UTF8}")


def require_known(state: ConversationState) -> ConversationState:
    """404 when Redis has never seen the conversation (version 0)."""
    if state.version == 0:
        raise ApiError(404, f"unknown conversation {state.conversation_id}")
    return state


async def known_state(store: HandoffStore, conversation_id: str) -> ConversationState:
    """The conversation's state; 404 when Redis has never seen it."""
    check_conversation_id(conversation_id)
    return require_known(await store.get_state(conversation_id))


def require_readable(state: ConversationState, agent: Agent) -> None:
    if state.mode == ASSIGNED and state.agent_id != agent.id:
        raise ApiError(403, f"conversation {state.conversation_id} is handled by another agent")


def require_role(agent: Agent, role: str) -> None:
    """The agent has `role` or a more trusted one (a lead may do what an agent may)."""
    if not agent.has_role(role):
        raise ApiError(403, f"this needs the {role} role; {agent.id} is {agent.role}")


def require_sent(conversation_id: str, result: GuardedAppend, agent: Agent) -> None:
    """The error for an agent's message the store refused, from the state it saw when refusing."""
    if result.outcome == "refused":
        state = ConversationState(conversation_id, mode=result.mode, agent_id=result.agent_id,
                                  version=result.version)
        require_owner(require_known(state), agent)


def require_owner(state: ConversationState, agent: Agent) -> None:
    """The agent holds the conversation right now."""
    require_readable(state, agent)
    if state.mode != ASSIGNED:
        raise ApiError(409, f"conversation {state.conversation_id} is not assigned to you "
                            f"(mode: {state.mode})")
