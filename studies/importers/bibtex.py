"""BibTeX (Zotero, Mendeley, JabRef, Scopus, Google Scholar) via bibtexparser 2.

LaTeX is decoded ({\\"u} → ü) by bibtexparser's LatexDecodingMiddleware (pylatexenc); authors are
split on "and" by SeparateCoAuthors. Text outside entries (Scopus preamble lines, comments) is
ignored; blocks bibtexparser cannot parse become warnings naming their line.
"""

from __future__ import annotations

import bibtexparser
from bibtexparser.middlewares import LatexDecodingMiddleware, SeparateCoAuthors

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
    jsonable,
)


def _field(fields: dict, *names: str):
    for name in names:
        value = fields.get(name)
        if value not in (None, "", []):
            return value
    return ""


def to_record(entry) -> ImportedRecord:
    fields = {k.lower(): f.value for k, f in entry.fields_dict.items()}
    authors = fields.get("author") or fields.get("editor") or []
    if isinstance(authors, str):
        authors = [a for a in authors.split(" and ")]
    keywords = fields.get("keywords") or fields.get("keyword") or ""
    sep = ";" if ";" in str(keywords) else ","
    raw = {"ENTRYTYPE": entry.entry_type, "ID": entry.key, **fields}
    rec = ImportedRecord(
        title=clean_text(_field(fields, "title", "booktitle")),
        abstract=clean_abstract(_field(fields, "abstract")),
        authors=clean_list(authors),
        year=clean_year(_field(fields, "year", "date")),
        journal=clean_text(_field(fields, "journal", "journaltitle", "booktitle", "series")),
        volume=clean_text(_field(fields, "volume")),
        issue=clean_text(_field(fields, "number", "issue")),
        pages=clean_pages(_field(fields, "pages")),
        doi=clean_doi(_field(fields, "doi")),
        pmid=clean_pmid(_field(fields, "pmid")),
        url=clean_url(_field(fields, "url")),
        keywords=clean_list(keywords, split=sep) if keywords else [],
        type=clean_text(entry.entry_type),
        language=clean_text(_field(fields, "language", "langid")),
        raw=jsonable(raw),
        line=entry.start_line + 1,
    )
    if rec.title == rec.journal and fields.get("booktitle") and fields.get("title"):
        rec.journal = ""
    return finish(rec)


def parse(text: str) -> ParseResult:
    try:
        library = bibtexparser.parse_string(
            text,
            append_middleware=[LatexDecodingMiddleware(keep_math_mode=False), SeparateCoAuthors()],
        )
    except Exception as exc:  # bibtexparser raises assorted errors on broken input
        raise ImportFormatError(f"BibTeX could not be read: {exc}") from None
    warnings = []
    for block in library.failed_blocks:
        line = getattr(block, "start_line", None)
        error = getattr(block, "error", None)
        msg = type(error).__name__ if error is not None else "unreadable entry"
        warnings.append(f"line {(line or 0) + 1}: skipped an unreadable BibTeX block ({msg})")
    if not library.entries:
        if library.failed_blocks:
            first = library.failed_blocks[0]
            raise ImportFormatError(
                "no readable BibTeX entry (check braces and commas)",
                line=(getattr(first, "start_line", 0) or 0) + 1,
            )
        raise ImportFormatError("no BibTeX entry found (no '@article{…' etc.)", line=1)
    records = []
    for entry in library.entries:
        try:
            records.append(to_record(entry))
        except Exception as exc:  # one odd entry must not take the file down silently
            raise ImportFormatError(
                f"entry {entry.key!r} could not be read: {exc}", line=entry.start_line + 1
            ) from None
    return ParseResult("bibtex", records, warnings)
