"""Unit-length vectors: the one place synth scales embeddings so that cosine is a dot product.

Callers differ only in the precision they compare in: the clusterers and categories keep float32
(their inputs' dtype), the learned model and the read side compare in float64. `dtype` says which;
without it the input's dtype is kept.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import DTypeLike


def unit(v: np.ndarray, dtype: DTypeLike | None = None) -> np.ndarray:
    """Rows (or one vector) scaled to length 1, a zero row left as it is (zero)."""
    if dtype is not None:
        v = np.asarray(v, dtype=dtype)
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.where(n == 0, 1, n)


UNIT_BLOCK = 16_384  # rows normalised at a time: the only transient copy `UnitRows.of` makes


class UnitRows:
    """A run's vectors at unit length (float32), made once and read by every step that compares them.

    Discover's steps each compared unit rows and each made its own copy of all of them
    (`unit(vectors)`): clustering, then the catch-all splits, the carving and gathering of recurring
    ideas, the stance split, labelling, the warm start; at 10^7 passages each copy is 15 GB. Made
    once, here, into the matrix the caller gives (the Ray engine's block map gives a file mapped into
    memory beside the project, so even this copy is not in the driver's heap), they are read by all
    of them; a step given plain vectors still makes its own copy (`unit_rows`).

    Row for row the numbers are those of `unit(vectors, np.float32)`: each row is scaled on its own,
    so making them block by block changes no bit. `problem` records what clustering must refuse (a
    row that is not finite, or all zeros), found while the rows go by, so checking needs no second
    pass: ("not finite", first row of its block) or ("zero", row), whichever comes first."""

    def __init__(self, rows: np.ndarray, problem: tuple[str, int] | None = None) -> None:
        self.rows = rows
        self.problem = problem

    @classmethod
    def of(cls, vectors: np.ndarray, matrix: np.ndarray | None = None) -> UnitRows:
        """`vectors` at unit length in `matrix` (n x dim float32; default a new array), block by block."""
        out = np.empty(np.shape(vectors), np.float32) if matrix is None else matrix
        problem = None
        for start in range(0, len(vectors), UNIT_BLOCK):
            part = np.asarray(vectors[start:start + UNIT_BLOCK], dtype=np.float32)
            if problem is None:
                norms = np.linalg.norm(part, axis=-1)
                if not np.isfinite(part).all():
                    problem = ("not finite", start)
                elif (norms == 0).any():
                    problem = ("zero", start + int(np.argmin(norms)))
            out[start:start + UNIT_BLOCK] = unit(part)
        return cls(out, problem)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.rows.shape


def unit_rows(vectors: np.ndarray | UnitRows) -> np.ndarray:
    """Float32 unit rows: those already made (a `UnitRows`, not copied), else made now (a copy)."""
    if isinstance(vectors, UnitRows):
        return vectors.rows
    return unit(np.asarray(vectors, dtype=np.float32))
