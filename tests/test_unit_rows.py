"""One unit matrix per discover (issue 16, "What remains for 10^6-10^7"): clustering and every step
after it read the rows `vectors.UnitRows` makes once, instead of each making its own unit copy of
all the vectors (15 GB each at 10^7 passages); the results are those of the copies, bit for bit."""

from __future__ import annotations

import shutil
import sqlite3
import sys

import numpy as np
import pytest

from conftest import DEMO
from synth.cluster import ClusteringError, cluster_passages
from synth.vectors import UNIT_BLOCK, UnitRows, unit, unit_rows


def test_unit_rows_are_the_unit_copy_bit_for_bit_made_block_by_block():
    rng = np.random.default_rng(3)
    vectors = (rng.standard_normal((UNIT_BLOCK * 2 + 17, 24)) * 5).astype(np.float32)
    made = UnitRows.of(vectors)
    assert made.rows.dtype == np.float32 and made.problem is None and len(made) == len(vectors)
    assert np.array_equal(made.rows, unit(vectors, np.float32))
    assert unit_rows(made) is made.rows  # read, not copied
    assert np.array_equal(unit_rows(vectors), made.rows)  # plain vectors: a copy made now, the same numbers
    into = np.zeros(vectors.shape, np.float32)
    assert UnitRows.of(vectors.astype(np.float64), into).rows is into  # written where the caller says
    assert np.array_equal(into, unit(vectors.astype(np.float64), np.float32))


def test_clustering_refuses_from_unit_rows_what_it_refuses_from_vectors():
    rng = np.random.default_rng(4)
    vectors = rng.standard_normal((60, 8)).astype(np.float32)
    zero = vectors.copy()
    zero[41] = 0
    nan = vectors.copy()
    nan[7, 3] = np.nan
    for bad in (zero, nan):
        with pytest.raises(ClusteringError) as from_vectors:
            cluster_passages(bad)
        with pytest.raises(ClusteringError) as from_rows:
            cluster_passages(UnitRows.of(bad))
        assert str(from_rows.value) == str(from_vectors.value)
    with pytest.raises(ClusteringError, match="embedding 41 is all zeros"):
        cluster_passages(UnitRows.of(zero))


def _results(path) -> dict:
    """Everything discover writes that the unit rows decide, exactly (centroids as stored bytes)."""
    db = sqlite3.connect(path)
    try:
        return {
            "themes": db.execute("SELECT id, label, definition, top_terms, category, category_confidence, status, "
                                 "centroid FROM themes ORDER BY id").fetchall(),
            "members": db.execute("SELECT passage_id, theme_id, placed, probability FROM memberships "
                                  "ORDER BY passage_id").fetchall(),
            "quotes": db.execute("SELECT theme_id, passage_id, rank FROM theme_quotes ORDER BY theme_id, rank").fetchall(),
            "links": db.execute("SELECT * FROM theme_links ORDER BY 1").fetchall(),
        }
    finally:
        db.close()


def test_discover_makes_one_unit_matrix_and_gives_what_a_copy_per_step_gave(tmp_path, synth, monkeypatch):
    """The demo at --seed 42: once with the shared unit rows, once as before them (each step given
    the plain vectors makes its own copy, and clustering its own): the same run, bit for bit. And
    the shared run makes its corpus-sized unit rows once (categorising's bounded chunks aside)."""
    import synth.vectors as vectors_module

    shared, copies = tmp_path / "shared.synth", tmp_path / "copies.synth"
    synth.ok("ingest", shared, DEMO)
    shutil.copyfile(shared, copies)
    n = sqlite3.connect(shared).execute("SELECT count(*) FROM passages WHERE codable = 1").fetchone()[0]

    callers: list[tuple[str, str]] = []
    original = vectors_module.unit

    def spy(v, dtype=None):
        if np.ndim(v) == 2 and len(v) >= min(n, UNIT_BLOCK) - 50:  # corpus-sized (the codebook takes none here)
            frame = sys._getframe(1)
            callers.append((frame.f_code.co_filename.rsplit("/", 1)[-1], frame.f_code.co_name))
        return original(v, dtype)

    # Every module's own name for it: before the shared rows each step called its imported `unit`.
    for name, module in list(sys.modules.items()):
        if name.startswith("synth") and getattr(module, "unit", None) is original:
            monkeypatch.setattr(module, "unit", spy)
    synth.ok("discover", shared, "--seed", "42")
    # Embedding, categorising (chunks of CATEGORISE_CHUNK) and smoothing (its own output, by blocks)
    # make unit rows of their own results; the steps that compare the passages make none.
    steps = {"cluster.py", "consensus_votes.py", "consensus_themes.py", "recurring.py", "stance.py", "label.py",
             "incremental.py", "discover.py", "placement.py"}
    assert not [c for c in callers if c[0] in steps or c == ("vectors.py", "unit_rows")], callers
    assert callers.count(("vectors.py", "of")) == 1, callers
    monkeypatch.undo()

    # As before: no shared rows; clustering normalises its own copy, each later step its own.
    import synth.discover as discover_module

    monkeypatch.setattr(discover_module.UnitRows, "of", staticmethod(lambda vectors, matrix=None: vectors))
    synth.ok("discover", copies, "--seed", "42")
    a, b = _results(shared), _results(copies)
    assert len(a["themes"]) > 5 and len(a["members"]) > 100
    for key in a:
        assert a[key] == b[key], key
