"""`synth report`."""

from __future__ import annotations

from pathlib import Path

import click

from ..report import write_report
from . import cli, open_project, project_argument, reports_errors
from .display import shown


@cli.command("report", epilog="""\b
Examples:
  synth report review.synth -o report.html
  synth report review.synth -o report.html --by area --include-suggested
""")
@project_argument
@click.option("-o", "--output", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="HTML file to write.")
@click.option("--by", default="source", show_default=True,
              help="Columns of the framework matrix: source, kind, or a metadata field (programme, area, role…).")
@click.option("--include-suggested", is_flag=True, help="Also report themes not yet accepted (marked as suggested).")
@reports_errors
def report_command(project: Path, out: Path, by: str, include_suggested: bool) -> None:
    """Write PROJECT's themes as one self-contained HTML report that opens offline.

    Summary figures, a map of passages coloured by theme, theme sizes by category, the framework
    matrix as a heatmap, and every theme with its definition, category and reasons,
    triangulation and cited quotes.
    """
    with open_project(project, create=False) as proj:
        message = write_report(proj, out, by=by, include_suggested=include_suggested)
    click.echo(shown(message))
