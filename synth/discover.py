"""Discover: codable passages → embedded → clustered → described → categorised → stored as themes.

The computing happens first, in memory; then one transaction writes the run. Human decisions
are never overwritten: labels, definitions and categories a reviewer set stay; passages a
reviewer placed stay where they were put; accepted themes keep their members; rejected themes
stay rejected even when the clustering finds them again. The computing stages live in their own
modules; how a run's results land in the project, around the reviewer's decisions (themes,
memberships, stance links, retirements, categories, quotes, label locations), is
`synth.discover_writes`, called here inside the run's one transaction.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from .categorise import CueMatch, PassageCategory, PrototypeIndex, categorise_passages, categoriser_fingerprint
from .categorise import question_prior
from .readers.tables import QUESTION_FIELD
from .ray_shards import VECTORS_BESIDE_ABOVE, keep_beside
from .cluster import ClusterParams, cluster_passages
from . import discover_writes as writes, incremental, placement, relearn
from .deductive import code_text, place_deductively
from .embed import EmbeddingResult, embed_with_cache, text_sha256
from .errors import SynthError
from .fast_embed import AUTO, choose_route, embedder_for, route_of_model_id
from .label import describe_themes
from .match import match_themes
from .merge_near import NearMerge
from .nlp import display_forms_of, passage_terms, pipeline_fingerprint
from .partition_choice import choose_partition
from .records import PassageTerms
from .recurring import shape_themes
from .section_split import Sections
from .stance import split_by_stance
from .turn_context import turn_neighbours, with_turn_context
from .store import Project, now_iso
from .vectors import UnitRows

MIN_CODABLE_PASSAGES = 10
# synth.clusterers.DEFAULT, spelt out: importing synth.clusterers imports scikit-learn (and through it
# pandas and scipy.stats: about a second of CPU per run), which only the other clusterers need, so
# discover imports it only when one of them is asked for.
DEFAULT_CLUSTERER = "consensus-ward"
# The Ward partitions, whose themes discover shapes further (recurring ideas carved and gathered).
_WARD_FAMILY = (DEFAULT_CLUSTERER, "consensus-ward-cotrain", "consensus-ward-lexical", "consensus-ward-umap")
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
    retired: list[int] = field(default_factory=list)  # suggestions this run left without passages (writes.retire_emptied)
    seconds: dict[str, float] = field(default_factory=dict)
    embedder: str = ""         # the concrete route used
    embedder_reason: str = ""  # why (asked for, or what `auto` found)
    partition: str = "full"    # "full": the corpus partitioned afresh; "warm": stored themes extended (synth/incremental.py)
    partition_reason: str = ""  # why a full partition (empty for a warm start)
    themes_partition: str = ""  # "merged" (near-duplicates merged, short answers) or "sections" (synth/partition_choice.py)
    themes_partition_reason: str = ""


def discover(project: Project, *, seed: int = 42, min_theme_size: int | None = None, model_dir: str | None = None,
             embedder_route: str = AUTO, use_codebook: bool = False, clusterer: str = DEFAULT_CLUSTERER,
             progress: Progress | None = None, embed_engine: EmbedEngine = embed_with_cache,
             stance: bool = True, recluster: bool = False, turn_context: float = 0.0,
             vectors_beside_above: int = VECTORS_BESIDE_ABOVE, partition: str = "auto") -> DiscoverReport:
    """`stance`: propose themes divided between barrier and enabler/practice as linked siblings
    (synth/stance.py). `partition`: "merged" (consensus Ward fitted finer, near-duplicate themes merged:
    for short answers), "sections" (as fitted, literature catch-alls split by section), or "auto": merged
    for short answers, no interview or long literature document (synth/partition_choice.py).
    `recluster`: partition the whole corpus afresh even when only a few passages are new (otherwise those extend the stored themes, synth/incremental.py). `vectors_beside_above`:
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
    partitioning = choose_partition(partition, sub_passages, project.source_kinds(), min_theme_size=min_theme_size,
                                    clusterer_merges=clusterer == DEFAULT_CLUSTERER)
    report.themes_partition, report.themes_partition_reason = partitioning.name, partitioning.reason
    # turn_context and merged_partition as None when off, as runs before them recorded nothing: those
    # may still warm-start. The partition chosen, not the one asked for, is what a warm start must share.
    settings = {"clusterer": clusterer, "min_theme_size": min_theme_size, "stance": stance, "codebook": bool(codes),
                "turn_context": turn_context or None, "merged_partition": partitioning.merged or None}
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
                nil_answers=[by_passage[p.id].nil_answer for p in sub_passages],
            )[len(warm.theme_ids):]
        lap("label")
    elif len(sub_passages) >= MIN_CODABLE_PASSAGES:
        cluster_progress = (lambda done, total: progress("cluster", done, total)) if progress else None
        if clusterer == DEFAULT_CLUSTERER:  # called by name: tests stand in for it to interrupt a run
            clustering = cluster_passages(units, group_ids=group_ids,
                                          params=ClusterParams(seed=seed, min_theme_size=min_theme_size,
                                                               merge=NearMerge() if partitioning.merged else None),
                                          progress=cluster_progress, block_map=block_map)
        else:
            from .clusterers import cluster_with

            clustering = cluster_with(clusterer, sub_vectors, group_ids=group_ids, seed=seed,
                                      min_theme_size=min_theme_size, progress=cluster_progress, texts=sub_texts)
        # Small recurring ideas carved out or gathered, catch-alls split (synth/recurring.py); then
        # stance within a topic: a theme whose passages divide between barrier and enabler (or
        # practice) becomes linked siblings (synth/stance.py). Neither cuts a theme a reviewer's
        # decisions hold together.
        held = writes.held_placements(project, sub_passages)
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
                                       written=[t.forms for t in terms],
                                       nil_answers=[by_passage[p.id].nil_answer for p in sub_passages])
        lap("label")
    else:  # the codebook covered (nearly) everything: no inductive themes this run
        clustering, descriptions, new_terms, stance_split = None, [], {}, None
    del units  # read by nothing after labelling: the store's peak does not hold it
    begin("store")

    if warm is not None:
        matching = warm.matching
    else:
        previous = writes.previous_themes(project, exclude={c.id for c in codes} | {t for t, _ in taught},
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
                    "partition_asked": partition, **({"merged_partition": True} if partitioning.merged else {}),
                    **({"turn_context": turn_context} if turn_context else {})},
            stats=(incremental.stats_of(warm) if warm is not None else clustering.stats) if clustering else {}, report={},
        )
        project.store_embeddings(spec.model_id, extra_vectors if beside else {**embedded.new_vectors, **extra_vectors})
        project.store_passage_terms(pipeline, new_terms)
        project.clear_machine_memberships_of_uncodable()  # structure (found since, or an include undone)
        held = writes.held_placements(project, sub_passages)
        theme_of_cluster = writes.write_themes(project, run_id, descriptions, clustering, matching, report, held)
        if warm is None:  # a warm start keeps the stored themes, and so their stance links
            writes.write_stance_links(project, run_id, stance_split, theme_of_cluster)
        writes.retire_unmatched(project, matching.gone, report)
        if clustering:
            writes.write_memberships(project, run_id, sub_passages, clustering, theme_of_cluster)
        if deductive:
            writes.write_deductive_memberships(project, run_id, passages, deductive, by_text)
        if by_example is not None:
            writes.write_deductive_memberships(project, run_id, passages, by_example,
                                         [project.theme(t) for t, _ in taught])
        writes.retire_emptied(project, report)
        for i in todo:  # reused categories are already stored
            category = passage_categories[i]
            project.set_passage_category(passages[i].id, category.category, category.scores,
                                         [c.to_dict() for c in category.cues], made_by=made_by)
        relearn.store_learned(project, learned, run_id)
        quote_proposals = {theme_of_cluster[k]: [sub_passages[i].id for i in d.quote_indices]
                           for k, d in enumerate(descriptions)}
        for code in [*codes, *(project.theme(t) for t, _ in taught if t not in code_vectors)]:
            quote_proposals[code.id] = []  # codes quote their most similar members
        writes.write_theme_categories_and_quotes(project, quote_proposals, by_passage)
        writes.write_label_locations(project, {p.id: p.text for p in passages})
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


def _report_json(report: DiscoverReport) -> str:
    return json.dumps(asdict(report), sort_keys=True)
