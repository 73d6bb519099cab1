"""A project of N passages with the size and the tables of a real one, written straight into the
store's tables: opening and page timings at 100k passages without hours of ingest and discover.

Sources of 100 passages of 45 random words (literature, interview and survey in turn, a region
each), a 384-float embedding and the lemmas of every passage, THEMES themes with labels,
definitions, terms, categories and centroids; 85 % of the passages placed, 10 % unplaced with a
nearest theme, 5 % never placed; a category with a cue for every passage, five quotes a theme;
then a reviewer's session through the real review actions (100 accepts, 10 rejects, 300 memos),
so that the decision log is real.
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import numpy as np

from synth.store import Project, now_iso

THEMES = 200
MODEL = "bench-model"
CATEGORIES = ("barrier", "enabler", "practice", "context")


def build(path: Path, n: int) -> None:
    """Write the project of `n` passages (a multiple of 100) at `path`."""
    rng, vectors = random.Random(0), np.random.default_rng(0)
    words = [f"word{i}" for i in range(5000)]
    with Project.open(path) as project, project.transaction() as db:
        for s in range(n // 100):
            texts = [" ".join(rng.choice(words) for _ in range(45)) + "." for _ in range(100)]
            full = "\n\n".join(texts)
            kind = ("literature", "interview", "survey")[s % 3]
            sid = db.execute("INSERT INTO sources (name, kind, path, sha256, text, version, is_current, notes,"
                             " ingested_at) VALUES (?, ?, ?, ?, ?, 1, 1, '[]', ?)",
                             (f"s{s}.txt", kind, f"/x/s{s}.txt", hashlib.sha256(full.encode()).hexdigest(), full,
                              now_iso())).lastrowid
            db.execute("INSERT INTO source_metadata VALUES (?, 'region', ?)", (sid, f"region {s % 7}"))
            rows, at = [], 0
            for i, t in enumerate(texts):
                rows.append((sid, i, at, at + len(t), t, None, 1, hashlib.sha256(t.encode()).hexdigest()))
                at += len(t) + 2
            db.executemany("INSERT INTO passages (source_id, seq, start_char, end_char, text, speaker, codable,"
                           " text_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
            vecs = vectors.standard_normal((100, 384)).astype(np.float32)
            db.executemany("INSERT INTO embeddings VALUES (?, ?, ?)",
                           [(MODEL, r[7], v.tobytes()) for r, v in zip(rows, vecs)])
            db.executemany("INSERT INTO passage_terms VALUES ('p', ?, ?, '')",
                           [(r[7], "\x1f".join(r[4].split()[:30])) for r in rows])
        run = db.execute("INSERT INTO runs (started_at, finished_at, seed, model_id, params, stats, report)"
                         " VALUES (?, ?, 42, ?, '{}', '{}', '{}')", (now_iso(), now_iso(), MODEL)).lastrowid
        for t in range(THEMES):
            db.execute("INSERT INTO themes (guid, label, definition, top_terms, category, category_confidence,"
                       " updated_at, centroid, created_run, last_run) VALUES (?, ?, ?, ?, ?, 0.7, ?, ?, ?, ?)",
                       (f"g{t}", f"theme {t}", f"definition of theme {t}",
                        json.dumps([f"word{t}", f"word{t + 1}"]), CATEGORIES[t % 4], now_iso(),
                        vectors.standard_normal(384).astype(np.float32).tobytes(), run, run))
        ids = [r[0] for r in db.execute("SELECT id FROM passages ORDER BY id")]
        placed = [(i, 1 + i % THEMES, 0.8, 1, 0, run) for i in ids if i % 20 < 17]
        unplaced = [(i, 1 + i % THEMES, 0.3, 0, 0, run) for i in ids if 17 <= i % 20 < 19]
        db.executemany("INSERT INTO memberships VALUES (?, ?, ?, ?, ?, ?)", placed + unplaced)
        db.executemany("INSERT INTO passage_categories (passage_id, category, barrier, enabler, practice, context,"
                       " cues, made_by) VALUES (?, ?, 0.5, 0.2, 0.2, 0.1, ?, 'cues')",
                       [(i, CATEGORIES[i % 4], json.dumps([{"cue": "lack of"}])) for i in ids])
        quotes: dict[int, list[int]] = {}
        for passage_id, theme_id, *_ in placed:
            quotes.setdefault(theme_id, []).append(passage_id)
        db.executemany("INSERT INTO theme_quotes VALUES (?, ?, ?)",
                       [(t, r, p) for t, members in quotes.items() for r, p in enumerate(members[:5])])
    # A reviewer's session: accepts, rejects and memos through the real actions, so the log is real.
    from synth.review import actions

    with Project.open(path, create=False) as project:
        for t in range(1, min(THEMES, 100) + 1):
            actions.accept(project, t, reviewer="alice")
        for t in range(101, min(THEMES, 110) + 1):
            actions.reject(project, t, reviewer="alice")
        for i in range(300):
            actions.memo(project, f"memo {i}", reviewer="alice", passage_id=ids[i * 97 % len(ids)])
