"""Slack for the handoff plugin: the customer channel's helpers and the agents' handoff alerts."""
