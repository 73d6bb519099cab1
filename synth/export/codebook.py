"""The codebook: accepted themes as codes, grouped under Barriers, Enablers, Transferable practices, Context.

Each code has a name, a definition, when to use it and when not, 2–3 example quotes with
citations, and its size and spread. "When to use" and "when not" are drafted from what the
project knows about the theme: its key terms and category cues, the nearest other theme (the
code most easily confused with it), and the reviewer's own edits in the decision log (passages
moved in or out by hand, renamings). They are drafts for an analyst to edit, and say so.

`build_codebook` makes the record; `codebook_formats` writes it as .qdc, .csv, .md, .json or .xlsx.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ..errors import SynthError
from ..evidence import EvidenceProfile, profiles_for
from ..records import CATEGORIES
from ..validate import theme_agreement_text
from ..readmodel import PALETTES, PARENT_COLOURS, UNCATEGORISED, ReadModel, category_key  # noqa: F401 (re-exported)
from ..statuses import LIVE
from ..store import Decision, Project
from ..summary import ProjectView, Quote, ThemeSummary
from .refi import derived_guid

PARENT_NAMES = {"barrier": "Barriers", "enabler": "Enablers", "practice": "Transferable practices", "context": "Context"}
PARENT_NAMES_ALL = {**PARENT_NAMES, UNCATEGORISED: "Not yet categorised"}

PARENT_DESCRIPTIONS = {
    "barrier": "What made it harder for people to take part, find or keep work, or for services to deliver support.",
    "enabler": "What helped people or services succeed.",
    "practice": "Ways of working that were tried and that others could adopt elsewhere.",
    "context": "The setting, population, programme or labour market, without a judgement on what helped or hindered.",
    UNCATEGORISED: "Themes that have no category yet.",
}
_USE_FOR = {
    "barrier": ("describe something that made it harder for people to take part, find or keep work, or for staff to "
                "deliver support (a barrier)"),
    "enabler": "describe something that helped people or services succeed (an enabler)",
    "practice": "describe a way of working that was tried and could be adopted elsewhere (a transferable practice)",
    "context": "set out the setting, population, programme or labour market, without saying what helped or hindered (context)",
    UNCATEGORISED: "share this topic",
}
_NOT_FOR = {
    "barrier": "what helped or worked (Enablers), or plain background (Context)",
    "enabler": "what got in the way (Barriers), or a concrete way of working that others could copy (Transferable practices)",
    "practice": "a success factor with no way of working to copy (Enablers), or a difficulty (Barriers)",
    "context": "something that helped (Enablers) or hindered (Barriers)",
    UNCATEGORISED: "passages whose main point is another code's topic",
}


MAX_EXAMPLES = 3
MIN_EXAMPLES = 2
LIVE_STATUSES = LIVE  # the name other modules import


@dataclass(frozen=True)
class Code:
    guid: str
    theme_id: int
    name: str
    status: str
    category: str  # one of CATEGORIES, or UNCATEGORISED
    definition: str
    when_to_use: str
    when_not_to_use: str
    examples: tuple[Quote, ...]
    size: int  # passages
    sources: int
    spread: str  # "9 passages from 4 sources (interview 6, literature 3)"
    triangulation: str
    colour: str
    label_by_human: bool
    definition_by_human: bool
    category_by_human: bool = False
    evidence: str = ""  # confidence and evidence profile (GRADE-CERQual), one paragraph; see synth.evidence
    agreement: str = ""  # from the latest blind validation sample, when reviewers coded items of this theme

    @property
    def is_suggested(self) -> bool:
        return self.status != "accepted"

    @property
    def display_name(self) -> str:
        return f"{self.name} (suggested)" if self.is_suggested else self.name

    def description(self) -> str:
        """The text of a REFI-QDA `<Description>`: definition first, so an importer that shows only
        the first paragraph shows the definition (synth's own import reads it back that way)."""
        parts = [self.definition or "(no definition yet)"]
        if self.is_suggested:
            parts.append("Status: suggested by synth, not yet accepted by a reviewer.")
        parts.append(f"When to use: {self.when_to_use}")
        parts.append(f"When not to use: {self.when_not_to_use}")
        if self.examples:
            parts.append("Examples:\n" + "\n".join(f"- “{q.text}” ({q.citation})" for q in self.examples))
        parts.append(f"Size and spread: {self.spread}" + (f"; {self.triangulation}" if self.triangulation else ""))
        if self.evidence:
            parts.append(self.evidence)
        if self.agreement:
            parts.append(self.agreement)
        return "\n\n".join(parts)


@dataclass(frozen=True)
class CodeGroup:
    category: str
    name: str
    guid: str
    colour: str
    description: str
    codes: tuple[Code, ...]


@dataclass(frozen=True)
class Codebook:
    project_name: str
    groups: tuple[CodeGroup, ...]
    include_suggested: bool
    summaries: Mapping[int, ThemeSummary] = field(default_factory=dict, compare=False, repr=False)  # by theme id
    profiles: Mapping[int, EvidenceProfile] = field(default_factory=dict, compare=False, repr=False)  # by theme id

    @property
    def codes(self) -> list[Code]:
        return [c for g in self.groups for c in g.codes]


# Section markers of `Code.description`; the import cuts the definition off at the first one.
DESCRIPTION_MARKERS = ("\n\nStatus: suggested", "\n\nWhen to use:")


def parent_guid(category: str) -> str:
    # The same in every project: "Barriers" is one parent code however many synth codebooks an
    # analyst imports into one QDA project.
    return derived_guid("parent-code", category)


def statuses_for(include_suggested: bool) -> tuple[str, ...]:
    return LIVE_STATUSES if include_suggested else ("accepted",)


def no_themes_error(project: Project, include_suggested: bool) -> SynthError:
    if include_suggested:
        return SynthError(f"{project.path}: no themes to export; run `synth discover {project.path}` first")
    return SynthError(f"{project.path}: no accepted themes to export; accept themes in review first, "
                      "or add --include-suggested to export the suggested themes too (marked as suggested)")


def theme_colours(project: Project) -> dict[int, str]:
    """A colour per live theme (see `ReadModel.colours`)."""
    return ReadModel(project).colours


def build_codebook(project: Project, *, include_suggested: bool = False, model: ReadModel | None = None) -> Codebook:
    """The codebook of the project's themes; `model` is the command's read model, when it has one."""
    model = model or ReadModel(project)
    themes = model.themes(statuses_for(include_suggested))
    if not themes:
        raise no_themes_error(project, include_suggested)
    colours = model.colours
    summaries = {t.id: model.summary(t) for t in themes}
    profiles = profiles_for(project, themes)
    live = model.live()
    neighbours = model.space.nearest_other_theme([t.id for t in themes], list(live)) if model.space else {}
    labels = {t.id: t.label for t in model.all_themes.values()}
    edits = _reviewer_edits(model.decisions)
    agreement = _agreement(project)
    codes: dict[str, list[Code]] = {}
    for theme in themes:
        s = summaries[theme.id]
        key = category_key(theme.category)
        when, when_not = draft_guidance(s, key, neighbour=live.get(neighbours.get(theme.id, -1)),
                                        edits=edits.get(theme.id, {}), view=model, labels=labels)
        codes.setdefault(key, []).append(Code(
            guid=theme.guid, theme_id=theme.id, name=theme.label, status=theme.status, category=key,
            definition=theme.definition.strip(), when_to_use=when, when_not_to_use=when_not,
            examples=_examples(model, s), size=s.size, sources=s.spread.sources, spread=spread_text(s),
            triangulation=str(s.triangulation.get("label", "") or ""), colour=colours[theme.id],
            label_by_human=theme.label_by_human, definition_by_human=theme.definition_by_human,
            category_by_human=theme.category_by_human, evidence=evidence_text(profiles[theme.id]),
            agreement=theme_agreement_text(agreement, theme.id) if agreement else "",
        ))
    groups = tuple(
        CodeGroup(category=key, name=PARENT_NAMES_ALL[key], guid=parent_guid(key), colour=PARENT_COLOURS[key],
                  description=PARENT_DESCRIPTIONS[key],
                  # accepted codes first, then by size: the codebook reads from the strongest evidence down
                  codes=tuple(sorted(codes[key], key=lambda c: (c.is_suggested, -c.size, c.name.lower()))))
        for key in (*CATEGORIES, UNCATEGORISED) if key in codes
    )
    return Codebook(project_name=project.path.stem, groups=groups, include_suggested=include_suggested,
                    summaries=summaries, profiles=profiles)


def evidence_text(p: EvidenceProfile) -> str:
    """The evidence profile as one paragraph of a code's description."""
    who = (f"set by {p.reviewer['reviewer']}: {p.reviewer['reason']}; synth suggests {p.suggested}" if p.reviewer
           else "suggested by synth")
    components = "; ".join(f"{c.name}: {c.concern}{'' if c.concern == 'not assessed' else ' concerns'} ({c.explanation})"
                           for c in p.components)
    return f"Confidence (GRADE-CERQual): {p.confidence} ({who}). {components}."


def _agreement(project: Project):
    from ..validate import agreement

    if not project.validation_samples():
        return None
    report = agreement(project)
    return report if report.coded else None


def spread_text(s: ThemeSummary) -> str:
    kinds = ", ".join(f"{kind} {n}" for kind, n in s.spread.kinds.items())
    sources = f"{s.spread.sources} source{'s' if s.spread.sources != 1 else ''}"
    return f"{s.size} passage{'s' if s.size != 1 else ''} from {sources}" + (f" ({kinds})" if kinds else "")


def _examples(view: ProjectView, s: ThemeSummary) -> tuple[Quote, ...]:
    """The theme's chosen quotes (reviewers may have picked them), topped up with its most central passages."""
    chosen = list(s.quotes[:MAX_EXAMPLES])
    if len(chosen) < MIN_EXAMPLES:
        have = {q.passage_id for q in chosen}
        for e in sorted(view.evidence(s.id), key=lambda e: (-e.centrality, e.passage_id)):
            if len(chosen) >= MIN_EXAMPLES:
                break
            if e.passage_id not in have:
                chosen.append(Quote(e.passage_id, e.source_name, e.start_char, e.end_char, e.text))
    return tuple(chosen)


def _reviewer_edits(decisions: Sequence[Decision]) -> dict[int, dict[str, list]]:
    """Per theme: passages a reviewer moved in or out by hand, earlier labels, and memos.

    Reads the review log's snapshots (`before`/`after` hold {"themes": {id: fields},
    "memberships": {passage id: state or null}}); undone decisions and the undos are skipped.
    """
    undone = {d.undoes for d in decisions if d.undoes is not None}
    out: dict[int, dict[str, list]] = {}

    def add(theme_id: object, key: str, value: object) -> None:
        out.setdefault(int(theme_id), {}).setdefault(key, []).append(value)  # type: ignore[arg-type]

    for d in decisions:
        if d.undoes is not None or d.id in undone:
            continue
        if d.action in ("move", "remove"):
            after_states = d.after.get("memberships", {}) or {}
            for key, old in (d.before.get("memberships", {}) or {}).items():
                new = after_states.get(key)
                was = old["theme_id"] if old and old.get("placed") else None
                now = new["theme_id"] if new and new.get("placed") else None
                if was == now:
                    continue
                if was is not None:
                    add(was, "moved_out", (int(key), now))
                if now is not None:
                    add(now, "moved_in", (int(key), was))
        if d.action == "memo" and d.theme_id is not None and d.after.get("memo"):
            add(d.theme_id, "memos", str(d.after["memo"]))
        for key, old in (d.before.get("themes", {}) or {}).items():
            new = (d.after.get("themes", {}) or {}).get(key) or {}
            if old and "label" in old and "label" in new and old["label"] != new["label"]:
                add(key, "renamed_from", old["label"])
    return out


def draft_guidance(s: ThemeSummary, category: str, *, neighbour, edits: dict, view: ProjectView,
                   labels: dict[int, str]) -> tuple[str, str]:
    """Draft 'when to use' and 'when not to use' for one code, from its content and the reviewer's edits."""
    terms = _terms_phrase(s.top_terms)
    when = [f"Use for passages {('about ' + terms + ' that ') if terms else 'that '}{_USE_FOR[category]}."]
    cues = next((r.split(":", 1)[1].strip() for r in s.reasons if r.startswith(f"{category} cues:")), "")
    if cues:
        when.append(f"Typical wording: {cues}.")
    moved_in = [(pid, src) for pid, src in edits.get("moved_in", []) if pid in view.passages]
    if moved_in:
        pid, _ = moved_in[-1]
        when.append(f"The reviewer placed {len(moved_in)} passage{'s' if len(moved_in) != 1 else ''} here by hand, "
                    f"e.g. {_snippet(view, pid)}.")
    if edits.get("renamed_from"):
        when.append(f"Renamed by the reviewer (was “{edits['renamed_from'][0]}”).")
    for note in edits.get("memos", [])[-2:]:
        when.append(f"Reviewer's note: {' '.join(note.split())}")

    not_when = [f"Not for {_NOT_FOR[category]}."]
    if neighbour is not None:
        other_terms = _terms_phrase(neighbour.top_terms)
        about = f"mainly about {other_terms}" if other_terms else "closer to its definition"
        not_when.append(f"If a passage is {about}, use “{neighbour.label}” instead.")
    moved_out = [(pid, dest) for pid, dest in edits.get("moved_out", []) if pid in view.passages]
    if moved_out:
        pid, dest = moved_out[-1]
        where = f" to “{labels[dest]}”" if dest in labels else ""
        not_when.append(f"The reviewer moved {len(moved_out)} passage{'s' if len(moved_out) != 1 else ''} out of "
                        f"this theme{where}, e.g. {_snippet(view, pid)}.")
    return " ".join(when), " ".join(not_when)


def _terms_phrase(terms: Sequence[str], n: int = 3) -> str:
    terms = [t for t in terms if t][:n]
    if len(terms) <= 1:
        return "".join(terms)
    return ", ".join(terms[:-1]) + " or " + terms[-1]


def _snippet(view: ProjectView, passage_id: int, limit: int = 120) -> str:
    p = view.passages[passage_id]
    text = " ".join(p.text.split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return f"“{text}” ({view.quote(p).citation})"
