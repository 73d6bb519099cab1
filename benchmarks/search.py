"""Search benchmark: full-text search (synth.search.search, the one `synth search` and the review
app's /search page call) on a synthetic project of N passages.

The passages come from the three dev sets, recombined so no text repeats (benchmarks/corpus.py's
bill and NaPiRE answer streams, at most 30,000 bill texts, as the bills run out of new combinations
beyond that; and NHS feedback comments, alone then in pairs), each stored as one source, as a
survey table's rows are (so not benchmarks/synthetic.py's project of 100-passage sources). The
project is written through `Project` (so the FTS5 triggers index every insert, as in ingest), with
a discover-like state on top: 60 themes holding 80% of the passages, a category per passage, and a
reviewer's further coding on 1% of them. Then each query runs `--repeats` times; the median
is reported, for the library call and for the whole /search page through a real ASGI client.

Examples:
  .venv/bin/python -m benchmarks.search --passages 100000
  .venv/bin/python -m benchmarks.search --passages 100000 --keep /tmp/search100k.synth --markdown
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import random
import tempfile
import time
from pathlib import Path

from benchmarks import corpus, timing
from benchmarks.markdown import table

QUERIES = [  # (label, query, options)
    ("one common word", "health", {}),
    ("a very common word (listed, not ranked)", "the", {}),
    ("the most ranked: 19,931 matches", "requirements", {}),
    ("a prefix in 10,239", "service*", {}),
    ("a rare word", "veterans", {}),
    ("a phrase", '"mental health"', {}),
    ("a prefix", "employ*", {}),
    ("OR", "housing OR homeless*", {}),
    ("NOT", "health NOT insurance", {}),
    ("AND of two", "school AND funding", {}),
    ("with --kind", "health", {"kind": "survey"}),
    ("with --theme", "health", {"theme": True}),
    ("no match", "zyxwvut", {}),
]


def build(path: Path, n: int, seed: int = 0) -> dict:
    from synth.records import CATEGORIES, ExtractedDocument, PassageSpan
    from synth.store import Project, now_iso

    rows = corpus.three_sets(n, seed)
    rng = random.Random(seed)
    started = time.perf_counter()
    with Project.open(path) as project, project.transaction():
        run_id = project.add_run(started_at=now_iso(), seed=seed, model_id="bench", params={}, stats={}, report={})
        themes = [project.create_theme(label=f"theme {i}", run_id=run_id) for i in range(60)]
        for i, text in enumerate(rows):
            digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
            doc = ExtractedDocument(name=f"answers.csv#{i:07d}", path="answers.csv",
                                    kind="survey" if i % 2 else "literature", text=text, sha256=digest)
            _, (pid,) = project.add_source(doc, [PassageSpan(0, len(text), text)], [digest])
            category = rng.choice(CATEGORIES)
            project.set_passage_category(pid, category, {c: 0.7 if c == category else 0.1 for c in CATEGORIES}, [])
            if rng.random() < 0.8:
                project.set_membership(pid, rng.choice(themes), probability=rng.random(), placed=True,
                                       by_human=False, run_id=run_id)
            if rng.random() < 0.01:
                project.set_coding(pid, rng.choice(themes), reviewer="bench")
    return {"passages": len(rows), "build_seconds": round(time.perf_counter() - started, 1), "theme": themes[0]}


def time_queries(path: Path, theme: int, repeats: int) -> list[dict]:
    import httpx

    from synth.review.app import create_app
    from synth.search import search
    from synth.store import Project

    out = []
    app = create_app(path, reviewer="bench")

    async def page_times(params: dict) -> list[float]:
        times = []
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as client:
            for _ in range(repeats):
                t = time.perf_counter()
                r = await client.get("/search", params=params)
                times.append(time.perf_counter() - t)
                assert r.status_code == 200, r.text[:300]
        return times

    def search_once(**kw):
        with Project.open(path, create=False) as project:  # as each CLI call and each request does
            t = time.perf_counter()
            results = search(project, query, limit=50, **kw)
            return results, time.perf_counter() - t

    for label, query, options in QUERIES:
        kw = {"kind": options.get("kind"), "theme_id": theme if options.get("theme") else None}
        runs = [search_once(**kw) for _ in range(repeats)]  # the opening is not timed
        results, lib = runs[-1][0], [seconds for _, seconds in runs]
        params = {"q": query, **({"kind": kw["kind"]} if kw["kind"] else {}),
                  **({"theme": str(theme)} if kw["theme_id"] else {})}
        web = timing.Timed(tuple(asyncio.run(page_times(params))), None)
        out.append({"label": label, "query": query, "options": {k: v for k, v in kw.items() if v},
                    "matches": results.total, "more": results.more, "ranked": results.ranked,
                    "search_median_s": round(timing.Timed(tuple(lib), None).median, 4),
                    "search_max_s": round(max(lib), 4), "page_median_s": round(web.median, 4)})
        print(json.dumps(out[-1]), flush=True)
    return out


def markdown(result: dict) -> str:
    rows = []
    for r in result["queries"]:
        opts = "".join(f" --{k.replace('_id', '')} {v}" for k, v in r["options"].items())
        matches = f"more than {r['matches']:,}" if r.get("more") else f"{r['matches']:,}"
        rows.append((f"{r['label']}: `{r['query']}`{opts}", matches, f"{r['search_median_s'] * 1000:.0f} ms",
                     f"{r['search_max_s'] * 1000:.0f} ms", f"{r['page_median_s'] * 1000:.0f} ms"))
    return table(["query", "matches", "`search()` median", "max", "/search page median"], rows, align="lrrrr")

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="Build (or reuse) the project at this path.")
    parser.add_argument("--markdown", action="store_true", help="Print the table for docs/benchmarks.md.")
    args = parser.parse_args()
    path = args.keep or Path(tempfile.mkdtemp()) / "search.synth"
    if path.exists():
        from synth.store import Project

        with Project.open(path, create=False) as project:
            info = {"passages": project.counts()["passages"], "build_seconds": None,
                    "theme": min(t.id for t in project.themes())}
    else:
        info = build(path, args.passages)
    print(json.dumps(info), flush=True)
    result = {**info, "size_mib": round(path.stat().st_size / 2**20, 1),
              "queries": time_queries(path, info["theme"], args.repeats)}
    print(json.dumps(result, indent=2))
    if args.markdown:
        print(markdown(result))


if __name__ == "__main__":
    main()
