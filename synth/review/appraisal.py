"""Review actions on the evidence behind the themes (see synth.evidence): appraising a source's
methodological quality, stating the review's scope, and setting a theme's confidence.

Like the actions in `actions`, each validates its input, writes in one transaction and appends one
decision to the log with its `before` and `after`. Their snapshots live under their own keys
(``{"appraisals": {name: state or null}}``, ``{"confidence": {theme id: state or null}}``,
``{"scope": {field: [values]}}``), so `actions.undo` can restore them the same way.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence

from ..errors import ConflictError, NotFoundError, SynthError
from ..evidence import KIND_FIELD, LEVELS, QUALITIES
from ..records import SOURCE_KINDS, Source
from ..store import Decision, Project, now_iso
from .actions import MAX_TEXT, Outcome, _clean, _name, _theme

ACTIONS = ("appraise", "confidence", "scope")


# --- sources -----------------------------------------------------------------------------------------

def find_source(project: Project, ref: str | int) -> Source:
    """A current source by id or by name (a name may leave out its folder, if that is unambiguous)."""
    text = str(ref).strip()
    sources = project.sources()
    if text.isdigit():
        try:
            return project.source(int(text))  # an older version too: appraisals go by name
        except NotFoundError:
            pass
    exact = [s for s in sources if s.name == text]
    if exact:
        return exact[0]
    tail = [s for s in sources if s.name.rsplit("/", 1)[-1] == text]
    if len(tail) == 1:
        return tail[0]
    if len(tail) > 1:
        raise SynthError(f"source {text!r} is ambiguous in {project.path}: it could be "
                         f"{', '.join(s.name for s in tail[:5])}; give the full name or the id")
    close = difflib.get_close_matches(text, [s.name for s in sources], n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise NotFoundError(f"source {text!r} is not in {project.path} ({len(sources)} sources; give a source id "
                        f"or name){hint}")


def appraise(project: Project, source_ref: str | int, quality: str, note: str = "", *, reviewer: str) -> Outcome:
    """Record the reviewer's appraisal of a source's methodological quality (high, moderate, low)."""
    if quality not in QUALITIES:
        raise SynthError(f"quality {quality!r} is not one of {', '.join(QUALITIES)}")
    note = _clean(note, "note", MAX_TEXT, allow_empty=True)
    with project.transaction():
        source = find_source(project, source_ref)
        old = project.source_appraisals().get(source.name)
        state = {"quality": quality, "note": note, "reviewer": reviewer, "at": now_iso()}
        if old and old["quality"] == quality and old["note"] == note:
            raise SynthError(f"source {source.name} is already appraised {quality} with that note")
        project.set_source_appraisal(source.name, state)
        decision = project.log_decision(reviewer=reviewer, action="appraise",
                                        before={"appraisals": {source.name: old}},
                                        after={"appraisals": {source.name: state}})
    return Outcome(decision, f"appraised source {source.id} ({source.name}): {quality}"
                             + (f" (was {old['quality']})" if old else ""))


# --- theme confidence ----------------------------------------------------------------------------------

def set_confidence(project: Project, theme_id: int, level: str, reason: str, *, reviewer: str) -> Outcome:
    """Set the confidence in a theme's finding (high, moderate, low, very low), with the reason."""
    if level not in LEVELS:
        raise SynthError(f"confidence {level!r} is not one of {', '.join(LEVELS)}")
    reason = _clean(reason, "reason", MAX_TEXT)
    with project.transaction():
        theme = _theme(project, theme_id)
        old = project.theme_confidences().get(theme.id)
        if old and old["level"] == level and old["reason"] == reason:
            raise SynthError(f"{_name(theme)} already has confidence {level} for that reason")
        state = {"level": level, "reason": reason, "reviewer": reviewer, "at": now_iso()}
        project.set_theme_confidence(theme.id, state)
        decision = project.log_decision(reviewer=reviewer, action="confidence", theme_id=theme.id,
                                        before={"confidence": {str(theme.id): old}},
                                        after={"confidence": {str(theme.id): state}})
    return Outcome(decision, f"set the confidence in {_name(theme)} to {level}"
                             + (f" (was {old['level']})" if old else ""))


# --- review scope ---------------------------------------------------------------------------------------

def parse_assignment(text: str) -> tuple[str, tuple[str, ...]]:
    """'role=work_coach,jobcentre_manager' -> ('role', ('work_coach', 'jobcentre_manager'))."""
    name, sep, values = text.partition("=")
    items = tuple(dict.fromkeys(v.strip() for v in values.split(",") if v.strip()))
    if not sep or not name.strip() or not items:
        raise SynthError(f"{text!r} is not FIELD=VALUE[,VALUE…] (e.g. role=work_coach,jobcentre_manager)")
    return name.strip(), items


def set_scope(project: Project, changes: Mapping[str, Sequence[str]], *, reviewer: str,
              clear: bool = False) -> Outcome:
    """Set the review scope: each field given replaces that field's values; `clear` empties it first.

    Fields are 'kind' or a metadata field of the sources; every value must occur in the project (a
    misspelt value would silently put all evidence out of scope)."""
    with project.transaction():
        old = project.review_scope()
        known = project.metadata_fields()
        kinds_present = {s.kind for s in project.sources()}
        new = {} if clear else dict(old)
        for name, values in changes.items():
            if name == KIND_FIELD:
                present = set(SOURCE_KINDS)
            elif name in known:
                present = known[name]
            else:
                raise NotFoundError(f"field {name!r} is not recorded for any source in {project.path}; the fields are: "
                                    f"{', '.join(sorted([KIND_FIELD, *known]))}")
            missing = [v for v in values if v not in present]
            if missing:
                listing = sorted(present)
                shown = ", ".join(listing[:12]) + (" …" if len(listing) > 12 else "")
                raise SynthError(f"{name} = {missing[0]!r} does not occur in {project.path}; its values are: {shown}")
            new[name] = tuple(sorted(values))
        if name_missing := [k for k in new.get(KIND_FIELD, ()) if k not in kinds_present]:
            raise SynthError(f"kind {name_missing[0]!r}: {project.path} has no {name_missing[0]} sources")
        if new == old:
            raise SynthError("the review scope is already that; nothing to change")
        project.set_review_scope(new)
        decision = project.log_decision(reviewer=reviewer, action="scope",
                                        before={"scope": {k: list(v) for k, v in old.items()}},
                                        after={"scope": {k: list(v) for k, v in new.items()}})
    return Outcome(decision, "cleared the review scope" if not new else "review scope: " + scope_text(new))


def scope_text(scope: Mapping[str, Sequence[str]]) -> str:
    return "; ".join(f"{k} = {', '.join(v)}" for k, v in sorted(scope.items())) or "(none stated)"


# --- undo and the log -------------------------------------------------------------------------------------

def check_unchanged(project: Project, decision: Decision) -> None:
    """Refuse to undo over a later change of what this decision set."""
    for name, state in (decision.after.get("appraisals") or {}).items():
        if project.source_appraisals().get(name) != state:
            raise ConflictError(f"cannot undo decision {decision.id} (appraise): the appraisal of {name} has changed "
                                "since; undo the later change first")
    for key, state in (decision.after.get("confidence") or {}).items():
        if project.theme_confidences().get(int(key)) != state:
            raise ConflictError(f"cannot undo decision {decision.id} (confidence): theme {key}'s confidence has "
                                "changed since; undo the later change first")
    if "scope" in decision.after:
        now = {k: list(v) for k, v in project.review_scope().items()}
        if now != decision.after["scope"]:
            raise ConflictError(f"cannot undo decision {decision.id} (scope): the scope has changed since")


def restore(project: Project, decision: Decision) -> dict:
    """Put back what `decision` changed; returns the after-snapshot of the undo."""
    after: dict = {}
    for name, state in (decision.before.get("appraisals") or {}).items():
        project.set_source_appraisal(name, state)
        after.setdefault("appraisals", {})[name] = state
    for key, state in (decision.before.get("confidence") or {}).items():
        project.set_theme_confidence(int(key), state)
        after.setdefault("confidence", {})[key] = state
    if "scope" in decision.before:
        project.set_review_scope({k: tuple(v) for k, v in decision.before["scope"].items()})
        after["scope"] = decision.before["scope"]
    return after


def describe(decision: Decision) -> str | None:
    """A readable line for the log, or None for decisions this module does not own."""
    parts = []
    before, after = decision.before, decision.after
    for name, state in (after.get("appraisals") or {}).items():
        old = (before.get("appraisals") or {}).get(name)
        was = old["quality"] if old else "not appraised"
        now = state["quality"] if state else "not appraised"
        note = f" ({state['note']})" if state and state.get("note") else ""
        parts.append(f"source {name} appraised: {now}{note}" if decision.undoes is not None
                     else f"source {name} appraised: {was} → {now}{note}")
    for key, state in (after.get("confidence") or {}).items():
        old = (before.get("confidence") or {}).get(key)
        was = old["level"] if old else "synth's suggestion"
        now = state["level"] if state else "synth's suggestion"
        reason = f" ({state['reason']})" if state else ""
        parts.append(f"theme {key} confidence: {now}{reason}" if decision.undoes is not None
                     else f"theme {key} confidence: {was} → {now}{reason}")
    if "scope" in after:
        parts.append(f"review scope: {scope_text(after['scope'])}" if decision.undoes is not None
                     else f"review scope: {scope_text(before.get('scope') or {})} → {scope_text(after['scope'])}")
    if not parts:
        return None
    if decision.undoes is not None:
        parts.insert(0, f"undoes decision {decision.undoes}")
    return "; ".join(parts)
