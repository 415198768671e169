"""Erasing one customer's data on request (GDPR article 17): find everything Redis holds of them,
delete it, and record that it was done without naming them. See docs/security.md "Erasing a
customer's data"; `python -m handoff.erase --help` for the command, `POST /api/erase` in the agent
service for leads."""

from handoff.erase.eraser import Eraser, ErasureReport, WithAPerson
from handoff.erase.subjects import CONVERSATION, EMAIL, KINDS, SLACK_USER, BadSubject, Subject

__all__ = ["CONVERSATION", "EMAIL", "KINDS", "SLACK_USER", "BadSubject", "Eraser", "ErasureReport", "Subject",
           "WithAPerson"]
