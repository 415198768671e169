"""Signed conversation ids: issued ids verify, anything else does not."""

import pytest

from handoff.channels.session_ids import MissingSecret, SessionIds


def test_issued_ids_verify_and_are_unique() -> None:
    ids = SessionIds("secret-one")
    issued = {ids.issue() for _ in range(100)}
    assert len(issued) == 100
    assert all(ids.is_valid(conversation_id) for conversation_id in issued)


@pytest.mark.parametrize("candidate", [None, 7, "", "alice", "abc.def", "a" * 500, "x.", ".x"])
def test_made_up_ids_are_refused(candidate: object) -> None:
    assert not SessionIds("secret-one").is_valid(candidate)


def test_ids_of_another_secret_are_refused() -> None:
    assert not SessionIds("secret-one").is_valid(SessionIds("secret-two").issue())


def test_tampered_random_part_is_refused() -> None:
    issued = SessionIds("secret-one").issue()
    random_part, signature = issued.split(".")
    flipped = "1" if random_part[-1] == "0" else "0"
    assert not SessionIds("secret-one").is_valid(f"{random_part[:-1]}{flipped}.{signature}")


def test_missing_secret_is_a_clear_error() -> None:
    with pytest.raises(MissingSecret, match="HANDOFF_SESSION_SECRET"):
        SessionIds("")


def test_a_returning_client_keeps_its_issued_id() -> None:
    ids = SessionIds("secret-one")
    issued = ids.issue()
    assert ids.resume_or_issue(issued) == issued


@pytest.mark.parametrize("requested", [None, 7, "alice", SessionIds("secret-two").issue()])
def test_an_id_this_server_did_not_issue_is_replaced_by_a_new_one(requested: object) -> None:
    ids = SessionIds("secret-one")
    replacement = ids.resume_or_issue(requested)
    assert replacement != requested and ids.is_valid(replacement)
