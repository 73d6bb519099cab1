"""Framework matrix export: themes × sources or × a metadata field, each cell a count and its most central quote."""

from __future__ import annotations

import csv

import pytest

from export_fixture import SOURCES, THEMES, build_review_project
from synth.errors import SynthError
from synth.export import EXPORTS
from synth.export.cells import csv_cell
from synth.store import Project

ACCEPTED = {label: spec for label, spec in THEMES.items() if spec[0] == "accepted"}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build_review_project(tmp_path_factory.mktemp("matrix") / "review.synth")


def export(built, out, **options):
    with Project.open(built.path, create=False) as project:
        return EXPORTS["matrix"](project, out, options)


def read_csv(path):
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_by_source_counts_and_quotes_match_the_sources(built, tmp_path):
    out = tmp_path / "matrix.csv"
    assert "3 themes × 4 source values" in export(built, out, by="source")
    rows = {r["theme"]: r for r in read_csv(out)}
    assert set(rows) == set(ACCEPTED)
    for label, (_, _, _, members) in ACCEPTED.items():
        row = rows[label]
        assert int(row["passages"]) == len(members)
        assert row["guid"] == built.guids[label]
        for source in SOURCES:
            n = sum(1 for s, _, _ in members if s == source)
            assert int(row[f"{source}: passages"]) == n
            if n:
                quote, citation = row[f"{source}: quote"], row[f"{source}: citation"]
                start, end = (int(x) for x in citation.rsplit("[", 1)[1].rstrip("]").split("–"))
                # a quote that a spreadsheet would read as a formula carries OWASP's leading quote mark
                assert citation.startswith(source + " [") and csv_cell(built.texts[source][start:end]) == quote
            else:
                assert row[f"{source}: quote"] == ""
    # rows follow the categories: barriers, enablers, practices
    assert [r["category"] for r in read_csv(out)] == ["barrier", "enabler", "practice"]


def test_by_metadata_field_picks_the_most_central_quote_and_keeps_unrecorded_last(built, tmp_path):
    out = tmp_path / "matrix.csv"
    export(built, out, by="role")
    header = next(csv.reader(open(out, encoding="utf-8-sig", newline="")))
    assert [h.split(":")[0] for h in header[6::3]] == ["participant", "staff", "(not recorded)"]
    language = next(r for r in read_csv(out) if r["theme"] == "Language barriers")
    counts = [language[f"{col}: passages"] for col in ("participant", "staff", "(not recorded)")]
    assert counts == ["1", "1", "1"]
    assert language["participant: quote"] == SOURCES["interview_01.txt"][2][1][0]
    export(built, out, by="kind")
    language = next(r for r in read_csv(out) if r["theme"] == "Language barriers")
    # two interview passages (centrality 0.95 and 0.7): the cell quotes the more central one
    assert language["interview: passages"] == "2"
    assert language["interview: quote"] == SOURCES["interview_01.txt"][2][1][0]


def test_xlsx_has_a_matrix_and_a_counts_sheet(built, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "matrix.xlsx"
    export(built, out, by="area")
    wb = load_workbook(out)
    assert wb.sheetnames == ["Matrix", "Counts", "About"]
    counts = wb["Counts"]
    header = [c.value for c in counts[1]]
    assert header == ["theme", "category", "Bradford", "Leeds", "total"]
    table = {row[0].value: [c.value for c in row[2:]] for row in counts.iter_rows(min_row=2)}
    assert table["Language barriers"] == [2, 1, 3]
    assert table["Outreach in community venues"] == [2, 1, 3]
    matrix = wb["Matrix"]
    leeds = [c.value for c in matrix[1]].index("Leeds")
    cell = next(row for row in matrix.iter_rows(min_row=2) if row[0].value == "Outreach in community venues")[leeds]
    assert cell.value.startswith("1 passage\n“=Café sessions") and cell.data_type == "s"


def test_unknown_field_lists_the_fields_there_are(built, tmp_path):
    with pytest.raises(SynthError, match=r"--by 'region'.*one of: source, kind, area, programme, role"):
        export(built, tmp_path / "m.csv", by="region")


def test_unknown_extension(built, tmp_path):
    with pytest.raises(SynthError, match=r"one of: \.csv, \.xlsx"):
        export(built, tmp_path / "m.ods", by="source")
    assert not (tmp_path / "m.ods").exists()


def test_cli_writes_the_matrix(built, synth, tmp_path):
    out = tmp_path / "matrix.xlsx"
    assert "3 themes × 2 area values" in synth.ok("export", built.path, "matrix", "--by", "area", "-o", out)
    bad = synth("export", built.path, "matrix", "--by", "region", "-o", tmp_path / "m.csv")
    assert bad.exit_code == 1 and "choose one of: source, kind, area, programme, role" in bad.output
