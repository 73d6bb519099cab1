"""Which partition discover makes: the merged one for short-answer corpora, the section-aware default
when long literature documents are present (`synth discover --partition auto|merged|sections`).

- `merged` (`synth.merge_near`): consensus Ward fitted finer, near-duplicate themes merged, the finer
  partition's recurring ideas kept. On short answers (survey comments, table rows, abstracts,
  transcript turns) it is ahead of the default on both harmonic purity and NMI on every dev set
  (docs/benchmarks.md, "The near-duplicate merge in synth").
- `sections`: consensus Ward as fitted, whose literature catch-alls `synth.section_split` cuts along
  their reports' sections. On the demo's long reports the finer partition re-creates those catch-alls
  ("In-work support providers", 34 passages, 32 of them from one report), so there it stays.

`auto` (the default) takes `merged` unless some literature source holds at least a minimum-size
theme's worth of the passages being clustered. Why that line: a catch-all needs one long document
whose passages, written in one register, sit close together; a document shorter than the minimum
theme size cannot fill a theme on its own, and section splitting (which asks for a theme of twice
the minimum size, half of it from one or two documents) never applies to it. Interviews and survey
rows do not count however long: a transcript's turns are answers, and the dev sets' respondents
(several answers each) gain from the merge. The demo's four reports hold 62, 47, 20 and 7 of its 273
passages against a minimum theme size of 8, so it keeps `sections`; a table of comments or a folder
of abstracts has no such source and gets `merged`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .cluster import default_min_theme_size
from .errors import SynthError
from .records import Passage

CHOICES = ("auto", "merged", "sections")
LONG_KIND = "literature"  # the kind of source whose long documents make catch-alls


@dataclass(frozen=True)
class PartitionChoice:
    merged: bool
    reason: str

    @property
    def name(self) -> str:
        return "merged" if self.merged else "sections"


def choose_partition(asked: str, passages: Sequence[Passage], kinds: Mapping[int, str], *,
                     min_theme_size: int | None = None, clusterer_merges: bool = True) -> PartitionChoice:
    """The partition for `passages` (those clustered), `kinds` each source's kind; `clusterer_merges`:
    whether the clusterer asked for is consensus Ward, the only one the merge is made for."""
    if asked not in CHOICES:
        raise SynthError(f"partition {asked!r}: choose one of {', '.join(CHOICES)}")
    if asked == "sections":
        return PartitionChoice(False, "asked for (--partition sections)")
    if not clusterer_merges:
        if asked == "merged":
            raise SynthError("--partition merged is made for the consensus-ward clusterer; leave --clusterer out "
                             "or give --partition sections")
        return PartitionChoice(False, "another clusterer than consensus-ward")
    if asked == "merged":
        return PartitionChoice(True, "asked for (--partition merged)")
    m = min_theme_size or default_min_theme_size(len(passages))
    per_source = Counter(p.source_id for p in passages if kinds.get(p.source_id) == LONG_KIND)
    long = [s for s, count in per_source.items() if count >= m]
    if long:
        return PartitionChoice(False, f"{len(long)} literature source{'s' if len(long) > 1 else ''} of at least "
                                      f"{m} passages: long documents, whose catch-alls are split by section")
    return PartitionChoice(True, f"short answers: no literature source of {m} or more passages")
