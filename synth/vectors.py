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
