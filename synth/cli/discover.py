"""`synth discover`."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from ..fast_embed import AUTO, ROUTE_CHOICES
from . import cli, open_project, project_argument, reports_errors
from .display import shown

STAGE_NAMES = {"embed": "Embedding passages", "cluster": "Clustering", "label": "Labelling themes",
               "categorise": "Categorising passages", "store": "Saving the run"}


@cli.command("discover", epilog="""\b
Examples:
  synth discover review.synth
  synth discover review.synth --seed 7 --min-theme-size 5
  synth codebook import review.synth framework.qdc && synth discover review.synth --codebook
  synth discover review.synth --embedder onnx-int8     # faster still on a CPU, near-identical vectors
  synth discover review.synth --embedder pytorch       # the bundled model in PyTorch
  synth discover review.synth --model ~/models/my-sentence-transformer
""")
@project_argument
@click.option("--seed", default=42, show_default=True, help="Random seed; the same project and seed give identical results.")
@click.option("--clusterer", default="consensus-ward", show_default=True,
              type=click.Choice(["consensus-ward", "umap-hdbscan"]),
              help="How passages are grouped: synth's consensus Ward, or BERTopic's UMAP + HDBSCAN (needs umap-learn).")
@click.option("--min-theme-size", type=click.IntRange(2, None), help="Smallest theme, in passages (default: adapts to corpus size).")
@click.option("--codebook", "use_codebook", is_flag=True, help="Seed with the imported codebook's codes: passages that match a code go to it first; new themes are found among the rest.")
@click.option("--embedder", "embedder_route", default=AUTO, show_default=True, type=click.Choice(ROUTE_CHOICES),
              help="How passages are embedded: the bundled model in PyTorch, or a faster route built locally from it "
                   "(onnx: same vectors; onnx-int8: ~0.99 cosine; static: much faster, less precise). auto keeps the "
                   "project's last route, else takes onnx when ONNX Runtime is installed (PyTorch on a GPU). "
                   "See docs/benchmarks.md.")
@click.option("--model", "model_dir", type=click.Path(file_okay=False, exists=True), help="A local sentence-transformers model folder (default: the bundled all-MiniLM-L6-v2).")
@reports_errors
def discover_command(project: Path, seed: int, clusterer: str, min_theme_size: int | None, use_codebook: bool,
                     embedder_route: str, model_dir: str | None) -> None:
    """Find candidate themes among PROJECT's codable passages.

    Embeddings come from the project's cache where it has them. Themes are matched to the
    previous run's, so ids, names and reviewers' decisions carry over.
    """
    from ..discover import discover  # here, not at the top: clustering and spaCy load only for discover

    console = Console(stderr=True)
    with open_project(project) as proj, Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TextColumn("left"), TimeRemainingColumn(), console=console, transient=True,
    ) as bar:
        tasks: dict[str, int] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(STAGE_NAMES.get(stage, stage), total=total)
            bar.update(tasks[stage], completed=done, total=total)

        report = discover(proj, seed=seed, min_theme_size=min_theme_size, model_dir=model_dir,
                          embedder_route=embedder_route, use_codebook=use_codebook, clusterer=clusterer,
                          progress=progress)
    click.echo(f"run {report.run_id}: {report.passages} codable passages; embeddings reused {report.embeddings_reused}, "
               f"computed {report.embeddings_computed} (embedder {shown(report.embedder)}: "
               f"{shown(report.embedder_reason)})")
    if use_codebook:
        click.echo(f"codebook: {report.deductive} passages placed in its codes first")
    click.echo(f"{report.themes} themes; {report.placed} passages placed (coverage {report.coverage:.0%}), "
               f"{report.passages - report.placed} unplaced")
    changes = [("new", report.new), ("kept", report.kept), ("changed", report.changed), ("merged", report.merged),
               ("gone", report.gone)]
    click.echo("themes " + ", ".join(f"{name}: {len(ids)}" for name, ids in changes if ids))
    click.echo(f"see them with: synth themes {shown(project)}")
