"""Merges during an import: worked out from what the parse kept in memory (_Member), they must
fill and choose exactly as the duplicates page's merge of two Records does, and keep every
survivor's original fields."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studies.models import DuplicateCandidate, Record, Search
from studies.services import identification as svc

TITLE = "Realist evaluation of partnership working between universities and hospital trusts"


@pytest.fixture
def search(review, users):
    return svc.search_create(user=users["reviewer"], review=review, source="MEDLINE",
                             kind=Search.Kind.DATABASE)  # fmt: skip


def do_import(user, review, search, text: str, filename="export.ris"):
    batch = svc.import_batch_create(user=user, review=review, search=search,
                                    data=text.encode(), filename=filename)  # fmt: skip
    return svc.import_run(user=user, batch=batch)


def ris(*, authors, keywords=(), abstract="", year="2020", extra=""):
    lines = ["TY  - JOUR", f"TI  - {TITLE}", *(f"AU  - {a}" for a in authors), f"PY  - {year}",
             "T2  - Implementation Science", "DO  - 10.1186/s13012-020-0001-x",
             *(f"KW  - {k}" for k in keywords)]  # fmt: skip
    if abstract:
        lines.append(f"AB  - {abstract}")
    return "\n".join(lines) + "\n" + extra + "ER  - \n"


def test_survivor_keeps_its_original_fields_when_a_merge_changes_them(review, users, search):
    """The survivor's raw refers to its keywords, authors and abstract ("_same"); the import's
    merge changes all three and copies the originals into raw in the database."""
    user = users["reviewer"]
    authors = [f"Author{i}, A" for i in range(12)]  # more than the dedup item keeps
    do_import(user, review, search, ris(authors=authors[:2], keywords=["Trust"],
                                        abstract="Short one.", extra="M3  - kept\n"), "a.ris")  # fmt: skip
    other = svc.search_create(user=user, review=review, source="Embase", kind="database")
    batch = do_import(user, review, other, ris(authors=authors, keywords=["Trust", "Hospitals"],
                      abstract="A much longer abstract than the library's own one."), "b.ris")  # fmt: skip
    assert batch.duplicate_count == 1
    survivor = Record.objects.get(duplicate_of__isnull=True)
    assert survivor.batch_id != batch.pk  # the library's record survives
    assert survivor.authors == authors and survivor.keywords == ["Trust", "Hospitals"]
    assert survivor.abstract.startswith("A much longer")
    assert "_same" not in survivor.raw or not {"AU", "KW", "AB"} & set(survivor.raw["_same"])
    original = survivor.original_fields()
    assert original["AU"] == authors[:2] and original["KW"] == "Trust"
    assert original["AB"] == "Short one." and original["M3"] == "kept"
    # Undo gives the survivor back every field the merge changed.
    cand = DuplicateCandidate.objects.get(status="merged")
    assert set(cand.snapshot["survivor"]) == {"authors", "keywords", "abstract"}
    svc.duplicate_undo(user=user, candidate=cand)
    survivor.refresh_from_db()
    assert (survivor.authors, survivor.keywords, survivor.abstract) == (
        authors[:2],
        ["Trust"],
        "Short one.",
    )


def test_new_record_with_the_longer_abstract_survives_only_when_more_complete(
    review, users, search
):
    """Within one file: the more complete copy survives and takes the other's abstract only
    when that one is clearly longer; its own text stays in raw."""
    plain = ris(authors=["Doe, J"], abstract="Long enough abstract. " * 3, year="")
    full = ris(authors=["Doe, J", "Roe, R"], keywords=["Evaluation"], abstract="Brief.")
    do_import(users["reviewer"], review, search, plain + full)
    survivor = Record.objects.get(duplicate_of__isnull=True)
    assert survivor.position == 2 and survivor.year == 2020
    assert survivor.abstract == ("Long enough abstract. " * 3).strip()
    assert survivor.original_fields()["AB"] == "Brief."


members = st.builds(
    dict,
    title=st.sampled_from(["", "A title", "A title (copy)"]),
    abstract=st.sampled_from(["", "x" * 10, "y" * 12, "z" * 13, "w" * 250]),
    authors=st.lists(st.sampled_from(["Doe, J", "Roe, R", "Poe, E"]), max_size=4),
    year=st.sampled_from([None, 2019, 2020]),
    journal=st.sampled_from(["", "BMJ Open"]),
    volume=st.sampled_from(["", "3"]),
    pages=st.sampled_from(["", "1-9"]),
    doi=st.sampled_from(["", "10.1/x"]),
    url=st.sampled_from(["", "https://example.org/x"]),
    keywords=st.lists(st.sampled_from(["Trust", "Care", "Policy"]), max_size=3, unique=True),
    language=st.sampled_from(["", "eng"]),
    library=st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(group=st.lists(members, min_size=2, max_size=4))
def test_import_merge_chooses_and_fills_as_the_manual_merge(group):
    """_merge_group (lengths only, no abstract text) gives the survivor, filled fields and
    changed-field list that _completeness/_merge_fields give on full Records."""
    batch_id = 9
    records, mem = [], []
    for pos, values in enumerate(group, start=1):
        v = dict(values)
        owner = 1 if v.pop("library") else batch_id
        fields = {f: v.get(f, "") for f in svc.MERGE_FIELDS} | {k: v[k] for k in v}
        fields.setdefault("year", None)
        records.append(Record(pk=pos, position=pos, batch_id=owner, **fields))
        scalar = {f: fields[f] for f in svc._SCALAR_FIELDS}
        mem.append(svc._Member(pk=pos, position=pos, batch_id=owner, same={},
                               abstract_len=len(fields["abstract"]), **scalar))  # fmt: skip
    expected = sorted(records, key=lambda r: (r.batch_id == batch_id, -svc._completeness(r),
                                              r.position))  # fmt: skip
    keep = expected[0]
    before = svc._fields(keep)
    for loser in expected[1:]:
        svc._merge_fields(keep, loser)
    survivor, changed = svc._merge_group(mem, batch_id)
    assert survivor.pk == keep.pk
    assert [m.pk for m in mem] == [r.pk for r in expected]
    for f in svc._SCALAR_FIELDS:
        assert getattr(survivor, f) == getattr(keep, f)
    assert records[survivor.abstract_of - 1].abstract == keep.abstract
    moved = {"abstract"} if survivor.abstract_of != survivor.pk else set()
    assert set(changed) | moved == {f for f, v in before.items() if getattr(keep, f) != v}
    assert all(changed[f] == before[f] for f in changed)


@given(
    same=st.dictionaries(
        st.sampled_from(["AU", "KW", "AB", "TI", "JO"]),
        st.sampled_from(["authors", "keywords", "abstract", "title"]),
    ),  # fmt: skip
    old=st.dictionaries(
        st.sampled_from(["authors", "keywords", "abstract", "year"]),
        st.sampled_from(["old", "older"]),
    ),  # fmt: skip
)
def test_raw_patch_pins_exactly_the_changed_fields_raw_refers_to(same, old):
    raw = {"TY": "JOUR", "M3": "x"} | ({"_same": same} if same else {})
    record = Record(raw=raw)
    svc._pin_raw(record, old)
    for tag, name in same.items():
        if name in old:
            assert record.raw[tag] == old[name] and tag not in record.raw.get("_same", {})
        else:
            assert record.raw["_same"][tag] == name
    assert record.raw.get("_same", None) != {}  # never left empty
    assert {k: record.raw[k] for k in ("TY", "M3")} == {"TY": "JOUR", "M3": "x"}


def test_raw_patch_in_sql_drops_a_same_map_left_empty(review, users, search):
    """The survivors' raw is patched in the database: when every field raw referred to is
    pinned, no "_same" is left behind (it would expand to the merged values)."""
    from django.db import connection

    batch = do_import(users["reviewer"], review, search, ris(authors=["Doe, J"]))
    record = Record.objects.get(batch=batch)
    Record.objects.filter(pk=record.pk).update(
        raw={"TY": "JOUR", "_same": {"KW": "keywords"}}, keywords=["Trust", "Care"]
    )
    patch = svc._raw_patch({"KW": "keywords"}, {"keywords": ["Trust", "Care"]})
    with connection.cursor() as cursor:
        svc._records_update(cursor, names=("keywords", svc._RAW_PATCH),
                            rows=[(record.pk, ["Trust", "Care", "Policy"], patch)])  # fmt: skip
    record.refresh_from_db()
    assert record.raw == {"TY": "JOUR", "KW": ["Trust", "Care"]}
    assert record.keywords == ["Trust", "Care", "Policy"]
    assert record.original_fields()["KW"] == ["Trust", "Care"]
