"""Themes on interview transcripts: a coded-span proxy, synth end to end beside both BERTopic anchors.

No dev set is a transcript, so this one builds them (issue 13):

- napire: each NaPiRE respondent becomes one interview, `Interviewer: <question>` / `Respondent: <answer>`
  turns, one answer per coded unit. Only the answers with exactly one researcher code are kept (as
  `benchmarks.devsets` does: 1,679 answers from 610 respondents); each answer's character span is a
  coded span, its code the gold theme.
- nhs: the NHS comments of one trust and question, in file order, grouped `--per-group` at a time into
  focus-group transcripts: a `Facilitator:` prompt naming the question, then one `Participant N:` turn
  per comment (its staff subcategory the code).

The folder of .txt files is then ingested and discovered as a user would (`synth ingest` then
`synth discover` at their defaults: the same API calls the CLI makes, in a fresh project), and every
coded span takes the theme of the placed passage that overlaps it most (no placed passage: unplaced).
The anchors, BERTopic defaults and BERTopic + `reduce_outliers(embeddings)` exactly as
../shared/tools/bertopic_anchor.py runs them, cluster synth's own codable passages (the bundled model's
vectors) and are mapped to the spans the same way. All are scored with ../shared/tools/theme_metrics.py.

    PYTHONPATH=. HF_HUB_OFFLINE=1 python -m benchmarks.transcripts [--sets napire,nhs] [--per-group 8]
        [--kind interview] [--keep DIR] [--no-bertopic] [--show-themes N] [--turn-context W]
        [--partitions auto,sections,merged]

With `--partitions`, ingest and discover run once per `--partition` value, each in a fresh project
(a `--recluster` on a copy of the first project was tried: matching to the first run's themes left
NaPiRE with 53 themes, 0.253 / 0.408, against 57, 0.251 / 0.412 fresh), and each run's rule and
reason are printed.

Beside the scores it prints what a user would meet: how the files were read (interview or literature),
how many passages are interviewer turns or cross two coded spans, and the largest themes' labels.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.datasets import embed, napire, napire_coded, nhs, theme_report
from benchmarks.devsets import bertopic_runs
from benchmarks.markdown import table

@dataclass(frozen=True)
class CodedSpan:
    """One human-coded stretch of a transcript: file name, character offsets, the code."""

    file: str
    start: int
    end: int
    code: str


def _write_transcript(folder: Path, name: str, turns: list[tuple[str, str, str | None]]) -> list[CodedSpan]:
    """Write `turns` (speaker, words, code or None) as NAME, a blank line between turns; the coded spans."""
    parts, spans, at = [], [], 0
    for speaker, words, code in turns:
        label = f"{speaker}: "
        if code is not None:
            spans.append(CodedSpan(name, at + len(label), at + len(label) + len(words), code))
        chunk = label + words + "\n\n"
        parts.append(chunk)
        at += len(chunk)
    text = "".join(parts)
    (folder / name).write_text(text, encoding="utf-8", newline="")
    for span in spans:  # the promise the scoring rests on
        assert text[span.start:span.end].strip(), span
    return spans


def _one_line(text: str) -> str:
    """An answer as one turn: its own line breaks kept out, so that no answer opens a new turn."""
    return " ".join(text.split())


def build_napire(folder: Path) -> list[CodedSpan]:
    """One interview per NaPiRE respondent, answers in the survey's order (see the module docstring)."""
    rows = napire()
    by_respondent: dict[str, list[dict]] = defaultdict(list)
    for i in napire_coded(rows):
        respondent = rows[i]["respondent"].strip()
        by_respondent[str(int(float(respondent))) if respondent else ""].append(rows[i])
    spans: list[CodedSpan] = []
    for respondent, answers in by_respondent.items():
        answers.sort(key=lambda r: int(r["variable"].split("_")[1]))
        turns: list[tuple[str, str, str | None]] = []
        for row in answers:
            turns.append(("Interviewer", _one_line(row["question"]), None))
            turns.append(("Respondent", _one_line(row["text"]), row["napire_tags"][0]))
        # Ids are "114" or "165.0" (the same respondent in another file); one answer has none.
        label = f"{int(respondent):04d}" if respondent else "unknown"
        spans += _write_transcript(folder, f"respondent-{label}.txt", turns)
    return spans


def build_nhs(folder: Path, per_group: int) -> list[CodedSpan]:
    """Focus groups of `per_group` NHS comments per trust and question (see the module docstring)."""
    by_question: dict[str, list[dict]] = defaultdict(list)
    for row in nhs():
        by_question[row["question"]].append(row)
    spans: list[CodedSpan] = []
    for question, rows in sorted(by_question.items()):
        trust, number = (part.strip() for part in question.split(" - "))
        for g, at in enumerate(range(0, len(rows), per_group)):
            prompt = f"This is {trust}'s question {number[1:]}. Please tell us about your experience of the service."
            turns: list[tuple[str, str, str | None]] = [("Facilitator", prompt, None)]
            for k, row in enumerate(rows[at:at + per_group], 1):
                turns.append((f"Participant {k}", _one_line(row["feedback"]), row["subcategory"]))
            slug = question.lower().replace(" - ", "-").replace(" ", "-")
            spans += _write_transcript(folder, f"{slug}-group-{g + 1:03d}.txt", turns)
    return spans


@dataclass
class SynthRun:
    """What one ingest + discover left in the project, as the scoring needs it."""

    passages: list  # every current passage (synth.records.Passage)
    file_of: dict[int, str]  # source id -> file name
    theme_of: dict[int, int]  # passage id -> theme id, placed passages only
    kinds: Counter  # source kinds as ingest read them
    labels: dict[int, str]  # theme id -> label
    seconds: dict[str, float]
    partition: str = ""  # the partition discover made, and why (synth/partition_choice.py)


def run_synth(folder: Path, project_path: Path, *, kind: str | None = None, turn_context: float = 0.0,
              partition: str = "auto") -> SynthRun:
    """`synth ingest PROJECT FOLDER [--kind KIND]` then `synth discover PROJECT [--turn-context W]
    [--partition P]`, through the calls the CLI makes."""
    from synth.discover import discover
    from synth.ingest import ingest
    from synth.store import Project

    seconds = {}
    with Project.open(project_path, create=True) as project:
        start = time.perf_counter()
        ingest(project, [folder], kind=kind)
        seconds["ingest"] = round(time.perf_counter() - start, 1)
    with Project.open(project_path) as project:
        start = time.perf_counter()
        report = discover(project, turn_context=turn_context, partition=partition)
        seconds["discover"] = round(time.perf_counter() - start, 1)
    with Project.open(project_path, write=False) as project:
        sources = project.sources()
        passages = project.passages()
        members = project.memberships_of([p.id for p in passages])
        themes = project.themes()
        return SynthRun(
            passages=passages,
            file_of={s.id: Path(s.path).name for s in sources},
            theme_of={pid: m.theme_id for pid, m in members.items() if m.placed and m.theme_id is not None},
            kinds=Counter(s.kind for s in sources),
            labels={t.id: t.label for t in themes},
            seconds=seconds,
            partition=f"{report.themes_partition} ({report.themes_partition_reason})",
        )


def span_themes(spans: list[CodedSpan], passages: list, file_of: dict[int, str], theme_of: dict[int, int]) -> list[int]:
    """Each span's theme: that of the placed passage overlapping it most (ties: the earlier passage); -1 when
    no placed passage overlaps it."""
    by_file: dict[str, list] = defaultdict(list)
    for p in passages:
        if p.id in theme_of:
            by_file[file_of[p.source_id]].append(p)
    out = []
    for span in spans:
        best, best_overlap = -1, 0
        for p in sorted(by_file.get(span.file, ()), key=lambda p: p.start_char):
            overlap = min(span.end, p.end_char) - max(span.start, p.start_char)
            if overlap > best_overlap:
                best, best_overlap = theme_of[p.id], overlap
        out.append(best)
    return out


def diagnose(spans: list[CodedSpan], run: SynthRun) -> dict:
    """What went on between the spans and the passages: the questions a reader of the themes would ask."""
    by_file: dict[str, list[CodedSpan]] = defaultdict(list)
    for span in spans:
        by_file[span.file].append(span)
    codable = [p for p in run.passages if p.codable]
    outside = crossing = 0  # codable passages in no coded span (interviewer turns, headers); over two spans
    for p in codable:
        hit = [s for s in by_file[run.file_of[p.source_id]] if min(s.end, p.end_char) > max(s.start, p.start_char)]
        outside += not hit
        crossing += len(hit) > 1
    placed_outside = sum(1 for p in codable if p.id in run.theme_of and not any(
        min(s.end, p.end_char) > max(s.start, p.start_char) for s in by_file[run.file_of[p.source_id]]))
    sizes = Counter(run.theme_of.values())
    return {"sources": dict(run.kinds), "passages": len(run.passages), "codable": len(codable),
            "codable outside coded spans": outside, "of them themed": placed_outside,
            "codable across two spans": crossing, "themes": len(sizes),
            "passages placed": len(run.theme_of), "seconds": run.seconds,
            "largest themes": [(run.labels.get(t, "?"), n) for t, n in sizes.most_common()]}


def measure(name: str, spans: list[CodedSpan], folder: Path, project_path: Path, *, kind: str | None,
            bertopic: bool, show: int, turn_context: float = 0.0, partitions: tuple[str, ...] = ("auto",)) -> list[dict]:
    gold = [s.code for s in spans]
    rows = []
    for n, partition in enumerate(partitions):
        path = project_path if not n else project_path.with_name(f"{project_path.stem}-{partition}.synth")
        for old in path.parent.glob(f"{path.name}*"):
            old.unlink()
        run = run_synth(folder, path, kind=kind, turn_context=turn_context, partition=partition)
        facts = diagnose(spans, run)
        shown = dict(facts, **{"largest themes": facts["largest themes"][:show]})
        print(json.dumps({"set": name, "partition": run.partition, **shown}, ensure_ascii=False), flush=True)
        method = "synth (ingest + discover, defaults)" if not turn_context else \
            f"synth (ingest + discover --turn-context {turn_context:g})"
        if partitions != ("auto",):
            method += f" --partition {partition}: {run.partition.split(' ')[0]}"
        rows.append({"set": name, "method": method,
                     **theme_report(span_themes(spans, run.passages, run.file_of, run.theme_of), gold),
                     "passages": facts["codable"], "seconds": run.seconds["discover"]})
        print(json.dumps(rows[-1]), flush=True)
        if not n:
            first = run
    if bertopic:
        run = first
        codable = [p for p in run.passages if p.codable]
        texts = [p.text for p in codable]
        for variant, (topics, seconds) in bertopic_runs(texts, embed(texts)).items():
            theme_of = {p.id: int(t) for p, t in zip(codable, topics) if int(t) >= 0}
            rows.append({"set": name, "method": f"{variant} on synth's passages",
                         **theme_report(span_themes(spans, run.passages, run.file_of, theme_of), gold),
                         "passages": len(codable), "seconds": round(seconds, 1)})
            print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sets", default="napire,nhs", help="napire, nhs or both (comma-separated)")
    ap.add_argument("--per-group", type=int, default=8, help="nhs: comments per focus-group transcript")
    ap.add_argument("--kind", choices=["interview"], help="ingest with --kind interview (default: as read)")
    ap.add_argument("--keep", type=Path, help="build the transcripts and projects here (kept) instead of a temp folder")
    ap.add_argument("--turn-context", type=float, default=0.0, help="discover --turn-context WEIGHT (default: off)")
    ap.add_argument("--no-bertopic", action="store_true")
    ap.add_argument("--show-themes", type=int, default=12, help="the largest themes' labels to print per set")
    ap.add_argument("--partitions", default="auto", help="discover --partition values to run, comma-separated "
                                                        "(auto, merged, sections)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="synth-transcripts-") as tmp:
        root = args.keep or Path(tmp)
        rows = []
        for name in args.sets.split(","):
            folder = root / name
            folder.mkdir(parents=True, exist_ok=True)
            for old in folder.glob("*.txt"):
                old.unlink()
            project = root / f"{name}.synth"
            for path in root.glob(f"{name}.synth*"):
                path.unlink()
            if name == "napire":
                spans = build_napire(folder)
            elif name == "nhs":
                spans = build_nhs(folder, args.per_group)
            else:
                raise SystemExit(f"unknown set {name!r}: napire or nhs")
            print(f"{name}: {len({s.file for s in spans})} transcripts, {len(spans)} coded spans, "
                  f"{len({s.code for s in spans})} codes", flush=True)
            rows += measure(name, spans, folder, project, kind=args.kind, bertopic=not args.no_bertopic,
                            show=args.show_themes, turn_context=args.turn_context,
                            partitions=tuple(args.partitions.split(",")))
    body = table(["set", "method", "themes", "coverage", "harmonic purity", "NMI", "ARI", "seconds"],
                 [[r["set"], r["method"], r["themes"], f"{r['coverage']:.3f}", f"{r['harmonic_purity']:.3f}",
                   f"{r['NMI']:.3f}", f"{r['ARI']:.3f}", r["seconds"]] for r in rows])
    print(body)


if __name__ == "__main__":
    main()
