"""CMOC text search. The database keeps a lowercased ``CMOC.search_text`` (a generated
column); this module makes it searchable fast on both engines.

PostgreSQL: ``search_text LIKE '%word%'`` served by a pg_trgm GIN index (migration
0003_cmoc_search_text). Full-text search (tsvector GIN, 'simple' configuration) was tried
on the bench data and dropped: prefix queries (``legitim:*``) get a fixed row estimate, and
a rare code was then searched by walking the code index and computing to_tsvector per row
(3.7 s); trigrams keep substring semantics identical to SQLite's and plan well.

A word found in most CMOCs makes any exact count scan most of the table (120 ms on
PostgreSQL with a cold cache), so the list counts text-search matches only up to a cap
(``SEARCH_COUNT_CAP``, shown as "1000+").

SQLite: an FTS5 table with the trigram tokenizer over the same column (substring semantics,
like the PostgreSQL path), kept in step by triggers. Django's SQLite schema editor rebuilds a
table to alter it, which drops its triggers, so the index is (re)created after every migrate
rather than in a migration (``fts_ensure``, connected to post_migrate).
"""

import re
import sqlite3
from functools import cache

from django.db import connection, connections
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

FTS = "cmoc_cmoc_fts"
SEARCH_COUNT_CAP = 1000
TRIGGERS = {
    f"{FTS}_ai": f"AFTER INSERT ON cmoc_cmoc BEGIN "
    f"INSERT INTO {FTS}(rowid, search_text) VALUES (new.id, new.search_text); END",
    f"{FTS}_ad": f"AFTER DELETE ON cmoc_cmoc BEGIN "
    f"INSERT INTO {FTS}({FTS}, rowid, search_text) VALUES ('delete', old.id, old.search_text); END",
    # "UPDATE OF search_text" would never fire: a generated column is not SET by UPDATEs
    f"{FTS}_au": f"AFTER UPDATE ON cmoc_cmoc WHEN old.search_text IS NOT new.search_text BEGIN "
    f"INSERT INTO {FTS}({FTS}, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
    f"INSERT INTO {FTS}(rowid, search_text) VALUES (new.id, new.search_text); END",
}
# Up to this many index matches the search is driven from the FTS index; above it, scanned.
DRIVE_LIMIT = 2000
MAX_TERMS = 8


@cache
def sqlite_has_fts5() -> bool:
    try:
        sqlite3.connect(":memory:").execute(
            "CREATE VIRTUAL TABLE t USING fts5(x, tokenize='trigram')"
        )
    except sqlite3.OperationalError:
        return False
    return True


def fts_ensure(using: str = "default", **kwargs) -> None:
    """Create the SQLite FTS table and its triggers if missing; rebuild the index when the
    triggers had gone (a table rebuild by a later migration)."""
    conn = connections[using]
    if conn.vendor != "sqlite" or not sqlite_has_fts5():
        return
    with conn.cursor() as cur:
        if "cmoc_cmoc" not in conn.introspection.table_names(cur):
            return
        cur.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS} USING fts5(search_text, "
            "content='cmoc_cmoc', content_rowid='id', tokenize='trigram')"
        )
        cur.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'cmoc_cmoc'"
        )
        present = dict(cur.fetchall())
        wanted = {name: f"CREATE TRIGGER {name} {body}" for name, body in TRIGGERS.items()}
        if all(present.get(name) == sql for name, sql in wanted.items()):
            return
        for name, sql in wanted.items():  # missing or outdated
            cur.execute(f"DROP TRIGGER IF EXISTS {name}")
            cur.execute(sql)
        cur.execute(f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')")


def _fts_query(terms: list[str]) -> str:
    return " AND ".join('"' + t.replace('"', '""') + '"' for t in terms)


def search_terms(q: str) -> list[str]:
    """The words of a search, a "quoted phrase" kept as one term. Quotes are syntax: typed
    as a phrase they used to be searched for literally, so "collaborative behaviour" found
    nothing; a stray one is dropped."""
    terms = []
    for m in re.finditer(r'"([^"]*)"|(\S+)', q.lower()):
        term = " ".join(m.group(1).split()) if m.group(1) is not None else m.group(2)
        term = term.replace('"', "")
        if term:
            terms.append(term)
    return terms[:MAX_TERMS]


def cmoc_text_filter(qs: QuerySet, q: str) -> QuerySet:
    """CMOCs whose text contains every word or quoted phrase of ``q`` (any order, any field,
    any case, also inside words, like the icontains it replaces)."""
    terms = search_terms(q)
    for term in terms:  # on PostgreSQL, LIKE served by the trigram index
        qs = qs.filter(search_text__contains=term)
    indexed = [t for t in terms if len(t) >= 3]  # trigrams cannot find shorter words
    if connection.vendor != "sqlite" or not indexed or not sqlite_has_fts5():
        return qs
    # SQLite has no statistics for the FTS table, so look first (index only, stops early):
    # a selective search is driven from the match set (sub-millisecond); a word in most
    # CMOCs is cheaper as the plain scan, which stops after one page in sort order.
    match = _fts_query(indexed)
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT count(*) FROM (SELECT rowid FROM {FTS} WHERE {FTS} MATCH %s LIMIT %s)",
            [match, DRIVE_LIMIT + 1],
        )
        if cur.fetchone()[0] > DRIVE_LIMIT:
            return qs
    return qs.filter(pk__in=RawSQL(f"SELECT rowid FROM {FTS} WHERE {FTS} MATCH %s", [match]))
