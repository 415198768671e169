"""Drift alarms (docs/drift.md): detectors that notice when the bot's traffic changes under it (more
fallbacks or handoffs for an intent or an answer, confidences shifting, answers agents call outdated),
a monitor that runs them per subject and resets them when the model changes, and the runner that feeds
it from the insights database and stores its alarms.
"""
