"""The README stays short, and every relative link in it and in docs/ leads somewhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rasa_bot.settings import PROJECT_ROOT

README = PROJECT_ROOT / "README.md"
MAX_README_LINES = 250
# Written by other parts of issue 12 in parallel; they exist once those are merged.
EXPECTED_DOCS = {PROJECT_ROOT / "docs" / "adopting.md", PROJECT_ROOT / "docs" / "adding-a-channel.md"}
# [text](target) outside inline code; a target with a scheme or starting with "#" only is not a file.
LINK = re.compile(r"\[[^\]]*\]\((?P<target>[^)\s]+)\)")
CODE_SPAN = re.compile(r"`[^`\n]*`")
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


def markdown_files() -> list[Path]:
    return [README, *sorted((PROJECT_ROOT / "docs").glob("*.md"))]


def relative_links(text: str) -> list[str]:
    """Link targets that name a file of the repository (optionally with an anchor)."""
    prose = CODE_SPAN.sub("", FENCE.sub("", text))
    targets = [match["target"] for match in LINK.finditer(prose)]
    return [target for target in targets if not re.match(r"^[a-z][a-z0-9+.-]*:", target) and not target.startswith("#")]


def anchors(text: str) -> set[str]:
    """GitHub's anchors for the headings of a Markdown file."""
    headings = re.findall(r"^#+\s+(.*)$", FENCE.sub("", text), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def leads_somewhere(page: Path, target: str) -> bool:
    """The linked file exists (or is one of EXPECTED_DOCS), and so does the heading it names."""
    path_part, _, anchor = target.partition("#")
    linked = (page.parent / path_part).resolve()
    if not linked.exists():
        return linked in EXPECTED_DOCS
    return not (anchor and linked.suffix == ".md") or anchor in anchors(linked.read_text(encoding="utf-8"))


def test_readme_has_at_most_250_lines() -> None:
    lines = len(README.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_README_LINES, f"README.md has {lines} lines; move detail into docs/"


@pytest.mark.parametrize("page", markdown_files(), ids=lambda path: path.name)
def test_every_relative_link_points_at_a_file_that_exists(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    broken = [target for target in relative_links(text) if not leads_somewhere(page, target)]
    assert not broken, f"{page.relative_to(PROJECT_ROOT)} links to what does not exist: {broken}"


def test_same_page_anchors_exist() -> None:
    for page in markdown_files():
        text = page.read_text(encoding="utf-8")
        prose = CODE_SPAN.sub("", FENCE.sub("", text))
        missing = [target for target in (m["target"] for m in LINK.finditer(prose))
                   if target.startswith("#") and target[1:] not in anchors(text)]
        assert not missing, f"{page.relative_to(PROJECT_ROOT)} has anchors without a heading: {missing}"


def test_the_link_reader_finds_links_and_skips_code_and_urls() -> None:
    text = "see [a](docs/a.md#x) and [b](https://example.com) `[c](no.md)`\n```\n[d](no.md)\n```\n[e](#here)"
    assert relative_links(text) == ["docs/a.md#x"]
    assert anchors("# Knowing when it does not know\n## Where it stands (`x`)\n") == {
        "knowing-when-it-does-not-know", "where-it-stands-x"}
