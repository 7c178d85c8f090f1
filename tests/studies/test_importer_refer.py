"""EndNote tagged / Refer (.enw) files: detection from content, fields, continuation lines,
records run together, and hypothesis round-trips and garbage."""

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studies.importers import ImportFormatError, detect_format, parse

VARIANTS = Path(__file__).resolve().parents[2] / "fixtures" / "samples" / "variants"


def test_endnote_tagged_export():
    result = parse((VARIANTS / "endnote_tagged.enw").read_bytes(), filename="citations.txt")
    assert result.format == "refer"
    article, book, paper = result.records
    assert article.title.startswith("Interorganisational collaboration between health-care")
    assert article.authors == ["Karam, Marlene", "Brault, Isabelle", "Van Durme, Thérèse"]
    assert (article.year, article.volume, article.issue, article.pages) == (
        2018,
        "79",
        "2",
        "70-83",
    )
    assert article.journal == "International Journal of Nursing Studies"
    assert article.doi == "10.1016/j.ijnurstu.2017.11.002"
    assert article.pmid == "29202313"  # %M is the PMID when the database is NLM
    assert article.keywords == ["Collaboration", "Integrated care", "Realist synthesis"]
    assert article.abstract.endswith("people with chronic conditions.")
    assert article.language == "eng" and article.type == "Journal Article"
    assert article.raw["%@"] == "0020-7489" and article.raw["%Z"] == "Publisher: Elsevier"
    # An edited book: its editors stand for the missing authors.
    assert book.authors == ["Emmel, Nick", "Greenhalgh, Joanne"] and book.year == 2018
    assert book.raw["%I"] == "SAGE"
    # A conference paper: the proceedings are its venue, the DOI comes from its link.
    assert paper.journal == "Proceedings of ICIS 2019"
    assert paper.doi == "10.5555/icis.2019.12" and paper.pmid == ""
    assert [r.line for r in result.records] == [1, 24, 32]


def test_classic_refer_and_records_run_together():
    result = parse((VARIANTS / "refer_classic.enw").read_bytes(), filename="refs.enw")
    assert result.format == "refer"
    first, second = result.records
    assert first.authors == ["J Smith", "K Lee"] and first.journal == "Evaluation"
    assert second.title == "Second record without a blank line" and second.year == 2016
    assert first.pmid == ""  # no database named: %M would not be a PMID


def test_bibtex_with_percent_comments_is_still_bibtex():
    text = "% Encoding: UTF-8\n% Created by JabRef\n@article{a, title={T}, author={A, B}}\n"
    assert detect_format(text) == "bibtex"


def test_one_stray_percent_line_is_not_refer():
    with pytest.raises(ImportFormatError):
        detect_format("%T just one tagged line\nand prose\n")


_value = st.text(
    # Markup ("<i>", "&amp;") is unmarked by every importer alike: tested with them.
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp"),
                           exclude_characters="<&"),
    min_size=1, max_size=40,
).map(lambda s: " ".join(s.split())).filter(lambda s: s and not s.startswith("%"))  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_value, st.lists(_value, min_size=1, max_size=4, unique=True),
                          st.integers(1800, 2030)), min_size=1, max_size=5))  # fmt: skip
def test_round_trip(entries):
    text = "".join(
        "%0 Journal Article\n%T " + title + "\n" + "".join(f"%A {a}\n" for a in authors)
        + f"%D {year}\n\n"
        for title, authors, year in entries
    )  # fmt: skip
    result = parse(text.encode(), format="refer")
    assert [(r.title, r.authors, r.year) for r in result.records] == [
        (title, authors, year) for title, authors, year in entries
    ]


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_garbage_raises_a_clear_error_or_parses(junk):
    try:
        result = parse(("%0 Journal Article\n%T A\n" + junk).encode(), format="refer")
    except ImportFormatError as exc:
        assert str(exc)
    else:
        assert result.records and result.records[0].title.startswith("A")


def test_notes_give_a_doi_only_when_they_name_one():
    text = (
        "%0 Journal Article\n%T Listed\n%A Doe, J.\n%D 2015\n"
        "%Z Cites doi:10.1258/1355819054308530 and doi:10.1186/1741-7015-11-21\n\n"
        "%0 Journal Article\n%T Own\n%A Doe, J.\n%D 2015\n%Z doi: 10.1186/s12889-015-1949-1\n"
    )
    listed, own = parse(text.encode(), filename="two.enw").records
    assert listed.doi == "" and own.doi == "10.1186/s12889-015-1949-1"
