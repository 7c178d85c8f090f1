"""EndNote tagged / Refer files (.enw): what Google Scholar's "EndNote" link, EndNote's own
"EndNote Export" style and several publishers' citation downloads give.

    %0 Journal Article
    %T Collaboration between health-care providers
    %A Karam, Marlene
    %D 2018
    %X An abstract that may go on
    over several lines

Written by hand: no maintained Python library reads Refer (rispy and bibtexparser do not), and
the format is a tag per line ("%" + one character + space) with untagged continuation lines.
Records are separated by blank lines, or start again at "%0" (EndNote writes one per record).
"""

from __future__ import annotations

import re

from studies.importers.base import (
    ImportedRecord,
    ImportFormatError,
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
    only_doi,
)

# The first non-empty value over tags, as for the other tag-per-line formats.
from studies.importers.tagged import _one

# "%T Title", "%@ 0123-4567"; a tag without a value ("%K") is allowed.
_TAG = re.compile(r"^%([0-9A-Za-z@#$&()*+!^|?~\]\[<>])(?: (.*))?$")
# Tags whose continuation lines are further items (EndNote writes the keywords of one record
# under a single %K, one per line), not more of the same text.
_LIST_TAGS = {"K", "A", "E", "Y", "?"}
# Enough to tell a Refer file from a BibTeX file opened by "% comment" lines.
DETECT = re.compile(r"^%(?:0 [A-Za-z]|[TA] \S)", re.M)


def _scan(text: str):
    """Yield (first line number, {tag: [values]}) per record."""
    fields: dict[str, list[str]] = {}
    start = None
    last = None
    lineno = 0
    for lines in iter_line_chunks(text):
        for line in lines:
            lineno += 1
            m = _TAG.match(line) if line[:1] == "%" else None
            if m is None:
                value = line.strip()
                if not value:
                    if fields:  # a blank line ends a record
                        yield start, fields
                        fields, start, last = {}, None, None
                    continue
                if last is not None:  # a continuation line
                    values = fields[last]
                    if last in _LIST_TAGS:
                        values.append(value)
                    else:
                        values[-1] = f"{values[-1]} {value}" if values[-1] else value
                # else: a line before the first record (a header): ignored
                continue
            tag, value = m.group(1), (m.group(2) or "").strip()
            # "%0" opens the next record when no blank line came between, unless all the
            # record holds so far is its title: the AIS eLibrary writes "%T" before "%0".
            if tag == "0" and fields and ("0" in fields or len(fields) > 1 or "T" not in fields):
                yield start, fields
                fields, last = {}, None
            if not fields:
                start = lineno
            fields.setdefault(tag, []).append(value)
            last = tag
    if fields:
        yield start, fields


def _keywords(fields: dict) -> list[str]:
    out: list[str] = []
    for value in fields.get("K", ()):
        out.extend(clean_list(value, split=";") if ";" in value else clean_list([value]))
    return list(dict.fromkeys(out))


def record(fields: dict, line: int | None) -> ImportedRecord:
    urls = fields.get("U", [])
    doi = clean_doi(_one(fields, "R"))
    if not doi:  # a doi.org link, or "doi: …" in the notes
        doi = next((d for v in urls + fields.get("Z", []) if (d := only_doi(v))), "")
    database = " ".join(fields.get("W", []) + fields.get("~", [])).lower()
    pmid = ""
    if "pubmed" in database or "nlm" in database or "medline" in database:
        pmid = clean_pmid(_one(fields, "M"))  # EndNote's accession number is then the PMID
    rec = ImportedRecord(
        title=clean_text(_one(fields, "T")),
        abstract=clean_abstract(_one(fields, "X")),
        # An edited book has editors and no authors: they stand for it.
        authors=clean_list(fields.get("A") or fields.get("E") or []),
        year=clean_year(_one(fields, "D", "8")),
        journal=clean_text(_one(fields, "J", "B")),
        volume=clean_text(_one(fields, "V")),
        issue=clean_text(_one(fields, "N")),
        pages=clean_pages(_one(fields, "P")),
        doi=doi,
        pmid=pmid,
        url=clean_url(urls) if urls else "",
        keywords=_keywords(fields),
        type=clean_text(_one(fields, "0", "9")),
        language=clean_text(_one(fields, "G")),
        raw={f"%{k}": (v[0] if len(v) == 1 else v) for k, v in fields.items()},
        line=line,
    )
    return finish(rec)


def iter_records(text: str, warnings: list[str]):
    found = False
    for line, fields in _scan(text):
        found = True
        yield record(fields, line)
    if not found:
        raise ImportFormatError("no EndNote tagged record found (no '%T' or '%A' lines)", line=1)
