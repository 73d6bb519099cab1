"""synth.vectors.unit: the one unit-length helper every stage uses (issue 12: five copies before)."""

from __future__ import annotations

import numpy as np

from synth.vectors import unit


def test_rows_and_single_vectors_get_length_one_and_zero_rows_stay_zero():
    rows = np.array([[3.0, 4.0], [0.0, 0.0], [1e-3, 0.0]], dtype=np.float32)
    out = unit(rows)
    assert np.allclose(np.linalg.norm(out[[0, 2]], axis=1), 1.0, atol=1e-6)
    assert np.array_equal(out[1], [0.0, 0.0])
    assert np.allclose(unit(np.array([3.0, 4.0])), [0.6, 0.8])
    assert np.array_equal(unit(np.zeros(3)), np.zeros(3))


def test_the_dtype_is_kept_unless_asked_for():
    x = np.array([[1.0, 2.0, 2.0]], dtype=np.float32)
    assert unit(x).dtype == np.float32
    assert unit(x, np.float64).dtype == np.float64
    assert unit([[1, 2, 2]], np.float32).dtype == np.float32  # lists and integers are cast first
    assert np.allclose(unit(x, np.float64), [[1 / 3, 2 / 3, 2 / 3]])


def test_the_input_is_not_changed():
    x = np.array([[3.0, 4.0]])
    unit(x)
    assert np.array_equal(x, [[3.0, 4.0]])


def test_rows_are_scaled_exactly_as_a_division_by_their_norm():
    # The helper replaced copies that divided by the norm; a rerun must give the same bits.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 384)).astype(np.float32)
    assert np.array_equal(unit(x), x / np.linalg.norm(x, axis=1, keepdims=True))
