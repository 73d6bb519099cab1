"""`synth discover --engine ray`: the same themes as in-process, on a real local Ray cluster; clear
one-line errors, and an unchanged project, when Ray is missing, the cluster is unreachable or a
worker fails."""

from __future__ import annotations

import importlib.util
import json
import re
import os
import shutil
import socket
import sqlite3
import sys

import numpy as np
import pytest

from conftest import DEMO, REPO, file_digest

NHS = REPO.parent / "shared" / "dev-data" / "nhs-feedback" / "phase1_feedback.csv"

needs_ray = pytest.mark.skipif(importlib.util.find_spec("ray") is None,
                               reason="Ray is not installed (pip install 'synth[ray]'); the Ray engine is untested here")


def _results(path) -> dict:
    """Everything discover decides, in comparable form (floats rounded well above BLAS noise)."""
    db = sqlite3.connect(path)
    try:
        themes = db.execute("SELECT id, label, definition, top_terms, category, status FROM themes ORDER BY id").fetchall()
        members = db.execute("SELECT passage_id, theme_id, placed, by_human, round(probability, 4) FROM memberships "
                             "ORDER BY passage_id").fetchall()
        quotes = db.execute("SELECT theme_id, passage_id, rank FROM theme_quotes ORDER BY theme_id, rank").fetchall()
        categories = db.execute("SELECT passage_id, category, round(barrier, 4), round(enabler, 4) "
                                "FROM passage_categories ORDER BY passage_id").fetchall()
        in_file = {d: np.frombuffer(v, dtype=np.float32) for d, v in
                   db.execute("SELECT text_sha256, vector FROM embeddings")}
        # Codable passages only: discover also embeds section headings in the driver (synth/section_split.py),
        # and a heading's text is the text of the (uncodable) heading passage it came from.
        passages = {d for (d,) in db.execute("SELECT text_sha256 FROM passages WHERE codable = 1")}
        (model_id,) = db.execute("SELECT model_id FROM runs ORDER BY id DESC LIMIT 1").fetchone()
    finally:
        db.close()
    beside = _vectors_beside(path, model_id, passages)
    return {"themes": themes, "members": members, "quotes": quotes, "categories": categories,
            "vectors": {**beside, **in_file}, "in_file": set(in_file), "beside": set(beside), "passages": passages}


def _vectors_beside(path, model_id, wanted):
    if importlib.util.find_spec("pyarrow") is None:
        return {}
    from synth.ray_shards import vectors_beside

    return vectors_beside(path, model_id, set(wanted))


@pytest.fixture(scope="module")
def demo_pair(tmp_path_factory):
    from conftest import Synth

    synth = Synth()
    root = tmp_path_factory.mktemp("ray")
    in_process, on_ray = root / "in-process.synth", root / "ray.synth"
    synth.ok("ingest", in_process, DEMO)
    shutil.copyfile(in_process, on_ray)
    return synth, in_process, on_ray


@needs_ray
@pytest.mark.slow
def test_ray_engine_gives_exactly_the_in_process_themes(demo_pair):
    synth, in_process, on_ray = demo_pair
    synth.ok("discover", in_process, "--seed", "42")
    out = synth.ok("discover", on_ray, "--seed", "42", "--engine", "ray", "--ray-workers", "2")
    assert "on Ray" in out
    a, b = _results(in_process), _results(on_ray)
    assert a["themes"] and len(a["members"]) > 100
    for key in ("themes", "members", "quotes", "categories"):
        assert a[key] == b[key], key
    assert a["vectors"].keys() == b["vectors"].keys()
    worst = max(float(np.abs(a["vectors"][d] - b["vectors"][d]).max()) for d in a["vectors"])
    assert worst < 1e-5, worst  # the same padded batches: the same vectors (bit for bit on this machine)
    # The passages' vectors live in the shards beside the Ray project, not in its file (which keeps
    # only what discover embedded in the driver: category prototypes); in-process, in the file.
    assert len(b["beside"]) > 100 and b["beside"] == a["in_file"] & a["passages"]
    assert not (b["in_file"] & b["passages"]) and not a["beside"]
    # Readers of the project's vectors find them beside it: search by meaning gives the same hits.
    query = ("search", "--semantic", "--json", "--limit", "10")
    hits = [[h["passage_id"] for h in json.loads(synth.ok(query[0], p, "childcare costs", *query[1:]))["hits"]]
            for p in (in_process, on_ray)]
    assert hits[0] and hits[0] == hits[1]
    # A re-run reuses every vector in the shards: nothing is embedded again, the themes stay.
    out = synth.ok("discover", on_ray, "--seed", "42", "--engine", "ray", "--ray-workers", "2")
    assert "computed 0 " in out, out
    assert _results(on_ray)["themes"] == a["themes"]


def test_missing_ray_is_one_line_and_changes_nothing(tmp_path, synth, monkeypatch):
    project = tmp_path / "review.synth"
    synth.ok("ingest", project, DEMO)
    before = file_digest(project)
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now fails as if it were not installed
    result = synth("discover", project, "--engine", "ray")
    assert result.exit_code == 1
    assert result.output.strip() == "Error: synth discover --engine ray needs Ray: pip install 'synth[ray]'"
    assert file_digest(project) == before


@needs_ray
def test_unreachable_cluster_names_the_address(tmp_path, synth):
    project = tmp_path / "review.synth"
    synth.ok("ingest", project, DEMO)
    before = file_digest(project)
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    address = f"127.0.0.1:{port}"
    result = synth("discover", project, "--engine", "ray", "--ray-address", address)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and address in lines[0] and "cannot connect" in lines[0], result.output
    assert file_digest(project) == before
    bad = synth("discover", project, "--engine", "ray", "--ray-address", "not-an-address")
    assert bad.exit_code == 1 and "not-an-address" in bad.output and "not an address" in bad.output
    assert file_digest(project) == before


def test_ray_options_need_the_ray_engine(tmp_path, synth):
    project = tmp_path / "review.synth"
    synth.ok("ingest", project, DEMO)
    result = synth("discover", project, "--ray-address", "10.0.0.5:6379")
    assert result.exit_code == 2 and "--engine ray" in result.output


def test_shards_round_trip_and_a_damaged_one_is_skipped(tmp_path):
    pytest.importorskip("pyarrow")
    from synth.ray_engine import read_shards, write_shard

    rng = np.random.default_rng(0)
    first = {f"d{i}": rng.standard_normal(384).astype(np.float32) for i in range(5)}
    write_shard(tmp_path, first)
    (tmp_path / "part-broken.parquet").write_bytes(b"PAR1 not really")
    got = read_shards(tmp_path, {"d1", "d3", "missing"})
    assert set(got) == {"d1", "d3"}
    assert np.array_equal(got["d1"], first["d1"]) and got["d3"].dtype == np.float32


@needs_ray
@pytest.mark.slow
def test_a_rerun_reuses_finished_batches_and_a_failed_worker_is_one_line(tmp_path):
    import dataclasses

    from synth.embed import text_sha256
    from synth.errors import SynthError
    from synth.fast_embed import OnnxEmbedder, embedder_for
    from synth.ray_engine import RayEngine, RaySettings, read_shards

    embedder = embedder_for("onnx")
    texts = [f"Passage {i}: the service {'helped' if i % 2 else 'failed'} people in area {i % 7}." for i in range(150)]
    hashes = [text_sha256(t) for t in texts]
    with RayEngine(tmp_path / "p.synth", RaySettings(workers=1)) as engine:
        first = engine(texts[:100], hashes[:100], {}, embedder)  # as if the run stopped after these batches
        shards = engine.shard_root / next(p.name for p in engine.shard_root.iterdir())
        assert set(read_shards(shards, set(hashes))) == set(hashes[:100])
        seen: list[tuple[int, int]] = []
        second = engine(texts, hashes, {}, embedder, lambda done, total: seen.append((done, total)))
        assert seen[0][0] > 100 - 1 and seen[-1] == (150, 150)  # only the 50 new passages went to the workers
        assert np.array_equal(second.vectors[:100], first.vectors)
        in_process = embedder.encode(texts[100:])
        assert float(np.abs(second.vectors[100:] - in_process).max()) < 1e-5

        # A worker whose model is not the driver's refuses to embed: the run stops with one line.
        wrong = OnnxEmbedder(dataclasses.replace(embedder.spec, model_id=embedder.spec.model_id + "0"))
        with pytest.raises(SynthError) as failure:
            engine(["A passage no worker will embed."], [text_sha256("A passage no worker will embed.")], {}, wrong)
        message = str(failure.value)
        assert "\n" not in message and "worker" in message and "project is unchanged" in message


def _nhs_table(folder, rows: int):
    """The first `rows` NHS feedback comments, as the table a survey team would ingest."""
    import csv

    with NHS.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        kept = [r for _, r in zip(range(rows), reader)]
    path = folder / "nhs.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["row_index", "organization", "feedback"], extrasaction="ignore")
        writer.writeheader()
        writer.writerows(kept)
    return path


@needs_ray
@pytest.mark.slow
@pytest.mark.skipif(not NHS.exists(), reason="the NHS feedback dev set (../shared/dev-data) is not here")
def test_two_thousand_survey_comments_give_exactly_the_in_process_themes(tmp_path, synth):
    """A few thousand passages: enough for several blocks per worker in every stage on the cluster."""
    in_process, on_ray = tmp_path / "in-process.synth", tmp_path / "ray.synth"
    synth.ok("ingest", in_process, _nhs_table(tmp_path, 2000), "--text-column", "feedback", "--kind", "survey")
    shutil.copyfile(in_process, on_ray)
    synth.ok("discover", in_process, "--seed", "7")
    synth.ok("discover", on_ray, "--seed", "7", "--engine", "ray", "--ray-workers", "2")
    a, b = _results(in_process), _results(on_ray)
    assert len(a["themes"]) >= 5 and len(a["categories"]) >= 1900
    for key in ("themes", "members", "quotes", "categories"):
        assert a[key] == b[key], key
    with sqlite3.connect(in_process) as one, sqlite3.connect(on_ray) as other:
        query = "SELECT text_sha256, lemmas, forms FROM passage_terms ORDER BY text_sha256"
        assert one.execute(query).fetchall() == other.execute(query).fetchall()


@needs_ray
def test_lemmas_and_categories_on_the_pool_are_the_in_process_ones(tmp_path):
    """The per-passage stages on a local cluster (two workers), block by block: each passage's
    lemmas and category are what the in-process functions give it (runs in CI: not slow)."""
    from synth.categorise import PrototypeIndex, categorise_passages
    from synth.fast_embed import embedder_for
    from synth.nlp import passage_terms
    from synth.ray_engine import RayEngine, RaySettings

    texts = [line for path in sorted((DEMO / "interviews").glob("*.txt"))
             for line in path.read_text(encoding="utf-8").splitlines() if len(line.split()) > 4][:150]
    assert len(texts) > 60
    embedder = embedder_for("onnx")
    vectors = embedder.encode(texts)
    prototypes = PrototypeIndex.build(embedder.encode)
    with RayEngine(tmp_path / "p.synth", RaySettings(workers=2)) as engine:
        terms = engine.passage_terms(texts)
        categories = engine.categorise_passages(texts, vectors, prototypes=prototypes)
        pids = set(engine.ray.get([actor.pid.remote() for actor in engine._pool()]))
    assert len(pids) == 2 and os.getpid() not in pids  # two worker processes, not this one
    assert terms == passage_terms(texts)
    expected = categorise_passages(texts, vectors, prototypes=prototypes)
    assert [c.category for c in categories] == [c.category for c in expected]
    assert [c.cues for c in categories] == [c.cues for c in expected]
    for got, want in zip(categories, expected):
        assert got.scores == pytest.approx(want.scores, abs=1e-6)


@needs_ray
def test_clustering_assigns_the_passages_on_the_pool_exactly_as_in_process(tmp_path, monkeypatch):
    """Clustering fits on a sample of the passages (max_fit) in the driver; the smoothing, the
    corpus-wide k-means passes and the assignment of every passage run as maps over blocks on a local
    cluster of two workers: the same themes, placements and probabilities as in-process, bit for
    bit; a worker lost during a map is one line (runs in CI)."""
    import signal

    import synth.assign as assign
    from synth.cluster import ClusterParams, cluster_passages
    from synth.errors import SynthError
    from synth.ray_engine import RayEngine, RaySettings

    monkeypatch.setattr(assign, "ASSIGN_ROWS", 400)  # several blocks for each worker
    rng = np.random.default_rng(11)
    centres = rng.standard_normal((10, 48))
    X = (centres[rng.integers(0, 10, 2400)] + rng.standard_normal((2400, 48))).astype(np.float32)
    groups = rng.integers(0, 30, 2400)
    params = ClusterParams(seed=11, max_fit=600)
    here = cluster_passages(X, group_ids=groups, params=params)
    from synth.ray_engine import RayBlocks

    blocks: list[tuple[str, int]] = []

    class Counted(RayBlocks):
        def __call__(self, fn, shared, parts):
            parts = list(parts)
            blocks.append((fn.__name__, len(parts)))
            assert fn.__name__ == "smooth_block" or all(isinstance(p, engine.ray.ObjectRef) for p in parts)
            return super().__call__(fn, shared, parts)

    with RayEngine(tmp_path / "p.synth", RaySettings(workers=2)) as engine:
        on_the_pool = Counted(engine)
        there = cluster_passages(X, group_ids=groups, params=params, block_map=on_the_pool)
        # The unit and the smoothed matrices were files mapped into memory, not the driver's heap.
        assert len(on_the_pool._files) == 2 and all(f.path.stat().st_size > X.size * 4 for f in on_the_pool._files)
        on_the_pool.close()
        pids = engine.ray.get([actor.pid.remote() for actor in engine._pool()])
        os.kill(pids[0], signal.SIGKILL)
        with pytest.raises(SynthError) as failure:
            cluster_passages(X, group_ids=groups, params=params, block_map=engine.map_blocks)
    assert blocks[0] == ("smooth_block", 2) and blocks[-1] == ("assign_block", 6)
    assert {name for name, _ in blocks[1:-1]} == {"kmeans_block"} and len(set(pids)) == 2 and os.getpid() not in pids
    assert here.stats["n_fit"] == 600 and here.n_themes >= 5
    for field in ("labels", "nearest", "probability", "centroids"):
        assert np.array_equal(getattr(here, field), getattr(there, field)), field
    message = str(failure.value)
    assert "\n" not in message and re.search(r"a worker failed while (smoothing passages|refining the "
                                             r"themes' centres|assigning passages to themes)", message)


@needs_ray
@pytest.mark.slow
def test_a_worker_that_dies_is_one_line_and_leaves_the_project_unchanged(tmp_path, synth):
    import signal

    from synth.discover import discover
    from synth.errors import SynthError
    from synth.ray_engine import RayEngine, RaySettings
    from synth.store import Project

    project_path = tmp_path / "review.synth"
    synth.ok("ingest", project_path, DEMO)
    before = file_digest(project_path)
    with RayEngine(project_path, RaySettings(workers=1)) as engine:
        def lose_the_worker(stage: str, done: int, total: int) -> None:
            if stage == "label" and done == 0:  # themes found; the lemmas' worker goes before its first block
                (actor,) = engine._pool()
                os.kill(engine.ray.get(actor.pid.remote()), signal.SIGKILL)

        with Project.open(project_path, create=False) as project, pytest.raises(SynthError) as failure:
            discover(project, seed=42, embed_engine=engine, progress=lose_the_worker)
    message = str(failure.value)
    assert "\n" not in message and "a worker failed while lemmatising" in message
    assert "project is unchanged" in message
    assert file_digest(project_path) == before
    # The vectors the run computed stay beside the project for the next run.
    assert any(project_path.with_name(project_path.name + ".vectors").rglob("part-*.parquet"))


def test_run_vectors_are_memory_mapped_and_filled_by_digest(tmp_path):
    pytest.importorskip("pyarrow")
    from synth.ray_shards import RowsOf, RunVectors, shard_names, write_shard

    rng = np.random.default_rng(1)
    vectors = {f"d{i}": rng.standard_normal(8).astype(np.float32) for i in range(6)}
    write_shard(tmp_path, {d: vectors[d] for d in ("d0", "d1", "d2")})
    write_shard(tmp_path, {d: vectors[d] for d in ("d3", "d4")})
    hashes = ["d4", "d0", "d5", "d0", "d3"]  # a repeated text fills both its rows
    run = RunVectors(tmp_path, hashes, 8)
    run.fill({"d5": vectors["d5"]})
    run.fill_from_shards(tmp_path, shard_names(tmp_path))
    assert isinstance(run.matrix, np.memmap) and run.missing() == []
    assert np.array_equal(run.matrix, np.vstack([vectors[d] for d in hashes]))
    assert run.from_shards == {"d0", "d3", "d4"}
    new = RowsOf(run.matrix, run.rows, run.from_shards)
    assert sorted(new) == ["d0", "d3", "d4"] and np.array_equal(new["d3"], vectors["d3"]) and "d5" not in new
    run.close()
    assert not run.path.exists()


# Runs `synth discover --engine ray`, announcing on stderr when a stage starts on the cluster.
RAY_CHILD = r"""
import sys
from synth.ray_engine import RayEngine

def announced(name, method):
    def call(self, *args, **kwargs):
        print(f"STAGE {name}", file=sys.stderr, flush=True)
        return method(self, *args, **kwargs)
    return call

RayEngine._embed_on_cluster = announced("embed", RayEngine._embed_on_cluster)
RayEngine.passage_terms = announced("lemmas", RayEngine.passage_terms)

from synth.cli import main
sys.argv = ["synth", *sys.argv[1:]]
main()
"""


@needs_ray
@pytest.mark.slow
@pytest.mark.parametrize("stage", ["embed", "lemmas"])
def test_ctrl_c_on_the_cluster_leaves_the_project_as_it_was(tmp_path, synth, stage):
    import signal
    import subprocess
    import threading

    from test_interrupt import snapshot

    project = tmp_path / "review.synth"
    synth.ok("ingest", project, DEMO)
    before = snapshot(project)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen([sys.executable, "-c", RAY_CHILD, "discover", str(project), "--engine", "ray",
                             "--ray-workers", "2"], stderr=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True)
    lines: list[str] = []
    started = threading.Event()

    def read() -> None:
        for line in proc.stderr:
            lines.append(line)
            if line.strip() == f"STAGE {stage}":
                started.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        assert started.wait(600), "".join(lines)  # minutes on a loaded machine: the demo on a local cluster
        assert proc.poll() is None, "".join(lines)
        proc.send_signal(signal.SIGINT)  # the workers are starting or at work on the stage
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    stderr = "".join(lines)
    assert proc.returncode == 130, stderr
    assert "Interrupted: the project is as it was before this command." in stderr
    assert "Traceback" not in stderr
    assert snapshot(project) == before


def test_the_encoder_actor_writes_its_shard_only_into_the_drivers_folder(tmp_path):
    """A worker writes its vectors beside the project when it sees the driver's marker there; a
    same-named folder without it (another node's disk) gets nothing, and the vectors go back."""
    pytest.importorskip("pyarrow")
    from synth.fast_embed import embedder_for
    from synth.ray_actors import EncodeActor
    from synth.ray_shards import read_shards, shard_names

    embedder = embedder_for("onnx")
    texts = ["The bus to the jobcentre is too expensive.", "Childcare closes before the shift ends."]
    batch = {"digests": np.array([["a", "b"]], dtype=object), "texts": np.array([texts], dtype=object)}
    settings = {"route": "onnx", "model_dir": None, "model_id": embedder.spec.model_id,
                "batch_size": embedder.batch_size, "device": "cpu", "shard_dir": str(tmp_path)}
    (tmp_path / ".driver-x").touch()
    written = EncodeActor(**settings, marker=".driver-x")(batch)
    assert list(written["blob"]) == [b"", b""] and len(shard_names(tmp_path)) == 1
    assert np.allclose(np.vstack(list(read_shards(tmp_path, {"a", "b"}).values())), embedder.encode(texts), atol=1e-6)
    sent = EncodeActor(**settings, marker=".driver-elsewhere")(batch)
    assert len(shard_names(tmp_path)) == 1  # nothing written: the vectors travel back instead
    assert np.allclose(np.frombuffer(sent["blob"][1], dtype=np.float32), embedder.encode(texts)[1], atol=1e-6)


# Runs `synth discover --engine ray`, announcing when the embedding starts on the cluster.
LOST_CHILD = r"""
import sys
from synth.ray_engine import RayEngine

embed = RayEngine._embed_on_cluster
def announced(self, *args, **kwargs):
    print("STAGE embed", file=sys.stderr, flush=True)
    return embed(self, *args, **kwargs)
RayEngine._embed_on_cluster = announced

from synth.cli import main
sys.argv = ["synth", *sys.argv[1:]]
main()
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@needs_ray
@pytest.mark.slow
def test_a_lost_cluster_is_one_line_and_leaves_the_project_unchanged(tmp_path, synth):
    """The head node of the cluster discover joined goes away mid-run (a real `ray start --head`
    on this machine, all its processes killed, while the encoder actors start): Ray ends the
    driver's process beneath Python, and the command still says what happened in one line; the
    project is unchanged. Runs in CI: a small corpus, well under a minute on a quiet machine."""
    import signal
    import subprocess
    import tempfile
    import threading
    import time

    project = tmp_path / "review.synth"
    synth.ok("ingest", project, DEMO / "interviews")
    before = file_digest(project)
    port = _free_port()
    # Token authentication follows ~/.ray/auth_token when unset: fixed here, so the head and the
    # driver agree whatever this machine's Ray set-up is.
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "PYTHONUNBUFFERED": "1", "HF_HUB_OFFLINE": "1"}
    ray_cli = str(REPO / ".venv" / "bin" / "ray") if (REPO / ".venv" / "bin" / "ray").exists() else \
        shutil.which("ray") or "ray"
    temp = tempfile.mkdtemp(prefix="synth-ray-")  # short: Ray's socket paths must fit 107 bytes
    head = subprocess.Popen([ray_cli, "start", "--head", "--block", f"--port={port}", "--num-cpus=2",
                             "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={temp}"],
                            env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    child = None
    try:
        deadline = time.monotonic() + 60
        while True:
            assert head.poll() is None, "ray start --head failed"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the head node never listened"
                time.sleep(0.5)
        # The driver waits this long for a lost head to come back before Ray ends it (default 60 s).
        driver_env = {**env, "RAY_gcs_rpc_server_reconnect_timeout_s": "5"}
        child = subprocess.Popen([sys.executable, "-c", LOST_CHILD, "discover", str(project), "--engine", "ray",
                                  "--ray-address", f"127.0.0.1:{port}"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=driver_env, text=True)
        stderr: list[str] = []
        reached = threading.Event()

        def read() -> None:
            for line in child.stderr:
                stderr.append(line)
                if line.strip() == "STAGE embed":
                    reached.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        assert reached.wait(240), "".join(stderr)
        time.sleep(1)  # the encoder actors are starting on the cluster
        os.killpg(head.pid, signal.SIGKILL)  # the head node goes away: GCS, raylet, object store
        child.wait(timeout=120)
        reader.join(timeout=10)
    finally:
        for process in (child, head):
            if process is not None and process.poll() is None:
                process.kill()
        head.wait(timeout=30)
        shutil.rmtree(temp, ignore_errors=True)
    # synth says one line; whatever else is on stderr is Ray's own C++ log ("[time] E core_worker.cc:…").
    ray_log = re.compile(r"\[\d{4}-\d\d-\d\d [\d:,]+ [DIWEF] \d+ \d+\] ")
    said = [line for line in stderr if line.strip() and line.strip() != "STAGE embed" and not ray_log.match(line)]
    assert child.returncode == 1, "".join(stderr)
    assert len(said) == 1 and said[0].startswith("Error: Ray engine: lost the cluster during discover"), \
        "".join(stderr)
    assert "project is unchanged" in said[0]
    assert file_digest(project) == before
