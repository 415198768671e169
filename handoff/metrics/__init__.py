"""Prometheus metrics of the handoff plugin: label values from closed sets (`labels.py`), the
`/metrics` answer both services share (`exposition.py`) and the counters of the Rasa process's
channels (`channel_metrics.py`). The agent service's own metrics are in
`handoff/agent_service/metrics.py`. See docs/metrics.md."""
