"""`synth discover --engine ray`: the same themes as in-process, on a real local Ray cluster; clear
one-line errors, and an unchanged project, when Ray is missing, the cluster is unreachable or a
worker fails."""

from __future__ import annotations

import importlib.util
import shutil
import socket
import sqlite3
import sys

import numpy as np
import pytest

from conftest import DEMO, file_digest

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
        vectors = {d: np.frombuffer(v, dtype=np.float32) for d, v in
                   db.execute("SELECT text_sha256, vector FROM embeddings")}
    finally:
        db.close()
    return {"themes": themes, "members": members, "quotes": quotes, "categories": categories, "vectors": vectors}


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
    assert not on_ray.with_name(on_ray.name + ".vectors").exists()  # shards removed once the run committed


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
