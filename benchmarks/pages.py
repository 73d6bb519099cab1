"""Benchmark the review app's pages at 100,000 passages (issue 12: every page under 0.5 s).

Builds a project of N passages directly through the store's tables (benchmarks/synthetic.py, as
benchmarks.open does: sources of 100 passages, a 384-float embedding per passage, 200 themes with
centroids, quotes and categories; 85 % of codable passages placed, 10 % unplaced with a nearest
theme, 5 % never placed; a decision log of a few hundred reviewer decisions and memos), serves it with the
review app under uvicorn on 127.0.0.1, and times real HTTP GETs of every page: median of R; then
the theme list, a theme and the unplaced page again, each GET just after another program changed
the project (so nothing the app keeps between requests can serve it).

The project is built once and kept (`--project PATH`, reused when it exists), because building
100k passages takes minutes on a small machine.

  .venv/bin/python -m benchmarks.pages --project /tmp/rm-100k.synth --passages 100000
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import synthetic, timing
from benchmarks.markdown import table
from synth.store import Project


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
            def get(url: str):
                response = client.get(url)
                if response.status_code != 200:
                    raise RuntimeError(f"GET {url}: HTTP {response.status_code}")
                return response

            for name, url in urls.items():
                timed = timing.repeat(lambda: get(url), repeats)
                out[name] = {"url": url, "median_s": timed.median, "first_s": timed.first,
                             "bytes": len(timed.result.content)}
            # The same pages just after another program changed the project (a memo by another
            # reviewer, as the CLI would add it): nothing the app kept between requests holds then.
            from synth.review import actions

            def change_elsewhere() -> None:
                with Project.open(project_path, create=False) as project:
                    actions.memo(project, "bench change", theme_id=1, reviewer="bench-other")

            for name in ("theme list", "theme page", "unplaced"):
                timed = timing.repeat(lambda: get(urls[name]), repeats, before=change_elsewhere)
                out[f"{name}, after a change elsewhere"] = {"url": urls[name], "median_s": timed.median,
                                                          "first_s": timed.first, "bytes": len(timed.result.content)}
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
        synthetic.build(args.project, args.passages)
        print(f"built {args.project} ({args.passages:,} passages) in {time.perf_counter() - started:.0f} s",
              file=sys.stderr)
    results = time_pages(args.project, args.repeats)
    print(table(["page", "URL", f"median of {args.repeats}", "first"],
                [(name, f"`{r['url']}`", f"{r['median_s']:.3f} s", f"{r['first_s']:.3f} s") for name, r in results.items()]))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
