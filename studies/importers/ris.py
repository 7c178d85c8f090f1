"""RIS (EndNote, Zotero, Mendeley, Ovid, EBSCO, ProQuest, Scopus, Embase exports) via rispy.

rispy does the tag-to-field grouping; a thin line normaliser in front of it makes real exports
safe for it and lets us report line numbers, which rispy does not track:
- "TY - X", "TY  -X", "TY  -" (empty tag) and lower-case spacing variants become "TY  - X";
- untagged continuation lines are folded into the preceding tag (rispy would crash on a
  continuation of a tag not yet seen in the record);
- Ovid numbering lines ("1.", "<12>") and blank lines between records are dropped, text
  before the first TY (export headers) is skipped with a warning;
- a record that lacks its closing ER (next TY, or end of file) is closed.
"""

from __future__ import annotations

import re

import rispy

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
    jsonable,
)

_TAG_LINE = re.compile(r"^\s{0,3}([A-Z][A-Z0-9])\s{0,3}-(?:\s(.*)|)$")
_NUMBERING = re.compile(r"^\s*(?:<\d+>|\d+\.|\d+)\s*$")
_PMID_IN_TEXT = re.compile(r"PMID:?\s*(\d{4,9})", re.I)

_PARSER_KW = {"list_tags": [], "enforce_list_tags": False, "delimiter_tags_mapping": {}}


class _IdentityMapping(dict):
    """Every tag maps to itself so `raw` keeps the export's own tag names."""

    def __missing__(self, key):
        if isinstance(key, str) and len(key) == 2:
            return key
        raise KeyError(key)

    def __contains__(self, key):
        return isinstance(key, str) and len(key) == 2


def iter_record_lines(text: str, warnings: list[str]):
    """Yield (line number of the TY, normalised lines for rispy) per record, streaming.
    Warnings are appended to `warnings` as they are found."""
    out: list[str] = []
    start = 0
    in_record = False
    skipped_head = 0
    for lineno, line in enumerate(iter_lines(text), start=1):
        m = _TAG_LINE.match(line)
        if m:
            tag, value = m.group(1), (m.group(2) or "").strip()
            if tag == "TY":
                if in_record:
                    out.append("ER  - ")
                    warnings.append(
                        f"line {lineno}: record started before the previous one ended (ER added)"
                    )
                    yield start, out
                start = lineno
                in_record = True
                out = [f"TY  - {value}"]
            elif not in_record:
                if tag != "ER":
                    skipped_head += 1
            elif tag == "ER":
                out.append("ER  - ")
                in_record = False
                yield start, out
                out = []
            else:
                out.append(f"{tag}  - {value}")
            continue
        stripped = line.strip()
        if not stripped:
            continue
        if not in_record:
            if not _NUMBERING.match(line):
                skipped_head += 1
            continue
        # Continuation of the previous tag's value.
        if out:
            out[-1] = f"{out[-1]} {stripped}" if not out[-1].endswith("- ") else out[-1] + stripped
    if in_record:
        out.append("ER  - ")
        yield start, out
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
        raw=jsonable(raw),
        line=line,
    )
    return finish(rec)


def iter_records(text: str, warnings: list[str]):
    """Records one at a time: rispy groups each record's tags, so memory holds one record."""
    parser = rispy.RisParser(mapping=_IdentityMapping(), **_PARSER_KW)
    found = False
    for line, rec_lines in iter_record_lines(text, warnings):
        found = True
        entries = parser.parse_lines(iter(rec_lines))
        if len(entries) != 1:  # cannot happen after normalisation; be loud if it does
            raise ImportFormatError(f"could not read the record starting here ({len(entries)})",
                                    line=line)  # fmt: skip
        raw = entries[0]
        unknown = raw.pop("unknown_tag", None) or raw.pop("UK", None)
        if isinstance(unknown, dict):
            for tag, values in unknown.items():
                raw.setdefault(str(tag), values if len(values) > 1 else values[0])
        raw.pop("ER", None)
        yield to_record(raw, line)
    if not found:
        raise ImportFormatError("no RIS record found (no line starting with 'TY  - ')", line=1)


def parse(text: str) -> ParseResult:
    warnings: list[str] = []
    records = list(iter_records(text, warnings))
    return ParseResult("ris", records, warnings)
