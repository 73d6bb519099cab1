"""One read model of a project's themes, built once per command or web request and handed to every reader.

Exports, the report, the review pages and `synth themes` all need the same things: which themes
there are and what each status allows (`synth.statuses`), the current embedding space (the latest
run's model, its vectors and the themes' centroids, with a nearest-theme query), the categories'
colours, and each theme's summary and evidence. `ReadModel` reads each of them once, on first use,
and keeps it for the life of the command or request, so no reader builds its own view of the
project or reads the decision log again. It only reads: every change goes through the review
actions, and a new `ReadModel` sees it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import cached_property

import numpy as np

from . import statuses
from .records import CATEGORIES, Passage
from .statuses import LIVE, THEME_STATUSES
from .projectlock import file_state
from .store import Decision, Project, ThemeRow
from .summary import ProjectView, ThemeListEntry, ThemeSummary, list_entries, summarise
from .vectors import unit
from .synthesis import Evidence

UNCATEGORISED = "uncategorised"
# Colours: one hue family per category, so a QDA package's code colours show the category at a
# glance; themes of one category take successive shades of it. Written as #RRGGBB (REFI RGBType).
PALETTES = {
    "barrier": ("#C0392B", "#E67E22", "#922B21", "#EC7063", "#A04000", "#F1948A", "#78281F", "#DC7633"),
    "enabler": ("#1E8449", "#58D68D", "#145A32", "#28B463", "#0E6655", "#82E0AA", "#196F3D", "#45B39D"),
    "practice": ("#1F618D", "#5DADE2", "#154360", "#2E86C1", "#6C3483", "#85C1E9", "#1A5276", "#A569BD"),
    "context": ("#7F8C8D", "#B7950B", "#4D5656", "#D4AC0D", "#839192", "#9A7D0A", "#5D6D7E", "#F4D03F"),
    UNCATEGORISED: ("#AAB7B8", "#808B96", "#CCD1D1", "#616A6B"),
}
PARENT_COLOURS = {key: shades[0] for key, shades in PALETTES.items()}


def category_key(category: str | None) -> str:
    return category if category in CATEGORIES else UNCATEGORISED


class EmbeddingSpace:
    """The latest run's embedding model: its passage vectors and the themes' centroids, compared
    only with each other (vectors of another model have no honest similarity to these)."""

    def __init__(self, project: Project, run: Mapping) -> None:
        self.project = project
        self.run = run
        self.model_id: str = run["model_id"]
        self._centroids: dict[int, np.ndarray | None] = {}

    def vectors(self, text_hashes: Iterable[str]) -> dict[str, np.ndarray]:
        return self.project.cached_embeddings(self.model_id, text_hashes)

    def centroids(self, theme_ids: Iterable[int]) -> dict[int, np.ndarray]:
        """Each theme's centroid, read in one query for those not read yet; themes without one are left out."""
        wanted = [t for t in dict.fromkeys(theme_ids) if t not in self._centroids]
        if wanted:
            found = self.project.theme_centroids(wanted)
            self._centroids.update({t: found.get(t) for t in wanted})
        return {t: c for t in theme_ids if (c := self._centroids.get(t)) is not None and c.size}

    def nearest_themes(self, passages: Sequence[Passage], themes: Mapping[int, ThemeRow],
                       k: int) -> dict[int, list[tuple[ThemeRow, float]]]:
        """Up to `k` of `themes` per passage, by cosine similarity of its vector to their centroids."""
        centroids = self.centroids(themes)
        ids = list(centroids)
        vectors = self.vectors(p.text_sha256 for p in passages) if passages and ids else {}
        if not vectors or len({v.shape for v in vectors.values()} | {centroids[t].shape for t in ids}) != 1:
            return {}
        shown = [p for p in passages if p.text_sha256 in vectors]
        sims = unit(np.stack([vectors[p.text_sha256] for p in shown]), np.float64) @ unit(
            np.stack([centroids[t] for t in ids]), np.float64).T
        out = {}
        for p, row in zip(shown, sims):
            order = np.argsort(-row, kind="stable")[:k]
            out[p.id] = [(themes[ids[i]], float(row[i])) for i in order]
        return out

    def nearest_other_theme(self, theme_ids: Sequence[int], candidate_ids: Sequence[int]) -> dict[int, int]:
        """For each theme, the other candidate whose centroid is most similar (the one most easily
        confused with it); none when no other points the same way at all."""
        centroids = self.centroids([*theme_ids, *candidate_ids])
        out = {}
        for tid in theme_ids:
            if tid not in centroids:
                continue
            best, best_sim = None, 0.0  # an orthogonal or opposite theme is not one to confuse it with
            mine = unit(centroids[tid], np.float64)
            for other in candidate_ids:
                if other == tid or other not in centroids or centroids[other].shape != centroids[tid].shape:
                    continue
                sim = float(mine @ unit(centroids[other], np.float64))
                if sim > best_sim:
                    best, best_sim = other, sim
            if best is not None:
                out[tid] = best
        return out


def latest_space(project: Project) -> EmbeddingSpace | None:
    """The latest run's embedding space, for a reader that needs only that (a split, a search)."""
    run = project.latest_run()
    return EmbeddingSpace(project, run) if run is not None else None


class ReadModel(ProjectView):
    """A project's themes as every reader sees them, read once per command or request (see the module doc).

    A long-lived reader (the review app) hands in `shared`, a dict it keeps across requests: theme
    summaries are kept there until their theme changes, and the whole-project counts (theme sizes,
    the theme list's counts) until the project file changes at all (`version`).
    """

    statuses = statuses  # the vocabulary and its transitions, for templates and CLI choices

    def __init__(self, project: Project, *, shared: dict | None = None) -> None:
        super().__init__(project)
        self._shared = shared if shared is not None else {}
        self._summary_cache: dict[int, tuple[tuple, ThemeSummary]] = self._shared.setdefault("summaries", {})
        self._evidence: dict[tuple[int, bool], list[Evidence]] = {}

    @cached_property
    def version(self) -> tuple:
        """What changes whenever the project's contents do: the file's and its WAL's identity, size and
        change times (as the writer lock records them), the latest decision and the run and sources.
        Taken before anything it guards is read, so what is kept under it is never older than it."""
        return (tuple(file_state(self.project.path) or ()), self.project.latest_decision_id(), self.world)

    def _kept(self, name: str, compute):
        """`compute()`, or what it gave for this same `version` of the project in an earlier request."""
        version = self.version
        held = self._shared.get(name)
        if held is None or held[0] != version:
            held = (version, compute())
            self._shared[name] = held
        return held[1]

    # -- themes ------------------------------------------------------------------------------------

    @cached_property
    def all_themes(self) -> dict[int, ThemeRow]:
        """Every theme, whatever its status, by id (one query; sizes from the list counts when read)."""
        if "list_counts" in self.__dict__:  # a theme's size is its distinct passages over all kinds
            sizes = {t: sum(n for n, _ in kinds.values()) for t, kinds in self.list_counts[0].items()}
        else:
            sizes = self._kept("sizes", self.project.theme_sizes)
        return {t.id: t for t in self.project.themes(statuses=THEME_STATUSES, sizes=sizes)}

    @cached_property
    def list_counts(self) -> tuple[dict, dict]:
        """Per theme and source kind, (passages, sources) of all and of content passages (`theme_list_counts`)."""
        return self._kept("list_counts", self.project.theme_list_counts)

    def themes(self, wanted: Sequence[str] = LIVE) -> list[ThemeRow]:
        return [t for t in self.all_themes.values() if t.status in wanted]

    def live(self) -> dict[int, ThemeRow]:
        return {t.id: t for t in self.themes(LIVE)}

    def theme(self, theme_id: int) -> ThemeRow:
        if theme_id in self.all_themes:
            return self.all_themes[theme_id]
        return self.project.theme(theme_id)  # raises the store's NotFoundError, with its advice

    def unplaced_count(self) -> int:
        """How many codable passages are in no live theme (kept while the project is unchanged)."""
        return self._kept("unplaced_count", self.project.count_unplaced)

    def entries(self, wanted: Sequence[str] = LIVE) -> list[ThemeListEntry]:
        """What a list of themes shows, from one aggregate query (no passages read)."""
        counts = self.list_counts  # first: the themes' sizes are then read from these counts
        return list_entries(self.project, wanted, themes=self.themes(wanted), counts=counts)

    @cached_property
    def world(self) -> tuple:
        """What every summary depends on beyond its own theme: the latest run, and the sources."""
        return self.project.summary_world()

    def summary(self, theme: ThemeRow) -> ThemeSummary:
        key = (theme.revision, theme.updated_at, theme.status, theme.size, self.world)
        cached = self._summary_cache.get(theme.id)
        if cached is None or cached[0] != key:
            cached = (key, summarise(self, theme))
            self._summary_cache[theme.id] = cached
        return cached[1]

    def profile(self, theme: ThemeRow):
        """The theme's evidence profile (GRADE-CERQual, `synth.evidence`), kept while the project is unchanged."""
        from .evidence import profiles_for  # evidence builds on the store and the summaries

        return self._kept(f"profile {theme.id}", lambda: profiles_for(self.project, [theme])[theme.id])

    def summaries(self, wanted: Sequence[str] = LIVE) -> list[ThemeSummary]:
        return [self.summary(t) for t in self.themes(wanted)]

    def evidence(self, theme_id: int, *, with_text: bool = True) -> list[Evidence]:
        key = (theme_id, with_text)
        if key not in self._evidence:
            if not with_text and (theme_id, True) in self._evidence:
                return self._evidence[(theme_id, True)]
            self._evidence[key] = super().evidence(theme_id, with_text=with_text)
        return self._evidence[key]

    # -- categories and colours --------------------------------------------------------------------

    @cached_property
    def colours(self) -> dict[int, str]:
        """A colour per live theme: its category's hue, the next shade for each theme (by id) in that
        category. Ranked over all live themes, not just those a reader shows, so a theme has the same
        colour in the codebook, the project exchange and the report."""
        seen: dict[str, int] = {}
        out = {}
        for theme in self.themes(LIVE):
            key = category_key(theme.category)
            shades = PALETTES[key]
            out[theme.id] = shades[seen.get(key, 0) % len(shades)]
            seen[key] = seen.get(key, 0) + 1
        return out

    # -- the embedding space -----------------------------------------------------------------------

    @cached_property
    def run(self) -> dict | None:
        return self.project.latest_run()

    @cached_property
    def space(self) -> EmbeddingSpace | None:
        """The latest run's embedding space; None before the first discover."""
        return EmbeddingSpace(self.project, self.run) if self.run is not None else None

    # -- the decision log --------------------------------------------------------------------------

    @cached_property
    def decisions(self) -> list[Decision]:
        """The whole decision log, oldest first, read once."""
        return self.project.decisions()

    def memos(self, *, theme_id: int | None = None) -> list[Decision]:
        """Memos not undone, oldest first; of one theme, or all."""
        undone = {d.undoes for d in self.decisions if d.undoes is not None}
        return [d for d in self.decisions if d.action == "memo" and d.id not in undone
                and (theme_id is None or d.theme_id == theme_id)]

