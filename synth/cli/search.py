"""`synth search`: passages by their words, or by meaning."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..records import SOURCE_KINDS
from . import cli, open_project, project_argument, reports_errors
from .display import shown, shown_json


@cli.command("search", epilog="""\b
Examples:
  synth search review.synth childcare
  synth search review.synth '"digital skills" OR online*' --kind interview
  synth search review.synth 'transport NOT bus' --theme 4 --json
  synth search review.synth 'could not get online' --semantic
  synth search review.synth --like 1042 --limit 10
""")
@project_argument
@click.argument("query", required=False)
@click.option("--json", "as_json", is_flag=True, help="Every hit with offsets, matched stretches, theme and category, as JSON.")
@click.option("--theme", "theme_id", type=int, help="Only passages coded to this theme.")
@click.option("--kind", type=click.Choice(SOURCE_KINDS), help="Only passages from sources of this kind.")
@click.option("--semantic", is_flag=True, help="Rank by meaning: QUERY is embedded with the project's model and compared "
                                                "with every passage's cached vector.")
@click.option("--like", "like_id", type=int, help="More like this: rank passages by meaning against passage LIKE.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000), help="Most hits to show.")
@reports_errors
def search_command(project: Path, query: str | None, as_json: bool, theme_id: int | None, kind: str | None,
                   semantic: bool, like_id: int | None, limit: int) -> None:
    """Find PROJECT's passages by their words (QUERY), or by meaning (--semantic, --like).

    QUERY is an SQLite full-text query: words (all must occur), "a phrase", prefix*, AND, OR, NOT
    (in capitals) and parentheses. Matches are shown between » and «.
    """
    from ..search import search, similar

    if like_id is not None and query:
        raise click.UsageError("give QUERY or --like PASSAGE_ID, not both")
    if like_id is None and not query:
        raise click.UsageError("give a QUERY to search for (or --like PASSAGE_ID)")
    with open_project(project, write=False) as proj:  # searching only reads: it never waits for a writer
        if like_id is not None:
            results = similar(proj, passage_id=like_id, kind=kind, theme_id=theme_id, limit=limit)
        elif semantic:
            results = similar(proj, text=query, kind=kind, theme_id=theme_id, limit=limit)
        else:
            results = search(proj, query, kind=kind, theme_id=theme_id, limit=limit)
    if as_json:
        click.echo(shown_json(json.dumps({"query": results.query, "mode": results.mode, "total": results.total,
                                          "more": results.more, "ranked": results.ranked,
                                          "hits": [h.as_json() for h in results.hits]}, indent=2, ensure_ascii=False)))
        return
    if not results.hits:
        click.echo(f"no passages match {shown(repr(results.query))}")
        return
    listed = len(results.hits)
    if results.mode == "text":
        count = f"more than {results.total:,}" if results.more else f"{results.total:,}"
        which = ("the best" if results.ranked else "in document order (too common to rank), the first")
        click.echo(f"{count} passage{'s' if results.total != 1 else ''} match {shown(repr(results.query))}"
                   + (f"; {which} {listed}:" if listed < results.total else ":"))
    else:
        click.echo(f"the {len(results.hits)} passages nearest in meaning to {shown(repr(results.query))}:")
    for h in results.hits:  # source names, labels and text come from files: shown terminal-safe
        text = "".join(f"»{piece}«" if hit else piece for piece, hit in h.segments())
        theme = f"theme {h.theme_id} ({shown(h.theme_label)})" if h.theme_id is not None else "no theme"
        also = "".join(f"; also theme {t} ({shown(label)})" for t, label in h.also_coded)
        click.echo(f"\n[{h.passage_id}] {shown(h.source_name)} {h.start_char}–{h.end_char} · {h.source_kind}"
                   f" · {theme}{also} · {h.category or 'no category'} · score {h.score:.3f}")
        click.echo("  " + shown(" ".join(text.split())))
