"""Distinct passage texts of any size, recombined from the dev sets so that no text repeats.

The originals come first (bill summaries, NaPiRE answers, NHS comments), then plausible new
passages: one to three sentences of one bill in their order, two or three answers to the same
NaPiRE question joined as one respondent's longer answer, two short NHS comments joined. Every
text is codable as synth would cut it (three words or more, at most MAX_CHARS characters).
"""

from __future__ import annotations

import csv
import random
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from benchmarks import datasets

MAX_CHARS = 600  # synth's default largest passage: a row no longer than this stays one passage
MAX_BILL_TEXTS = 30_000  # beyond this the bills run out of new combinations and the stream slows down


def one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def codable(text: str) -> bool:
    return len(re.findall(r"[^\W\d_]{2,}", text)) >= 3 and len(text) <= MAX_CHARS


def _bill_sentences(summary: str) -> list[str]:
    # Bill summaries run sentences together ("…surplus.Denies the…"); a full stop after a lower-case
    # letter or digit followed by a capital ends a sentence, "U.S. Code" does not.
    parts = re.split(r"(?<=[a-z0-9)][.;])\s*(?=[A-Z])", one_line(summary))
    return [p for p in parts if len(p.split()) >= 4 and len(p) <= MAX_CHARS - 50]


def bill_texts(rng: random.Random) -> Iterator[str]:
    bills = datasets.bills()
    originals = [one_line(b["summary"]) for b in bills if codable(one_line(b["summary"]))]
    rng.shuffle(originals)
    yield from originals
    sentences = [s for s in (_bill_sentences(b["summary"]) for b in bills) if len(s) >= 2]
    while True:  # 1-3 sentences of one bill, in their order: a new, plausible passage on one topic
        bill = rng.choice(sentences)
        picked = sorted(rng.sample(range(len(bill)), min(len(bill), rng.choice((1, 2, 3)))))
        text = " ".join(bill[i] for i in picked)
        while len(text) > MAX_CHARS and len(picked) > 1:
            picked.pop()
            text = " ".join(bill[i] for i in picked)
        yield text


def answer_texts(rng: random.Random) -> Iterator[str]:
    rows = datasets.napire()
    originals = list(dict.fromkeys(one_line(r["text"]) for r in rows))
    originals = [t for t in originals if codable(t)]
    rng.shuffle(originals)
    yield from originals
    by_question: dict[str, list[str]] = {}
    for r in rows:
        text = one_line(r["text"])
        if codable(text) and len(text) < MAX_CHARS // 3:
            by_question.setdefault(r["question"], []).append(text)
    questions = [q for q, answers in by_question.items() if len(answers) >= 3]
    while True:  # two or three answers to the same question, as one respondent's longer answer
        answers = by_question[rng.choice(questions)]
        yield "; ".join(rng.sample(answers, rng.choice((2, 3))))


def nhs_texts(rng: random.Random) -> Iterator[str]:
    comments = [t for t in (one_line(r["feedback"]) for r in datasets.nhs()) if codable(t)]
    rng.shuffle(comments)
    yield from comments
    short = [c for c in comments if len(c) < 280]
    while True:
        yield " ".join(rng.sample(short, 2))


def make_corpus(n: int, extra: int, seed: int = 0) -> tuple[list[dict], list[dict]]:
    """`n` rows, half bill-like and half survey-answer-like, then `extra` more new rows; no text twice."""
    streams = [bill_texts(random.Random(seed + 1)), answer_texts(random.Random(seed + 2))]
    seen: set[str] = set()

    def take(count: int, prefix: str) -> list[dict]:
        out = []
        while len(out) < count:
            text = next(streams[len(out) % 2])
            if text in seen or not codable(text):
                continue
            seen.add(text)
            out.append({"id": f"{prefix}{len(out):07d}", "text": text})
        return out

    return take(n, "r"), take(extra, "x")


def three_sets(n: int, seed: int = 0) -> list[str]:
    """`n` distinct codable texts taken in turn from the bill, answer and NHS streams (the bills
    only up to MAX_BILL_TEXTS)."""
    streams = [bill_texts(random.Random(seed + 1)), answer_texts(random.Random(seed + 2)),
               nhs_texts(random.Random(seed + 3))]
    seen: dict[str, None] = {}
    bills = turn = 0
    while len(seen) < n:
        which = turn % 3 if bills < MAX_BILL_TEXTS else 1 + turn % 2
        turn += 1
        for _ in range(1000):  # a few tries for a text not seen yet
            text = next(streams[which])
            if text not in seen and codable(text):
                seen[text] = None
                bills += which == 0
                break
    return list(seen)


def paired(n: int, base_size: int = 20_000) -> list[str]:
    """`n` distinct passages: make_corpus's set of up to `base_size` (its generator slows down as
    distinct texts run short), then pairs of those joined, as one respondent's longer answer."""
    rows, _ = make_corpus(min(n, base_size), 0)
    base = [r["text"] for r in rows]
    texts, seen = list(base), set(base)
    rng = np.random.default_rng(0)
    while len(texts) < n:
        for i, j in rng.integers(0, len(base), size=(n - len(texts), 2)):
            text = f"{base[i]} {base[j]}"
            if i != j and text not in seen:
                seen.add(text)
                texts.append(text)
    return texts[:n]


def bill_sentences(n: int) -> list[str]:
    """`n` distinct sentences (over 40 characters) of the bill summaries; neighbours joined when
    the set is too small."""
    seen: dict[str, None] = {}
    for bill in datasets.bills():
        for sentence in re.split(r"(?<=[.;])\s*(?=[A-Z])", bill["summary"]):
            if len(sentence) > 40:
                seen.setdefault(sentence.strip(), None)
    texts = list(seen)
    while len(texts) < n:
        texts += [f"{a} {b}" for a, b in zip(texts, texts[1:])][: n - len(texts)]
    return texts[:n]


def write_csv(rows: list[dict], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["id", "text"])
        writer.writeheader()
        writer.writerows(rows)
