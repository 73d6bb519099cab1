"""Benchmark the review app's pages at 100,000 passages (issue 12: every page under 0.5 s).

Builds a project of N passages directly through the store's tables (as scripts/bench_open.py
does: sources of 100 passages, a 384-float embedding per passage, 200 themes with centroids,
quotes and categories; 85 % of codable passages placed, 10 % unplaced with a nearest theme, 5 %
never placed; a decision log of a few hundred reviewer decisions and memos), serves it with the
review app under uvicorn on 127.0.0.1, and times real HTTP GETs of every page: median of R; then
the theme list, a theme and the unplaced page again, each GET just after another program changed
the project (so nothing the app keeps between requests can serve it).

The project is built once and kept (`--project PATH`, reused when it exists), because building
100k passages takes minutes on a small machine.

  .venv/bin/python scripts/bench_pages.py --project /tmp/rm-100k.synth --passages 100000
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from synth.store import Project, now_iso

THEMES = 200
MODEL = "bench-model"


def build(path: Path, n: int) -> None:
    """A project of `n` passages with the size and the tables of a real one, without a discover."""
    rng, vectors = random.Random(0), np.random.default_rng(0)
    words = [f"word{i}" for i in range(5000)]
    with Project.open(path) as project, project.transaction() as db:
        for s in range(n // 100):
            texts = [" ".join(rng.choice(words) for _ in range(45)) + "." for _ in range(100)]
            full = "\n\n".join(texts)
            kind = ("literature", "interview", "survey")[s % 3]
            sid = db.execute("INSERT INTO sources (name, kind, path, sha256, text, version, is_current, notes,"
                             " ingested_at) VALUES (?, ?, ?, ?, ?, 1, 1, '[]', ?)",
                             (f"s{s}.txt", kind, f"/x/s{s}.txt", hashlib.sha256(full.encode()).hexdigest(), full,
                              now_iso())).lastrowid
            db.execute("INSERT INTO source_metadata VALUES (?, 'region', ?)", (sid, f"region {s % 7}"))
            rows, at = [], 0
            for i, t in enumerate(texts):
                rows.append((sid, i, at, at + len(t), t, None, 1, hashlib.sha256(t.encode()).hexdigest()))
                at += len(t) + 2
            db.executemany("INSERT INTO passages (source_id, seq, start_char, end_char, text, speaker, codable,"
                           " text_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
            vecs = vectors.standard_normal((100, 384)).astype(np.float32)
            db.executemany("INSERT INTO embeddings VALUES (?, ?, ?)",
                           [(MODEL, r[7], v.tobytes()) for r, v in zip(rows, vecs)])
        run = db.execute("INSERT INTO runs (started_at, finished_at, seed, model_id, params, stats, report)"
                         " VALUES (?, ?, 42, ?, '{}', '{}', '{}')", (now_iso(), now_iso(), MODEL)).lastrowid
        categories = ("barrier", "enabler", "practice", "context")
        for t in range(THEMES):
            db.execute("INSERT INTO themes (guid, label, definition, top_terms, category, category_confidence,"
                       " updated_at, centroid, created_run, last_run) VALUES (?, ?, ?, ?, ?, 0.7, ?, ?, ?, ?)",
                       (f"g{t}", f"theme {t}", f"definition of theme {t}",
                        json.dumps([f"word{t}", f"word{t + 1}"]), categories[t % 4], now_iso(),
                        vectors.standard_normal(384).astype(np.float32).tobytes(), run, run))
        ids = [r[0] for r in db.execute("SELECT id FROM passages ORDER BY id")]
        placed = [(i, 1 + i % THEMES, 0.8, 1, 0, run) for i in ids if i % 20 < 17]
        unplaced = [(i, 1 + i % THEMES, 0.3, 0, 0, run) for i in ids if 17 <= i % 20 < 19]
        db.executemany("INSERT INTO memberships VALUES (?, ?, ?, ?, ?, ?)", placed + unplaced)
        db.executemany("INSERT INTO passage_categories (passage_id, category, barrier, enabler, practice, context,"
                       " cues, made_by) VALUES (?, ?, 0.5, 0.2, 0.2, 0.1, ?, 'cues')",
                       [(i, categories[i % 4], json.dumps([{"cue": "lack of"}])) for i in ids])
        quotes: dict[int, list[int]] = {}
        for passage_id, theme_id, *_ in placed:
            quotes.setdefault(theme_id, []).append(passage_id)
        db.executemany("INSERT INTO theme_quotes VALUES (?, ?, ?)",
                       [(t, r, p) for t, members in quotes.items() for r, p in enumerate(members[:5])])
    # A reviewer's session: accepts, rejects and memos through the real actions, so the log is real.
    from synth.review import actions

    with Project.open(path, create=False) as project:
        for t in range(1, 101):
            actions.accept(project, t, reviewer="alice")
        for t in range(101, 111):
            actions.reject(project, t, reviewer="alice")
        for i in range(300):
            actions.memo(project, f"memo {i}", reviewer="alice", passage_id=ids[i * 97 % len(ids)])


def pages(project_path: Path) -> dict[str, str]:
    Project.open(project_path, create=False).close()  # brings an older project's schema up to date
    with Project.open(project_path, create=False, write=False) as project:
        themes = sorted(project.themes(), key=lambda t: (-t.size, t.id))
        biggest = themes[0]
        source = project.sources()[len(project.sources()) // 2].id
    last_member_page = max(1, -(-biggest.size // 100))
    return {
        "theme list": "/",
        "theme list, all statuses, by size": "/?status=all&sort=size",
        "theme page": f"/themes/{biggest.id}",
        "theme page, last page": f"/themes/{biggest.id}?page={last_member_page}",
        "unplaced": "/unplaced",
        "unplaced, page 50": "/unplaced?page=50",
        "source": f"/sources/{source}",
        "log": "/log",
        "search": "/search?q=word12",
        "validate": "/validate",
    }


SERVE = """
import sys, uvicorn
from synth.review.app import create_app
uvicorn.run(create_app(sys.argv[1], reviewer="bench"), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


def time_pages(project_path: Path, repeats: int) -> dict[str, dict]:
    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    urls = pages(project_path)
    server = subprocess.Popen([sys.executable, "-c", SERVE, str(project_path), str(port)])
    out = {}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
            for _ in range(600):
                try:
                    client.get("/static/favicon.svg")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            for name, url in urls.items():
                times = []
                for _ in range(repeats):
                    started = time.perf_counter()
                    response = client.get(url)
                    times.append(time.perf_counter() - started)
                    if response.status_code != 200:
                        raise RuntimeError(f"GET {url}: HTTP {response.status_code}")
                out[name] = {"url": url, "median_s": statistics.median(times), "first_s": times[0],
                             "bytes": len(response.content)}
            # The same pages just after another program changed the project (a memo by another
            # reviewer, as the CLI would add it): nothing the app kept between requests holds then.
            from synth.review import actions

            for name in ("theme list", "theme page", "unplaced"):
                times = []
                for i in range(repeats):
                    with Project.open(project_path, create=False) as project:
                        actions.memo(project, f"bench change {i}", theme_id=1, reviewer="bench-other")
                    started = time.perf_counter()
                    response = client.get(urls[name])
                    times.append(time.perf_counter() - started)
                    if response.status_code != 200:
                        raise RuntimeError(f"GET {urls[name]}: HTTP {response.status_code}")
                out[f"{name}, after a change elsewhere"] = {"url": urls[name], "median_s": statistics.median(times),
                                                          "first_s": times[0], "bytes": len(response.content)}
    finally:
        server.terminate()
        server.wait(timeout=30)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--project", type=Path, default=Path("/tmp/bench-pages-100k.synth"))
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if not args.project.exists():
        started = time.perf_counter()
        build(args.project, args.passages)
        print(f"built {args.project} ({args.passages:,} passages) in {time.perf_counter() - started:.0f} s",
              file=sys.stderr)
    results = time_pages(args.project, args.repeats)
    print(f"| page | URL | median of {args.repeats} | first |")
    print("| --- | --- | --- | --- |")
    for name, r in results.items():
        print(f"| {name} | `{r['url']}` | {r['median_s']:.3f} s | {r['first_s']:.3f} s |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
