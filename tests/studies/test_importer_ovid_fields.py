"""Ovid's labelled text export ("<1>", a label, its indented value): detection after the
search strategy header, MEDLINE and Embase labels, PMIDs, every field kept, hypothesis
round-trips and garbage, and an import through the command."""

import json
from pathlib import Path

import pytest
from django.core.management import call_command
from hypothesis import given, settings
from hypothesis import strategies as st

from studies.importers import ImportFormatError, detect_format, parse
from studies.models import Record, Search
from studies.services import identification as svc
from synthesis.models import ReviewEvent

VARIANTS = Path(__file__).resolve().parents[2] / "fixtures" / "samples" / "variants"


def test_medline_labelled_export():
    result = parse((VARIANTS / "ovid_medline_fields.txt").read_bytes(), filename="medline.txt")
    assert (result.format, len(result.records)) == ("ovid", 2)
    assert result.warnings == [
        "the file holds its search strategy (Ovid MEDLINE(R) ALL <1946 to November 21, 2026>, "
        "4 lines, 118 results): it fills the search log's query and reported hits where they "
        "are empty"
    ]
    first, second = result.records
    assert first.title == (
        "Challenges and insights in inter-organizational collaborative healthcare networks: "
        "An empirical case study of a place-based network."
    )  # a title wrapped over two lines
    assert first.authors == ["Mervyn, Kieran", "Amoo, Nii Amoo", "Malby, Rebecca"]  # full names
    assert (first.journal, first.volume, first.issue, first.pages, first.year) == (
        "International Journal of Organizational Analysis", "27", "4", "875-902", 2019
    )  # fmt: skip
    assert first.doi == "10.1108/IJOA-12-2017-1304"
    assert first.pmid == "31263003"  # the unique identifier of a MEDLINE record
    assert first.abstract == (
        "Purpose: This paper examines the challenges of a place-based network.\n"
        "Findings: Trust and a shared purpose sustained the network."
    )
    assert first.keywords == [
        "Collaboration", "Healthcare networks", "Place-based", "Cooperative Behavior", "Humans",
        "Interinstitutional Relations",
    ]  # fmt: skip
    assert (first.type, first.language) == ("Journal Article", "English")
    # Every labelled field is kept under its label, lists as lists.
    assert first.raw["Unique Identifier"] == "31263003"
    assert first.raw["Authors"] == ["Mervyn K", "Amoo NA", "Malby R"]
    assert first.raw["ISSN Print"] == ["1934-8835"]
    assert first.raw["Publishing Model"] == "Journal available in: Print"
    assert second.abstract == (
        "Background: Interprofessional and interorganizational collaboration are considered "
        "essential."
    )  # a wrapped line continues its sentence
    assert (second.volume, second.issue, second.pages, second.pmid) == (
        "79",
        "",
        "70-83",
        "29202313",
    )
    assert second.raw["Publication Type"] == ["Journal Article", "Review", "Systematic Review"]
    assert [r.line for r in result.records] == [10, 59]


def test_embase_labelled_export_with_crlf():
    result = parse((VARIANTS / "ovid_embase_fields.txt").read_bytes(), filename="embase.txt")
    assert (result.format, len(result.records)) == ("ovid", 1)
    rec = result.records[0]
    assert rec.authors == ["Rycroft-Malone J.", "Burton C.R."]
    assert (rec.journal, rec.volume, rec.issue, rec.pages, rec.year) == (
        "International Journal of Health Policy and Management", "5", "4", "221-223", 2016
    )  # fmt: skip
    # An Embase accession number is not a PubMed ID; "Medline PMID" is.
    assert rec.pmid == "27239867" and rec.raw["Accession Number"] == "2001234567"
    assert rec.doi == "10.15171/ijhpm.2016.08"
    assert rec.keywords == [
        "co-production", "knowledge mobilisation", "collaboration", "knowledge", "health care"
    ]  # fmt: skip
    assert rec.type == "Journal: Editorial" and rec.raw["Publisher"].startswith("Kerman")


def test_found_after_a_long_search_strategy_and_not_taken_for_other_formats():
    strategy = "".join(f"{i}     (term{i} or other{i}).tw. ({i * 7})\n" for i in range(1, 900))
    text = (
        "Database: Ovid MEDLINE(R) <1946 to 2026>\nSearch Strategy:\n" + strategy
        + "\n<1>\nUnique Identifier\n  123\nTitle\n  A title\n"
    )  # fmt: skip
    assert len(strategy) > 20_000 and detect_format(text) == "ovid"
    rec = parse(text.encode()).records[0]
    assert (rec.title, rec.pmid) == ("A title", "123")
    # Ovid's tagged export ("<1. >", two-letter tags) stays RIS, PubMed stays MEDLINE.
    assert detect_format((VARIANTS / "ovid_medline_tagged.txt").read_text()) == "ris"
    assert detect_format("PMID- 1\nTI  - x\n") == "medline"


def test_a_value_without_a_label_is_reported_not_guessed():
    result = parse(b"<1>\n  stray value\nTitle\n  Kept\n", format="ovid", filename="x.txt")
    assert result.records[0].title == "Kept"
    assert result.warnings == ["ignored 1 indented line(s) with no field label above them"]


# Without "[": Ovid writes an author's role in brackets after the name, which is dropped.
_value = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp"),
                           exclude_characters="<&["),
    min_size=1, max_size=40,
).map(lambda s: " ".join(s.split())).filter(bool)  # fmt: skip


@settings(max_examples=150)
@given(st.lists(st.tuples(_value, st.lists(_value, min_size=1, max_size=4, unique=True),
                          st.integers(1800, 2030)), min_size=1, max_size=5))  # fmt: skip
def test_round_trip(entries):
    text = "Database: Embase\n\n" + "".join(
        f"<{i}>\nTitle\n  {title}\nAuthors Full Name\n" + "".join(f"  {a}\n" for a in authors)
        + f"Year of Publication\n  {year}\n\n"
        for i, (title, authors, year) in enumerate(entries, start=1)
    )  # fmt: skip
    result = parse(text.encode(), format="ovid")
    assert [(r.title, r.authors, r.year) for r in result.records] == [
        (title, authors, year) for title, authors, year in entries
    ]


@settings(max_examples=150)
@given(st.text(max_size=300))
def test_garbage_raises_a_clear_error_or_parses(junk):
    try:
        parse(("<1>\n" + junk).encode(), format="ovid", filename="junk.txt")
    except ImportFormatError as exc:
        assert str(exc).startswith("junk.txt")


@pytest.mark.django_db
def test_imported_by_the_command_with_its_search_strategy_logged(review, users, capsys):
    call_command("import_records", "--review", str(review.pk),
                 str(VARIANTS / "ovid_medline_fields.txt"))  # fmt: skip
    line = json.loads(capsys.readouterr().out.strip())
    assert (line["format"], line["parsed"], line["created"], line["error"]) == ("ovid", 2, 2, "")
    assert set(Record.objects.values_list("pmid", flat=True)) == {"31263003", "29202313"}
    search = Search.objects.get(review=review)
    assert search.query.splitlines() == [
        "1     exp Interinstitutional Relations/ (31247)",
        "2     (partnership* adj3 (universit* or academ*)).tw. (9120)",
        "3     realist.tw. (6011)",
        "4     (1 or 2) and 3 (118)",
    ]
    assert search.reported_hits == 118
    assert ReviewEvent.objects.filter(verb="search.update", target_id=search.pk).exists()


@pytest.mark.django_db
def test_a_strategy_the_reviewer_logged_is_not_replaced(review, users):
    search = Search.objects.create(review=review, source="MEDLINE", query="as run", reported_hits=5)
    batch = svc.import_batch_create(
        user=users["reviewer"], review=review, search=search, filename="medline.txt",
        data=(VARIANTS / "ovid_medline_fields.txt").read_bytes(),
    )  # fmt: skip
    svc.import_confirm(user=users["reviewer"], batch=batch)
    search.refresh_from_db()
    assert (search.query, search.reported_hits) == ("as run", 5)
    assert Record.objects.filter(batch__search=search).count() == 2
