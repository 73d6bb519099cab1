"""Benchmark a category click in the review app on a real project: how long the POST takes to answer,
the page it leads to, and (where the app relearns in the background) how long until the new
suggestions are written, with the pages' times while that runs.

Serves a copy of PROJECT with the review app of CHECKOUT (a synth source tree: `main` before the
background relearn, this branch after) under uvicorn in its own process on 127.0.0.1, then for each
of `--clicks` passages (the same ones in every run: every 500th codable passage of a current source,
categories in turn) over real HTTP: GET the passage's source page (for the session's token), POST
its category with `back` = that page (timed: the click), GET the page the answer leads to (timed:
what the reviewer waits for in all), then GET it again every `--poll` seconds until it no longer says
"updating suggestions" (the relearn's duration, from the click; the GETs' own times while it runs),
then three times more with nothing running (the page's own time, for comparison).
Each click waits for the last one's relearn, so the clicks are measured alike; with `--burst` they
follow one another at once (a reviewer working down a list: each click lands while a relearn runs),
and only the last waits for the suggestions.

  PYTHONPATH=. python -m benchmarks.app_relearn /tmp/bg15-nhs/base.synth --checkout /work/main
  PYTHONPATH=. python -m benchmarks.app_relearn /tmp/bg15-nhs/base.synth --checkout .
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from synth.records import CATEGORIES
from synth.store import Project

SERVE = """
import sys, uvicorn
import synth
from synth.review.app import create_app
print("synth from", synth.__file__, file=sys.stderr)
uvicorn.run(create_app(sys.argv[1], reviewer="bench"), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""
RUNNING = "updating suggestions"


def clicks(project_path: Path, count: int) -> list[tuple[int, int, str]]:
    """(passage id, its source id, category) of each click."""
    with Project.open(project_path, create=False, write=False) as project:
        passages = project.passages(codable_only=True)
    chosen = passages[::500][:count]
    return [(p.id, p.source_id, CATEGORIES[i % len(CATEGORIES)]) for i, p in enumerate(chosen)]


def run(project_path: Path, checkout: Path, count: int, poll: float, timeout: float,
        burst: bool = False) -> list[dict]:
    import httpx

    work = Path(tempfile.mkdtemp(prefix="bg15-bench-"))
    copy = work / project_path.name
    shutil.copyfile(project_path, copy)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(checkout.resolve())}
    # Run from the checkout: `python -c` puts the working folder first on the path.
    server = subprocess.Popen([sys.executable, "-c", SERVE, str(copy), str(port)], env=env, cwd=checkout.resolve())
    print(f"serving with {checkout.resolve()}", file=sys.stderr)
    out = []
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=timeout) as client:
            for _ in range(1200):
                try:
                    client.get("/static/favicon.svg")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            chosen = clicks(copy, count)
            for n, (pid, sid, category) in enumerate(chosen):
                page = f"/sources/{sid}"
                text = client.get(page).text
                token = re.search(r'<meta name="csrf-token" content="([^"]+)">', text).group(1)
                started = time.perf_counter()
                r = client.post(f"/passages/{pid}/categorise",
                                data={"csrf_token": token, "category": category, "back": page})
                post_s = time.perf_counter() - started
                if r.status_code != 303:
                    raise RuntimeError(f"POST categorise {pid}: HTTP {r.status_code}: {r.text[:300]}")
                t = time.perf_counter()
                landed = client.get(r.headers["location"])
                get_s = time.perf_counter() - t
                flash = re.search(r'<p class="flash"[^>]*>([^<]*)<', landed.text)
                row = {"passage": pid, "category": category, "post_s": post_s, "landing_get_s": get_s,
                       "flash": flash.group(1) if flash else None, "gets_while_running_s": []}
                text = landed.text
                if burst and n < len(chosen) - 1:
                    out.append(row)
                    print(json.dumps(row), file=sys.stderr)
                    continue
                while RUNNING in text:
                    time.sleep(poll)
                    t = time.perf_counter()
                    text = client.get(page).text
                    if RUNNING in text:
                        row["gets_while_running_s"].append(time.perf_counter() - t)
                    if time.perf_counter() - started > timeout:
                        raise RuntimeError(f"the relearn after passage {pid} did not end in {timeout} s")
                done = re.search(r'id="relearn-status"[^>]*>([^<]*)<', text)
                row["relearned_after_s"] = time.perf_counter() - started if RUNNING in landed.text else None
                row["status"] = done.group(1) if done else None
                idle = []
                for _ in range(3):  # the same page with nothing running, beside the GETs above
                    t = time.perf_counter()
                    client.get(page)
                    idle.append(time.perf_counter() - t)
                row["idle_get_s"] = statistics.median(idle)
                out.append(row)
                print(json.dumps(row), file=sys.stderr)
    finally:
        server.terminate()
        server.wait(timeout=60)
        shutil.rmtree(work, ignore_errors=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("project", type=Path)
    parser.add_argument("--checkout", type=Path, default=Path("."), help="the synth source tree whose app serves")
    parser.add_argument("--clicks", type=int, default=5)
    parser.add_argument("--poll", type=float, default=2.0)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--burst", action="store_true", help="click on without waiting for the suggestions")
    parser.add_argument("--json", type=Path, help="also write every click's figures here")
    args = parser.parse_args()
    rows = run(args.project, args.checkout, args.clicks, args.poll, args.timeout, args.burst)

    def med(key: str) -> float:
        return statistics.median(r[key] for r in rows)

    posts = ", ".join(f"{r['post_s']:.2f}" for r in rows)
    idle = [r["idle_get_s"] for r in rows if "idle_get_s" in r]
    print(f"checkout {args.checkout}: {len(rows)} clicks; POST median {med('post_s'):.3f} s ({posts}); "
          f"landing page median {med('landing_get_s'):.3f} s; the page idle, median {statistics.median(idle):.3f} s")
    relearned = [r["relearned_after_s"] for r in rows if r.get("relearned_after_s") is not None]
    during = [s for r in rows for s in r["gets_while_running_s"]]
    if relearned:
        each = ", ".join(f"{s:.1f}" for s in relearned)
        print(f"suggestions written after median {statistics.median(relearned):.1f} s ({each}); page GETs "
              f"while relearning: median {statistics.median(during) if during else float('nan'):.3f} s "
              f"of {len(during)}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
