"""The API description names every machine-readable refusal reason the agent service sends."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

SERVICE = Path(__file__).resolve().parents[2] / "handoff" / "agent_service"


def test_every_reason_the_service_sends_is_in_the_error_schema() -> None:
    spec = yaml.safe_load((SERVICE / "openapi.yaml").read_text(encoding="utf-8"))
    documented = set(spec["components"]["schemas"]["Error"]["properties"]["reason"]["enum"])
    sent = {reason for path in SERVICE.glob("*.py")
            for reason in re.findall(r'reason="([a-z_]+)"', path.read_text(encoding="utf-8"))}
    assert len(sent) > 10
    assert sent <= documented, f"missing from openapi.yaml: {sorted(sent - documented)}"
