"""Markdown for docs/benchmarks.md: tables, and rewriting one section while leaving the others as they are."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def table(header: Sequence[str], rows: Iterable[Sequence[object]], *, align: str = "") -> str:
    """A Markdown table. `align` gives one character a column: "l" (the default) or "r"."""
    rule = ["---:" if a == "r" else "---" for a in align.ljust(len(header), "l")]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(rule) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def replace_section(heading: str, body: str, docs: Path = DOCS) -> None:
    """Put `body` under `## heading` in `docs`, replacing that section if there is one."""
    section = f"## {heading}\n\n" + body.strip() + "\n"
    text = docs.read_text(encoding="utf-8") if docs.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^## {re.escape(heading)}\n.*?(?=^## |\Z)", re.DOTALL | re.MULTILINE)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text).rstrip() + "\n"
    else:
        text = text.rstrip() + "\n\n" + section
    docs.parent.mkdir(parents=True, exist_ok=True)
    docs.write_text(text, encoding="utf-8")


def publish(heading: str, body: str, update_docs: bool, docs: Path = DOCS) -> None:
    """Print a benchmark's report and, with --update-docs, put it under `## heading` in `docs` (the ending every
    benchmark's main() shares)."""
    print(body)
    if update_docs:
        replace_section(heading, body, docs)
        print(f"\nwrote the {heading} section of {docs}")
