"""`synth discover`."""

from __future__ import annotations

import contextlib
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from ..fast_embed import AUTO, ROUTE_CHOICES
from ..ray_shards import VECTORS_BESIDE_ABOVE
from . import cli, open_project, project_argument, reports_errors
from .display import shown

STAGE_NAMES = {"embed": "Embedding passages", "cluster": "Clustering", "label": "Labelling themes",
               "categorise": "Categorising passages", "store": "Saving the run"}


@cli.command("discover", epilog="""\b
Examples:
  synth discover review.synth
  synth discover review.synth --seed 7 --min-theme-size 5
  synth discover review.synth --recluster              # partition every passage afresh
  synth discover review.synth --turn-context 0.25      # transcripts: a passage read with its turn's others
  synth discover review.synth --partition merged       # short answers: near-duplicate themes merged
  synth codebook import review.synth framework.qdc && synth discover review.synth --codebook
  synth discover review.synth --embedder onnx-int8     # faster still on a CPU, near-identical vectors
  synth discover review.synth --embedder pytorch       # the bundled model in PyTorch
  synth discover review.synth --model ~/models/my-sentence-transformer
  synth discover review.synth --engine ray                          # a local Ray cluster on this machine
  synth discover review.synth --engine ray --ray-address HEAD:6379  # join a running Ray cluster
""")
@project_argument
@click.option("--seed", default=42, show_default=True,
              help="Random seed of the consensus-leiden, consensus-ward-umap and umap-hdbscan clusterers; consensus Ward's themes "
                   "depend on the passages alone.")
@click.option("--recluster", is_flag=True,
              help="Partition every passage afresh. Without it, when the passages added or removed since the last "
                   "full partition are at most 10% of the corpus, they extend the stored themes instead: each new "
                   "passage joins its nearest theme when it is as close as the theme's own members, and new "
                   "themes form only among new passages that recur across sources.")
@click.option("--clusterer", default="consensus-ward", show_default=True,
              type=click.Choice(["consensus-leiden", "consensus-ward", "consensus-ward-cotrain", "consensus-ward-lexical",
                                 "consensus-ward-umap", "umap-hdbscan"]),
              help="How passages are grouped: synth's consensus Ward (the default), consensus Ward co-trained with "
                   "the passages' shared words, consensus Ward on the embedding joined to those words (LSA), "
                   "consensus Ward on a seeded 5-dimensional UMAP of the embedding (needs umap-learn), "
                   "its consensus Leiden on the neighbour graph, or "
                   "BERTopic's UMAP + HDBSCAN (needs umap-learn).")
@click.option("--min-theme-size", type=click.IntRange(2, None), help="Smallest theme, in passages (default: adapts to corpus size).")
@click.option("--codebook", "use_codebook", is_flag=True, help="Seed with the imported codebook's codes: passages that match a code go to it first; new themes are found among the rest.")
@click.option("--embedder", "embedder_route", default=AUTO, show_default=True, type=click.Choice(ROUTE_CHOICES),
              help="How passages are embedded: the bundled model in PyTorch, or a faster route built locally from it "
                   "(onnx: same vectors; onnx-int8: ~0.99 cosine; static: much faster, less precise). auto keeps the "
                   "project's last route, else takes onnx when ONNX Runtime is installed (PyTorch on a GPU). "
                   "See docs/benchmarks.md.")
@click.option("--model", "model_dir", type=click.Path(file_okay=False, exists=True), help="A local sentence-transformers model folder (default: the bundled all-MiniLM-L6-v2).")
@click.option("--engine", default="in-process", show_default=True, type=click.Choice(["in-process", "ray"]),
              help="Where passages are embedded: in this process, or by a pool of Ray workers (pip install "
                   "'synth[ray]'); the same themes either way. See README 'Large corpora: Ray'.")
@click.option("--ray-address", help="With --engine ray: the cluster to join (host:port, or ray://host:10001); "
                                    "without it a local cluster is started on this machine.")
@click.option("--ray-workers", type=click.IntRange(1, None),
              help="With --engine ray: embedding workers (default: one per CPU of the cluster).")
@click.option("--vectors-beside-above", type=click.IntRange(0, None), default=VECTORS_BESIDE_ABOVE, show_default=True,
              help="Past this many codable passages, keep the passages' vectors in Parquet shards beside the project "
                   "(PROJECT.vectors/) instead of in its file, as --engine ray always does (needs pyarrow).")
@click.option("--no-stance", "no_stance", is_flag=True,
              help="Keep a theme whose passages divide between barrier and enabler (or practice) as one, instead "
                   "of proposing two linked themes on the same topic.")
@click.option("--turn-context", type=click.FloatRange(0, None), default=0.0, show_default=True,
              help="In transcripts, read each passage with its neighbours in the same speaker turn: its vector moves "
                   "towards theirs by this weight before clustering (0.25 was measured; 0: off). See docs/benchmarks.md, "
                   "'Interview transcripts: the turn and the question as context'.")
@click.option("--partition", default="auto", show_default=True, type=click.Choice(["auto", "merged", "sections"]),
              help="How consensus Ward's themes are made: merged (fitted finer, near-duplicate themes merged, small "
                   "recurring ideas kept: better on short answers such as survey comments or table rows), sections "
                   "(as fitted, a long report's catch-all themes split along its sections), or auto: merged for short "
                   "answers (no interview, no literature source holding a minimum-size theme's worth of "
                   "passages), sections otherwise. See docs/benchmarks.md, "
                   "'The near-duplicate merge in synth'.")
@reports_errors
def discover_command(project: Path, seed: int, clusterer: str, min_theme_size: int | None, use_codebook: bool,
                     embedder_route: str, model_dir: str | None, engine: str, ray_address: str | None,
                     ray_workers: int | None, no_stance: bool, recluster: bool, vectors_beside_above: int,
                     turn_context: float, partition: str) -> None:
    """Find candidate themes among PROJECT's codable passages.

    Embeddings come from the project's cache where it has them. Themes are matched to the
    previous run's, so ids, names and reviewers' decisions carry over.
    """
    if engine != "ray" and (ray_address or ray_workers):
        raise click.UsageError("--ray-address and --ray-workers need --engine ray")
    if engine == "ray":
        from .ray_watch import watched

        vectors = project.with_name(project.name + ".vectors")
        watched(lambda how: f"Ray engine: lost the cluster during discover (the Ray node this command was attached "
                            f"to went away, {how}: its head node stopped or its Ray processes were killed); the "
                            f"project is unchanged; a re-run reuses the vectors already in {shown(vectors)}")
    console = Console(stderr=True)
    with contextlib.ExitStack() as stack:
        embed_engine = None
        if engine == "ray":
            from ..ray_engine import RayEngine, RaySettings

            embed_engine = stack.enter_context(RayEngine(project, RaySettings(ray_address, ray_workers),
                                                         model_dir=model_dir))
        report = _run(project, console, embed_engine, seed=seed, min_theme_size=min_theme_size, model_dir=model_dir,
                      embedder_route=embedder_route, use_codebook=use_codebook, clusterer=clusterer,
                      stance=not no_stance, recluster=recluster, vectors_beside_above=vectors_beside_above,
                      turn_context=turn_context, partition=partition)
        if embed_engine is not None:
            embed_engine.finish()
    click.echo(f"run {report.run_id}: {report.passages} codable passages; embeddings reused {report.embeddings_reused}, "
               f"computed {report.embeddings_computed} (embedder {shown(report.embedder)}: "
               f"{shown(report.embedder_reason)}{'; on Ray' if engine == 'ray' else ''})")
    if report.partition == "warm":
        click.echo("stored themes extended by the new passages (a full partition: --recluster)")
    else:
        click.echo(f"every passage partitioned afresh ({shown(report.partition_reason)})")
    if report.themes_partition:
        click.echo(f"partition: {report.themes_partition} ({shown(report.themes_partition_reason)})")
    if use_codebook:
        click.echo(f"codebook: {report.deductive} passages placed in its codes first")
    click.echo(f"{report.themes} themes; {report.placed} passages placed (coverage {report.coverage:.0%}), "
               f"{report.passages - report.placed} unplaced")
    changes = [("new", report.new), ("kept", report.kept), ("changed", report.changed), ("merged", report.merged),
               ("gone", report.gone), ("retired (left empty)", report.retired)]
    click.echo("themes " + ", ".join(f"{name}: {len(ids)}" for name, ids in changes if ids))
    click.echo(f"see them with: synth themes {shown(project)}")


def _run(project: Path, console: Console, embed_engine, **options):
    from ..discover import discover  # here, not at the top: clustering and spaCy load only for discover

    with open_project(project) as proj, Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TextColumn("left"), TimeRemainingColumn(), console=console, transient=True,
    ) as bar:
        tasks: dict[str, int] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(STAGE_NAMES.get(stage, stage), total=total)
            bar.update(tasks[stage], completed=done, total=total)

        if embed_engine is not None:
            options["embed_engine"] = embed_engine
        return discover(proj, progress=progress, **options)
