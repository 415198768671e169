"""The agent service: human agents' HTTP + WebSocket API, run as its own process
(`python -m handoff.agent_service`). Its HTTP contract is `openapi.yaml` in this package."""
