"""How confident can a reader be in a finding? The judgement synth suggests from a theme's evidence
profile (`synth.evidence`), after GRADE-CERQual (Lewin et al. 2018, Implementation Science 13:2).

The rule by which synth suggests a confidence (also in the README; the functions below apply these
thresholds, each in one place):

- adequacy: serious concerns with 1 source or fewer than 3 passages; moderate with 2 sources or
  fewer than 5 passages, or fieldwork-only evidence from fewer than 3 participants; minor with 3–4
  sources or fewer than 8 passages (a handful of passages, one or two a source, is thin data however
  many sources give them); else none.
- coherence: the share of passages whose own category is the theme's, the mean cosine similarity
  of the passages to their centroid, and the passages that cut against the finding (the theme's
  passages whose own category is the opposite side: an enabler's barrier passages, a barrier's
  enabler passages, a practice's barrier passages). Passages that cut against the finding weigh
  most; a passage of a neighbouring category (an enabler's practice passage) only dilutes it.
  Serious: 30 % or more against; moderate: 15 % or more against, under 40 % in category, or
  similarity under 0.35; minor: any passage against, under 60 % in category, or similarity under
  0.45; else none.
- relevance: the share of passages from sources inside the review scope (`synth scope`). Not
  assessed without a scope. Serious under 25 %, moderate under 50 %, minor under 80 %, else none.
- methodological limitations: the share of passages from sources the reviewer appraised as low
  quality (`synth source appraise`). Serious from 50 %, moderate from 25 %, minor with any, or when
  half the passages or more come from sources nobody has appraised yet; else none.
- overall: start at high; each moderate concern lowers it one level, each serious concern two, and
  every two minor concerns one; it never goes below very low.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .evidence import Adequacy, Coherence, Limitations, Relevance

LEVELS = ("high", "moderate", "low", "very low")
CONCERNS = ("none", "minor", "moderate", "serious")
NOT_ASSESSED = "not assessed"
THIN_PASSAGES = 8  # under this many passages a finding's data is thin (adequacy: minor at best)
# The theme categories whose passages of the other side cut against the finding.
OPPOSITE = {"barrier": ("enabler",), "enabler": ("barrier",), "practice": ("barrier",), "context": ()}


@dataclass(frozen=True)
class Component:
    name: str
    concern: str  # one of CONCERNS, or NOT_ASSESSED
    explanation: str


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def judge(a: Adequacy, c: Coherence, r: Relevance, m: Limitations) -> tuple[tuple[Component, ...], str, tuple[str, ...]]:
    """The four components' concerns, the suggested confidence, and its reasons."""
    components = (_limitations_concern(m), _coherence_concern(c, a.passages), _adequacy_concern(a), _relevance_concern(r))
    level, reasons = overall(components)
    return components, level, reasons


def _adequacy_concern(a: Adequacy) -> Component:
    people = f", {_plural(a.participants, 'participant')}" if a.participants else ""
    facts = f"{_plural(a.passages, 'passage')} from {_plural(a.sources, 'source')}{people}"
    fieldwork_only = a.passages_by_kind and "literature" not in a.passages_by_kind
    if a.sources <= 1 or a.passages < 3:
        concern, why = "serious", "a single source or fewer than 3 passages"
    elif a.sources == 2 or a.passages < 5:
        concern, why = "moderate", "only 2 sources or fewer than 5 passages"
    elif fieldwork_only and a.participants < 3:
        concern, why = "moderate", "fieldwork only, from fewer than 3 participants"
    elif a.sources <= 4:
        concern, why = "minor", "3 or 4 sources"
    elif a.passages < THIN_PASSAGES:
        concern, why = "minor", f"fewer than {THIN_PASSAGES} passages"
    else:
        concern, why = "none", "5 sources or more"
    return Component("adequacy", concern, f"{facts} ({why})")


def _coherence_concern(c: Coherence, passages: int) -> Component:
    facts = []
    if c.share_in_category is not None:
        facts.append(f"{c.in_category} of {c.categorised} passages read as {c.category} ({c.share_in_category:.0%})")
    if c.similarity is not None:
        facts.append(f"mean similarity to the theme's centre {c.similarity:.2f}")
    against_share = c.against / passages if passages else 0.0
    if OPPOSITE.get(c.category or ""):
        facts.append(f"{_plural(c.against, 'passage')} cut against it ({against_share:.0%}, read as "
                     f"{' or '.join(OPPOSITE[c.category or ''])})")
    if not facts:
        return Component("coherence", NOT_ASSESSED, "no categories or embeddings to compare the passages by")
    share = c.share_in_category
    sim = c.similarity
    if against_share >= 0.3:
        concern = "serious"
    elif (share is not None and share < 0.4) or against_share >= 0.15 or (sim is not None and sim < 0.35):
        concern = "moderate"
    elif (share is not None and share < 0.6) or c.against or (sim is not None and sim < 0.45):
        concern = "minor"
    else:
        concern = "none"
    return Component("coherence", concern, "; ".join(facts))


def _relevance_concern(r: Relevance) -> Component:
    if not r.scope:
        return Component("relevance", NOT_ASSESSED, "no review scope stated (state one with synth scope)")
    scope = "; ".join(f"{k} = {', '.join(v)}" for k, v in r.scope.items())
    share = r.share_in_scope or 0.0
    facts = (f"{r.in_scope} of {r.in_scope + r.out_of_scope + r.not_recorded} passages ({share:.0%}) from "
             f"{_plural(r.sources_in_scope, 'source')} inside the scope ({scope})")
    if r.not_recorded:
        facts += f"; {r.not_recorded} from sources that do not record it"
    concern = "none" if share >= 0.8 else "minor" if share >= 0.5 else "moderate" if share >= 0.25 else "serious"
    return Component("relevance", concern, facts)


def _limitations_concern(m: Limitations) -> Component:
    p = m.passages_by_quality
    total = sum(p.values())
    appraised = total - p["not appraised"]
    if appraised == 0:
        facts = "no source of this theme has been appraised yet (appraise sources with synth source appraise)"
    else:
        facts = (f"passages from sources appraised high {p['high']}, moderate {p['moderate']}, low {p['low']}"
                 f"; not appraised {p['not appraised']}")
    if m.low_share >= 0.5:
        concern = "serious"
    elif m.low_share >= 0.25:
        concern = "moderate"
    elif m.low_share > 0 or m.unappraised_share >= 0.5:
        concern = "minor"
    else:
        concern = "none"
    return Component("methodological limitations", concern, facts)


def overall(components: Sequence[Component]) -> tuple[str, tuple[str, ...]]:
    """The suggested confidence and its reasons (the rule in this module's docstring). The reasons
    say what moved the level; each component's figures are in its own `explanation`."""
    steps = 0
    reasons = []
    minors = [c.name for c in components if c.concern == "minor"]
    for c in components:
        if c.concern in ("moderate", "serious"):
            down = 1 if c.concern == "moderate" else 2
            steps += down
            reasons.append(f"{c.name}: {c.concern} concerns, down {_plural(down, 'level')}")
    if minors:
        down = len(minors) // 2
        steps += down
        reasons.append(f"minor concerns about {' and '.join(minors)}"
                       + (f", down {_plural(down, 'level')} (one for every two)" if down else ", not enough to lower it alone"))
    fine = [c.name for c in components if c.concern == "none"]
    if fine:
        reasons.append(f"no or very minor concerns about {' and '.join(fine)}")
    for c in components:
        if c.concern == NOT_ASSESSED:
            reasons.append(f"{c.name} not assessed: {c.explanation}")
    level = LEVELS[min(steps, len(LEVELS) - 1)]
    head = "no concerns lower it" if not steps else f"{_plural(steps, 'level')} down"
    return level, (f"{level}: starts at high, {head}", *reasons)
