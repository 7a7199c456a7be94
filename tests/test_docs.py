"""The front door stays short and every page it sends a reader to is there: the README's length, every relative link
and anchor of the docs, each page saying what it is for, and the pasted `ganon anonymize --help` being current."""

import re
from pathlib import Path

import pytest

from ganonlib.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", ROOT / "benchmarks" / "README.md",
         *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _anchors(page: Path) -> set[str]:
    """GitHub's heading ids: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)  # a "#" in a code block is no heading
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
            for h in re.findall(r"^#{1,6} (.+)$", text, re.M)}


def test_the_readme_is_read_in_two_minutes():
    assert len((ROOT / "README.md").read_text()) <= 10_000


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_and_anchor_resolves(page):
    for target in LINK.findall(page.read_text()):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        assert file.exists(), f"{page.name}: {target}"
        if anchor:
            assert anchor in _anchors(file), f"{page.name}: {target}"


@pytest.mark.parametrize("page", sorted((ROOT / "docs").glob("*.md")), ids=lambda p: p.name)
def test_every_docs_page_opens_with_what_it_is_for(page):
    opening = page.read_text().split("\n\n")[1]
    assert opening.startswith("This page is for"), page.name


def test_the_pasted_anonymize_help_is_current(monkeypatch):
    monkeypatch.setenv("COLUMNS", "118")
    parser = build_parser()
    anonymize = next(a for a in parser._subparsers._group_actions[0].choices.items() if a[0] == "anonymize")[1]
    page = (ROOT / "docs" / "anonymize.md").read_text()
    pasted = page.split("```text\n", 1)[1].split("```", 1)[0]
    assert pasted == anonymize.format_help()
