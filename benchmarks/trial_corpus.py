"""A second review nobody has tuned on, built from the shared data for a user trial (branch trial13).

    PYTHONPATH=. python -m benchmarks.trial_corpus /tmp/trial13-corpus [--interviews 20] [--comments 1500]

- literature/: the five seed documents (../shared/seeds/*.txt) unchanged, with a sources.csv that says
  they are literature (their file names are hashes, so the manifest gives each a title);
- interviews/: one transcript per NaPiRE respondent, the `--interviews` respondents with the most
  answers, every distinct answer they gave (coded or not) as `Interviewer: <question>` / `Respondent: <answer>`
  turns in the survey's order, written as benchmarks/transcripts.py writes them;
- survey/: one table of `--comments` NHS comments (the lowest hashes of row_index, as
  benchmarks.datasets.nhs_sample picks) with columns respondent_id, question, comment, trust.

The data stay outside the repository (their licences are in ../shared/README.md).

    PYTHONPATH=. python -m benchmarks.trial_corpus --score P.synth [P2.synth ...] [--anchors]

scores the survey comments of discovered projects against their NHS staff subcategories (each row
takes the theme of its longest placed passage; -1 when none is placed) with ../shared/tools'
metrics, and prints each project's themes with the triangulation and category an analyst sees.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
from collections import defaultdict
from pathlib import Path

from benchmarks.datasets import SHARED, napire, nhs, nhs_sample
from benchmarks.transcripts import _one_line, _write_transcript

SEED_TITLES = {  # first words of each seed, so the manifest does not depend on the hashed names
    "000": "DWP secondment brief: good practice in interventions for ethnic minorities (evidence review)",
    "001": "Work Programme evaluation RR821 - publication page",
    "002": "Work Programme evaluation RR821 - research summary",
    "003": "Jobcentre Plus Support for Schools - pathfinder evaluation summary (RR932)",
    "004": "Joint Pilots Baseline Study - publication announcement",
}


def build_literature(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for seed in sorted((SHARED / "seeds").glob("*.txt")):
        shutil.copyfile(seed, folder / seed.name)
        rows.append({"file": seed.name, "kind": "literature", "title": SEED_TITLES.get(seed.name[:3], seed.stem),
                     "publisher": "DWP"})
    _manifest(folder, rows)


def build_interviews(folder: Path, count: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    by_respondent: dict[str, list[dict]] = defaultdict(list)
    for row in napire():
        respondent = row["respondent"].strip()
        if respondent and row["text"].strip():
            by_respondent[str(int(float(respondent)))].append(row)
    chosen = sorted(by_respondent, key=lambda r: (-len(by_respondent[r]), int(r)))[:count]
    rows = []
    for respondent in chosen:
        answers = sorted(by_respondent[respondent], key=lambda r: int(r["variable"].split("_")[1]))
        turns: list[tuple[str, str, str | None]] = []
        said = set()  # the survey repeats one answer under each critical problem it was asked about
        for row in answers:
            if _one_line(row["text"]) in said:
                continue
            said.add(_one_line(row["text"]))
            turns.append(("Interviewer", _one_line(row["question"]), None))
            turns.append(("Respondent", _one_line(row["text"]), None))
        name = f"respondent-{int(respondent):04d}.txt"
        _write_transcript(folder, name, turns)
        rows.append({"file": name, "kind": "interview", "role": "requirements engineer"})
    _manifest(folder, rows)


def build_survey(folder: Path, count: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    comments = nhs()
    with (folder / "patient-feedback.csv").open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["respondent_id", "question", "comment", "trust"])
        for i in nhs_sample(comments, count):
            row = comments[i]
            out.writerow([f"R{int(row['row_index']):05d}", row["question"], row["feedback"], row["organization"]])
    _manifest(folder, [{"file": "patient-feedback.csv", "kind": "survey", "instrument": "NHS patient feedback"}])


def _manifest(folder: Path, rows: list[dict]) -> None:
    fields = list(dict.fromkeys(k for row in rows for k in row))
    with (folder / "sources.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def score(project_path: Path) -> dict:
    from benchmarks.datasets import theme_report
    from synth.store import Project

    gold_of = {f"R{int(r['row_index']):05d}": r["subcategory"] for r in nhs()}
    with Project.open(project_path, write=False) as project:
        sources = {s.id: s for s in project.sources() if s.kind == "survey"}
        passages = [p for p in project.passages() if p.source_id in sources and p.codable]
        members = project.memberships_of([p.id for p in passages])
        best: dict[int, tuple[int, int]] = {}  # source id -> (length, theme)
        for p in passages:
            m = members.get(p.id)
            theme = m.theme_id if m is not None and m.placed and m.theme_id is not None else -1
            if theme >= 0 and (p.source_id not in best or len(p.text) > best[p.source_id][0]):
                best[p.source_id] = (len(p.text), theme)
        ids = sorted(sources)
        pred = [best.get(i, (0, -1))[1] for i in ids]
        gold = [gold_of[sources[i].metadata["respondent_id"]] for i in ids]
    return {"project": str(project_path), "rows": len(ids), **theme_report(pred, gold)}


def anchors(count: int) -> list[dict]:
    """Both BERTopic anchors (benchmarks.devsets.bertopic_runs) on the trial's survey comments, whole."""
    from benchmarks.datasets import embed, theme_report
    from benchmarks.devsets import bertopic_runs

    rows = nhs()
    picked = [rows[i] for i in nhs_sample(rows, count)]
    texts = [r["feedback"] for r in picked]
    runs = bertopic_runs(texts, embed(texts))
    return [{"project": variant, "rows": len(texts), **theme_report([int(t) for t in topics],
                                                                    [r["subcategory"] for r in picked])}
            for variant, (topics, _) in runs.items()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", type=Path, nargs="?")
    ap.add_argument("--score", type=Path, nargs="+", help="score discovered projects (see the docstring)")
    ap.add_argument("--anchors", action="store_true", help="--score: BERTopic's two anchors on the same comments too")
    ap.add_argument("--interviews", type=int, default=20)
    ap.add_argument("--comments", type=int, default=1500)
    args = ap.parse_args()
    if args.score:
        for path in args.score:
            print(json.dumps(score(path)))
        if args.anchors:
            for row in anchors(args.comments):
                print(json.dumps(row))
        return
    if args.folder is None:
        ap.error("give the folder to build, or --score PROJECT")
    if args.folder.exists():
        shutil.rmtree(args.folder)
    build_literature(args.folder / "literature")
    build_interviews(args.folder / "interviews", args.interviews)
    build_survey(args.folder / "survey", args.comments)
    print(f"built {args.folder}")


if __name__ == "__main__":
    main()
