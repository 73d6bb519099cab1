"""Which partition discover makes: the merged one for short answers, the partition as fitted (and
its long reports' catch-alls split by section) otherwise (`synth discover --partition auto|merged|sections`).

- `merged` (`synth.merge_near`): consensus Ward fitted finer, near-duplicate themes merged, the finer
  partition's recurring ideas kept. On survey answers (the dev sets: NHS comments, NaPiRE answers,
  bill summaries) it is ahead of the partition as fitted on harmonic purity and NMI on every set,
  with discover's stance step too (docs/benchmarks.md, "The near-duplicate merge in synth").
- `sections`: consensus Ward as fitted, whose literature catch-alls `synth.section_split` cuts along
  their reports' sections. On the demo's long reports the finer partition re-creates those catch-alls
  ("In-work support providers", 34 passages, 32 of them from one report).

`auto` (the default) takes `merged` when the corpus is short answers: no interview source, and no
literature source holding a minimum-size theme's worth of the passages being clustered. Why those
lines:

- a catch-all needs one long document whose passages, written in one register, sit close together;
  a document shorter than the minimum theme size cannot fill a theme on its own, and section
  splitting (a theme of twice the minimum size, half of it from one or two documents) never applies
  to it. The demo's reports hold 62, 47, 20 and 7 of its 273 passages against a minimum size of 8.
- interview transcripts were measured on the coded-span proxies (`benchmarks.transcripts`): there
  the merge raised purity (NHS focus groups +0.09) but lowered NMI (NaPiRE interviews -0.016), a
  trade, not the gain on both scores that survey answers show, so transcripts keep the partition as
  fitted unless `--partition merged` is asked for.

So a table of comments or a folder of abstracts gets `merged`; the demo, and any project with
interviews, `sections`.
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
CONVERSATION_KIND = "interview"  # transcripts: the merge traded NMI for purity there (module docstring)


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
    interviews = {p.source_id for p in passages if kinds.get(p.source_id) == CONVERSATION_KIND}
    if interviews:
        return PartitionChoice(False, f"{len(interviews)} interview transcript{'s' if len(interviews) > 1 else ''}: "
                                      f"the merge is made for short answers (--partition merged to ask for it)")
    return PartitionChoice(True, f"short answers: no interview, no literature source of {m} or more passages")
