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
