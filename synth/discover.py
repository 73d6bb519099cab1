"""Discover: codable passages → embedded → clustered → described → categorised → stored as themes.

The computing happens first, in memory; then one transaction writes the run. Human decisions
are never overwritten: labels, definitions and categories a reviewer set stay; passages a
reviewer placed stay where they were put; accepted themes keep their members; rejected themes
stay rejected even when the clustering finds them again.

Over 450 lines because every write of a run (themes, memberships, stance links, categories, quotes,
label locations) happens here in one transaction, beside the reads that decide what a reviewer's
decisions hold; the computing stages live in their own modules.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from .categorise import CueMatch, PassageCategory, PrototypeIndex, categorise_passages, categorise_theme, categoriser_fingerprint
from .categorise import question_prior
from .readers.tables import QUESTION_FIELD
from .ray_shards import VECTORS_BESIDE_ABOVE, keep_beside
from .cluster import ClusterParams, cluster_passages
from . import incremental, learn, placement, relearn
from .deductive import DeductivePlacement, code_text, place_deductively
from .embed import EmbeddingResult, embed_with_cache, text_sha256
from .errors import SynthError
from .fast_embed import AUTO, choose_route, embedder_for, route_of_model_id
from .label import describe_themes
from .label_phrases import contradicts
from .label_spans import label_locations
from .match import PreviousTheme, match_themes
from .nlp import display_forms_of, passage_terms, pipeline_fingerprint
from .records import CATEGORIES, Passage, PassageTerms
from .recurring import shape_themes
from .section_split import Sections
from .stance import StanceResult, split_by_stance
from .statuses import REVIEWABLE
from .turn_context import turn_neighbours, with_turn_context
from .store import Membership, Project, ThemeRow, now_iso
from .vectors import UnitRows

MIN_CODABLE_PASSAGES = 10
# synth.clusterers.DEFAULT, spelt out: importing synth.clusterers imports scikit-learn (and through it
# pandas and scipy.stats: about a second of CPU per run), which only the other clusterers need, so
# discover imports it only when one of them is asked for.
DEFAULT_CLUSTERER = "consensus-ward"
# The Ward partitions, whose themes discover shapes further (recurring ideas carved and gathered).
_WARD_FAMILY = (DEFAULT_CLUSTERER, "consensus-ward-cotrain", "consensus-ward-lexical", "consensus-ward-umap")
MAX_QUOTES = 5
CATEGORISE_CHUNK = 2000

Progress = Callable[[str, int, int], None]  # (stage, done, total)
EmbedEngine = Callable[..., EmbeddingResult]  # `embed_with_cache`'s signature


@dataclass
class DiscoverReport:
    run_id: int = 0
    passages: int = 0
    embeddings_reused: int = 0
    embeddings_computed: int = 0
    categories_reused: int = 0    # passages whose stored category the same model and categoriser made
    categories_computed: int = 0
    lemmas_reused: int = 0       # passages whose lemmas were kept from an earlier run
    lemmas_computed: int = 0
    themes: int = 0
    placed: int = 0
    coverage: float = 0.0
    deductive: int = 0  # passages placed in codebook codes
    turn_context: int = 0  # passages read with their neighbours in a transcript's speaker turn
    new: list[int] = field(default_factory=list)
    kept: list[int] = field(default_factory=list)
    changed: list[int] = field(default_factory=list)
    merged: list[int] = field(default_factory=list)
    gone: list[int] = field(default_factory=list)
    retired: list[int] = field(default_factory=list)  # suggestions this run left without passages (_retire_emptied)
    seconds: dict[str, float] = field(default_factory=dict)
    embedder: str = ""         # the concrete route used
    embedder_reason: str = ""  # why (asked for, or what `auto` found)
    partition: str = "full"    # "full": the corpus partitioned afresh; "warm": stored themes extended (synth/incremental.py)
    partition_reason: str = ""  # why a full partition (empty for a warm start)


def discover(project: Project, *, seed: int = 42, min_theme_size: int | None = None, model_dir: str | None = None,
             embedder_route: str = AUTO, use_codebook: bool = False, clusterer: str = DEFAULT_CLUSTERER,
             progress: Progress | None = None, embed_engine: EmbedEngine = embed_with_cache,
             stance: bool = True, recluster: bool = False, turn_context: float = 0.0,
             vectors_beside_above: int = VECTORS_BESIDE_ABOVE) -> DiscoverReport:
    """`stance`: propose themes divided between barrier and enabler/practice as linked siblings
    (synth/stance.py). `recluster`: partition the whole corpus afresh even when only a few passages
    are new (otherwise those extend the stored themes, synth/incremental.py). `vectors_beside_above`:
    past this many codable passages, new vectors go to shards beside the project, not into its file.
    `turn_context`: in transcripts, move each passage's vector towards its neighbours in the same speaker
    turn by this weight before clustering (synth/turn_context.py; 0: off, the default, 0.25 measured).
    `embed_engine` computes the passages' vectors (in this process by default;
    `ray_engine.RayEngine` on a Ray cluster): same contract as `embed_with_cache`, the same vectors.
    An engine that also has `passage_terms` and `categorise_passages` (the Ray engine) computes
    lemmas and categories too, with the contracts of the in-process functions of those names."""
    started_at = now_iso()
    report = DiscoverReport()
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        report.seconds[stage] = round(now - clock, 3)
        clock = now
        if progress:
            progress(stage, 1, 1)

    def begin(stage: str) -> None:
        # Stages without a count of their own still show that they are running, and for how long.
        if progress:
            progress(stage, 0, 1)

    passages = project.passages(codable_only=True)
    if len(passages) < MIN_CODABLE_PASSAGES:
        raise SynthError(f"{project.path}: only {len(passages)} codable passages; discover needs at least "
                         f"{MIN_CODABLE_PASSAGES} (ingest more sources first)")
    if min_theme_size is not None and min_theme_size > len(passages):  # no theme could stand: say so, write nothing
        raise SynthError(f"{project.path}: a minimum theme size of {min_theme_size} is more than its {len(passages)} "
                         f"codable passages; give at most {len(passages)}, or leave --min-theme-size out (it adapts)")
    codes = [t for t in project.themes() if t.origin == "codebook"] if use_codebook else []
    if use_codebook and not codes:
        raise SynthError(f"{project.path}: holds no codebook to seed from; run `synth codebook import` first")
    texts = [p.text for p in passages]
    hashes = [p.text_sha256 for p in passages]

    # The route (PyTorch, ONNX, int8 ONNX, static) decides the model id, so vectors of different
    # routes never mix in the cache; `auto` keeps the latest run's route, so a re-run stays warm.
    last_run = project.latest_run()
    choice = choose_route(embedder_route, model_dir, previous=route_of_model_id(last_run["model_id"]) if last_run else None)
    report.embedder, report.embedder_reason = choice.name, choice.reason
    embedder = embedder_for(choice.name, model_dir)
    spec = embedder.spec
    # An engine that keeps the vectors beside the project (the Ray engine's shards) reads them there
    # itself; the project file then keeps only the few vectors embedded here (prototypes, codes).
    # The in-process engine does the same past a size (`vectors_beside_above`).
    engine_beside = bool(getattr(embed_engine, "keeps_vectors_beside_project", False))
    beside = engine_beside or len(passages) > vectors_beside_above
    cached = project.cached_embeddings(spec.model_id, hashes, beside=not engine_beside)
    embedded = embed_engine(texts, hashes, cached, embedder,
                                (lambda done, total: progress("embed", done, total)) if progress else None)
    if beside and not engine_beside and embedded.new_vectors:
        # Written now, as whole shards beside the project (its file is untouched until the one
        # transaction at the end): a run interrupted later reuses them, as the Ray engine's.
        keep_beside(project.path, spec.model_id, embedded.new_vectors)
    vectors = embedded.vectors
    # Category prototypes and codebook codes are embedded by the same model as the passages (one
    # vector space), and cached with them, so a warm re-run embeds nothing.
    extra_vectors: dict[str, np.ndarray] = {}

    def encode_cached(statements) -> np.ndarray:
        statements = list(statements)
        digests = [text_sha256(t) for t in statements]
        result = embed_with_cache(statements, digests, project.cached_embeddings(spec.model_id, digests), embedder)
        extra_vectors.update(result.new_vectors)
        return result.vectors

    lap("embed")

    # Deductive codes take their passages first; the rest is clustered into inductive themes.
    # Themes a reviewer built or filled by hand teach placement by their examples (synth/placement.py),
    # and so does an imported code with examples; their names and definitions count beside the
    # examples where they prove informative. Codes without examples are placed by their text alone
    # (synth/deductive.py).
    taught = relearn.taught_themes(project, passages, exclude=set())
    by_text = [c for c in codes if c.id not in {t for t, _ in taught}]
    deductive = place_deductively(vectors, encode_cached([code_text(c.label, c.definition) for c in by_text])) \
        if by_text else None
    code_vectors = {c.id: v for c, v in zip(codes, encode_cached([code_text(c.label, c.definition) for c in codes]))} \
        if codes else {}
    by_example = None
    if taught:
        taught_rows = [project.theme(t) for t, _ in taught]
        named = encode_cached([code_text(t.label, t.definition) for t in taught_rows])
        by_example = placement.place_by_examples(
            vectors, [placement.TaughtTheme(t, rows, named[k]) for k, (t, rows) in enumerate(taught)], texts)
    placed_first = (deductive.placed if deductive else np.zeros(len(passages), bool)) | \
        (by_example.placed if by_example else np.zeros(len(passages), bool))
    # A passage's category depends only on its text, its vector and the categoriser: reuse the
    # categories that this model and this categoriser already computed, score the rest.
    made_by = f"{spec.model_id}|{categoriser_fingerprint()}"
    stored = project.passage_categories_made_by(made_by)
    # The question a survey answer replies to is a prior for its category (categorise.question_prior);
    # a stored category is reused only when it was made with the same question.
    metadata = project.source_metadata()
    questions = [(metadata.get(p.source_id, {}).get(QUESTION_FIELD) or "").strip() or None for p in passages]
    passage_categories: list[PassageCategory | None] = [
        PassageCategory(scores=stored[p.id][1], category=stored[p.id][0],
                        cues=tuple(CueMatch.from_dict(c) for c in stored[p.id][2]))
        if p.id in stored and _same_question(stored[p.id][2], q) else None
        for p, q in zip(passages, questions)]
    todo = [i for i, c in enumerate(passage_categories) if c is None]
    report.categories_reused = len(passages) - len(todo)
    report.categories_computed = len(todo)
    prototypes = PrototypeIndex.build(encode_cached)
    score = getattr(embed_engine, "categorise_passages", categorise_passages)
    for start in range(0, len(todo), CATEGORISE_CHUNK):  # passages are scored independently
        chunk = todo[start:start + CATEGORISE_CHUNK]
        scored = score([texts[i] for i in chunk], vectors[chunk], prototypes=prototypes,
                                     questions=[questions[i] for i in chunk])
        for i, category in zip(chunk, scored, strict=True):
            passage_categories[i] = category
        if progress:
            progress("categorise", report.categories_reused + min(start + CATEGORISE_CHUNK, len(todo)), len(texts))
    lap("categorise")
    learned = relearn.learned_categories(project, passages, vectors, relearn.machine_scores(passage_categories),
                                         forms=relearn.reply_forms(passage_categories))
    by_passage = relearn.with_learned(passages, passage_categories, learned, project.reviewed_categories())

    inductive = np.flatnonzero(~placed_first)
    sub_passages = [passages[i] for i in inductive]
    sub_texts = [texts[i] for i in inductive]
    # All of them (no codebook): the engine's matrix itself, not a copy (the Ray engine's is memory-mapped).
    sub_vectors = vectors if len(inductive) == len(passages) else vectors[inductive]
    group_ids = np.array([p.source_id for p in sub_passages])
    # The passages at unit length, made once and read by clustering and every step after it (the
    # warm start, the recurring ideas, the stance split, labelling) instead of a copy each; with the
    # Ray engine, in a file mapped into memory beside the project, not in this process's heap.
    block_map = getattr(embed_engine, "blocks", None)
    make_matrix = getattr(block_map, "matrix", None)
    units = UnitRows.of(sub_vectors, make_matrix(sub_vectors.shape, np.float32) if make_matrix else None)
    if turn_context and any(p.speaker is not None for p in sub_passages):
        # A long answer's passages read with the ones beside them in its turn (synth/turn_context.py);
        # every step after this compares the rows so moved, in one space. No transcript: nothing moves.
        # Off by default: it broke up one of the demo's small recurring ideas, and the proxies cannot
        # show a gain (docs/benchmarks.md, "Interview transcripts: the turn and the question as context").
        report.turn_context = with_turn_context(units, turn_neighbours(sub_passages, project.passages()),
                                                turn_context)
    pipeline = pipeline_fingerprint()  # which lemmatiser the kept lemmas must come from
    # Centroids from another model (or route) live in another vector space: match on members only.
    same_space = last_run is None or last_run["model_id"] == spec.model_id
    # turn_context as None when off, as runs before it recorded nothing: those may still warm-start.
    settings = {"clusterer": clusterer, "min_theme_size": min_theme_size, "stance": stance, "codebook": bool(codes),
                "turn_context": turn_context or None}
    warm, report.partition_reason = incremental.prepare(
        project, last_run, sub_passages, units, group_ids, settings,
        exclude={c.id for c in codes} | {t for t, _ in taught}, same_space=same_space, recluster=recluster)
    report.partition = "full" if warm is None else "warm"
    if warm is not None:
        # A few new passages: the stored themes keep their members, labels and definitions; only the
        # candidate new themes among the new passages are described.
        clustering, stance_split = warm.clustering, None
        lap("cluster")
        begin("label")
        terms, new_terms = _terms_with_cache(project, pipeline, sub_texts, [p.text_sha256 for p in sub_passages],
                                             report, compute=getattr(embed_engine, "passage_terms", None))
        descriptions = list(warm.stored_descriptions)
        if warm.n_new_themes:
            names = project.source_names()
            descriptions += describe_themes(
                sub_texts, clustering, units, group_ids, [t.lemmas for t in terms], forms=display_forms_of(terms),
                encode=encode_cached, source_names=[_short_name(names.get(p.source_id, "")) for p in sub_passages],
            )[len(warm.theme_ids):]
        lap("label")
    elif len(sub_passages) >= MIN_CODABLE_PASSAGES:
        cluster_progress = (lambda done, total: progress("cluster", done, total)) if progress else None
        if clusterer == DEFAULT_CLUSTERER:  # called by name: tests stand in for it to interrupt a run
            clustering = cluster_passages(units, group_ids=group_ids,
                                          params=ClusterParams(seed=seed, min_theme_size=min_theme_size),
                                          progress=cluster_progress, block_map=block_map)
        else:
            from .clusterers import cluster_with

            clustering = cluster_with(clusterer, sub_vectors, group_ids=group_ids, seed=seed,
                                      min_theme_size=min_theme_size, progress=cluster_progress, texts=sub_texts)
        # Small recurring ideas carved out or gathered, catch-alls split (synth/recurring.py); then
        # stance within a topic: a theme whose passages divide between barrier and enabler (or
        # practice) becomes linked siblings (synth/stance.py). Neither cuts a theme a reviewer's
        # decisions hold together.
        held = _held_placements(project, sub_passages)
        if clusterer in _WARD_FAMILY:
            # Section headings (kept with each passage at ingest) let a long report's catch-all be
            # split along its authors' own sections; headings are embedded (and cached) only if needed.
            sections = Sections.of(group_ids, [p.section_heading for p in sub_passages])
            clustering, _ = shape_themes(clustering, units, group_ids, held=held, sections=sections,
                                         texts=sub_texts, encode=encode_cached)
        stance_split = split_by_stance(clustering, units, group_ids,
                                       [by_passage[p.id].category for p in sub_passages], held=held,
                                       texts=sub_texts) if stance else None
        clustering = stance_split.clustering if stance_split else clustering
        lap("cluster")
        begin("label")
        terms, new_terms = _terms_with_cache(project, pipeline, sub_texts, [p.text_sha256 for p in sub_passages],
                                             report, compute=getattr(embed_engine, "passage_terms", None))
        names = project.source_names()
        descriptions = describe_themes(sub_texts, clustering, units, group_ids, [t.lemmas for t in terms],
                                       forms=display_forms_of(terms), encode=encode_cached,
                                       source_names=[_short_name(names.get(p.source_id, "")) for p in sub_passages],
                                       categories=[by_passage[p.id].category for p in sub_passages],
                                       written=[t.forms for t in terms])
        lap("label")
    else:  # the codebook covered (nearly) everything: no inductive themes this run
        clustering, descriptions, new_terms, stance_split = None, [], {}, None
    del units  # read by nothing after labelling: the store's peak does not hold it
    begin("store")

    if warm is not None:
        matching = warm.matching
    else:
        previous = _previous_themes(project, exclude={c.id for c in codes} | {t for t, _ in taught},
                                    with_centroids=same_space)
        new_members = [{sub_passages[i].text_sha256 for i in np.flatnonzero(clustering.labels == t)}
                       for t in range(len(descriptions))] if clustering else []
        # `present`: passages this run left unplaced still exist, so their old theme is not 'merged' away.
        matching = match_themes(previous, new_members,
                                clustering.centroids if clustering else np.zeros((0, vectors.shape[1])),
                                present=set(hashes))

    with project.transaction():
        run_id = project.add_run(
            started_at=started_at, seed=seed, model_id=spec.model_id,
            params={"seed": seed, "min_theme_size": min_theme_size, "model": spec.name, "embedder": choice.name,
                    "codebook": bool(codes), "clusterer": clusterer, "stance": stance, "partition": report.partition,
                    **({"turn_context": turn_context} if turn_context else {})},
            stats=(incremental.stats_of(warm) if warm is not None else clustering.stats) if clustering else {}, report={},
        )
        project.store_embeddings(spec.model_id, extra_vectors if beside else {**embedded.new_vectors, **extra_vectors})
        project.store_passage_terms(pipeline, new_terms)
        project.clear_machine_memberships_of_uncodable()  # structure (found since, or an include undone)
        held = _held_placements(project, sub_passages)
        theme_of_cluster = _write_themes(project, run_id, descriptions, clustering, matching, report, held)
        if warm is None:  # a warm start keeps the stored themes, and so their stance links
            _write_stance_links(project, run_id, stance_split, theme_of_cluster)
        _retire_unmatched(project, matching.gone, report)
        if clustering:
            _write_memberships(project, run_id, sub_passages, clustering, theme_of_cluster)
        if deductive:
            _write_deductive_memberships(project, run_id, passages, deductive, by_text)
        if by_example is not None:
            _write_deductive_memberships(project, run_id, passages, by_example,
                                         [project.theme(t) for t, _ in taught])
        _retire_emptied(project, report)
        for i in todo:  # reused categories are already stored
            category = passage_categories[i]
            project.set_passage_category(passages[i].id, category.category, category.scores,
                                         [c.to_dict() for c in category.cues], made_by=made_by)
        relearn.store_learned(project, learned, run_id)
        quote_proposals = {theme_of_cluster[k]: [sub_passages[i].id for i in d.quote_indices]
                           for k, d in enumerate(descriptions)}
        for code in [*codes, *(project.theme(t) for t, _ in taught if t not in code_vectors)]:
            quote_proposals[code.id] = []  # codes quote their most similar members
        _write_theme_categories_and_quotes(project, quote_proposals, by_passage)
        _write_label_locations(project, {p.id: p.text for p in passages})
        report.run_id = run_id
        report.passages = len(passages)
        report.embeddings_reused = embedded.reused
        report.embeddings_computed = embedded.computed
        live = {t.id for t in project.themes()}
        report.themes = len(live)
        report.deductive = int(deductive.placed.sum() if deductive else 0) + \
            sum(1 for i in (np.flatnonzero(by_example.placed) if by_example else ()) if taught[by_example.code[i]][0] in code_vectors)
        report.placed = sum(1 for m in project.memberships(placed=True) if m.theme_id in live)
        report.coverage = round(report.placed / len(passages), 4)
        lap("store")
        project.set_run_report(run_id, _report_json(report))
    return report


def _same_question(stored_cues: list[dict], question: str | None) -> bool:
    """Whether a stored category was made for this question: the question its cues name, if any
    (a question without cue words leaves none, and then nothing to compare)."""
    asked = {c.get("question", "") for c in stored_cues} - {""}
    if not asked:
        return not question or not question_prior(question).cues
    return asked == {" ".join(question.split())} if question else False


def _short_name(name: str) -> str:
    """A source as a definition cites it: its file name without folder or extension."""
    stem = name.rsplit("/", 1)[-1]
    return stem.rsplit(".", 1)[0] if "." in stem else stem


def _terms_with_cache(project: Project, pipeline: str, texts: list[str], hashes: list[str],
                      report: DiscoverReport, compute: Callable | None = None,
                      ) -> tuple[list[PassageTerms], dict[str, PassageTerms]]:
    """Each passage's lemmas and written forms: kept ones where this pipeline made them, the rest
    computed (once per distinct text). Returns them in passage order, and the new ones by text hash."""
    stored = project.cached_passage_terms(pipeline, hashes)
    todo = {h: text for h, text in zip(hashes, texts, strict=True) if h not in stored}
    computed = dict(zip(todo, (compute or passage_terms)(list(todo.values())), strict=True))
    report.lemmas_computed = sum(1 for h in hashes if h in computed)
    report.lemmas_reused = len(hashes) - report.lemmas_computed
    return [stored[h] if h in stored else computed[h] for h in hashes], computed


def _held_by_a_reviewer(existing: Membership | None, accepted: set[int]) -> bool:
    """Discover never changes a placement a reviewer made, nor takes a passage out of an accepted theme."""
    return bool(existing and (existing.by_human or (existing.placed and existing.theme_id in accepted)))


def _write_deductive_memberships(project: Project, run_id: int, passages: list[Passage],
                                 deductive: DeductivePlacement, codes) -> None:
    accepted = {t.id for t in project.themes(statuses=("accepted",))}
    coded = {(c.passage_id, c.theme_id) for c in project.codings()}
    for i in np.flatnonzero(deductive.placed):
        if _held_by_a_reviewer(project.membership(passages[i].id), accepted):
            continue
        if (passages[i].id, codes[deductive.code[i]].id) in coded:  # a reviewer's example: coded there already
            continue
        project.set_membership(passages[i].id, codes[deductive.code[i]].id,
                               probability=float(np.clip(deductive.similarity[i], 0.0, 1.0)),
                               placed=True, by_human=False, run_id=run_id)


def _previous_themes(project: Project, exclude: set[int], *, with_centroids: bool = True) -> dict[int, PreviousTheme]:
    """Live themes of earlier runs, with the text hashes of their placed passages (codes seeding
    this run are left out: clusters of the remaining passages must not take their identity)."""
    members: dict[int, set[str]] = {}
    hash_of = {p.id: p.text_sha256 for p in project.passages()}
    for m in project.memberships(placed=True):
        if m.passage_id in hash_of:
            members.setdefault(m.theme_id, set()).add(hash_of[m.passage_id])
    previous = {}
    for theme in project.themes(statuses=REVIEWABLE):
        if theme.id in exclude:
            continue
        centroid = project.theme_centroid(theme.id) if with_centroids else None
        if centroid is None and not members.get(theme.id):
            continue
        previous[theme.id] = PreviousTheme(members=frozenset(members.get(theme.id, ())), centroid=centroid)
    return previous


def _held_placements(project: Project, passages: list[Passage]) -> np.ndarray:
    """Per passage, the theme a reviewer's decisions hold it in, or -1: placed by hand (a move, or a
    merge), in an accepted theme, or placed in a theme other themes were merged into (the reviewer
    said all of it is one theme, so its own passages must not leave to form a new one)."""
    accepted = {t.id for t in project.themes(statuses=("accepted",))}
    live = {t.id for t in project.themes()}
    merge_targets = {t.merged_into for t in project.themes(statuses=("merged",)) if t.merged_into is not None}
    by_passage = {m.passage_id: m for m in project.memberships(placed=True)}
    out = np.full(len(passages), -1, np.int64)
    for i, passage in enumerate(passages):
        m = by_passage.get(passage.id)
        if m is not None and m.theme_id in live and (_held_by_a_reviewer(m, accepted) or m.theme_id in merge_targets):
            out[i] = m.theme_id
    return out


def _reviewer_home(clustering, k: int, held: np.ndarray) -> int | None:
    """The live theme a reviewer's decisions hold most of cluster k's passages in, if any.

    A cluster that a reviewer already folded into another theme (merge, move, accept) must not come
    back as a new theme: its members would stay where the reviewer put them and leave it empty.
    """
    members = held[clustering.labels == k]
    if len(members) == 0:
        return None
    themes, counts = np.unique(members[members >= 0], return_counts=True)
    if len(themes) and counts.max() >= 0.5 * len(members):
        return int(themes[np.argmax(counts)])
    return None


def _write_themes(project: Project, run_id: int, descriptions, clustering, matching, report: DiscoverReport,
                  held: np.ndarray) -> dict[int, int]:
    if clustering is None:
        return {}
    theme_of_cluster: dict[int, int] = {}
    for match in matching.matches:
        d = descriptions[match.new_index]
        centroid = clustering.centroids[match.new_index]
        home = _reviewer_home(clustering, match.new_index, held) if match.old_theme_id is None else None
        if home is not None:  # the reviewer's theme keeps its own label, definition and centroid
            theme_of_cluster[match.new_index] = home
            if home not in report.merged:
                report.merged.append(home)
            continue
        if match.old_theme_id is None:
            theme_id = project.create_theme(label=d.label, definition=d.definition, top_terms=d.top_terms,
                                            run_id=run_id, centroid=centroid)
            report.new.append(theme_id)
        else:
            theme_id = match.old_theme_id
            old = project.theme(theme_id)
            fields: dict[str, object] = {"top_terms": list(d.top_terms), "centroid": centroid, "last_run": run_id}
            if not old.label_by_human:
                fields["label"] = d.label
            if not old.definition_by_human:
                fields["definition"] = d.definition
            project.update_theme(theme_id, bump_revision=False, **fields)
            {"kept": report.kept, "changed": report.changed, "merged": report.merged}.get(match.status, report.changed).append(theme_id)
        theme_of_cluster[match.new_index] = theme_id
    return theme_of_cluster


def _write_stance_links(project: Project, run_id: int, stance: StanceResult | None,
                        theme_of_cluster: dict[int, int]) -> None:
    """This run's stance siblings replace the last run's (a theme a reviewer merged away is not linked)."""
    links = []
    for split in (stance.splits if stance else ()):
        a, b = (theme_of_cluster.get(side) for side in split.sides)
        # Siblings share a topic phrase of substance (stance.shared_topic); halves of a theme that
        # share only a common word are two themes, not one topic seen from two sides.
        if a is not None and b is not None and a != b and split.topic:
            links.append((a, b, split.topic, split.stances))
    project.replace_stance_links(links, run_id=run_id)


def _retire_unmatched(project: Project, gone: tuple[int, ...], report: DiscoverReport) -> None:
    touched = _touched_by_a_reviewer(project)
    for theme_id in gone:
        if touched(project.theme(theme_id)):
            continue  # a reviewer's theme outlives the clustering that first suggested it
        project.update_theme(theme_id, bump_revision=False, status="retired")
        report.gone.append(theme_id)


def _retire_emptied(project: Project, report: DiscoverReport) -> None:
    """Retire discover's own suggestions that this run left without a passage.

    Another setting (a larger --min-theme-size, another --clusterer, --no-stance) partitions afresh,
    and match_themes counts an old theme whose members went mostly into one new theme as absorbed by
    it: its id is not carried over, so it would stay listed, exported and reported with size 0.
    """
    touched = _touched_by_a_reviewer(project)
    for theme in project.themes(statuses=("suggested",)):  # sizes: placed passages and further codings
        if theme.size or touched(theme):
            continue
        project.update_theme(theme.id, bump_revision=False, status="retired")
        report.retired.append(theme.id)


def _touched_by_a_reviewer(project: Project) -> Callable[[ThemeRow], bool]:
    """Whether discover must leave a theme alone, empty or not: it is not a plain suggestion of its
    own (accepted, renamed, redefined, recategorised, a theme others were merged into, named in any
    decision), or it is a codebook code, a split part or a theme a reviewer built."""
    decided = {d.theme_id for d in project.decisions() if d.theme_id is not None}
    merge_targets = {t.merged_into for t in project.themes(statuses=("merged",)) if t.merged_into is not None}
    return lambda theme: bool(
        theme.status != "suggested" or theme.origin != "discovered" or theme.label_by_human
        or theme.definition_by_human or theme.category_by_human or theme.id in decided or theme.id in merge_targets)


def _write_memberships(project: Project, run_id: int, passages: list[Passage], clustering, theme_of_cluster: dict[int, int]) -> None:
    accepted = {t.id for t in project.themes(statuses=("accepted",))}
    existing = project.memberships_of([p.id for p in passages])  # one read for all, not a query per passage
    cleared, rows = [], []
    for i, passage in enumerate(passages):
        held = existing.get(passage.id)
        if _held_by_a_reviewer(held, accepted):
            continue
        nearest = int(clustering.nearest[i])
        if nearest < 0 or nearest not in theme_of_cluster:
            if held:
                cleared.append(passage.id)
            continue
        rows.append((passage.id, theme_of_cluster[nearest], float(clustering.probability[i]),
                     bool(clustering.labels[i] >= 0)))
    project.clear_memberships(cleared)
    project.set_machine_memberships(rows, run_id=run_id)


def _write_theme_categories_and_quotes(project: Project, quote_proposals: dict[int, list[int]], by_passage) -> None:
    """Each theme's category from its placed members, and up to five quotes that are members."""
    for theme_id, proposed in quote_proposals.items():
        members = [m for m in project.memberships(theme_id=theme_id, placed=True) if m.passage_id in by_passage]
        member_ids = [m.passage_id for m in members]  # most confident first
        theme = project.theme(theme_id)
        if members and not theme.category_by_human:
            tc = categorise_theme([by_passage[m.passage_id] for m in members], [m.probability for m in members])
            project.update_theme(theme_id, bump_revision=False, category=tc.category,
                                 category_confidence=round(float(tc.confidence), 4), category_mix=dict(tc.mix),
                                 category_reasons=list(tc.reasons))
        elif members and theme.category in CATEGORIES:
            # A person's category stays; its confidence and reasons follow the members it has now,
            # under the line that says who set it.
            tc = categorise_theme([by_passage[m.passage_id] for m in members], [m.probability for m in members],
                                  category=theme.category)
            who = [r for r in theme.category_reasons[:1] if r.startswith("category ")]
            project.update_theme(theme_id, bump_revision=False, category_confidence=round(float(tc.confidence), 4),
                                 category_mix=dict(tc.mix), category_reasons=[*who, *tc.reasons])
        in_theme = set(member_ids)
        quotes = [pid for pid in proposed if pid in in_theme]
        for pid in member_ids:  # top up from the most confident members when reviewers moved quotes away
            if len(quotes) >= min(MAX_QUOTES, len(member_ids)):
                break
            if pid not in quotes:
                quotes.append(pid)
        # The theme's category is known only now: a quote whose passage says the opposite (a barrier
        # in an enabler theme) is never its headline; it goes after the others.
        category = project.theme(theme_id).category
        quotes.sort(key=lambda pid: contradicts(by_passage[pid].category, category))
        project.set_quotes(theme_id, quotes[:MAX_QUOTES])


def _write_label_locations(project: Project, text_of: dict[int, str]) -> None:
    """Where each live theme's label (the reviewer's, where renamed) occurs in its placed passages."""
    for theme in project.themes():
        ids = [m.passage_id for m in project.memberships(theme_id=theme.id, placed=True) if m.passage_id in text_of]
        found = label_locations(theme.label, [text_of[i] for i in ids])
        project.replace_label_locations(theme.id, theme.label, [(ids[k], start, end) for k, start, end in found])


def _report_json(report: DiscoverReport) -> str:
    return json.dumps(asdict(report), sort_keys=True)
