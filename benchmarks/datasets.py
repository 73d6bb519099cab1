"""The dev sets in ../shared/dev-data, read one way for every benchmark, and their vectors cached.

- bills: 1,000 US bill summaries, 21 topics and 101 subtopics;
- napire: NaPiRE survey answers with researcher codes and the question each answers;
- nhs: 8,791 NHS patient comments with staff categories and criticality;
- nhs2651: a fixed sample of 2,651 of them (the held-out set's size), chosen by a hash of each
  comment's row_index, so it is the same on every machine (`nhs_sample`).

Vectors are synth's bundled model's, computed once and kept as NAME_emb.npy in a cache folder.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" if (ROOT.parent / "shared").exists() else Path("/work/shared")
DEV = Path(os.environ.get("SYNTH_DEV_DATA", SHARED / "dev-data"))
BILLS = DEV / "bills" / "bills_subset.jsonl"
NAPIRE = DEV / "napire" / "labels_by_question.jsonl"
NHS = DEV / "nhs-feedback" / "phase1_feedback.csv"
NHS_SAMPLE = 2651  # the held-out service-feedback set's size (issue 13)


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def bills() -> list[dict]:
    return jsonl(BILLS)


def napire() -> list[dict]:
    return jsonl(NAPIRE)


def nhs() -> list[dict]:
    with NHS.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def nhs_sample(rows: list[dict], size: int = NHS_SAMPLE) -> list[int]:
    """Indices (in file order) of the `size` comments whose row_index hashes lowest: a sample that
    does not depend on the file's order or on any random generator."""
    def key(i: int) -> str:
        return hashlib.sha256(f"nhs:{rows[i]['row_index']}".encode()).hexdigest()

    return sorted(sorted(range(len(rows)), key=key)[:size])


def napire_coded(rows: list[dict]) -> list[int]:
    """The answers with exactly one researcher code (not "notcodable" / "notanswered"): the ones a
    theme can be scored on."""
    return [i for i, r in enumerate(rows) if len(r["napire_tags"]) == 1
            and r["napire_tags"][0].lower() not in ("notcodable", "notanswered")]


def load(name: str) -> tuple[list[str], list[str], np.ndarray | None]:
    """(texts, gold labels, source ids or None) of one dev set as theme recovery scores it, in file order."""
    if name == "nhs":
        rows = nhs()
        return [r["feedback"] for r in rows], [r["subcategory"] for r in rows], None
    if name == "nhs2651":
        rows = nhs()
        keep = [rows[i] for i in nhs_sample(rows)]
        return [r["feedback"] for r in keep], [r["subcategory"] for r in keep], None
    if name == "napire":
        rows = napire()
        keep = [rows[i] for i in napire_coded(rows)]
        return [r["text"] for r in keep], [r["napire_tags"][0] for r in keep], np.array([r["respondent"] for r in keep])
    if name == "bills":
        rows = bills()
        return [r["summary"] for r in rows], [r["topic"] for r in rows], None
    raise SystemExit(f"unknown dev set {name!r}")


def headings(name: str) -> list[str | None]:
    """Each passage's section heading, in `load`'s order: NaPiRE's answers sit under the question they
    answer (a respondent's answers to one question are one section); the NHS comments and the bills
    are one passage each, under no heading."""
    if name == "napire":
        rows = napire()
        return [rows[i].get("question") or None for i in napire_coded(rows)]
    return [None] * len(load(name)[0])


def embed(texts: list[str], *, batch_size: int = 32) -> np.ndarray:
    """synth's bundled model's vectors of `texts`, on the CPU."""
    from synth.embed import Embedder, resolve_model

    return np.asarray(Embedder(resolve_model(), device="cpu", batch_size=batch_size).encode(texts), dtype=np.float32)


def cached_vectors(path: Path, texts: list[str], *, batch_size: int = 32) -> np.ndarray:
    """The vectors of `texts` kept at `path` (.npy), computed and saved when absent."""
    if path.exists():
        vectors = np.load(path)
        if len(vectors) != len(texts):
            raise SystemExit(f"{path}: {len(vectors)} vectors for {len(texts)} texts")
        return vectors.astype(np.float32)
    vectors = embed(texts, batch_size=batch_size)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def vectors(name: str, texts: list[str], cache: Path) -> np.ndarray:
    """The vectors of a set as `load` gives it, cached in `cache` as NAME_emb.npy."""
    path = cache / f"{name}_emb.npy"
    if name == "nhs2651" and not path.exists():  # the sample's rows of the whole set's vectors
        return vectors("nhs", load("nhs")[0], cache)[nhs_sample(nhs())]
    if name == "napire" and not path.exists() and (cache / "napire_all_emb.npy").exists():
        path = cache / "napire_all_emb.npy"
    if name == "napire" and path.exists():
        cached = np.load(path)
        if len(cached) != len(texts):  # cached for all the answers: take the coded ones
            cached = cached[napire_coded(napire())]
        if len(cached) != len(texts):
            raise SystemExit(f"{path}: {len(cached)} vectors for {len(texts)} texts")
        return cached.astype(np.float32)
    return cached_vectors(path, texts, batch_size=64)


def theme_report(labels: list[int], gold: list[str]) -> dict:
    """The held-out evaluation's metrics (../shared/tools/theme_metrics.py; unplaced = one cluster)."""
    tools = str(SHARED / "tools")
    if tools not in sys.path:
        sys.path.insert(0, tools)
    from theme_metrics import report

    return report(labels, gold)
