"""What every review action checks first: the theme exists and is live, the page was not stale,
the text fits; and how actions name themes in their messages."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..errors import ConflictError, NotFoundError, SynthError
from ..statuses import LIVE
from ..store import Decision, Project, ThemeRow


MAX_LABEL = 200
MAX_TEXT = 10_000
QUOTES_PER_THEME = 5
STALE = "This theme was changed by someone else; reload the page"


# --- checks ----------------------------------------------------------------------------------------

def check_revisions(project: Project, expected: Mapping[int, int] | None, reviewer: str | None = None) -> None:
    """Refuse an edit based on a page that showed an older revision of any theme involved, saying
    who changed it: the same reviewer in another tab or window is not "someone else"."""
    for theme_id, revision in (expected or {}).items():
        current = project.theme(int(theme_id)).revision
        if current != int(revision):
            last = _last_decision_on(project, int(theme_id))
            detail = f"theme {theme_id} is at revision {current}; your page showed {revision}"
            if last is not None and reviewer is not None and last.reviewer == reviewer:
                raise ConflictError(f"You changed this theme in another tab or window since this page was loaded "
                                    f"(your {last.action} at {last.at}); reload the page to see it ({detail}).")
            if last is not None:
                raise ConflictError(f"{STALE} ({last.reviewer}: {last.action} at {last.at}; {detail}).")
            raise ConflictError(f"This theme changed since this page was loaded; reload the page ({detail}).")


def _last_decision_on(project: Project, theme_id: int) -> Decision | None:
    """The latest decision that touched the theme: as its subject, or among the themes or passages it changed."""
    key = str(theme_id)
    for d in reversed(project.decisions()):
        if d.theme_id == theme_id or key in d.after.get("themes", {}) or key in d.before.get("themes", {}):
            return d
        states = [*d.before.get("memberships", {}).values(), *d.after.get("memberships", {}).values()]
        if any(state and state.get("theme_id") == theme_id for state in states):
            return d
    return None


def _theme(project: Project, theme_id: int) -> ThemeRow:
    return project.theme(int(theme_id))  # not found: the store says so, and how to list the themes


def _name(theme: ThemeRow) -> str:
    return f"theme {theme.id} ({theme.label})"


def _require_live(theme: ThemeRow, doing: str) -> None:
    if theme.status not in LIVE:
        raise SynthError(f"cannot {doing} {_name(theme)}: it is {theme.status}; restore it first "
                         f"(`synth theme restore PROJECT {theme.id}`)")


def or_list(words: Sequence[str]) -> str:
    """'suggested or rejected'; 'rejected, merged or retired': a list as a sentence says it."""
    words = list(words)
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def _clean(text: str, what: str, limit: int, *, allow_empty: bool = False) -> str:
    text = (text or "").strip()
    if not text and not allow_empty:
        raise SynthError(f"the new {what} is empty; give some text")
    if "\x00" in text:  # NUL cuts a name short in other readers (REFI-QDA packages, spreadsheets, C strings)
        raise SynthError(f"the new {what} holds a NUL character (at position {text.index(chr(0)) + 1}); remove it")
    if len(text) > limit:
        raise SynthError(f"the new {what} has {len(text)} characters; keep it under {limit}")
    return text


def _passage(project: Project, passage_id: int):
    try:
        return project.passage(int(passage_id))
    except NotFoundError:
        raise NotFoundError(f"passage {passage_id} is not in {project.path}") from None
