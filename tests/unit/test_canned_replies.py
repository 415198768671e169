"""Reading the canned replies file: a missing file is no replies, a malformed one a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from handoff.agent_service.canned import CannedRepliesError, CannedReply, load_canned_replies


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "canned.yml"
    path.write_text(text)
    return path


def test_a_missing_or_empty_file_means_no_canned_replies(tmp_path: Path) -> None:
    assert load_canned_replies(tmp_path / "absent.yml") == []
    assert load_canned_replies(write(tmp_path, "# nothing yet\n")) == []


def test_entries_are_read_in_order_and_trimmed(tmp_path: Path) -> None:
    path = write(tmp_path, "- {id: hello, title: ' Hello ', text: 'Hi there!  '}\n- {id: bye-1, title: Bye, text: Bye}\n")
    assert load_canned_replies(path) == [CannedReply("hello", "Hello", "Hi there!"), CannedReply("bye-1", "Bye", "Bye")]


@pytest.mark.parametrize(("text", "message"), [
    ("id: hello\n", "must hold a list"),
    ("- {id: hello, title: Hello}\n", "entry 0 needs the strings id, title and text"),
    ("- {id: hello, title: Hello, text: ''}\n", "entry 0 needs"),
    ("- {id: Hello World, title: Hello, text: Hi}\n", "id must be"),
    ("- {id: a, title: A, text: A}\n- {id: a, title: B, text: B}\n", "unique"),
    ("- [unclosed\n", "not valid YAML"),
])
def test_a_malformed_file_is_refused_with_the_reason(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(CannedRepliesError, match=message):
        load_canned_replies(write(tmp_path, text))


def test_the_shipped_file_is_valid() -> None:
    assert len(load_canned_replies(Path(__file__).resolve().parents[2] / "canned_replies.yml")) >= 3
