"""Precision and recall of the structure decision (synth/structure.py) on hand-labelled passages.

The fixture `tests/fixtures/structure_labels.jsonl` holds 720 passages labelled by hand before the
classifier was written: every passage (interviewer turns aside) of the DWP secondment brief
(`../shared/seeds/000_…`) and of the demo corpus, 150 NHS patient comments and 150 NaPiRE answers
(random, plus ones that look like addresses, numbers or titles). Each says whether the passage is
structure (heading, furniture, contents, reference, caption) and which kind.

Sources are read and segmented exactly as `synth ingest` does, and each labelled passage is found by
its source, offset and text. Table rows (NHS, NaPiRE, the demo survey) are ingested as rows, which
are never structure; the "stress" line also runs the rules on each of those answers as if it were a
document of its own, which is the test that the rules themselves do not fire on short answers.

    .venv/bin/python -m benchmarks.structure            # print the figures
    .venv/bin/python -m benchmarks.structure --errors   # and every disagreement
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

from benchmarks.datasets import ROOT, jsonl
from synth.readers import read_paths
from synth.segment import segment_many
from synth.structure import annotate_document, classify_text

FIXTURE = ROOT / "tests" / "fixtures" / "structure_labels.jsonl"


def _resolve(source: str) -> Path:
    return ROOT / source


def predictions(rows: list[dict]) -> tuple[list[tuple[str | None, str | None]], list[str | None]]:
    """(kind, reason) as ingest decides, and the kind the rules give each row text standing alone."""
    files = sorted({r["source"] for r in rows if "#" not in r["source"] and not r["source"].endswith(".csv")})
    decided: dict[tuple[str, int, str], tuple[str | None, str | None]] = {}
    docs = []
    for folder in sorted({str(Path(source).parent) for source in files}):
        # Whole folders, as a user ingests them, so that their sources.csv manifests apply.
        kind = "literature" if folder.endswith("seeds") else None
        for doc in read_paths([_resolve(folder)], kind=kind):
            source = str(Path(folder) / doc.name)
            if source in files:
                docs.append((source, doc))
    spans = segment_many([(d.text, d.turns) for _, d in docs])
    for (source, doc), ss in zip(docs, spans):
        for span, note in zip(ss, annotate_document(doc, ss)):
            decided[(source, span.start_char, span.text)] = (note.kind, note.reason)
    out = []
    for r in rows:
        key = (r["source"], r["start_char"], r["text"])
        if key in decided:
            out.append(decided[key])
        elif "#" in r["source"] or r["source"].endswith(".csv"):
            out.append((None, None))  # a table row: ingest never calls it structure
        else:
            raise SystemExit(f"{r['source']} at {r['start_char']}: the labelled passage is no longer cut the same "
                             "way by the segmenter; relabel it")
    alone = [classify_text(r["text"]).kind if ("#" in r["source"] or r["source"].endswith(".csv")) else None
             for r in rows]
    return out, alone


def figures(rows: list[dict], predicted: list[tuple[str | None, str | None]]) -> dict:
    tp = sum(1 for r, (k, _) in zip(rows, predicted) if r["is_structure"] and k)
    fp = sum(1 for r, (k, _) in zip(rows, predicted) if not r["is_structure"] and k)
    fn = sum(1 for r, (k, _) in zip(rows, predicted) if r["is_structure"] and not k)
    tn = sum(1 for r, (k, _) in zip(rows, predicted) if not r["is_structure"] and not k)
    kind_agree = sum(1 for r, (k, _) in zip(rows, predicted) if r["is_structure"] and k == r["kind"])
    return {"passages": len(rows), "structure": tp + fn, "substantive": tn + fp, "tp": tp, "fp": fp, "fn": fn,
            "tn": tn, "precision": tp / max(tp + fp, 1), "recall": tp / max(tp + fn, 1),
            "substance_kept": tn / max(tn + fp, 1), "kind_agreement": kind_agree / max(tp, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", action="store_true", help="list every disagreement")
    args = parser.parse_args()
    rows = jsonl(FIXTURE)
    start = time.perf_counter()
    predicted, alone = predictions(rows)
    seconds = time.perf_counter() - start
    f = figures(rows, predicted)
    print(f"{f['passages']} labelled passages: {f['structure']} structure, {f['substantive']} substantive")
    print(f"structure decision: precision {f['precision']:.3f}, recall {f['recall']:.3f} "
          f"(tp {f['tp']}, fp {f['fp']}, fn {f['fn']}); substantive passages kept {f['substance_kept']:.3f} "
          f"({f['tn']} of {f['tn'] + f['fp']}); kind agrees on {f['kind_agreement']:.3f} of the structure found")
    by_group = Counter()
    for r, (k, _) in zip(rows, predicted):
        group = "nhs" if "nhs-feedback" in r["source"] else "napire" if "napire" in r["source"] else \
            "seed 000" if "seeds" in r["source"] else "demo"
        by_group[(group, bool(r["is_structure"]), bool(k))] += 1
    for group in ("seed 000", "demo", "nhs", "napire"):
        cells = {(t, p): by_group[(group, t, p)] for t in (True, False) for p in (True, False)}
        print(f"  {group:<9} structure found {cells[(True, True)]}/{cells[(True, True)] + cells[(True, False)]}, "
              f"substantive called structure {cells[(False, True)]}/{cells[(False, True)] + cells[(False, False)]}")
    table = [(r, k) for r, k in zip(rows, alone) if "#" in r["source"] or r["source"].endswith(".csv")]
    fired = [(r, k) for r, k in table if k]
    print(f"stress: the rules on each of {len(table)} table answers as a document of its own: {len(fired)} called structure")
    print(f"time: {seconds:.2f} s to read, segment and classify the labelled sources")
    if args.errors:
        for r, (k, why) in zip(rows, predicted):
            if bool(r["is_structure"]) != bool(k) or (k and k != r["kind"]):
                print(f"  label {r['kind'] or 'content':<9} predicted {k or 'content':<9} {why or '':<45} | "
                      f"{r['text'][:80]!r}")
        for r, k in fired:
            print(f"  alone: {k} | {r['text'][:80]!r}")


if __name__ == "__main__":
    main()
