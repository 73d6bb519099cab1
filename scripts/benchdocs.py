"""What the benchmark scripts share: the machine's CPU name, and rewriting one section of
docs/benchmarks.md while leaving the others as they are."""

from __future__ import annotations

import re
from pathlib import Path


def cpu_name(default: str = "unknown") -> str:
    """The CPU model as /proc/cpuinfo names it (Linux), else `default`."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return default


def replace_section(docs: Path, heading: str, body: str) -> None:
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
