"""The fifth placement round's training batches (benchmarks/placement_round5.py): the batch-all triplet
loss needs every batch to hold whole themes (several texts each, so there are positives) and several
themes (so there are negatives), and every theme to be trained on about equally often."""

from collections import Counter

import numpy as np

from benchmarks.placement_round5 import Tuning, _theme_batches


def test_every_batch_holds_whole_themes_and_themes_are_seen_equally():
    labels = np.repeat(np.arange(38), 5)  # NHS at 5 examples: 38 themes
    t = Tuning(steps=30, themes_per_batch=8)
    batches = _theme_batches(labels, t, np.random.default_rng(0))
    assert len(batches) == 30
    seen = Counter()
    for rows in batches:
        themes, counts = np.unique(labels[rows], return_counts=True)
        # 8 themes, fewer where a batch spans two shuffles and draws a theme twice (it joins once)
        assert 2 <= len(themes) <= 8
        assert (counts == 5).all()  # every example of each theme in the batch
        seen.update(themes.tolist())
    assert len(seen) == 38
    assert 5 <= min(seen.values()) and max(seen.values()) <= 7  # 240 slots over 38 themes: 6 or 7, less a repeat
