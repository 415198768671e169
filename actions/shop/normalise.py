"""Turns what a customer typed into the keys the shop database uses: an order number, an email address.

Both return None for anything they cannot read, so the form can ask again.
"""

from __future__ import annotations

import html
import re
import unicodedata

_ORDER_NUMBER = re.compile(r"(?<![a-z0-9])kl[\s_\-–—]{0,3}([0-9]{6})(?![0-9])", re.IGNORECASE | re.ASCII)
_EMAIL_SEPARATORS = re.compile(r"[\s<>()\[\]{},;:\"'`|\\/]+")
_EMAIL_LOCAL = re.compile(r"[a-z0-9._%+\-]+", re.ASCII)
_DOMAIN_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?", re.ASCII)


def _plain(text: object) -> str | None:
    """Folds look-alike characters (full-width letters, odd spaces) to plain ones; None for non-text."""
    return unicodedata.normalize("NFKC", text) if isinstance(text, str) else None


def normalise_order_number(text: object) -> str | None:
    """Finds an order number anywhere in what the customer typed and returns it as 'KL-123456'.

    Customers write it many ways ('kl 123456', '#KL123456', inside a sentence); anything that is
    not KL plus exactly six digits gives None, so the form can ask again.
    """
    plain = _plain(text)
    match = _ORDER_NUMBER.search(plain) if plain else None
    return f"KL-{match.group(1)}" if match else None


def _is_email(candidate: str) -> bool:
    local, _, domain = candidate.partition("@")
    labels = domain.split(".")
    return (
        len(candidate) <= 254
        and 0 < len(local) <= 64
        and _EMAIL_LOCAL.fullmatch(local) is not None
        and not local.startswith(".")
        and not local.endswith(".")
        and ".." not in local
        and len(labels) >= 2
        and all(_DOMAIN_LABEL.fullmatch(label) for label in labels)
        and labels[-1].isalpha()
        and len(labels[-1]) >= 2
    )


def normalise_email(text: object) -> str | None:
    """Returns the first email address in the text, lower-cased, or None when there is none.

    The text is split into words first (linear time, so a huge paste cannot stall the bot) and each
    word with an '@' is checked on its own.
    """
    plain = _plain(text)
    if not plain:
        return None
    for word in _EMAIL_SEPARATORS.split(html.unescape(plain).lower()):
        candidate = word.strip(".!?*~")
        if "@" in candidate and _is_email(candidate):
            return candidate
    return None
