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
    iter_line_chunks,
    join_pages,
    plain_lists,
    plain_text,
    unique,
)

_MEDLINE_TAG = re.compile(r"^([A-Z][A-Z0-9]{0,3})\s*- ?(.*)$")
_WOS_TAG = re.compile(r"^([A-Z][A-Z0-9])(?: (.*))?$")


def _scan(text: str, *, tag_re, width: int, start_tag: str, end_tags=(), list_tags=()):
    """Yield (first line number, {tag: [values]}) per record.

    A continuation line (indented) extends the last value, or adds a new value for
    tags whose continuation lines are separate items (authors, cited references). A record
    ends at a blank line (MEDLINE, no `end_tags`), an end tag (WoS), or a repeated start tag.

    `width` is the length of a canonical tag prefix ("PMID- ", "TI  - "; "AU "): a line
    starting with a prefix already seen to be one is read with a dict lookup instead of the
    regex (most lines of a large file)."""
    fields: dict[str, list[str]] = {}
    start = None
    last = None  # the tag of the last value, which continuation lines extend
    values: list[str] = []  # fields[last]
    lineno = 0
    known: dict[str, str] = {}  # canonical prefix -> tag
    for lines in iter_line_chunks(text):
        for line in lines:
            lineno += 1
            tag = known.get(line[:width])
            if tag is not None:
                value = line[width:].strip()
            else:
                if line[:1] in (" ", "\t"):
                    value = line.strip()
                    if value and last is not None:
                        if last in list_tags:
                            values.append(value)
                        else:  # values are stripped, so is the joined one
                            values[-1] = f"{values[-1]} {value}" if values[-1] else value
                        continue
                    # else a stray indented line outside a record (export header), or blank
                if not line.strip():
                    if not end_tags and fields:  # MEDLINE: blank line ends a record
                        yield start, fields
                        fields, start, last = {}, None, None
                    continue
                if line[:1] in (" ", "\t"):
                    continue
                m = tag_re.match(line)
                if not m:
                    if last is not None:  # untagged, unindented continuation: be liberal
                        value = line.strip()
                        values[-1] = f"{values[-1]} {value}" if values[-1] else value
                    continue
                tag, value = m.group(1), (m.group(2) or "").strip()
                # The value starts right after the prefix ("PMID- ", "TI  - ", "AU "), or
                # after one more space, which strip() drops: the prefix decides the tag.
                if m.start(2) == width and len(known) < 500:
                    known[line[:width]] = tag
            if tag in end_tags:
                if fields:
                    yield start, fields
                fields, start, last = {}, None, None
                continue
            if tag == start_tag and tag in fields:
                yield start, fields
                fields, start = {}, None
            if start is None:
                start = lineno
            values = fields.get(tag)
            if values is None:
                values = fields[tag] = [value]
            else:
                values.append(value)
            last = tag
    if fields:
        yield start, fields


def _one(fields: dict, *tags: str) -> str:
    values = fields.get(tags[0])
    if values and values[0]:  # the usual case: the first tag's first value
        return values[0]
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


def _elocation(fields: dict) -> str:
    """An online-only article's number: the LID without a "[doi]"/"[pii]" label ("LID -
    e80092"), which PubMed gives instead of PG; it stands for the pages, as Scopus' C7."""
    for value in fields.get("LID", []):
        if value and "[" not in value and " " not in value and len(value) <= 20:
            return value
    return ""


def medline_record(fields: dict, line: int | None) -> ImportedRecord:
    # Group authors after the people (clean_list drops one already listed among them).
    authors = (fields.get("FAU") or fields.get("AU") or []) + fields.get("CN", [])
    so = _one(fields, "SO")
    # "*" marks a major MeSH heading, not part of the term (as in Ovid's RIS).
    keywords = fields.get("OT", []) + [m.replace("*", "") for m in fields.get("MH", [])]
    pmid = clean_pmid(_one(fields, "PMID"))
    pages = _one(fields, "PG") or _elocation(fields)
    title, journal = _one(fields, "TI", "BTI"), _one(fields, "JT", "TA")
    volume, issue = _one(fields, "VI"), _one(fields, "IP")
    type_, language = _one(fields, "PT"), _one(fields, "LA")
    # Most records hold no value to clean: one check of all of them (the abstract apart), and
    # their values are used as they are (see ris.to_record).
    if plain_lists(fields, skip="AB"):
        authors, pages = unique(authors), join_pages(pages, "")
        # Removing a "*" may leave a space at an end: the keywords are checked again.
        keywords = unique(keywords) if plain_text(" ".join(keywords)) else clean_list(keywords)
    else:
        title, journal = clean_text(title), clean_text(journal)
        volume, issue = clean_text(volume), clean_text(issue)
        type_, language = clean_text(type_), clean_text(language)
        authors, pages = clean_list(authors), clean_pages(pages)
        keywords = clean_list(keywords) if keywords else []
    # Positional, in the fields' order: 16 keywords took a microsecond a record to match.
    rec = ImportedRecord(
        title,
        clean_abstract(_one(fields, "AB")),
        authors,
        clean_year(_one(fields, "DP", "DEP", "EDAT", "DA")),
        journal,
        volume,
        issue,
        pages,
        _medline_doi(fields) or (clean_doi(so) if "doi:" in so else ""),
        pmid,
        f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/" if pmid else "",  # url
        keywords,
        type_,
        language,
        _raw(fields),
        line,
    )
    return finish(rec)


def iter_medline(text: str, warnings: list[str]):
    found = False
    for line, fields in _scan(text, tag_re=_MEDLINE_TAG, width=6, start_tag="PMID"):
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
    if not pmid and (ut := _one(fields, "UT"))[:8] == "MEDLINE:":
        pmid = ut[8:]  # MEDLINE searched on the Web of Science platform: no PM, the PMID is UT
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
        text, tag_re=_WOS_TAG, width=3, start_tag="PT", end_tags=("ER", "EF"),
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
    if text.lstrip()[:3] == "FN " and not text[-100:].rstrip().endswith("EF"):
        # A saved file ends with EF: without it, the download or a copy stopped early.
        warnings.append("the file does not end with 'EF' (it may be cut off)")


def parse_wos(text: str) -> ParseResult:
    return ParseResult("wos", list(iter_wos(text, [])), [])
