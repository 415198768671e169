"""Files that hold secrets (tokens, passwords, signing keys): readable by their owner only, from the
first byte, and replaced whole so no reader ever sees half of one."""

from __future__ import annotations

import os
from pathlib import Path


def write_private_file(path: Path, text: str) -> Path:
    """Replaces `path` atomically with `text`, mode 600."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    partial.replace(path)
    path.chmod(0o600)
    return path
