"""The parse phase's fast paths (session 7) give exactly what the general code gives.

Each reference below is the code as it was before the fast path; bench/parse_identity.py runs
the whole parse phase against the previous revision on the benchmark and sample files.
"""

import datetime
import re
import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studies import dedup
from studies.services import record_writer as rw

FAST = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- dedup.fold -----------------------------------------------------------------------------

_NON_ALNUM = re.compile(r"[^\w]+")


def fold_reference(text: str) -> str:
    if not text:
        return ""
    if not text.isascii():
        text = dedup._COMBINING.sub("", unicodedata.normalize("NFKD", text))
        text = text.replace("ß", "ss").replace("æ", "ae").replace("ø", "o").replace("Ø", "o")
        text = text.replace("Æ", "ae").replace("ł", "l").replace("Ł", "l").replace("đ", "d")
    text = text.lower().replace("&", " and ").replace("_", " ")
    return " ".join(_NON_ALNUM.sub(" ", text).split())


def test_fold_of_every_pair_of_ascii_characters():
    chars = [chr(c) for c in range(128)]
    for a in chars:
        for b in chars:
            for text in (a + b, f"X{a}y{b}Z9", f"{a} {b}"):
                assert dedup.fold(text) == fold_reference(text), repr(text)


@FAST
@given(st.one_of(st.text(st.characters(max_codepoint=127)), st.text()))
def test_fold_matches_the_regex_on_any_text(text):
    assert dedup.fold(text) == fold_reference(text)


# --- record_writer.copy_lines ---------------------------------------------------------------

WIDTH = len(rw.ROW_COLUMNS)
_value = st.one_of(
    st.text(st.sampled_from("ab %s%%\\\t\n\r\x01\x02é\u2028"), max_size=8),
    st.integers(-5, 10**6),
)
_when = st.datetimes(timezones=st.sampled_from([datetime.UTC, None]))


def _reference(rows):
    """copy_lines before its %-template."""
    body = rw._ROW.join(["\t".join(map(str, row)) for row in rows])
    nulls = sum(1 for row in rows if row[rw._YEAR] is rw._NULL)
    if (
        body.count("\t") != (WIDTH - 1) * len(rows)
        or body.count(rw._ROW) != len(rows) - 1
        or body.count(rw._NULL) != nulls
    ):
        return [
            "\t".join(rw.copy_text(None if i == rw._YEAR and v is rw._NULL else v) for i, v in enumerate(r))
            for r in rows
        ]  # fmt: skip
    body = body.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
    return body.replace(rw._NULL, "\\N").split(rw._ROW)


@FAST
@given(
    st.lists(st.tuples(st.lists(_value, min_size=WIDTH - 1, max_size=WIDTH - 1),
                       st.one_of(st.none(), st.integers(1500, 2100))), min_size=1, max_size=5),
    _when, st.booleans(), st.data(),
)  # fmt: skip
def test_copy_lines_with_one_or_several_creation_times(rows, when, shared, data):
    """created_at is formatted once when every row holds the same datetime (the import's
    case), row by row otherwise; "%" in a value or in the datetime's text is no format."""
    full = []
    for values, year in rows:
        row = [*values, when if shared else data.draw(_when)]
        row[rw._YEAR] = rw._NULL if year is None else year
        full.append(tuple(row))
    assert rw.copy_lines(full) == _reference(full)


def test_copy_lines_last_value_with_a_percent_sign():
    class Odd:
        def __str__(self):
            return "100% %s"

    odd = Odd()
    rows = [tuple(["x"] * (WIDTH - 1) + [odd]) for _ in range(3)]
    assert rw.copy_lines(rows) == _reference(rows)
    assert rw.copy_lines(rows)[0].endswith("\t100% %s")


def test_copy_lines_rows_of_another_width_as_before():
    for width in (WIDTH - 1, WIDTH + 1):
        rows = [tuple(["a", 1, *["b"] * (width - 2)]) for _ in range(2)]
        assert rw.copy_lines(rows) == _reference(rows)


# --- RIS: records whose values need no cleaning (base.plain_values) -------------------------

# Mostly what plain_values lets through (words, single spaces, "& "), with every kind of thing
# it must notice now and then: entities, markup, other whitespace, leading, trailing and
# double spaces, line breaks, non-ASCII and control characters, lone surrogates.
WORDS = ["Health", "care", "&", "Müller", "协作", "2019", "10.1234/ab.c", "doi:", "-", "*", ";",
         "p", "pp", "12-34", "No", "Specified", "Scopus", "NLM", "PMID: 123456", "x" * 120]  # fmt: skip
ODD = [" ", "  ", "\t", "\n", "\r", "\x0b", "\x1f", "\x85", "\xa0", "\u2003", "\x00", "\x7f",
       "&amp;", "&#10;", "&lt;i&gt;", "&x", "<i>", "</i>", "<", "& ", " &", "\ud800", "–"]  # fmt: skip
plain_word = st.sampled_from(WORDS)
piece = st.one_of(plain_word, plain_word, plain_word, plain_word, st.sampled_from(ODD))
value_text = st.one_of(
    st.lists(plain_word, min_size=1, max_size=6).map(" ".join),
    st.lists(piece, max_size=8).map("".join),
    st.lists(piece, max_size=8).map(" ".join),
    st.text(st.characters(blacklist_categories=()), max_size=12),
)
RIS_TAGS = ["TY", "TI", "T1", "AU", "A1", "AB", "N2", "PY", "T2", "JF", "JO", "VL", "IS", "SP",
            "EP", "DO", "DI", "AN", "DB", "DP", "C2", "C5", "C7", "UR", "L2", "KW", "LA", "N1"]  # fmt: skip
ris_value = st.one_of(value_text, value_text, st.lists(value_text, min_size=1, max_size=4))
ris_raw = st.dictionaries(st.sampled_from(RIS_TAGS), ris_value, max_size=14)


@FAST
@given(ris_raw, st.sampled_from([None, "AB"]))
def test_plain_values_are_left_unchanged_by_the_cleaning(raw, skip):
    from studies.importers import base
    from tests.studies import importers_reference as ref

    if not base.plain_values(raw, skip):
        return
    for tag, value in raw.items():
        if tag == skip:
            continue
        for v in value if isinstance(value, list) else [value]:
            assert "\n" not in v
            assert ref.clean_text(v) == v == ref.clean_abstract(v)
            assert base.clean_text(v) == v


def test_plain_values_notices_what_needs_cleaning():
    from studies.importers import base

    assert base.plain_values({"TI": "Social Science & Medicine", "AU": ["A, B", "C, D"]})
    assert base.plain_values({"TI": "A & B", "AB": "  dirty\tabstract "}, skip="AB")
    for odd in ["a  b", " a", "a ", "a&amp;", "a &b", "a\tb", "a\nb", "a\xa0b", "<i>a</i>", ""]:
        assert not base.plain_values({"TY": "JOUR", "TI": odd}), odd
        assert not base.plain_values({"TY": "JOUR", "AU": ["A, B", odd]}), odd
    assert not base.plain_values({"TI": 2019})
    assert not base.plain_values({"": [" a"]})  # any key is checked unless skipped
    assert not base.plain_values({"AU": ["A", None]})
    assert not base.plain_values({"AU": ("A", "B")})

    class Text(str):
        pass

    assert not base.plain_values({"TI": Text("a")})
    assert not base.plain_values({"AU": [Text("a")]})


@FAST
@given(ris_raw, st.integers(1, 10**6))
def test_ris_record_of_plain_or_odd_values_matches_the_general_path(raw, line):
    from studies.importers import ris
    from tests.studies import importers_reference as ref

    assert ris.to_record(raw, line) == ref.to_record(raw, line)


def test_ris_record_with_str_subclasses_matches_the_general_path():
    from studies.importers import ris
    from tests.studies import importers_reference as ref

    class Shown(str):
        def __str__(self):
            return " shown  <i>other</i> "

    raw = {"TY": "JOUR", "TI": Shown("Plain title"), "AU": ["A, B", Shown("C, D")],
           "T2": [Shown("Journal"), "Other"], "KW": [Shown("kw")]}  # fmt: skip
    assert ris.to_record(raw, 1) == ref.to_record(raw, 1)


# --- clean_doi: bare DOIs without the regexes -----------------------------------------------

doi_like = st.tuples(
    st.sampled_from(["10.", "10.", "1O.", "10,", " 10.", "doi:10.", "https://doi.org/10."]),
    st.text(st.sampled_from("0123456789١٢"), max_size=11),
    st.sampled_from(["/", "/", "//", "", " /"]),
    st.text(st.sampled_from("abc.,;)]}/ -\t\xa0é"), max_size=10),
    st.sampled_from(["", "", ".", ")", " ", "x" * 300]),
).map("".join)


@FAST
@given(st.one_of(doi_like, value_text))
def test_clean_doi_matches_the_general_path(value):
    from studies.importers import base
    from tests.studies import importers_reference as ref

    assert base.clean_doi(value) == ref.clean_doi(value)


def test_imported_record_fields_in_the_order_the_importers_pass_them():
    """ris.to_record and tagged.medline_record build records positionally."""
    import dataclasses

    from studies.importers.base import ImportedRecord

    assert [f.name for f in dataclasses.fields(ImportedRecord)] == [
        "title", "abstract", "authors", "year", "journal", "volume", "issue", "pages", "doi",
        "pmid", "url", "keywords", "type", "language", "raw", "line",
    ]  # fmt: skip


# --- MEDLINE: the same check (tagged.medline_record) ----------------------------------------

MEDLINE_TAGS = ["PMID", "TI", "BTI", "AB", "FAU", "AU", "CN", "DP", "JT", "TA", "VI", "IP", "PG",
                "LID", "AID", "SO", "OT", "MH", "PT", "LA", "OWN"]  # fmt: skip
words = st.lists(plain_word, min_size=1, max_size=4).map(" ".join)
mostly_plain = st.one_of(words, words, words, value_text)
heading = st.one_of(
    mostly_plain, st.sampled_from(["*Humans", "Humans/*methods", "* x", "x *", "*"])
)
medline_fields = st.dictionaries(
    st.sampled_from(MEDLINE_TAGS),
    st.one_of(st.lists(mostly_plain, min_size=1, max_size=3), st.lists(heading, max_size=4)),
    max_size=12,
)


@FAST
@given(medline_fields, st.integers(1, 10**6))
def test_medline_record_of_plain_or_odd_values_matches_the_general_path(fields, line):
    from studies.importers import tagged
    from tests.studies import importers_reference as ref

    assert tagged.medline_record(fields, line) == ref.medline_record(fields, line)


def test_medline_headings_whose_star_leaves_a_space():
    from studies.importers import tagged
    from tests.studies import importers_reference as ref

    fields = {"PMID": ["1"], "TI": ["A title"], "MH": ["* Humans", "Care *", "*Adult"]}
    assert tagged.medline_record(fields, 1).keywords == ["Humans", "Care", "Adult"]
    assert tagged.medline_record(fields, 1) == ref.medline_record(fields, 1)


@FAST
@given(
    st.dictionaries(st.sampled_from(MEDLINE_TAGS), st.lists(mostly_plain, max_size=3), max_size=8),
    st.sampled_from([None, "AB"]),
)
def test_plain_lists_is_plain_values_for_lists(fields, skip):
    from studies.importers import base

    # The same answer, but for a record with no field to check, which plain_lists leaves to
    # the general path.
    checked = any(tag != skip for tag in fields)
    assert base.plain_lists(fields, skip) == (checked and base.plain_values(fields, skip))


def test_plain_lists_notices_other_types():
    from studies.importers import base

    class Text(str):
        pass

    assert base.plain_lists({"TI": ["a"], "AU": ["b", "c"]})
    for odd in ("a", ["a", Text("b")], ["a", None], ("a",)):
        assert not base.plain_lists({"TI": ["x"], "AU": odd}), odd


# --- clean_abstract: long ASCII paragraphs checked inline -----------------------------------

long_text = st.tuples(
    st.lists(piece, max_size=3).map("".join),
    st.integers(25, 60),
    st.sampled_from(["word ", "w ", "wörd ", "a  b ", "x\x1e "]),
    st.lists(piece, max_size=3).map("".join),
).map(lambda t: t[0] + (t[2] * t[1]).strip() + t[3])


@FAST
@given(st.one_of(long_text, value_text))
def test_clean_abstract_matches_the_general_path(value):
    from studies.importers import base
    from tests.studies import importers_reference as ref

    assert base.clean_abstract(value) == ref.clean_abstract(value)
    assert base.clean_abstract(value.strip()) == ref.clean_abstract(value.strip())
