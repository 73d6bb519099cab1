"""Vectors beside the project: past a size (`discover --vectors-beside-above`) the in-process engine
keeps the passages' vectors in Parquet shards beside the project, as the Ray engine does, and every
reader (search by meaning, the review app, the report, a warm re-run) finds them there; an index
from digest to shard (`caches.ShardIndex`) lets a reader of a few vectors open only their shards."""

from __future__ import annotations

import json
import shutil
import sqlite3

import numpy as np
import pytest

from conftest import DEMO, file_digest

pytest.importorskip("pyarrow")


def _vectors(n: int, seed: int, dim: int = 16) -> dict[str, np.ndarray]:
    import hashlib

    rng = np.random.default_rng(seed)
    return {hashlib.sha256(f"{seed}-{i}".encode()).hexdigest(): rng.standard_normal(dim).astype(np.float32)
            for i in range(n)}


def test_the_index_reads_only_the_shards_that_hold_the_wanted_vectors(tmp_path, monkeypatch):
    import synth.ray_shards as shards

    parts = [_vectors(300, seed) for seed in range(5)]
    for part in parts:
        shards.write_shard(tmp_path, part)
    wanted = {next(iter(parts[1])), list(parts[3])[-1], list(parts[3])[2000 % 300], "absent"}
    opened: list[str] = []
    real = shards._read_rows
    monkeypatch.setattr(shards, "_read_rows", lambda path, rows: opened.append(path.name) or real(path, rows))
    got = shards.read_shards(tmp_path, wanted)
    assert set(got) == wanted - {"absent"}
    for part in parts:
        for digest in set(got) & set(part):
            assert np.array_equal(got[digest], part[digest])
    assert len(opened) == 2 and (tmp_path / shards.INDEX_NAME).exists()  # parts 1 and 3, not all five
    # A shard written after the index was built is indexed by the next reader; a shard removed by
    # hand is forgotten (its vectors are then simply not found).
    later = _vectors(10, 9)
    name = shards.write_shard(tmp_path, later)
    assert set(shards.read_shards(tmp_path, set(later))) == set(later)
    (tmp_path / name).unlink()
    assert shards.read_shards(tmp_path, set(later)) == {}
    assert name not in shards.index_shards(tmp_path).shards()


def test_a_damaged_index_falls_back_to_reading_every_shard(tmp_path):
    import synth.ray_shards as shards

    part = _vectors(50, 1)
    shards.write_shard(tmp_path, part)
    (tmp_path / shards.INDEX_NAME).write_bytes(b"not an SQLite file at all" * 100)
    got = shards.read_shards(tmp_path, set(list(part)[:3]))
    assert set(got) == set(list(part)[:3])


def _passage_vectors_in_file(path) -> int:
    db = sqlite3.connect(path)
    try:
        # Codable passages': discover also embeds section headings (synth/section_split.py), whose text
        # is the text of their uncodable heading passages, and keeps those few vectors in the file.
        return db.execute("SELECT count(*) FROM embeddings WHERE text_sha256 IN "
                          "(SELECT text_sha256 FROM passages WHERE codable = 1)").fetchone()[0]
    finally:
        db.close()


def _themes(path):
    db = sqlite3.connect(path)
    try:
        return (db.execute("SELECT id, label, definition, category FROM themes ORDER BY id").fetchall(),
                db.execute("SELECT passage_id, theme_id, placed, round(probability, 4) FROM memberships "
                           "ORDER BY passage_id, theme_id").fetchall())
    finally:
        db.close()


@pytest.mark.slow
def test_past_the_threshold_the_vectors_stay_beside_and_every_reader_finds_them(tmp_path, synth, monkeypatch):
    import synth.discover as discover_module
    from synth.readmodel import latest_space
    from synth.store import Project

    held = tmp_path / "corpus"
    shutil.copytree(DEMO, held)
    late = held / "interviews" / "riverside-employer.txt"
    kept_aside = tmp_path / "riverside-employer.txt"
    shutil.move(late, kept_aside)
    manifest = (held / "interviews" / "sources.csv").read_text(encoding="utf-8")
    (held / "interviews" / "sources.csv").write_text(
        "\n".join(line for line in manifest.splitlines() if "riverside-employer.txt" not in line) + "\n",
        encoding="utf-8")
    path = tmp_path / "beside.synth"
    synth.ok("ingest", path, held)
    before = file_digest(path)

    # Interrupted after the embedding: the project file is as it was; the shards stay for the re-run.
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(discover_module, "cluster_passages", interrupted)
    assert synth("discover", path, "--seed", "42", "--vectors-beside-above", "50").exit_code == 130  # Ctrl-C
    monkeypatch.undo()
    assert file_digest(path) == before
    folder = next((tmp_path / "beside.synth.vectors").iterdir())
    assert list(folder.glob("part-*.parquet"))

    out = synth.ok("discover", path, "--seed", "42", "--vectors-beside-above", "50")
    assert "computed 0 " in out, out  # every passage's vector came from the shards
    assert _passage_vectors_in_file(path) == 0 and (folder / "index.sqlite").exists()

    # Readers: search by meaning and "more like this", the review app's read model, the report.
    query = ("--semantic", "--json", "--limit", "10")
    hits = json.loads(synth.ok("search", path, "childcare costs", *query))["hits"]
    assert hits and all(h["passage_id"] for h in hits)
    like = json.loads(synth.ok("search", path, "--like", str(hits[0]["passage_id"]), "--json", "--limit", "5"))["hits"]
    assert like and hits[0]["passage_id"] not in {h["passage_id"] for h in like}
    with Project.open(path, create=False) as project:
        passages = project.passages(codable_only=True)
        space = latest_space(project)
        found = space.vectors(p.text_sha256 for p in passages)
        assert len(found) == len({p.text_sha256 for p in passages})
        nearest = space.nearest_themes(passages[:20], {t.id: t for t in project.themes()}, 3)
        assert len(nearest) == 20 and all(len(themes) == 3 for themes in nearest.values())
    report = tmp_path / "report.html"
    synth.ok("report", path, "-o", report, "--include-suggested")
    assert report.stat().st_size > 10_000

    # A few new passages: the warm start extends the stored themes, its new vectors beside too.
    shutil.move(kept_aside, late)
    (held / "interviews" / "sources.csv").write_text(manifest, encoding="utf-8")
    synth.ok("ingest", path, held)
    out = synth.ok("discover", path, "--seed", "42", "--vectors-beside-above", "50")
    assert "stored themes extended" in out and "computed 0 " not in out, out
    assert _passage_vectors_in_file(path) == 0
    export = tmp_path / "assignments.csv"
    synth.ok("export", path, "assignments", "-o", export)
    assert export.stat().st_size > 1000


@pytest.mark.slow
def test_vectors_beside_give_the_themes_and_hits_of_vectors_in_the_file(tmp_path, synth, discovered_demo):
    path = tmp_path / "beside.synth"
    synth.ok("ingest", path, DEMO)
    synth.ok("discover", path, "--seed", "42", "--vectors-beside-above", "50")
    assert _passage_vectors_in_file(path) == 0 and _passage_vectors_in_file(discovered_demo) > 100
    assert _themes(path) == _themes(discovered_demo)
    hits = [[h["passage_id"] for h in json.loads(synth.ok("search", p, "childcare costs", "--semantic", "--json",
                                                              "--limit", "10"))["hits"]]
            for p in (path, discovered_demo)]
    assert hits[0] and hits[0] == hits[1]
