"""The importers' store-side length limits agree with the record table's columns: a value
longer than its column would fail the whole import at the database (COPY/INSERT)."""

import pytest

from studies.importers.base import MAX_LEN, ImportedRecord, clean_doi, clean_url, finish
from studies.models import Record


def test_max_len_matches_the_record_columns():
    for name, limit in MAX_LEN.items():
        assert Record._meta.get_field(name).max_length == limit, name


@pytest.mark.parametrize("name", sorted(MAX_LEN))
def test_finish_cuts_each_field_to_its_column(name):
    limit = MAX_LEN[name]
    rec = ImportedRecord(**{name: "x" * (limit + 25)})
    assert getattr(finish(rec), name) == "x" * limit
    short = ImportedRecord(**{name: "y" * limit})
    assert getattr(finish(short), name) == "y" * limit


def test_doi_and_url_never_exceed_their_columns():
    doi = clean_doi("https://doi.org/10.1234/" + "a" * 400)
    assert doi.startswith("10.1234/") and len(doi) == Record._meta.get_field("doi").max_length
    url = "https://example.org/" + "b" * 1200
    assert clean_url(url) == ""  # too long to be stored as a link; kept in raw by the parser
    assert clean_url(["https://example.org/" + "b" * 1200, "https://example.org/ok"]) == (
        "https://example.org/ok"
    )
