"""The decision log's machinery: snapshots of what a review action changes, undo, and one readable
line per decision.

Every change a reviewer makes (in the app, with `synth theme`, or by importing a codebook) goes
through a `Change`, which applies the edits and records the before and after of every theme field,
membership, coding, reviewer category and validation code it touched; `Change.log` appends that as
one decision. `undo` restores a decision's `before`, refusing when a person has changed the same
things since. `describe` says what a decision did, for the log page and `synth log`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..errors import ConflictError, SynthError
from ..store import Decision, Membership, Project, ThemeRow

# The theme fields a decision snapshots (revision is never restored: it only moves forward).
THEME_FIELDS = ("label", "definition", "top_terms", "category", "category_confidence", "category_mix",
                "category_reasons", "status", "label_by_human", "definition_by_human", "category_by_human",
                "merged_into", "parent_id")




# --- snapshots -----------------------------------------------------------------------------------

def _theme_state(theme: ThemeRow, fields: Iterable[str]) -> dict:
    out = {}
    for f in fields:
        value = getattr(theme, f)
        out[f] = list(value) if isinstance(value, tuple) else value
    return out


def _membership_state(m: Membership | None) -> dict | None:
    if m is None:
        return None
    return {"theme_id": m.theme_id, "probability": m.probability, "placed": m.placed, "by_human": m.by_human}


def coding_key(passage_id: int, theme_id: int) -> str:
    """How a decision's snapshot names a further coding: "passage:theme"."""
    return f"{int(passage_id)}:{int(theme_id)}"


def _coding_state(c) -> dict | None:
    return None if c is None else {"reviewer": c.reviewer, "at": c.at}
def _code_state(code: Mapping | None) -> dict | None:
    return None if code is None else {"theme_id": code["theme_id"], "category": code["category"], "at": code["at"]}


class Change:
    """Applies edits and records the before/after of every theme field and membership touched."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.before: dict[str, dict] = {"themes": {}, "memberships": {}, "passages": {}, "codings": {},
                                        "passage_reviews": {}, "validation_codes": {}}
        self.after: dict[str, dict] = {"themes": {}, "memberships": {}, "passages": {}, "codings": {},
                                       "passage_reviews": {}, "validation_codes": {}}
        self.bump: set[int] = set()

    def passage_codable(self, passage_id: int, codable: bool) -> None:
        """Include a structure passage as content (or take it out again, on undo)."""
        key = str(passage_id)
        self.before["passages"].setdefault(key, {"codable": self.project.passage(passage_id).codable})
        self.project.set_passage_codable(passage_id, codable)
        self.after["passages"][key] = {"codable": bool(codable)}

    def theme(self, theme_id: int, **fields: object) -> None:
        key = str(theme_id)
        current = self.project.theme(theme_id)
        before = self.before["themes"].setdefault(key, {})
        if before is not None:
            for f in fields:
                before.setdefault(f, _theme_state(current, [f])[f])
        self.project.update_theme(theme_id, **fields)
        self.after["themes"][key] = {**(self.after["themes"].get(key) or {}),
                                     **_theme_state(self.project.theme(theme_id), fields)}

    def created_theme(self, theme_id: int) -> None:
        self.before["themes"][str(theme_id)] = None
        self.after["themes"][str(theme_id)] = _theme_state(self.project.theme(theme_id), THEME_FIELDS)

    def membership(self, passage_id: int, state: dict | None) -> None:
        key = str(passage_id)
        old = self.project.membership(passage_id)
        if key not in self.before["memberships"]:
            self.before["memberships"][key] = _membership_state(old)
        if old is not None:
            self.bump.add(old.theme_id)
        if state is None:
            self.project.clear_membership(passage_id)
        else:
            self.project.set_membership(passage_id, state["theme_id"], probability=state["probability"],
                                        placed=state["placed"], by_human=state["by_human"])
            self.bump.add(state["theme_id"])
        self.after["memberships"][key] = _membership_state(self.project.membership(passage_id))

    def coding(self, passage_id: int, theme_id: int, reviewer: str | None) -> None:
        """Code the passage to the theme as a further coding (`reviewer` given), or take that coding away."""
        key = coding_key(passage_id, theme_id)
        if key not in self.before["codings"]:
            self.before["codings"][key] = _coding_state(self.project.coding(passage_id, theme_id))
        if reviewer is None:
            self.project.clear_coding(passage_id, theme_id)
        else:
            self.project.set_coding(passage_id, theme_id, reviewer=reviewer)
        self.bump.add(theme_id)
        self.after["codings"][key] = _coding_state(self.project.coding(passage_id, theme_id))

    def restore_coding(self, key: str, state: dict | None) -> None:
        passage_id, theme_id = (int(x) for x in key.split(":"))
        if key not in self.before["codings"]:
            self.before["codings"][key] = _coding_state(self.project.coding(passage_id, theme_id))
        if state is None:
            self.project.clear_coding(passage_id, theme_id)
        else:
            self.project.set_coding(passage_id, theme_id, reviewer=state["reviewer"], at=state["at"])
        self.bump.add(theme_id)
        self.after["codings"][key] = _coding_state(self.project.coding(passage_id, theme_id))
    def reviewed_category(self, passage_id: int, state: Mapping | None) -> None:
        """A reviewer's category for a passage (None: none set), recorded like a membership."""
        key = str(passage_id)
        if key not in self.before["passage_reviews"]:
            self.before["passage_reviews"][key] = self.project.reviewed_categories([passage_id]).get(passage_id)
        self.project.set_reviewed_category(passage_id, state)
        self.after["passage_reviews"][key] = self.project.reviewed_categories([passage_id]).get(passage_id)

    def validation_code(self, item_id: int, coder: str, state: Mapping | None) -> None:
        """One reviewer's code of a validation item (keyed "item|reviewer")."""
        key = f"{item_id}|{coder}"
        if key not in self.before["validation_codes"]:
            self.before["validation_codes"][key] = _code_state(self.project.validation_code(item_id, coder))
        self.project.set_validation_code(item_id, coder, state)
        self.after["validation_codes"][key] = _code_state(self.project.validation_code(item_id, coder))

    def log(self, *, reviewer: str, action: str, theme_id: int | None = None, passage_id: int | None = None,
            extra: Mapping | None = None, undoes: int | None = None) -> int:
        # Themes whose members changed get a new revision too: a page showing them is now stale.
        for tid in sorted(self.bump - {int(k) for k in self.after["themes"]}):
            self.project.update_theme(tid)
        before = {k: v for k, v in self.before.items() if v}
        after = {k: v for k, v in self.after.items() if v}
        if extra:
            after.update(extra)
        return self.project.log_decision(reviewer=reviewer, action=action, theme_id=theme_id, passage_id=passage_id,
                                         before=before, after=after, undoes=undoes)


@dataclass(frozen=True)
class Outcome:
    """What an action did: the decision it logged, a one-line message, and the themes it made."""

    decision_id: int
    message: str
    created: tuple[int, ...] = ()


# --- undo ----------------------------------------------------------------------------------------

def undoable(project: Project, reviewer: str) -> Decision | None:
    """The reviewer's latest decision that is not an undo and has not been undone."""
    return project.latest_undoable(reviewer)


def undo(project: Project, *, reviewer: str) -> Outcome:
    """Undo this reviewer's latest decision not yet undone, by logging one that restores its `before`."""
    with project.transaction():
        target = undoable(project, reviewer)
        if target is None:
            raise SynthError(f"reviewer {reviewer!r} has nothing left to undo")
        _check_unchanged_since(project, target)
        change = Change(project)
        for key, state in target.before.get("themes", {}).items():
            if state is None:  # made by this decision: retire it (nothing is ever deleted)
                change.theme(int(key), status="retired")
            else:
                change.theme(int(key), **state)
        for key, state in target.before.get("memberships", {}).items():
            if _owned_by_discover(target, key) and not _membership_unchanged(project, target, key):
                continue  # a machine suggestion that a later discover has already replaced: leave it
            change.membership(int(key), state)
        for key, state in target.before.get("passage_reviews", {}).items():
            change.reviewed_category(int(key), state)
        for key, state in target.before.get("validation_codes", {}).items():
            item, coder = key.split("|", 1)
            change.validation_code(int(item), coder, state)
        for key, state in target.before.get("passages", {}).items():
            change.passage_codable(int(key), state["codable"])  # discover drops its placements of it
        for key, state in target.before.get("codings", {}).items():
            change.restore_coding(key, state)
        from . import appraisal  # appraisals, scope and confidence keep their own snapshots

        restored = appraisal.restore(project, target)
        decision = change.log(reviewer=reviewer, action="undo", theme_id=target.theme_id,
                              passage_id=target.passage_id, undoes=target.id,
                              extra={"undid": target.action, **restored})
    return Outcome(decision, f"undid decision {target.id} ({target.action}, {target.at})")


def _owned_by_discover(decision: Decision, key: str) -> bool:
    state = decision.after.get("memberships", {}).get(key)
    return state is not None and not state["by_human"]


def _membership_unchanged(project: Project, decision: Decision, key: str) -> bool:
    return _membership_state(project.membership(int(key))) == decision.after["memberships"][key]


def _check_unchanged_since(project: Project, decision: Decision) -> None:
    """Refuse to undo over a later human edit. Fields discover keeps up to date (a new sub-theme's
    terms and category mix, machine memberships) are not a reviewer's edit and do not block."""
    from . import appraisal

    appraisal.check_unchanged(project, decision)
    created = {k for k, v in decision.before.get("themes", {}).items() if v is None}
    for key, state in decision.after.get("themes", {}).items():
        if key in created:
            state = {f: state[f] for f in ("status", "label", "parent_id", "merged_into")}
        if _theme_state(project.theme(int(key)), state) != state:
            raise ConflictError(f"cannot undo decision {decision.id} ({decision.action}): theme {key} has changed "
                                "since; undo the later change first, or edit the theme directly")
    for key in decision.after.get("memberships", {}):
        if not _owned_by_discover(decision, key) and not _membership_unchanged(project, decision, key):
            raise ConflictError(f"cannot undo decision {decision.id} ({decision.action}): passage {key} has moved "
                                "since; undo the later change first, or move it directly")
    for key, state in decision.after.get("passage_reviews", {}).items():
        if project.reviewed_categories([int(key)]).get(int(key)) != state:
            raise ConflictError(f"cannot undo decision {decision.id} ({decision.action}): the category of passage {key} "
                                "has been set again since; undo that first, or set it directly")
    for key, state in decision.after.get("validation_codes", {}).items():
        item, coder = key.split("|", 1)
        if _code_state(project.validation_code(int(item), coder)) != state:
            raise ConflictError(f"cannot undo decision {decision.id} ({decision.action}): validation item {item} "
                                "has been coded again since; undo that first")
    for key, state in decision.after.get("passages", {}).items():
        if project.passage(int(key)).codable != state["codable"]:
            raise ConflictError(f"cannot undo decision {decision.id} ({decision.action}): passage {key} has been "
                                "included or excluded since; undo the later change first")
    for key, state in decision.after.get("codings", {}).items():
        passage_id, theme_id = (int(x) for x in key.split(":"))
        if _coding_state(project.coding(passage_id, theme_id)) != state:
            raise ConflictError(f"cannot undo decision {decision.id} ({decision.action}): the coding of passage "
                                f"{passage_id} to theme {theme_id} has changed since; undo the later change first")


# --- the log, for people -------------------------------------------------------------------------

def describe(decision: Decision) -> str:
    """One readable line per decision: what changed, from what to what."""
    from . import appraisal

    if (line := appraisal.describe(decision)) is not None:
        return line
    if decision.action == "memo":
        subject = f"theme {decision.theme_id}" if decision.theme_id is not None else f"passage {decision.passage_id}"
        return f"memo on {subject}: {decision.after.get('memo', '')}"
    parts = []
    before_t, after_t = decision.before.get("themes", {}), decision.after.get("themes", {})
    for key, after in after_t.items():
        before = before_t.get(key)
        if before is None:
            parts.append(f"theme {key} created ({after.get('label')!r})")
            continue
        for f, value in after.items():
            if f in ("label_by_human", "definition_by_human", "category_by_human") or before.get(f) == value:
                continue
            parts.append(f"theme {key} {f}: {_short(before.get(f))} → {_short(value)}")
    moved = decision.after.get("memberships", {})
    if moved:
        items = sorted(moved.items(), key=lambda kv: int(kv[0]))[:5]
        parts.append(f"{len(moved)} passage(s): " + ", ".join(
            f"{k} → {'theme ' + str(v['theme_id']) if v and v['placed'] else 'unplaced'}" for k, v in items)
            + (" …" if len(moved) > 5 else ""))
    before_r = decision.before.get("passage_reviews", {})
    for key, after in sorted(decision.after.get("passage_reviews", {}).items(), key=lambda kv: int(kv[0]))[:5]:
        old = (before_r.get(key) or {}).get("category", "none")
        parts.append(f"passage {key} category: {old} → {(after or {}).get('category', 'none')}")
    if len(decision.after.get("passage_reviews", {})) > 5:
        parts.append(f"… {len(decision.after['passage_reviews'])} passages in all")
    for key, after in decision.after.get("validation_codes", {}).items():
        item, coder = key.split("|", 1)
        what = "cleared" if after is None else (f"theme {after['theme_id']}" if after["theme_id"] is not None
                                                else "no theme") + f", {after['category']}"
        parts.append(f"validation item {item} coded by {coder}: {what}")
    for key, after in sorted(decision.after.get("passages", {}).items(), key=lambda kv: int(kv[0]))[:5]:
        parts.append(f"passage {key} {'included as content' if after['codable'] else 'back to structure, not coded'}")
    coded = decision.after.get("codings", {})
    if coded:
        items = sorted(coded.items(), key=lambda kv: tuple(int(x) for x in kv[0].split(":")))[:5]
        parts.append(f"{len(coded)} further coding(s): " + ", ".join(
            f"passage {k.split(':')[0]} {'coded to' if v else 'uncoded from'} theme {k.split(':')[1]}"
            for k, v in items) + (" …" if len(coded) > 5 else ""))
    if decision.undoes is not None:
        parts.insert(0, f"undoes decision {decision.undoes}")
    return "; ".join(parts) or "no change"


def _short(value: object) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "…'"
