"""BibTeX (Zotero, Mendeley, JabRef, Scopus, Google Scholar) via bibtexparser 2.

LaTeX is decoded ({\\"u} → ü) by bibtexparser's LatexDecodingMiddleware (pylatexenc); authors are
split on "and" by SeparateCoAuthors. Text outside entries (Scopus preamble lines, comments) is
ignored; blocks bibtexparser cannot parse become warnings naming their line.
"""

from __future__ import annotations

import html
import re

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

# Verbatim fields: LaTeX decoding would turn a URL's "&" into spaces and "%" into a comment.
# Only the escapes exporters put there are undone: "\_" (Web of Science DOIs), Mendeley's
# "{\_}" and "{\%}".
_VERBATIM = frozenset({"url", "doi", "file", "eprint", "pdf", "link", "urldate"})
_VERBATIM_ESCAPE = re.compile(r"\{?\\([_%&#$~])\}?")


# Exporters that are not LaTeX-aware write "%" and "&" bare, and HTML entities: Scopus
# ("(59%)" in abstracts), the Cochrane Library ("95% CI", "Wiley &amp; Sons"). To the LaTeX
# decoder a bare "%" starts a comment (the rest of the line was lost) and "&" is a column
# separator (it became spaces); BibTeX itself takes both literally, so we escape them first.
_BARE = re.compile(r"(?<!\\)([%&])")
_ENTITY = re.compile(r"&(?:[A-Za-z][A-Za-z0-9]{1,7}|#[0-9]{1,6}|#[xX][0-9A-Fa-f]{1,5});")


def _escape_bare(value: str) -> str:
    if "&" in value and _ENTITY.search(value):
        value = _ENTITY.sub(lambda m: html.unescape(m.group(0)), value)
    return _BARE.sub(r"\\\1", value)


class _Decoding(LatexDecodingMiddleware):
    def transform_entry(self, entry, library):
        kept = []
        for f in entry.fields:
            if not isinstance(f.value, str):
                continue
            if f.key.lower() in _VERBATIM:
                kept.append((f, f.value))
            elif "%" in f.value or "&" in f.value:
                enclosing = f.enclosing  # the value setter resets it
                f.value = _escape_bare(f.value)
                f.enclosing = enclosing
        block = super().transform_entry(entry, library)
        for f, value in kept:
            enclosing = f.enclosing  # the value setter resets it
            f.value = _VERBATIM_ESCAPE.sub(r"\1", value) if "\\" in value else value
            f.enclosing = enclosing
        return block


def _field(fields: dict, *names: str):
    for name in names:
        value = fields.get(name)
        if value not in (None, "", []):
            return value
    return ""


# Europe PMC keys its entries by PMID ("@article {PMID:36788546,") and has no pmid field.
_KEY_PMID = re.compile(r"PMID:?(\d{1,9})", re.I)


def _key_pmid(key) -> str:
    m = _KEY_PMID.fullmatch(key) if isinstance(key, str) else None
    return m.group(1) if m else ""


_NUMBERED = frozenset({"report", "techreport"})

# The Cochrane Library joins its authors with commas and puts "and" before the last only:
# "Huey, SL, Mehta, NH, and Mehta, S" splits into "Huey, SL, Mehta, NH," and "Mehta, S".
_INITIALS = re.compile(r"[A-Z][A-Z.\- ]{0,7}")


def _names(authors: list) -> list:
    out = []
    for name in authors:
        if not isinstance(name, str) or "," not in name:
            out.append(name)
            continue
        name = name.strip().rstrip(",")
        parts = [p.strip() for p in name.split(",")]
        if (
            len(parts) >= 4
            and len(parts) % 2 == 0
            and all(_INITIALS.fullmatch(p) for p in parts[1::2])
        ):
            out.extend(
                f"{last}, {first}" for last, first in zip(parts[::2], parts[1::2], strict=True)
            )
        else:
            out.append(name)
    return out


def to_record(entry) -> ImportedRecord:
    fields = {k.lower(): f.value for k, f in entry.fields_dict.items()}
    authors = fields.get("author") or fields.get("editor") or []
    if isinstance(authors, str):
        authors = [a for a in authors.split(" and ")]
    authors = _names(authors)
    # Scopus writes author_keywords and (index) keywords, Web of Science keywords and
    # keywords-plus: all of them are the record's keywords.
    keywords = [
        str(v)
        for name in ("author_keywords", "keywords", "keyword", "keywords-plus", "mendeley-tags")
        if (v := fields.get(name))
    ]
    sep = ";" if any(";" in k for k in keywords) else ","
    raw = {"ENTRYTYPE": entry.entry_type, "ID": entry.key, **fields}
    rec = ImportedRecord(
        title=clean_text(_field(fields, "title", "booktitle")),
        abstract=clean_abstract(_field(fields, "abstract")),
        authors=clean_list(authors),
        year=clean_year(_field(fields, "year", "date")),
        journal=clean_text(_field(fields, "journal", "journaltitle", "booktitle", "series")),
        volume=clean_text(_field(fields, "volume")),
        # A report's "number" is its report number (biblatex @report, BibTeX @techreport).
        issue=clean_text(
            _field(fields, "issue")
            if entry.entry_type.lower() in _NUMBERED
            else _field(fields, "number", "issue")
        ),
        # Online-only articles: Scopus art_number, Web of Science article-number.
        pages=clean_pages(_field(fields, "pages", "art_number", "article-number", "eid")),
        doi=clean_doi(_field(fields, "doi")),
        pmid=clean_pmid(_field(fields, "pmid", "pubmed_id")) or _key_pmid(entry.key),
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
            append_middleware=[_Decoding(keep_math_mode=False), SeparateCoAuthors()],
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
