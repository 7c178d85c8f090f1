"""Ovid's labelled text export: the "Ovid" / "Complete Reference" display saved as a .txt.

    Database: Ovid MEDLINE(R) ALL <1946 to November 22, 2026>
    Search Strategy:
    --------------------------------------------------------------------------------
    1     realist*.mp. (8123)
    ...
    <1>
    Unique Identifier
      31563154
    Authors
      Mervyn K
      Amoo NA
    Title
      Understanding the role of ...

Each record opens with "<n>"; a field is a label at the margin and its value on the indented
lines below (one value a line for authors, headings and other lists; wrapped text otherwise).
The labels depend on the database (MEDLINE "Unique Identifier", Embase and PsycINFO "Accession
Number", Embase "Emtree Heading"…): they are mapped to Ovid's two-letter field codes and read
by `ris.ovid_record`, the reader of Ovid's tagged export, which has the same fields. Every
labelled field is kept in `raw` under its label. The database named in the header (or in a
record's own "Database" field) says whether the identifier is a PubMed ID.

Written by hand: no maintained library reads this format (rispy and the others read RIS), and
its rules fit in a page.
"""

from __future__ import annotations

import re

from studies.importers.base import ImportedRecord, ImportFormatError, clean_pmid, clean_text
from studies.importers.ris import ovid_record

_RECORD = re.compile(r"^<(\d+)>\s*$")
_HEADER_DATABASE = re.compile(r"^\s*Database:\s*(.+?)\s*$")
# Detection (importers.detect_format): "<1>", maybe blank lines, a label, an indented value.
DETECT = re.compile(r"^<\d+>[ \t]*\n(?:[ \t]*\n)*[A-Z][^\n\t:]{1,60}\n[ \t]{1,8}\S", re.M)

# label (lower case) → Ovid field code; labels of list fields give one value per line
_CODES = {
    "unique identifier": "UI", "accession number": "AN", "database": "DB",
    "authors": "AU", "author": "AU", "author names": "AU", "author name": "AU",
    "authors full name": "FA", "author full name": "FA", "full author name": "FA",
    "authors full names": "FA", "institution": "IN", "affiliation": "IN",
    "title": "TI", "article title": "TI", "source": "SO",
    "journal name": "JN", "nlm journal name": "JN", "journal title": "JN",
    "full journal name": "JN", "volume": "VO", "issue": "IP", "issue part": "IP",
    "page": "PG", "pages": "PG", "abstract": "AB",
    "year of publication": "YR", "publication year": "YR", "date of publication": "DP",
    "publication date": "DP", "digital object identifier": "DO", "doi": "DO",
    "mesh subject headings": "MH", "subject headings": "MH", "emtree heading": "MH",
    "emtree headings": "MH", "major subject headings": "MH", "keyword heading": "KW",
    "keyword headings": "KW", "keywords": "KW", "author keywords": "KW",
    "language": "LG", "language of article": "LG", "publication type": "PT",
    "document type": "PT", "issn": "IS", "issn print": "IS", "issn electronic": "IS",
    "url": "UR", "link to the ovid full text or citation": "XL",
    "medline pmid": "PM", "pubmed id": "PM", "pmid": "PM",
}  # fmt: skip
_LISTS = frozenset(("AU", "FA", "IN", "MH", "KW", "PT", "IS", "UR", "XL"))


def iter_records(text: str, warnings: list[str], meta: dict | None = None):
    """Records one at a time; raises ImportFormatError when there is no "<n>" record.
    `meta` receives what the header says of the search: "database", "strategy" (its lines)
    and "hits" (the count of its last line, the set usually exported)."""
    database = ""
    strategy: list[str] | None = None
    found = False
    start = 0
    orphans = 0
    fields: list[tuple[str, list[str]]] | None = None
    for lineno, line in enumerate(text.split("\n"), start=1):
        if line[:1] == "<" and _RECORD.match(line):
            if fields is None:
                _header(database, strategy or [], warnings, meta)
            if fields:
                yield _record(fields, start, database)
            found, start, fields = True, lineno, []
            continue
        if fields is None:  # the header: which database, and the search strategy
            if m := _HEADER_DATABASE.match(line):
                database = database or m.group(1)
            elif line.strip().lower() == "search strategy:":
                strategy = []
            elif strategy is not None and line.strip() and not line.startswith(("---", "***")):
                strategy.append(line.rstrip())
            continue
        if not line.strip():
            continue
        if line[:1] in (" ", "\t"):
            if not fields:
                orphans += 1  # a value with no label: nothing says what it is
                continue
            fields[-1][1].append(line.strip())
        else:
            fields.append((line.strip().rstrip(":"), []))
    if fields:
        yield _record(fields, start, database)
    if orphans:
        warnings.append(f"ignored {orphans} indented line(s) with no field label above them")
    if not found:
        raise ImportFormatError("no Ovid record found (no '<1>' line)", line=1)


_STRATEGY_HITS = re.compile(r"\((\d+)\)\s*$")  # "4     (1 or 2) and 3 (118)"


def _header(database: str, strategy: list[str], warnings: list[str], meta: dict | None) -> None:
    if not strategy:
        return
    hits = _STRATEGY_HITS.search(strategy[-1])
    if meta is not None:
        meta.update(
            database=database, strategy="\n".join(strategy),
            hits=int(hits.group(1)) if hits else None,
        )  # fmt: skip
    warnings.append(
        f"the file holds its search strategy ({database or 'Ovid'}, {len(strategy)} lines"
        + (f", {hits.group(1)} results" if hits else "")
        + "): it fills the search log's query and reported hits where they are empty"
    )


def _record(fields: list[tuple[str, list[str]]], line: int, database: str) -> ImportedRecord:
    raw: dict = {}  # by label, as in the file
    coded: dict = {}  # by Ovid code, for ovid_record
    for label, values in fields:
        code = _CODES.get(label.lower())
        if code in _LISTS:
            value: str | list[str] = values
        elif code == "AB":
            value = _paragraphs(values)
        else:
            value = " ".join(values)
        _put(raw, label, value)
        if code is not None:
            _put(coded, code, value)
    if database and "DB" not in coded:
        coded["DB"] = database
    rec = ovid_record(coded, line)
    if not rec.pmid and "PM" in coded:  # Embase's "Medline PMID"
        pmid = clean_text(coded["PM"] if isinstance(coded["PM"], str) else coded["PM"][0])
        rec.pmid = clean_pmid(pmid) if pmid.isdigit() else ""
    rec.raw = raw
    return rec


_HEADING = re.compile(r"^[A-Z][A-Za-z ,&/-]{1,40}:\s")  # "Background: ", "Methods and findings: "


def _paragraphs(lines: list[str]) -> str:
    """A structured abstract's sections on lines of their own; a line that only continues a
    sentence (a wrapped value) joined to the previous one."""
    out: list[str] = []
    for line in lines:
        if out and not _HEADING.match(line):
            out[-1] = f"{out[-1]} {line}"
        else:
            out.append(line)
    return "\n".join(out)


def _put(target: dict, key: str, value) -> None:
    """A label met twice in a record keeps both values."""
    if key not in target:
        target[key] = value
        return
    old = target[key]
    old = old if isinstance(old, list) else [old]
    target[key] = old + (value if isinstance(value, list) else [value])
