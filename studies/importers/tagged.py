"""PubMed/MEDLINE (.nbib, "MEDLINE" format .txt) and Web of Science tagged ("plain text") files.

Written by hand on purpose: both are simple "tag, value, indented continuation" line formats,
and the library options do not fit. Bio.Medline would pull all of Biopython in for ~40 lines, has
no line numbers for error messages, and drops nothing-but-whitespace continuation quirks we must
tolerate; rispy's WokParser mis-reads continuation lines of multi-value tags (each AU/AF/CR
continuation is a separate author, while a TI/AB continuation continues the text) and MEDLINE's
4-character tags are outside what rispy's RIS parser recognises. One small scanner serves both.
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

_MEDLINE_TAG = re.compile(r"^([A-Z][A-Z0-9]{0,3})\s*- ?(.*)$")
_WOS_TAG = re.compile(r"^([A-Z][A-Z0-9])(?: (.*))?$")


def _scan(text: str, *, tag_re, is_start, is_end, list_tags: set[str]):
    """Yield (first line number, {tag: [values]}) per record.

    A continuation line (indented) extends the last value, or adds a new value for
    tags whose continuation lines are separate items (authors, cited references)."""
    fields: dict[str, list[str]] = {}
    start = None
    last = None
    for lineno, line in enumerate(iter_lines(text), start=1):
        if not line.strip():
            if is_end is None and fields:  # MEDLINE: blank line ends a record
                yield start, fields
                fields, start, last = {}, None, None
            continue
        if line[:1] in (" ", "\t"):
            if last is None:
                continue  # stray indented text outside a record (export header)
            value = line.strip()
            if last in list_tags:
                fields[last].append(value)
            else:
                fields[last][-1] = f"{fields[last][-1]} {value}".strip()
            continue
        m = tag_re.match(line)
        if not m:
            if last is not None:  # untagged, unindented continuation: be liberal
                fields[last][-1] = f"{fields[last][-1]} {line.strip()}".strip()
            continue
        tag, value = m.group(1), (m.group(2) or "").strip()
        if is_end is not None and is_end(tag):
            if fields:
                yield start, fields
            fields, start, last = {}, None, None
            continue
        if is_start(tag) and fields and tag in fields:
            yield start, fields
            fields, start = {}, None
        if start is None:
            start = lineno
        fields.setdefault(tag, []).append(value)
        last = tag
    if fields:
        yield start, fields


def _one(fields: dict, *tags: str) -> str:
    for tag in tags:
        for v in fields.get(tag, []):
            if v:
                return v
    return ""


def _raw(fields: dict) -> dict:
    return {k: (v[0] if len(v) == 1 else v) for k, v in fields.items()}


# --- MEDLINE --------------------------------------------------------------------------------


def _medline_doi(fields: dict) -> str:
    for value in fields.get("LID", []) + fields.get("AID", []):
        if value.endswith("[doi]"):
            return clean_doi(value[:-5])
    return ""


def medline_record(fields: dict, line: int | None) -> ImportedRecord:
    authors = fields.get("FAU") or fields.get("AU") or []
    authors = authors + [a for a in fields.get("CN", []) if a not in authors]
    so = _one(fields, "SO")
    pages = _one(fields, "PG")
    rec = ImportedRecord(
        title=clean_text(_one(fields, "TI", "BTI")),
        abstract=clean_abstract(_one(fields, "AB")),
        authors=clean_list(authors),
        year=clean_year(_one(fields, "DP", "DEP", "EDAT", "DA")),
        journal=clean_text(_one(fields, "JT", "TA")),
        volume=clean_text(_one(fields, "VI")),
        issue=clean_text(_one(fields, "IP")),
        pages=clean_pages(pages),
        doi=_medline_doi(fields) or (clean_doi(so) if "doi:" in so else ""),
        pmid=clean_pmid(_one(fields, "PMID")),
        url="",
        keywords=clean_list(fields.get("OT", []) + fields.get("MH", [])),
        type=clean_text(_one(fields, "PT")),
        language=clean_text(_one(fields, "LA")),
        raw=_raw(fields),
        line=line,
    )
    if rec.pmid:
        rec.url = f"https://pubmed.ncbi.nlm.nih.gov/{rec.pmid}/"
    return finish(rec)


def iter_medline(text: str, warnings: list[str]):
    found = False
    for line, fields in _scan(
        text, tag_re=_MEDLINE_TAG, is_start=lambda t: t == "PMID", is_end=None, list_tags=set()
    ):
        if len(fields) > 1 or "PMID" in fields:
            found = True
            yield medline_record(fields, line)
    if not found:
        raise ImportFormatError("no MEDLINE record found (no 'PMID- ' or tagged lines)", line=1)


def parse_medline(text: str) -> ParseResult:
    return ParseResult("medline", list(iter_medline(text, [])), [])


# --- Web of Science tagged ----------------------------------------------------------------

WOS_LIST_TAGS = {"AU", "AF", "CR", "C1", "BA", "BF", "CA", "GP", "ED", "RP", "EM", "OI", "RI"}


def wos_record(fields: dict, line: int | None) -> ImportedRecord:
    def joined(tag: str) -> str:
        return " ".join(fields.get(tag, []))

    authors = fields.get("AF") or fields.get("AU") or fields.get("BA") or []
    keywords = clean_list([joined("DE"), joined("ID")], split=";")
    pmid = _one(fields, "PM")
    rec = ImportedRecord(
        title=clean_text(joined("TI")),
        abstract=clean_abstract(joined("AB")),
        authors=clean_list(authors),
        year=clean_year(_one(fields, "PY", "EA", "PD")),
        journal=clean_text(_one(fields, "SO", "SE", "J9")),
        volume=clean_text(_one(fields, "VL")),
        issue=clean_text(_one(fields, "IS")),
        pages=clean_pages(_one(fields, "BP"), _one(fields, "EP")) or clean_text(_one(fields, "AR")),
        doi=clean_doi(_one(fields, "DI", "D2")),
        pmid=clean_pmid(pmid),
        url=clean_url(fields.get("UR", [])),
        keywords=keywords,
        type=clean_text(_one(fields, "DT", "PT")),
        language=clean_text(_one(fields, "LA")),
        raw={k: (v[0] if len(v) == 1 else v) for k, v in fields.items()},
        line=line,
    )
    return finish(rec)


def iter_wos(text: str, warnings: list[str]):
    found = False
    for line, fields in _scan(
        text, tag_re=_WOS_TAG, is_start=lambda t: t == "PT", is_end=lambda t: t in ("ER", "EF"),
        list_tags=WOS_LIST_TAGS,
    ):  # fmt: skip
        if set(fields) <= {"FN", "VR"}:
            continue
        fields.pop("FN", None)
        fields.pop("VR", None)
        found = True
        yield wos_record(fields, line)
    if not found:
        raise ImportFormatError("no Web of Science record found (no 'PT ' lines)", line=1)


def parse_wos(text: str) -> ParseResult:
    return ParseResult("wos", list(iter_wos(text, [])), [])
