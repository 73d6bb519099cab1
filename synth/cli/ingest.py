"""`synth ingest`."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..errors import InputError
from ..records import SOURCE_KINDS
from . import cli, open_project, project_argument, reports_errors
from .display import shown

STAGE_NAMES = {"files": "Reading files", "rows": "Reading rows", "segment": "Cutting passages",
               "store": "Saving sources"}


def _parse_meta(values: tuple[str, ...]) -> dict[str, str]:
    meta = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{item!r} is not key=value", param_hint="--meta")
        meta[key.strip()] = value.strip()
    return meta


def _added_lines(added) -> list[str]:
    """One line per file; the rows of one table (paths `table.csv#row=n`) share a line."""
    lines, tables = [], {}
    for src in added:
        table, sep, _ = src.path.partition("#row=")
        if sep:
            tables.setdefault((Path(table).name, src.kind), []).append(src)
            continue
        version = f" (version {src.version})" if src.version > 1 else ""
        structure = f", {src.structure} headings or furniture (not coded)" if src.structure else ""
        lines.append(f"added {shown(src.kind):<10} {shown(src.name)}{version}: {src.passages} passages, "
                     f"{src.codable} codable{structure}")
        lines.extend(f"  note: {shown(note)}" for note in src.notes)
    for (table, kind), rows in tables.items():
        lines.append(f"added {shown(kind):<10} {shown(table)}: {len(rows)} rows as sources, "
                     f"{sum(r.passages for r in rows)} passages, {sum(r.codable for r in rows)} codable")
        # A note about some rows says how many and which, or a reader of 1,500 rows cannot tell
        # whether "no codable passage" meant one answer or the whole table.
        noted = Counter(n for r in rows for n in dict.fromkeys(r.notes))
        for note, n in sorted(noted.items()):
            if n == len(rows):
                lines.append(f"  note: {shown(note)}")
                continue
            which = [r.name for r in rows if note in r.notes]
            more = f" and {n - 3} more" if n > 3 else ""
            lines.append(f"  note ({n} of {len(rows)} rows: {', '.join(shown(w) for w in which[:3])}{more}): "
                         f"{shown(note)}")
    return lines


@cli.command(epilog="""\b
Examples:
  synth ingest review.synth corpora/demo
  synth ingest review.synth interviews/ --kind interview --meta programme=JCP
  synth ingest review.synth answers.csv --text-column answer --id-column respondent_id
  synth ingest review.synth answers.csv --text-column answer --question-column prompt
""")
@project_argument
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--kind", type=click.Choice(SOURCE_KINDS), help="Kind of every source given (default: from a sources.csv manifest, else inferred).")
@click.option("--meta", "meta", multiple=True, metavar="KEY=VALUE", help="Metadata for every source given; repeatable.")
@click.option("--text-column", help="Tables: the column holding the text (default: text/response/answer/comment).")
@click.option("--id-column", help="Tables: the column whose value names each row's source.")
@click.option("--question-column", help="Tables: the column holding the question each row answers (default: a column "
              "named 'question'); its wording leans the answer's category (\"What made it harder?\" → barrier).")
@click.option("--code-interviewer", is_flag=True, help="Make interviewer turns codable too (default: context only).")
@click.option("--max-chars", default=600, show_default=True, type=click.IntRange(100, 5000), help="Largest passage, in characters.")
@reports_errors
def ingest_command(project: Path, paths: tuple[Path, ...], kind: str | None, meta: tuple[str, ...],
                   text_column: str | None, id_column: str | None, question_column: str | None,
                   code_interviewer: bool, max_chars: int) -> None:
    """Add sources (files or folders) to PROJECT, cut into passages with exact offsets.

    Reads .txt .md .docx .pdf .csv .xlsx .vtt .srt. Unchanged files are skipped; a changed file
    becomes a new version of its source. Nothing is written unless every file can be read.
    """
    from ..ingest import ingest  # here, not at the top: the file readers load only for ingest

    for path in paths:
        if not path.exists():
            raise InputError(path, "no such file or folder")
    with open_project(project, create=True) as proj, Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=Console(stderr=True), transient=True,
    ) as bar:
        tasks: dict[str, int] = {}

        def progress(stage: str, done: int, total: int | None) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(STAGE_NAMES.get(stage, stage), total=total)
            bar.update(tasks[stage], completed=done, total=total)

        try:
            report = ingest(proj, list(paths), kind=kind, metadata=_parse_meta(meta), text_column=text_column,
                            id_column=id_column, code_interviewer=code_interviewer, max_chars=max_chars,
                            progress=progress, question_column=question_column)
        except BaseException:
            # A command that failed leaves no half-made project behind. Only the command that made
            # the file removes it, still holding the lock: never another command's new project.
            if proj.created:
                proj.discard()
            raise
    for line in _added_lines(report.added):
        click.echo(line)
    for name in report.metadata_updated:
        click.echo(f"updated metadata of {shown(name)} (text unchanged)")
    for name, twin in report.duplicates:
        click.echo(f"skipped {shown(name)}: same content as {shown(twin)}, already in the project")
    for skip in report.skipped:
        click.echo(f"skipped {shown(skip.path)}: {shown(skip.reason)}")
    if report.unchanged:
        names = ", ".join(shown(name) for name in report.unchanged[:3])
        click.echo(f"unchanged, nothing to do: {len(report.unchanged)} source(s) already ingested"
                   + f" ({names}{', …' if len(report.unchanged) > 3 else ''})")
    click.echo(f"project: {shown(project)}")
