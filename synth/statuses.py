"""A theme's status vocabulary and the reviewer's moves between statuses: written out once here.

The store checks and filters by these names, the review actions apply the transitions, the CLI
offers them as choices and the templates show the buttons from the same table, so a new status or
a changed rule is one edit. Nothing here touches the project file (the store imports this module).
"""

from __future__ import annotations

from dataclasses import dataclass

THEME_STATUSES = ("suggested", "accepted", "rejected", "merged", "retired")
# A project's current themes: what exports, the report, `synth themes` and discover work with.
LIVE = ("suggested", "accepted")
# What the review app lists unless asked otherwise: the current themes and those a reviewer turned down.
REVIEWABLE = ("suggested", "accepted", "rejected")


@dataclass(frozen=True)
class Transition:
    """One reviewer's move: `action` (the verb, the URL and the CLI command) takes a theme whose
    status is one of `from_statuses` to `to`."""

    action: str
    button: str
    to: str
    done: str  # the past tense, for messages: "accepted theme 7"
    from_statuses: tuple[str, ...]


TRANSITIONS: dict[str, Transition] = {t.action: t for t in (
    Transition("accept", "Accept", "accepted", "accepted", ("suggested", "rejected")),
    Transition("reject", "Reject", "rejected", "rejected", LIVE),
    Transition("restore", "Restore", "suggested", "restored", ("rejected", "merged", "retired")),
)}


def transitions_from(status: str) -> list[Transition]:
    """The moves a reviewer can make from `status`, in the order the buttons show them."""
    return [t for t in TRANSITIONS.values() if status in t.from_statuses]


def is_live(status: str) -> bool:
    return status in LIVE
