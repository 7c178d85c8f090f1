"""The importers' fast paths give exactly what the plain, general code gives.

The reference is the code as it was before the fast paths (tests/studies/importers_reference):
each test feeds both random input full of what the fast paths must notice (odd whitespace,
markup, entities, years and identifiers glued to other text, tag-line variants, continuation
lines, stray headers) and compares the output, line numbers and warnings included.
"""

import dataclasses
import sys
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studies.importers import base, ris, tagged
from tests.studies import importers_reference as ref

PIECES = [
    "a", "Z", "word", "Müller", "协作", "é", " ", "  ", "\t", "\r", "\x0b", "\x0c", "\x1c",
    "\x1f", "\x85", "\xa0", "\u2003", "\u2028", "\u3000", "\x00", "\u200b", "\xad", "<i>",
    "</i>", "<b>", "<sup>", "<span class='x'>", "< not a tag", "<", "&amp;", "&#53;", "&",
    "&lt;i&gt;", "&#10;", "&NewLine;", "&#9;", "&nbsp;", "-", "--", "–", "2019", "1999", "1499", "2100", "20195", "0", "1", "٢٠١٩",
    "PMID: 12345", "pmid 987654321", "doi:", "10.1234/ab.c", "https://doi.org/", "doi ", "NLM",
    "Embase", "Scopus", "No", "Specified", "*",
    "http://x.org/a", ",", ";", ".", ")", "[doi]", "MEDLINE", "pubmed", "JOUR", "Mar",
]  # fmt: skip
odd = st.lists(st.sampled_from(PIECES), max_size=14).map("".join)
# Over 200 characters: clean_text checks those instead of splitting and joining them.
long = st.tuples(odd, st.integers(40, 90), st.sampled_from(["word ", "wörd ", "w "]), odd).map(
    lambda t: t[0] + t[2] * t[1] + t[3]
)
any_text = st.one_of(odd, long, st.text(max_size=40))
one_line = any_text.map(lambda s: s.replace("\n", " "))

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- cleaning -------------------------------------------------------------------------------


@FAST
@given(any_text)
def test_cleaning_matches_the_general_path(value):
    for name in ("clean_text", "clean_abstract", "clean_doi", "clean_pmid", "clean_year"):
        assert getattr(base, name)(value) == getattr(ref, name)(value), name
    assert base.clean_pages(value, value[::-1]) == ref.clean_pages(value, value[::-1])
    assert base.clean_url([value, "https://x.org/" + value]) == ref.clean_url(
        [value, "https://x.org/" + value]
    )
    if base.is_clean(value):
        assert ref.clean_text(value) == value


@given(
    st.lists(st.one_of(any_text, st.none(), st.integers()), max_size=6),
    st.sampled_from([None, ";", ""]),
)
def test_clean_list_matches_the_general_path(values, split):
    assert base.clean_list(values, split=split) == ref.clean_list(values, split=split)
    for v in values:
        assert base.clean_text(v) == ref.clean_text(v)


def test_non_string_values():
    for value in (None, "", 0, 2019, 20.5, ["a ", " b"], ("x", None, "y"), [], ["2019"]):
        for name in ("clean_text", "clean_abstract", "clean_year", "clean_pmid", "clean_doi"):
            assert getattr(base, name)(value) == getattr(ref, name)(value), (name, value)


def test_every_year_prefix_matches_the_regex():
    for n in range(10000):
        for value in (f"{n:04d}", f"{n:04d} Mar", f"{n:04d}5", f"{n:04d}<i>5</i>", f"{n:04d} 2020"):
            assert base.clean_year(value) == ref.clean_year(value), value


def test_whitespace_beyond_ascii_is_never_printable():
    """is_clean relies on it: isprintable() is False for every character str.split() splits
    on, except the space."""
    for code in range(sys.maxunicode + 1):
        c = chr(code)
        if c.isspace() and c != " ":
            assert not c.isprintable(), hex(code)


def test_long_ascii_values_with_any_whitespace_are_collapsed():
    for code in range(128):
        c = chr(code)
        value = "word " * 50 + c + "x"
        assert base.is_clean(value) == (not c.isspace() and c not in "<&"), hex(code)
        assert base.clean_text(value) == ref.clean_text(value)
        assert base.clean_abstract(value) == ref.clean_abstract(value)


def test_finish_applies_max_len():
    names = [f.name for f in dataclasses.fields(base.ImportedRecord) if f.type == "str"]
    rec = base.ImportedRecord(**{n: "x" * 2000 for n in names})
    expected = ref.finish(base.ImportedRecord(**{n: "x" * 2000 for n in names}))
    assert base.finish(rec) == expected
    for name, limit in base.MAX_LEN.items():
        assert len(getattr(rec, name)) == limit


@given(odd.map(lambda s: s.replace("\r", "\n")), st.integers(1, 12))
def test_line_chunks_are_the_lines(text, size):
    chunks = list(base.iter_line_chunks(text, size))
    assert [line for chunk in chunks for line in chunk] == list(base.iter_lines(text))


# --- RIS ------------------------------------------------------------------------------------

RIS_TAGS = ["TY", "TI", "T1", "CT", "BT", "AU", "A1", "AB", "N2", "PY", "Y1", "DA", "T2", "JF",
            "JO", "JA", "J2", "VL", "IS", "CP", "SP", "EP", "DO", "DI", "AN", "DB", "DP", "N1",
            "C2", "M1", "U1", "ID", "C7", "M3", "L3", "UR", "L2", "KW", "LA", "ZZ", "ER", "VN", "C5"]  # fmt: skip
ris_tag_line = st.tuples(
    st.sampled_from(["", "", "", " ", "   "]),
    st.sampled_from(RIS_TAGS),
    st.sampled_from(["  - ", "  - ", "  - ", "  -", " - ", "  -  ", "- ", "\t- ", "  -\t", "   -"]),
    one_line,
).map("".join)
ris_other_line = st.one_of(
    st.sampled_from(["", " ", "1.", "<12>", "12", "ER  - ", "TY  - JOUR", "TY  -", "ER  -",
                     "Exported records", "ti  - lower case", "TIX - x", "  continued",
                     "<3. >", " < 12 . > ", "<4.>", "VN  - Ovid Technologies", "DB  - Scopus"]),
    one_line,
)  # fmt: skip
ris_record = st.tuples(
    st.sampled_from(["TY  - JOUR", "TY  - BOOK", "TY  -", " TY - CHAP", "TY  - "]),
    st.lists(st.one_of(ris_tag_line, ris_tag_line, ris_other_line), max_size=12),
    st.sampled_from(["ER  - ", "ER  -", "", "ER  - \n\n2."]),
).map(lambda t: [t[0], *t[1], t[2]])
ris_text = st.tuples(
    st.lists(ris_other_line, max_size=3), st.lists(ris_record, max_size=5), st.booleans()
).map(lambda t: "\n".join(t[0] + [ln for rec in t[1] for ln in rec]) + ("\n" if t[2] else ""))


@FAST
@given(ris_text, st.integers(1, 40))
def test_ris_matches_the_general_path(text, chunk):
    ours: list[str] = []
    theirs: list[str] = []
    with mock.patch.object(base, "LINE_CHUNK", chunk):  # lines split across many chunks
        got = list(ris.iter_raw(text, ours))
    expected = list(ref.iter_raw(text, theirs))
    assert got == expected
    assert ours == theirs
    for (line, raw), (_, raw_ref) in zip(got, expected, strict=True):
        assert ris.to_record(raw, line) == ref.to_record(raw_ref, line)


ris_value = st.one_of(any_text, st.lists(any_text, min_size=1, max_size=3))


@FAST
@given(st.dictionaries(st.sampled_from(RIS_TAGS), ris_value, max_size=12))
def test_ris_record_matches_the_general_path(raw):
    assert ris.to_record(raw, 3) == ref.to_record(raw, 3)


# --- MEDLINE and Web of Science -----------------------------------------------------------

MEDLINE_TAGS = ["PMID", "TI", "BTI", "AB", "FAU", "AU", "CN", "DP", "DEP", "EDAT", "DA", "JT",
                "TA", "VI", "IP", "PG", "LID", "AID", "SO", "OT", "MH", "PT", "LA", "XYZ"]  # fmt: skip
medline_line = st.one_of(
    st.tuples(st.sampled_from(MEDLINE_TAGS), one_line).map(lambda t: f"{t[0]:<4}- {t[1]}"),
    st.tuples(
        st.sampled_from(MEDLINE_TAGS),
        st.sampled_from(["- ", "-", " - ", "  -  ", "\t- ", "-  ", " -", "  ", "    - ", "   "]),
        one_line,
    ).map("".join),
    one_line.map(lambda s: "      " + s),
    st.sampled_from(["", " ", "\t", "      ", "\tindented", "untagged text", "PMID- 1", "pmid- 2"]),
    one_line,
)
WOS_TAGS = ["PT", "AU", "AF", "BA", "CA", "TI", "AB", "PY", "EA", "PD", "SO", "SE", "J9", "VL",
            "IS", "BP", "EP", "AR", "DI", "D2", "PM", "UR", "DT", "LA", "DE", "ID", "CR", "C1",
            "FN", "VR", "ER", "EF", "ZZ"]  # fmt: skip
wos_line = st.one_of(
    st.tuples(st.sampled_from(WOS_TAGS), one_line).map(lambda t: f"{t[0]} {t[1]}"),
    st.sampled_from(WOS_TAGS),
    one_line.map(lambda s: "   " + s),
    st.sampled_from(["", " ", "\tx", "PT J", "ER", "EF", "FN Clarivate", "VR 1.0", "AUx y"]),
    one_line,
)


def _lines(strategy):
    return st.tuples(st.lists(strategy, max_size=40), st.booleans()).map(
        lambda t: "\n".join(t[0]) + ("\n" if t[1] else "")
    )


@FAST
@given(_lines(medline_line), st.integers(1, 40))
def test_medline_matches_the_general_path(text, chunk):
    with mock.patch.object(base, "LINE_CHUNK", chunk):
        got = list(tagged._scan(text, tag_re=tagged._MEDLINE_TAG, width=6, start_tag="PMID"))
    expected = list(
        ref._scan(
            text, tag_re=tagged._MEDLINE_TAG, is_start=lambda t: t == "PMID", is_end=None,
            list_tags=set(),
        )
    )  # fmt: skip
    assert got == expected
    for line, fields in got:
        assert tagged.medline_record(fields, line) == ref.medline_record(fields, line)


@FAST
@given(_lines(wos_line), st.integers(1, 40))
def test_wos_matches_the_general_path(text, chunk):
    with mock.patch.object(base, "LINE_CHUNK", chunk):
        got = list(
            tagged._scan(
                text, tag_re=tagged._WOS_TAG, width=3, start_tag="PT", end_tags=("ER", "EF"),
                list_tags=tagged.WOS_LIST_TAGS,
            )
        )  # fmt: skip
    expected = list(
        ref._scan(
            text, tag_re=tagged._WOS_TAG, is_start=lambda t: t == "PT",
            is_end=lambda t: t in ("ER", "EF"), list_tags=tagged.WOS_LIST_TAGS,
        )
    )  # fmt: skip
    assert got == expected
    for line, fields in got:
        assert tagged.wos_record(fields, line) == ref.wos_record(fields, line)


def test_tag_prefixes_seen_earlier_do_not_mislead():
    """Lines sharing their first 6 (MEDLINE) or 3 (WoS) characters with a line read before,
    in every order: a prefix stands for its tag only where the regex would agree."""
    seps = ["- ", "-", " - ", "  - ", "  -  ", "   - ", "    - ", "  ", "    ", "\t- ", "-x", " "]
    lines = [f"{tag}{sep}v{i}" for i, sep in enumerate(seps) for tag in ("PMID", "TI", "EDAT", "A")]
    lines += ["AU x", "AU", "AUx", "AU  y", "ER", "PT J", "PTJ"]
    for order in (lines, lines[::-1], sorted(lines), lines[1::2] + lines[::2]):
        text = "\n".join(order)
        medline = list(tagged._scan(text, tag_re=tagged._MEDLINE_TAG, width=6, start_tag="PMID"))
        assert medline == list(
            ref._scan(
                text, tag_re=tagged._MEDLINE_TAG, is_start=lambda t: t == "PMID", is_end=None,
                list_tags=set(),
            )
        )  # fmt: skip
        wos = list(
            tagged._scan(
                text, tag_re=tagged._WOS_TAG, width=3, start_tag="PT", end_tags=("ER", "EF"),
                list_tags=tagged.WOS_LIST_TAGS,
            )
        )  # fmt: skip
        assert wos == list(
            ref._scan(
                text, tag_re=tagged._WOS_TAG, is_start=lambda t: t == "PT",
                is_end=lambda t: t in ("ER", "EF"), list_tags=tagged.WOS_LIST_TAGS,
            )
        )  # fmt: skip
