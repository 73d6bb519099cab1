"""The nhs2651 dev set (benchmarks.datasets.nhs_sample): a fixed sample, the same whatever the file's order."""

from __future__ import annotations

import pytest

from benchmarks.datasets import NHS, load, nhs_sample


def test_the_sample_follows_the_row_ids_not_the_file_order():
    rows = [{"row_index": str(i)} for i in range(1, 501)]
    picked = {rows[i]["row_index"] for i in nhs_sample(rows, 100)}
    shuffled = rows[250:] + rows[:250]
    assert {shuffled[i]["row_index"] for i in nhs_sample(shuffled, 100)} == picked
    assert len(picked) == 100
    assert nhs_sample(rows, 100) == sorted(nhs_sample(rows, 100))  # kept in file order
    assert len({rows[i]["row_index"] for i in nhs_sample(rows, 101)} & picked) == 100  # a larger sample extends it


@pytest.mark.skipif(not NHS.exists(), reason="needs ../shared/dev-data/nhs-feedback")
def test_nhs2651_is_the_held_out_size_with_every_subcategory():
    texts, gold, groups = load("nhs2651")
    all_texts, all_gold, _ = load("nhs")
    assert len(texts) == len(gold) == 2651 and groups is None
    assert set(gold) == set(all_gold)
    assert set(texts) <= set(all_texts)
