"""Speed benchmark: `synth ingest` + `synth discover` against plain BERTopic, at growing corpus sizes.

For each size N it builds a table of N passages from the dev sets (bill summaries and survey answers,
recombined at sentence level beyond the originals so that no two texts are the same), and measures,
each command in its own process (wall time, and peak resident memory from the kernel's rusage):

- cold: `synth ingest` of the table into a new project, then `synth discover` (empty cache);
- warm: `synth ingest` of 1% new rows into the same project, then `synth discover` again;
- the stages: discover's own timings (stored in the run's report), reading + segmenting the table;
- the baseline: a bare `SentenceTransformer.encode` of the same passages with the same model (that is
  what BERTopic does to embed them), then `BERTopic(embedding_model=…).fit_transform(docs, embeddings=…)`
  with all defaults: BERTopic = encode process + fit_transform;
- the faster embedding routes (synth.fast_embed), when asked: their encode time on the same passages,
  and a full `synth discover --embedder ROUTE` when the CLI has that option;
- the review app on the largest project: the theme list and one theme page, through a real ASGI client.

Results go to OUT/results.json (rewritten after every measurement, so an interrupted run keeps what
it measured); `--markdown` prints the tables for docs/benchmarks.md.

Examples:
  .venv/bin/python -m benchmarks.speed --sizes 1000,10000
  nohup .venv/bin/python -m benchmarks.speed --sizes 1000,10000,50000,100000 --routes onnx-int8 > bench.log 2>&1 &
  .venv/bin/python -m benchmarks.speed --quality            # the routes' quality on the dev sets
  .venv/bin/python -m benchmarks.speed --markdown /tmp/synth-bench/results.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import datasets, machine
from benchmarks.corpus import MAX_CHARS, make_corpus, write_csv
from benchmarks.timing import measure, say

REPO = Path(__file__).resolve().parent.parent
SYNTH = [str(Path(sys.executable).parent / "synth")]


# -- measuring a command ---------------------------------------------------------------------------

def child(kind: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "benchmarks.speed", "--child", kind, *args]


# The child finds this package from any folder; REPO goes last, so a PYTHONPATH naming another
# checkout still decides which synth the child imports, as it does for the parent.
CHILD_ENV = {"PYTHONPATH": os.pathsep.join(p for p in (os.environ.get("PYTHONPATH"), str(REPO)) if p)}


# -- what the child processes do -------------------------------------------------------------------

def _load_texts(path: str) -> list[str]:
    return [json.loads(line) for line in Path(path).open(encoding="utf-8")]


def _child(kind: str, args: list[str]) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    out: dict = {}
    if kind in ("encode", "encode64"):  # BERTopic's embedding step: SentenceTransformer.encode, its defaults
        texts_path, npy_path, result_path = args  # (encode64: synth's batch size of 64, for a like-for-like rate)
        import numpy as np
        from sentence_transformers import SentenceTransformer

        from synth.embed import resolve_model

        texts = _load_texts(texts_path)
        t = time.perf_counter()
        model = SentenceTransformer(str(resolve_model().folder), device="cpu")
        out["load_s"] = time.perf_counter() - t
        t = time.perf_counter()
        vectors = model.encode(texts, show_progress_bar=False, **({"batch_size": 64} if kind == "encode64" else {}))
        out["encode_s"] = time.perf_counter() - t
        if kind == "encode":
            np.save(npy_path, vectors)
    elif kind == "bertopic":  # BERTopic defaults, given the embeddings the step above made
        texts_path, npy_path, result_path = args
        import numpy as np
        from bertopic import BERTopic
        from sentence_transformers import SentenceTransformer

        from synth.embed import resolve_model

        texts, vectors = _load_texts(texts_path), np.load(npy_path)
        topic_model = BERTopic(embedding_model=SentenceTransformer(str(resolve_model().folder), device="cpu"))
        t = time.perf_counter()
        topics, _ = topic_model.fit_transform(texts, embeddings=vectors)
        out["fit_s"] = time.perf_counter() - t
        out["topics"] = len(set(topics) - {-1})
    elif kind == "route":  # one embedding route (already built) on the same passages
        route, texts_path, result_path = args
        from synth.fast_embed import embedder_for

        texts = _load_texts(texts_path)
        t = time.perf_counter()
        embedder = embedder_for(route)
        embedder.encode(texts[:8])  # loads the model
        out["load_s"] = time.perf_counter() - t
        t = time.perf_counter()
        embedder.encode(texts)
        out["encode_s"] = time.perf_counter() - t
    elif kind == "segment":  # ingest's reading and segmenting, without the store
        csv_path, result_path = args
        from synth.readers import read_paths
        from synth.segment import segment_many

        t = time.perf_counter()
        docs = read_paths([Path(csv_path)], text_column="text", id_column="id")
        out["read_s"] = time.perf_counter() - t
        t = time.perf_counter()
        spans = segment_many([(d.text, d.turns) for d in docs], max_chars=MAX_CHARS)
        out["segment_s"] = time.perf_counter() - t
        out["passages"] = sum(len(s) for s in spans)
    elif kind == "review":  # the review app on a project: theme list and one theme page
        project_path, result_path = args
        out = _time_review_app(Path(project_path))
    else:
        raise SystemExit(f"unknown child kind {kind!r}")
    Path(result_path).write_text(json.dumps(out), encoding="utf-8")


def _time_review_app(project_path: Path, repeats: int = 5) -> dict:
    import asyncio

    import httpx

    from synth.review.app import create_app
    from synth.store import Project

    with Project.open(project_path, create=False) as project:
        themes = sorted(project.themes(), key=lambda t: t.id)
    biggest = themes[0].id if themes else None

    async def run() -> dict:
        app = create_app(project_path, reviewer="bench")
        transport = httpx.ASGITransport(app=app)
        out: dict = {}
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            for name, url in (("theme_list", "/"), ("theme_page", f"/themes/{biggest}")):
                times = []
                for _ in range(repeats):
                    t = time.perf_counter()
                    response = await client.get(url)
                    times.append(time.perf_counter() - t)
                    if response.status_code != 200:
                        raise RuntimeError(f"GET {url}: HTTP {response.status_code}")
                out[f"{name}_s"] = round(statistics.median(times), 3)
                out[f"{name}_first_s"] = round(times[0], 3)
        return out

    return asyncio.run(run())


def run_child(kind: str, args: list[str], log: Path, result: Path) -> dict:
    measured = measure(child(kind, *args, str(result)), log, env=CHILD_ENV)
    return {**measured, **json.loads(result.read_text(encoding="utf-8"))}


# -- one size --------------------------------------------------------------------------------------

def _latest_report(project_path: Path) -> dict:
    from synth.store import Project

    with Project.open(project_path, create=False) as project:
        run = project.latest_run()
    report = run["report"] if isinstance(run["report"], dict) else json.loads(run["report"])
    return {"seconds": report.get("seconds", {}), "passages": report.get("passages"),
            "embedder": report.get("embedder") or run["params"].get("embedder", "pytorch"),
            "embeddings_computed": report.get("embeddings_computed"),
            "embeddings_reused": report.get("embeddings_reused"), "themes": report.get("themes"),
            "coverage": report.get("coverage"),
            "cluster_seconds": (run.get("stats") or {}).get("seconds", {})}


def _passage_texts(project_path: Path) -> list[str]:
    from synth.store import Project

    with Project.open(project_path, create=False) as project:
        return [p.text for p in project.passages(codable_only=True)]


def _copy_project(src: Path, dst: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(str(dst) + suffix).unlink(missing_ok=True)
        if Path(str(src) + suffix).exists():
            shutil.copyfile(str(src) + suffix, str(dst) + suffix)


def _discover_has_embedder_option() -> bool:
    help_text = subprocess.run([*SYNTH, "discover", "--help"], capture_output=True, text=True).stdout
    return "--embedder" in help_text


def bench_size(n: int, out: Path, results: dict, *, routes: list[str], baseline: bool, review: bool,
               fair_encode: bool = False) -> None:
    work = out / f"n{n}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    log = work / "commands.log"
    r: dict = {}
    results.setdefault("sizes", {})[str(n)] = r
    save = lambda: (out / "results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")  # noqa: E731

    base_rows, extra_rows = make_corpus(n, max(1, n // 100))
    write_csv(base_rows, work / "base.csv")
    write_csv(extra_rows, work / "extra.csv")
    project = work / "review.synth"
    ingest = [*SYNTH, "ingest", str(project)]
    table = ["--text-column", "text", "--id-column", "id"]

    say(f"n={n}: cold ingest")
    r["cold_ingest"] = measure([*ingest, str(work / "base.csv"), *table], log)
    _copy_project(project, work / "ingested.synth")
    save()
    say(f"n={n}: cold discover")
    r["cold_discover"] = measure([*SYNTH, "discover", str(project)], log, env={"PYTHONUNBUFFERED": "1"})
    r["cold_report"] = _latest_report(project)
    texts = _passage_texts(project)
    r["passages"] = len(texts)
    texts_path = work / "passages.jsonl"
    texts_path.write_text("".join(json.dumps(t) + "\n" for t in texts), encoding="utf-8")
    save()
    say(f"n={n}: warm ingest + discover ({len(extra_rows)} new rows)")
    r["warm_ingest"] = measure([*ingest, str(work / "extra.csv"), *table], log)
    r["warm_discover"] = measure([*SYNTH, "discover", str(project)], log, env={"PYTHONUNBUFFERED": "1"})
    r["warm_report"] = _latest_report(project)
    save()
    say(f"n={n}: read + segment")
    r["segment"] = run_child("segment", [str(work / "base.csv")], log, work / "segment.json")
    save()
    if baseline:
        say(f"n={n}: bare SentenceTransformer.encode")
        r["bare_encode"] = run_child("encode", [str(texts_path), str(work / "vectors.npy")], log,
                                     work / "encode.json")
        save()
        say(f"n={n}: BERTopic fit_transform")
        r["bertopic_fit"] = run_child("bertopic", [str(texts_path), str(work / "vectors.npy")], log,
                                      work / "bertopic.json")
        (work / "vectors.npy").unlink(missing_ok=True)
        save()
    if baseline and fair_encode:
        say(f"n={n}: bare SentenceTransformer.encode, batch size 64")
        r["bare_encode64"] = run_child("encode64", [str(texts_path), str(work / "unused.npy")], log,
                                       work / "encode64.json")
        save()
    full_discover = _discover_has_embedder_option()
    for route in routes:
        say(f"n={n}: route {route}")
        r.setdefault("routes", {})[route] = run_child("route", [route, str(texts_path)], log,
                                                      work / f"route-{route}.json")
        if full_discover:
            routed = work / f"{route}.synth"
            _copy_project(work / "ingested.synth", routed)
            r["routes"][route]["discover"] = measure([*SYNTH, "discover", str(routed), "--embedder", route], log)
            r["routes"][route]["report"] = _latest_report(routed)
            Path(routed).unlink()
        save()
    if review and (REPO / "synth" / "review" / "app.py").exists():
        say(f"n={n}: review app")
        r["review"] = run_child("review", [str(project)], log, work / "review.json")
        save()
    for name in ("ingested.synth", "passages.jsonl"):
        (work / name).unlink(missing_ok=True)
    say(f"n={n}: done")


def build_routes(routes: list[str]) -> dict:
    """Build each route once, before any timing (the build is a one-off, not part of a run)."""
    from synth.fast_embed import prepare_route

    built = {}
    for route in routes:
        t = time.perf_counter()
        spec = prepare_route(route)
        built[route] = {"model_id": spec.model_id, "prepare_s": round(time.perf_counter() - t, 1)}
    return built


# -- embedding throughput, interleaved ---------------------------------------------------------------

def embed_ab(n: int, rounds: int, routes: list[str]) -> dict:
    """synth's embedders and a bare encode on the same n passages, taking turns, `rounds` times each.

    Taking turns puts every method under the same background load, which on a shared machine
    drifts more between minutes than the methods differ. Medians of the rounds; models loaded first.
    """
    from sentence_transformers import SentenceTransformer

    from synth.embed import Embedder, embed_with_cache, resolve_model, text_sha256
    from synth.fast_embed import embedder_for

    texts = [row["text"] for row in make_corpus(n, 0)[0]]
    hashes = [text_sha256(t) for t in texts]
    spec = resolve_model()
    bare = SentenceTransformer(str(spec.folder), device="cpu")
    synth = Embedder(spec)
    methods = {
        "bare encode (batch 32, BERTopic's)": lambda: bare.encode(texts, show_progress_bar=False),
        "bare encode (batch 64, normalised)": lambda: bare.encode(texts, batch_size=64, normalize_embeddings=True,
                                                                  show_progress_bar=False),
        "synth embed_with_cache (pytorch)": lambda: embed_with_cache(texts, hashes, {}, synth),
    }
    for route in routes:
        encoder = embedder_for(route)
        methods[f"synth embed_with_cache ({route})"] = (lambda e=encoder: embed_with_cache(texts, hashes, {}, e))
    bare.encode(texts[:64])  # load every model and warm up its threads
    synth.encode(texts[:64])
    for route in routes:
        embedder_for(route).encode(texts[:64])
    seconds: dict[str, list[float]] = {name: [] for name in methods}
    for r in range(rounds):
        for name, method in methods.items():
            t = time.perf_counter()
            method()
            seconds[name].append(time.perf_counter() - t)
            say(f"embed a/b round {r + 1}: {name} {seconds[name][-1]:.1f} s")
    return {"passages": n, "rounds": rounds,
            "seconds": {name: [round(x, 2) for x in xs] for name, xs in seconds.items()},
            "median_s": {name: round(statistics.median(xs), 2) for name, xs in seconds.items()}}


# -- quality of the routes on the dev sets ----------------------------------------------------------

def quality(routes: list[str]) -> dict:
    """How far each route's vectors stay from the default model's, on both dev sets.

    bills (1,000 summaries, 21 topics): k-means with k = 21 (ARI, NMI against the topics), and the
    leave-one-out topic accuracy of the 10 nearest neighbours; napire (survey answers, 5 labels):
    the 10-nearest-neighbour label accuracy. Agreement with default: the share of each text's
    10 nearest neighbours that the default model also has among its 10, and (same space only)
    the mean cosine between a text's two vectors.
    """
    import numpy as np
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    from synth.fast_embed import embedder_for

    bills = datasets.bills()
    answers = datasets.napire()
    answers = list({a["text"]: a for a in answers if a["text"].strip()}.values())
    sets = {"bills": ([b["summary"] for b in bills], [b["topic"] for b in bills]),
            "napire": ([a["text"] for a in answers], [a["label"] for a in answers])}

    def neighbours(v: np.ndarray, k: int = 10) -> np.ndarray:
        sims = v @ v.T
        np.fill_diagonal(sims, -np.inf)
        return np.argsort(-sims, axis=1)[:, :k]

    def knn_accuracy(nn: np.ndarray, labels: list[str]) -> float:
        y = np.array(labels)
        votes = [max(set(y[row]), key=list(y[row]).count) for row in nn]
        return float(np.mean(np.array(votes) == y))

    out: dict = {}
    reference: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for route in ["pytorch", *[r for r in routes if r != "pytorch"]]:
        embedder = embedder_for(route)
        embedder.encode(["warm up"])
        out[route] = {"model_id": embedder.spec.model_id}
        for name, (texts, labels) in sets.items():
            t = time.perf_counter()
            v = embedder.encode(texts)
            seconds = time.perf_counter() - t
            nn = neighbours(v)
            row = {"texts": len(texts), "encode_s": round(seconds, 2), "per_s": round(len(texts) / seconds, 1),
                   "knn10_accuracy": round(knn_accuracy(nn, labels), 4)}
            if name == "bills":
                k = len(set(labels))
                km = KMeans(n_clusters=k, n_init=10, random_state=0).fit_predict(v)
                row["kmeans_ari"] = round(adjusted_rand_score(labels, km), 4)
                row["kmeans_nmi"] = round(normalized_mutual_info_score(labels, km), 4)
            if route == "pytorch":
                reference[name] = (v, nn)
            else:
                ref_v, ref_nn = reference[name]
                row["neighbour_agreement"] = round(float(np.mean(
                    [len(set(a) & set(b)) / len(a) for a, b in zip(nn, ref_nn)])), 4)
                if v.shape == ref_v.shape:
                    row["cosine_to_default"] = round(float(np.mean(np.sum(v * ref_v, axis=1))), 4)
            out[route][name] = row
            say(f"quality {route} {name}: {row}")
    return out


# -- the tables ---------------------------------------------------------------------------------------

def _mib(x: float) -> str:
    return f"{x / 1024:.2f} GiB" if x >= 1024 else f"{x:.0f} MiB"


def _dur(s: float) -> str:
    return f"{s / 60:.1f} min" if s >= 120 else f"{s:.1f} s"


def markdown(results: dict) -> str:
    lines = []
    sizes = sorted(results.get("sizes", {}).items(), key=lambda kv: int(kv[0]))
    if not sizes:
        lines.append("(no sizes measured)")
    else:
        lines += _size_tables(sizes, results)
    return "\n".join(lines + _quality_and_machine(results))


def _size_tables(sizes: list, results: dict) -> list[str]:
    lines: list[str] = []
    lines += ["| passages | synth route | synth cold (ingest + discover) | BERTopic (encode + fit) | cold ÷ BERTopic | "
              "synth warm (+1%) | warm ÷ cold | peak memory synth | peak memory BERTopic |",
              "|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    for n, r in sizes:
        if "cold_discover" not in r:
            continue
        cold = r["cold_ingest"]["wall_s"] + r["cold_discover"]["wall_s"]
        warm = r["warm_ingest"]["wall_s"] + r["warm_discover"]["wall_s"] if "warm_discover" in r else None
        peak = max(r["cold_ingest"]["peak_mib"], r["cold_discover"]["peak_mib"],
                   r.get("warm_ingest", {}).get("peak_mib", 0), r.get("warm_discover", {}).get("peak_mib", 0))
        if "bertopic_fit" in r:
            base = r["bare_encode"]["wall_s"] + r["bertopic_fit"]["fit_s"]
            base_peak = max(r["bare_encode"]["peak_mib"], r["bertopic_fit"]["peak_mib"])
            base_cells = [_dur(base), f"{cold / base:.2f}×", ]
        else:
            base_cells, base_peak = ["not measured", ""], None
        lines.append(f"| {r.get('passages', n):,} | {r['cold_report'].get('embedder', 'pytorch')} (default) | {_dur(cold)} | "
                     f"{base_cells[0]} | {base_cells[1]} | "
                     f"{_dur(warm) if warm else ''} | {f'{warm / cold:.2f}×' if warm else ''} | {_mib(peak)} | "
                     f"{_mib(base_peak) if base_peak else ''} |")
        for route, rr in r.get("routes", {}).items():  # the same cold run with another route, where measured
            if "discover" in rr and route != r["cold_report"].get("embedder"):
                routed = r["cold_ingest"]["wall_s"] + rr["discover"]["wall_s"]
                ratio = f"{routed / base:.2f}×" if "bertopic_fit" in r else ""
                lines.append(f"| {r.get('passages', n):,} | {route} (--embedder) | {_dur(routed)} | {base_cells[0]} | "
                             f"{ratio} | | | {_mib(max(r['cold_ingest']['peak_mib'], rr['discover']['peak_mib']))} | |")
    any_fair = any("bare_encode64" in r for _, r in sizes)
    lines += ["", "Embedding throughput (passages per second; synth = discover's whole embed stage, model "
                  "check and load included; bare = `SentenceTransformer(folder).encode(texts)`, load included):", "",
              "| passages | synth embed stage | bare encode (batch 32, BERTopic's) | synth ÷ bare | "
              + ("bare encode, batch 64 (synth's) | synth ÷ bare 64 | " if any_fair else "")
              + "embedded by synth (distinct) |",
              "|---:|---:|---:|---:|" + ("---:|---:|" if any_fair else "") + "---:|"]
    for n, r in sizes:
        if "bare_encode" not in r or "cold_report" not in r:
            continue
        p = r["passages"]
        synth_s = r["cold_report"]["seconds"].get("embed")
        bare_s = r["bare_encode"]["load_s"] + r["bare_encode"]["encode_s"]
        fair = r.get("bare_encode64")
        fair_s = fair["load_s"] + fair["encode_s"] if fair else None
        fair_cells = f"{p / fair_s:.0f}/s ({_dur(fair_s)}) | {fair_s / synth_s:.2f} | " if fair_s and synth_s \
            else ("not measured | | " if any_fair else "")
        if synth_s:
            lines.append(f"| {p:,} | {p / synth_s:.0f}/s ({_dur(synth_s)}) | {p / bare_s:.0f}/s ({_dur(bare_s)}) | "
                         f"{bare_s / synth_s:.2f} | {fair_cells}{r['cold_report'].get('embeddings_computed')} |")
    stage_names = ["embed", "reduce", "cluster", "label", "categorise", "store"]
    for _, r in sizes:
        for key in ("cold_report", "warm_report"):
            for stage in r.get(key, {}).get("seconds", {}):
                if stage not in stage_names:
                    stage_names.append(stage)
    lines += ["", "Stages (seconds; cold run, warm run in brackets; read and segment measured apart from ingest; "
                  "reduce = the clustering's neighbour smoothing, part of cluster):", "",
              "| passages | ingest (total) | read | segment | " + " | ".join(stage_names) + " |",
              "|---:|---:|---:|---:|" + "---:|" * len(stage_names)]
    for n, r in sizes:
        if "cold_report" not in r:
            continue
        cold_s, warm_s = dict(r["cold_report"]["seconds"]), dict(r.get("warm_report", {}).get("seconds", {}))
        for stage_s, report in ((cold_s, r["cold_report"]), (warm_s, r.get("warm_report", {}))):
            if "neighbours" in report.get("cluster_seconds", {}):
                stage_s["reduce"] = report["cluster_seconds"]["neighbours"]
        cells = [f"{cold_s[s]:.1f} ({warm_s.get(s, 0):.1f})" if s in cold_s else "" for s in stage_names]
        seg = r.get("segment", {})
        lines.append(f"| {r['passages']:,} | {r['cold_ingest']['wall_s']:.1f} ({r.get('warm_ingest', {}).get('wall_s', 0):.1f}) | "
                     f"{seg.get('read_s', 0):.1f} | {seg.get('segment_s', 0):.1f} | " + " | ".join(cells) + " |")
    route_rows = [(n, route, rr) for n, r in sizes for route, rr in r.get("routes", {}).items()]
    if route_rows:
        lines += ["", "Embedding routes on the same passages (encode only, model loaded; `synth discover "
                      "--embedder ROUTE` wall time where measured; for the ratio to a bare encode see the "
                      "turn-taking table, as these ran minutes apart from it):", "",
                  "| passages | route | encode | passages/s | discover wall |",
                  "|---:|---|---:|---:|---:|"]
        for n, route, rr in route_rows:
            r = results["sizes"][n]
            p = r["passages"]
            enc = rr.get("encode_s")
            walls = "not measured"
            if "discover" in rr:
                walls = f"{_dur(rr['discover']['wall_s'])} (embed {_dur(rr['report']['seconds']['embed'])}; " \
                        f"{_mib(rr['discover']['peak_mib'])} peak)"
            lines.append(f"| {p:,} | {route} | {_dur(enc) if enc else ''} | {f'{p / enc:.0f}' if enc else ''} | "
                         f"{walls} |")
    review = [(n, r["review"]) for n, r in sizes if "review" in r]
    if review:
        lines += ["", "| passages | theme list (median of 5, first) | theme page (median of 5, first) |",
                  "|---:|---:|---:|"]
        for n, rv in review:
            lines.append(f"| {int(n):,} | {rv['theme_list_s']:.3f} s ({rv['theme_list_first_s']:.3f} s) | "
                         f"{rv['theme_page_s']:.3f} s ({rv['theme_page_first_s']:.3f} s) |")
    return lines


def _quality_and_machine(results: dict) -> list[str]:
    lines: list[str] = []
    ab = results.get("embed_ab")
    if ab:
        base = ab["median_s"]["bare encode (batch 32, BERTopic's)"]
        lines += ["", f"Embedding, taking turns on the same {ab['passages']:,} passages ({ab['rounds']} rounds, "
                      "median; models loaded):", "",
                  "| method | seconds | passages/s | throughput ÷ bare encode (batch 32) |", "|---|---:|---:|---:|"]
        for name, sec in ab["median_s"].items():
            lines.append(f"| {name} | {sec:.1f} | {ab['passages'] / sec:.0f} | {base / sec:.2f} |")
    q = results.get("quality")
    if q:
        lines += ["", "| route | bills k-means ARI / NMI | bills 10-NN topic acc. | napire 10-NN label acc. | "
                      "neighbour agreement with pytorch (bills / napire) | cosine to pytorch | encode bills + napire |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for route, row in q.items():
            b, a = row["bills"], row["napire"]
            agree = (f"{b['neighbour_agreement']:.2f} / {a['neighbour_agreement']:.2f}"
                     if "neighbour_agreement" in b else "1 (itself)")
            cos = f"{b['cosine_to_default']:.3f}" if "cosine_to_default" in b else ("1" if route == "pytorch" else
                                                                                    "other space")
            lines.append(f"| {route} | {b['kmeans_ari']:.3f} / {b['kmeans_nmi']:.3f} | {b['knn10_accuracy']:.3f} | "
                         f"{a['knn10_accuracy']:.3f} | {agree} | {cos} | {b['encode_s'] + a['encode_s']:.1f} s |")
    m = results.get("machine")
    if m:
        lines += ["", f"Machine: {m['cpu']}, {m['cores']} cores (AVX2 {'yes' if m['avx2'] else 'no'}), "
                      f"{m['memory_gib']} GiB, no GPU used; Python {m['python']}, torch {m['torch']}; "
                      f"load average at start {', '.join(f'{x:.1f}' for x in m['load_average'])}."]
    return lines


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="passage counts, comma-separated (default: 1000,10000)")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "synth-bench",
                        help="working folder and results.json (default: TMPDIR/synth-bench)")
    parser.add_argument("--routes", default="", help="faster embedding routes to time too, e.g. onnx-int8,static")
    parser.add_argument("--no-baseline", action="store_true", help="skip bare encode and BERTopic")
    parser.add_argument("--fair-encode", action="store_true",
                        help="also time a bare encode at batch size 64, beside BERTopic's default (32)")
    parser.add_argument("--no-review", action="store_true", help="skip timing the review app")
    parser.add_argument("--embed-ab", type=int, metavar="N",
                        help="time synth's embedding against a bare encode on N passages, taking turns")
    parser.add_argument("--rounds", type=int, default=3, help="rounds for --embed-ab (default 3)")
    parser.add_argument("--quality", action="store_true", help="measure the routes' quality on the dev sets")
    parser.add_argument("--markdown", type=Path, metavar="RESULTS_JSON", help="print the tables of a results file")
    args = parser.parse_args()
    if args.markdown:
        print(markdown(json.loads(args.markdown.read_text(encoding="utf-8"))))
        return
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    routes = [r for r in args.routes.split(",") if r]
    args.out.mkdir(parents=True, exist_ok=True)
    results_path = args.out / "results.json"
    results = json.loads(results_path.read_text(encoding="utf-8")) if results_path.exists() else {}
    results["machine"] = machine.facts()
    results.setdefault("commands", []).append(" ".join(["python", *sys.argv]))
    # Build, before any timing, the routes asked for and the one `discover`'s default (`auto`) takes
    # for a new project: a route is built once per machine, like a model download, not per run.
    from synth.fast_embed import choose_route

    auto = choose_route("auto")
    results["auto_route"] = {"name": auto.name, "reason": auto.reason}
    wanted = [r for r in dict.fromkeys([auto.name, *routes]) if r != "pytorch"]
    if wanted:
        results["routes_built"] = build_routes(wanted)
    if args.embed_ab:
        results["embed_ab"] = embed_ab(args.embed_ab, args.rounds, routes)
        results_path.write_text(json.dumps(results, indent=2), encoding="utf-8")
        print("\n".join(_quality_and_machine({"embed_ab": results["embed_ab"]})))
        return
    if args.quality:
        results["quality"] = quality(routes)
        results_path.write_text(json.dumps(results, indent=2), encoding="utf-8")
        print(markdown({"quality": results["quality"]}))
        return
    for n in [int(s) for s in args.sizes.split(",") if s]:
        bench_size(n, args.out, results, routes=routes, baseline=not args.no_baseline, review=not args.no_review,
                   fair_encode=args.fair_encode)
    print(markdown(results))


if __name__ == "__main__":
    main()
