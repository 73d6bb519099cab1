"""The project's caches: what discover derives from a passage's text, kept so that a re-run does
not compute it again. Rows are keyed by the text's SHA-256 and by what computed them (the embedding
model id, the lemmatising pipeline), so a row is only ever read back by the same computation;
losing them costs time, never results."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Mapping

import numpy as np

from .records import PassageTerms

_WORD_SEPARATOR = "\x1f"  # the unit separator: no lemma or written word contains it


class ProjectCaches:
    """Part of `Project`: the `embeddings` and `passage_terms` tables of its database."""

    db: sqlite3.Connection

    path: object

    def cached_embeddings(self, model_id: str, text_hashes: Iterable[str], *,
                          beside: bool = True) -> dict[str, np.ndarray]:
        """Vectors by text hash: from the project file, and (`beside`) the rest from the shards the Ray
        engine keeps beside it (`ray_shards.shard_folder`; the Ray engine reads those itself)."""
        wanted = list(dict.fromkeys(text_hashes))
        rows = self._rows_by_text_hash("SELECT text_sha256, vector FROM embeddings WHERE model_id = ?",
                                       model_id, wanted)
        found = {digest: np.frombuffer(vector, dtype=np.float32) for digest, vector in rows}
        if beside and len(found) < len(wanted) and getattr(self, "path", None):
            from .ray_shards import vectors_beside

            found.update(vectors_beside(self.path, model_id, set(wanted) - found.keys()))
        return found

    def store_embeddings(self, model_id: str, vectors: Mapping[str, np.ndarray]) -> None:
        self.db.executemany(
            "INSERT OR IGNORE INTO embeddings VALUES (?, ?, ?)",
            # A generator, not a list: a large run's vectors go in one by one instead of all at once.
            ((model_id, digest, np.asarray(v, dtype=np.float32).tobytes()) for digest, v in vectors.items()),
        )

    def cached_passage_terms(self, pipeline: str, text_hashes: Iterable[str]) -> dict[str, PassageTerms]:
        rows = self._rows_by_text_hash("SELECT text_sha256, lemmas, forms FROM passage_terms WHERE pipeline = ?",
                                       pipeline, text_hashes)
        return {digest: _terms_from_row(lemmas, forms) for digest, lemmas, forms in rows}

    def store_passage_terms(self, pipeline: str, terms: Mapping[str, PassageTerms]) -> None:
        """Keep `terms` (text hash -> terms) for `pipeline`; rows of other pipelines can never be
        read again, so they go."""
        self.db.execute("DELETE FROM passage_terms WHERE pipeline != ?", (pipeline,))
        self.db.executemany(
            "INSERT OR IGNORE INTO passage_terms VALUES (?, ?, ?, ?)",
            [(pipeline, digest, *_terms_to_row(t)) for digest, t in terms.items()],
        )

    def _rows_by_text_hash(self, select: str, key: str, text_hashes: Iterable[str]) -> Iterator[tuple]:
        """`select ... WHERE <key column> = ?` narrowed to the given text hashes, in chunks."""
        wanted = list(dict.fromkeys(text_hashes))
        for start in range(0, len(wanted), 900):  # stay under SQLite's bound-parameter limit
            chunk = wanted[start:start + 900]
            yield from self.db.execute(f"{select} AND text_sha256 IN ({','.join('?' * len(chunk))})", [key, *chunk])


def _terms_to_row(terms: PassageTerms) -> tuple[str, str]:
    forms = ("" if form == lemma else form for lemma, form in zip(terms.lemmas, terms.forms, strict=True))
    return _WORD_SEPARATOR.join(terms.lemmas), _WORD_SEPARATOR.join(forms)


def _terms_from_row(lemmas: str, forms: str) -> PassageTerms:
    if not lemmas:
        return PassageTerms((), ())
    lemma_list = lemmas.split(_WORD_SEPARATOR)
    form_list = [form or lemma for lemma, form in zip(lemma_list, forms.split(_WORD_SEPARATOR), strict=True)]
    return PassageTerms(tuple(lemma_list), tuple(form_list))


class ShardIndex:
    """Which shard, and which row of it, holds each digest's vector: an SQLite file beside the
    shards (`PROJECT.vectors/<model id>/index.sqlite`), so reading a few vectors (`synth search
    --like`, the review app) opens the shards that hold them instead of scanning every shard.

    The shards are written once and never change (`ray_shards.write_shard`), so an indexed shard
    stays indexed; a shard the index does not know yet is indexed by whoever reads next. Losing the
    file costs one scan of the shards' digests, never a vector. Digests are kept as 32 bytes."""

    def __init__(self, path) -> None:
        self.db = sqlite3.connect(str(path), timeout=30, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")  # readers do not wait for a writer indexing new shards
        self.db.executescript(
            "CREATE TABLE IF NOT EXISTS shards (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL);"
            "CREATE TABLE IF NOT EXISTS rows (digest BLOB PRIMARY KEY, shard INTEGER NOT NULL, row INTEGER NOT NULL)"
            " WITHOUT ROWID;")

    def close(self) -> None:
        self.db.close()

    def shards(self) -> set[str]:
        return {name for (name,) in self.db.execute("SELECT name FROM shards")}

    def add(self, name: str, digests: Iterable[str]) -> None:
        """Index one shard's digests (row order); a digest already in another shard keeps that one."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            found = self.db.execute("SELECT id FROM shards WHERE name = ?", (name,)).fetchone()
            if found:
                return  # another process indexed it meanwhile
            shard = self.db.execute("INSERT INTO shards (name) VALUES (?)", (name,)).lastrowid
            self.db.executemany("INSERT OR IGNORE INTO rows VALUES (?, ?, ?)",
                                ((_key(d), shard, row) for row, d in enumerate(digests)))

    def forget(self, names: Iterable[str]) -> None:
        """Shards that are gone (a folder pruned by hand): their rows point nowhere."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            for name in names:
                found = self.db.execute("SELECT id FROM shards WHERE name = ?", (name,)).fetchone()
                if found:
                    self.db.execute("DELETE FROM rows WHERE shard = ?", found)
                    self.db.execute("DELETE FROM shards WHERE id = ?", found)

    def where(self, digests: Iterable[str]) -> dict[str, tuple[str, int]]:
        """digest -> (shard file name, row) for the indexed ones among `digests`."""
        names = dict(self.db.execute("SELECT id, name FROM shards"))
        wanted = {_key(d): d for d in digests}
        keys = list(wanted)
        out: dict[str, tuple[str, int]] = {}
        for start in range(0, len(keys), 900):  # stay under SQLite's bound-parameter limit
            chunk = keys[start:start + 900]
            for key, shard, row in self.db.execute(
                    f"SELECT digest, shard, row FROM rows WHERE digest IN ({','.join('?' * len(chunk))})", chunk):
                out[wanted[key]] = (names[shard], row)
        return out


def _key(digest: str) -> bytes:
    """A SHA-256 digest as its 32 bytes (half the hex's size); any other key as its UTF-8 bytes."""
    try:
        return bytes.fromhex(digest) if len(digest) == 64 else digest.encode()
    except ValueError:
        return digest.encode()
