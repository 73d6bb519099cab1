"""`synth report`."""

from __future__ import annotations

from pathlib import Path

import click

from ..report import write_report
from . import cli, open_project, project_argument, reports_errors
from .display import shown


@cli.command("report", epilog="""\b
Examples:
  synth report review.synth -o findings.html --title "Ethnic minority employment support" --author "DWP analysis team"
  synth report review.synth -o findings.docx
  synth report review.synth -o report.html --by area --include-suggested
\b
Print the HTML from a browser (Chromium: Print, Save as PDF) for a PDF to hand over.
""")
@project_argument
@click.option("-o", "--output", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="File to write: .html (self-contained, prints to PDF) or .docx (Word).")
@click.option("--by", default="kind", show_default=True,
              help="Columns of the framework matrix: kind, source, or a metadata field (programme, area, role…).")
@click.option("--include-suggested", is_flag=True, help="Also report themes not yet accepted (marked as suggested).")
@click.option("--title", help="The report's title (default: Findings from PROJECT).")
@click.option("--author", default="", help="Author line (a person or a team).")
@click.option("--date", "date_", help="Date line (default: today).")
@reports_errors
def report_command(project: Path, out: Path, by: str, include_suggested: bool, title: str | None, author: str,
                   date_: str | None) -> None:
    """Write PROJECT's findings as a report for a policy team: HTML (opens offline) or Word.

    Findings grouped as barriers, enablers and transferable practices (context last), each with its
    definition, confidence and reasons (GRADE-CERQual), evidence profile and cited quotes; then
    saturation, the framework matrix with its numbers, and a map of passages.
    """
    with open_project(project, write=False) as proj:
        message = write_report(proj, out, by=by, include_suggested=include_suggested, title=title, author=author,
                               date=date_)
    click.echo(shown(message))
