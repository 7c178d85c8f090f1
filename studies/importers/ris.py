"""RIS (EndNote, Zotero, Mendeley, Ovid, EBSCO, ProQuest, Scopus, Embase exports).

One streaming pass over the lines, liberal about what real exports do, with line numbers for
messages (rispy does not track them):
- "TY - X", "TY  -X", "TY  -" (empty tag) and lower-case spacing variants are tags;
- untagged continuation lines are folded into the preceding tag's value;
- Ovid numbering lines ("1.", "<12>") and blank lines between records are dropped, text
  before the first TY (export headers) is skipped with a warning;
- a record that lacks its closing ER (next TY, or end of file) is closed.

Tags are grouped exactly as rispy groups them with an identity mapping and no list tags (first
value a string, repeated tags a list, continuation lines joined with a space); a test holds
the two to the same output. We used to normalise lines and then run rispy over them, but on a
100k-record file that second pass over every line cost as much as the whole rispy parse, so the
grouping is done in the same pass as the normalisation.
"""

from __future__ import annotations

import re

from studies.importers.base import (
    ImportedRecord,
    ImportFormatError,
    ParseResult,
    clean_abstract,
    clean_doi,
    clean_list,
    clean_pages,
    clean_pmid,
    clean_text,
    clean_url,
    clean_year,
    finish,
    iter_lines,
)

_TAG_LINE = re.compile(r"^\s{0,3}([A-Z][A-Z0-9])\s{0,3}-(?:\s(.*)|)$")
_NUMBERING = re.compile(r"^\s*(?:<\d+>|\d+\.|\d+)\s*$")
_PMID_IN_TEXT = re.compile(r"PMID:?\s*(\d{4,9})", re.I)

_UPPER = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_UPPER_OR_DIGIT = _UPPER | frozenset("0123456789")


def _tag(line: str) -> tuple[str, str] | None:
    """(tag, value) of a tagged line, or None. Fast path for the canonical "XX  - value"."""
    if line[2:6] == "  - " and line[0] in _UPPER and line[1] in _UPPER_OR_DIGIT:
        return line[:2], line[6:].strip()
    if line[2:5] == "  -" and len(line) == 5 and line[0] in _UPPER and line[1] in _UPPER_OR_DIGIT:
        return line[:2], ""
    m = _TAG_LINE.match(line)
    return (m.group(1), (m.group(2) or "").strip()) if m else None


def iter_raw(text: str, warnings: list[str]):
    """Yield (line number of the TY, {tag: value or [values]}) per record, streaming.
    Warnings are appended to `warnings` as they are found."""
    raw: dict = {}
    last = ""
    start = 0
    in_record = False
    skipped_head = 0
    for lineno, line in enumerate(iter_lines(text), start=1):
        tagged = _tag(line)
        if tagged:
            tag, value = tagged
            if tag == "TY":
                if in_record:
                    warnings.append(
                        f"line {lineno}: record started before the previous one ended (ER added)"
                    )
                    yield start, raw
                start = lineno
                in_record = True
                raw, last = {"TY": value}, "TY"
            elif not in_record:
                if tag != "ER":
                    skipped_head += 1
            elif tag == "ER":
                in_record = False
                yield start, raw
                raw, last = {}, ""
            else:
                old = raw.get(tag)
                if old is None:
                    raw[tag] = value
                elif isinstance(old, list):
                    old.append(value)
                else:
                    raw[tag] = [old, value]
                last = tag
            continue
        stripped = line.strip()
        if not stripped:
            continue
        if not in_record:
            if not _NUMBERING.match(line):
                skipped_head += 1
            continue
        # Continuation of the previous tag's (last) value.
        old = raw[last]
        if isinstance(old, list):
            old[-1] = f"{old[-1]} {stripped}" if old[-1] else stripped
        else:
            raw[last] = f"{old} {stripped}" if old else stripped
    if in_record:
        yield start, raw
    if skipped_head:
        warnings.append(f"ignored {skipped_head} line(s) outside records (headers, notes)")


def _first(raw: dict, *tags: str) -> str:
    for tag in tags:
        value = raw.get(tag)
        if isinstance(value, list):
            value = next((v for v in value if v), "")
        if value:
            return value
    return ""


def _all(raw: dict, *tags: str) -> list[str]:
    out: list[str] = []
    for tag in tags:
        value = raw.get(tag)
        if value is None:
            continue
        out.extend(value if isinstance(value, list) else [value])
    return out


def to_record(raw: dict, line: int | None) -> ImportedRecord:
    ty = clean_text(_first(raw, "TY"))
    journal_tags = (
        ("T2", "JF", "JO", "JA", "J2")
        if ty in ("JOUR", "EJOUR", "MGZN", "NEWS", "")
        else ("JF", "JO", "JA", "T2", "J2")
    )
    doi = clean_doi(_first(raw, "DO", "DI"))
    if not doi:
        for value in _all(raw, "UR", "L2", "L3", "M3", "N1", "AN", "ID", "C7"):
            if "10." in value and ("doi" in value.lower() or value.strip().startswith("10.")):
                doi = clean_doi(value)
                if doi:
                    break
    pmid = ""
    an = clean_text(_first(raw, "AN"))
    db = clean_text(_first(raw, "DB", "DP")).lower()
    if an.isdigit() and ("medline" in db or "pubmed" in db):
        pmid = an
    if not pmid:
        for value in _all(raw, "C2", "N1", "M1", "AN", "U1", "ID"):
            m = _PMID_IN_TEXT.search(value)
            if m:
                pmid = m.group(1)
                break
    keywords = (
        clean_list(_all(raw, "KW"), split=";")
        if any(";" in k for k in _all(raw, "KW"))
        else clean_list(_all(raw, "KW"))
    )
    rec = ImportedRecord(
        title=clean_text(_first(raw, "TI", "T1", "CT", "BT")),
        abstract=clean_abstract(_first(raw, "AB", "N2")),
        authors=clean_list(_all(raw, "AU", "A1")),
        year=clean_year(_first(raw, "PY", "Y1", "DA")),
        journal=clean_text(_first(raw, *journal_tags)),
        volume=clean_text(_first(raw, "VL")),
        issue=clean_text(_first(raw, "IS", "CP")),
        pages=clean_pages(_first(raw, "SP"), _first(raw, "EP")),
        doi=doi,
        pmid=clean_pmid(pmid),
        url=clean_url(_all(raw, "UR", "L2")),
        keywords=keywords,
        type=ty,
        language=clean_text(_first(raw, "LA")),
        raw=raw,  # str or list of str by construction (iter_raw): JSON-safe as is
        line=line,
    )
    return finish(rec)


def iter_records(text: str, warnings: list[str]):
    """Records one at a time, so memory holds one record."""
    found = False
    for line, raw in iter_raw(text, warnings):
        found = True
        yield to_record(raw, line)
    if not found:
        raise ImportFormatError("no RIS record found (no line starting with 'TY  - ')", line=1)


def parse(text: str) -> ParseResult:
    warnings: list[str] = []
    records = list(iter_records(text, warnings))
    return ParseResult("ris", records, warnings)
