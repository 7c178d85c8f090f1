"""EndNote XML (File › Export › XML) via lxml iterparse.

Entities are not resolved and the network is never touched (no XXE, no billion laughs); each
<record> is processed and then cleared so memory stays flat on large libraries.
"""

from __future__ import annotations

import re

from studies.importers.base import (
    ImportedRecord,
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
)
from studies.importers.xml_records import iter_elements

_CONTROL = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]"  # the characters, or references to them:
    r"|&#(?:[xX]0*(?:[0-8bBcCeEfF]|1[0-9a-fA-F])|0*(?:[0-8]|1[124-9]|2[0-9]|3[01]));"
)


def _text(el) -> str:
    if el is None:
        return ""
    return "".join(el.itertext())


def _find(rec, path: str) -> str:
    return _text(rec.find(path))


def _findall(rec, path: str) -> list[str]:
    return [_text(e) for e in rec.findall(path)]


def to_record(rec, line: int | None) -> ImportedRecord:
    ref_type = rec.find("ref-type")
    type_name = ref_type.get("name", "") if ref_type is not None else ""
    raw: dict = {}
    for child in rec:
        if not isinstance(child.tag, str):
            continue
        # A field whose only children are <style> runs (every field, in EndNote 20) is its
        # text; a group (titles, contributors, dates, urls) maps its leaves' tags to texts.
        if (
            len(child)
            and child.tag not in ("abstract", "notes")
            and any(c.tag != "style" for c in child)
        ):
            value = {}
            for sub in child.iter():
                if sub is child or not isinstance(sub.tag, str) or sub.tag == "style":
                    continue
                text = clean_text(_text(sub))
                if text and not len([c for c in sub if c.tag != "style"]):
                    value.setdefault(sub.tag, []).append(text)
            raw[child.tag] = value
        else:
            raw[child.tag] = _text(child).strip()
    if type_name:
        raw["ref-type-name"] = type_name
    doi = clean_doi(_find(rec, "electronic-resource-num"))
    urls = _findall(rec, "urls/related-urls/url") + _findall(rec, "urls/web-urls/url")
    if not doi:
        for u in urls:
            if "doi.org/" in u:
                doi = clean_doi(u)
                break
    accession = clean_text(_find(rec, "accession-num"))
    remote_db = clean_text(
        _find(rec, "remote-database-name") + " " + _find(rec, "remote-database-provider")
    ).lower()
    pmid = (
        accession
        if accession.isdigit()
        and ("pubmed" in remote_db or "medline" in remote_db or "nlm" in remote_db.split())
        else ""
    )
    out = ImportedRecord(
        title=clean_text(_find(rec, "titles/title")),
        abstract=clean_abstract(_find(rec, "abstract")),
        # An edited book has only editors (secondary-authors): they stand for its authors,
        # as BibTeX's editor does.
        authors=clean_list(
            _findall(rec, "contributors/authors/author")
            or _findall(rec, "contributors/secondary-authors/author")
        ),
        year=clean_year(_find(rec, "dates/year") or _find(rec, "dates/pub-dates/date")),
        journal=clean_text(
            _find(rec, "titles/secondary-title")
            or _find(rec, "periodical/full-title")
            or _find(rec, "periodical/abbr-1")
        ),
        volume=clean_text(_find(rec, "volume")),
        issue=clean_text(_find(rec, "number") or _find(rec, "issue")),
        pages=clean_pages(_find(rec, "pages")),
        doi=doi,
        pmid=clean_pmid(pmid),
        url=clean_url(urls),
        # One <keyword> per keyword, or (records imported from some databases) all of them
        # in one, a line each.
        keywords=clean_list(
            [k.replace("\r", "\n") for k in _findall(rec, "keywords/keyword")], split="\n"
        ),
        type=clean_text(type_name),
        language=clean_text(_find(rec, "language")),
        raw=raw,
        line=line,
    )
    return finish(out)


def iter_records(text: str, warnings: list[str]):
    """Records one at a time: each <record> is converted, then cleared with what came before
    it, so the tree never holds more than one record."""
    if ("&#" in text or not text.isprintable()) and _CONTROL.search(text):
        # EndNote copies control characters from pasted abstracts (vertical tab, form feed)
        # into its XML, where XML 1.0 forbids them: read them as spaces rather than reject
        # the library. Tab, LF and CR are legal and kept.
        text = _CONTROL.sub(" ", text)
    yield from iter_elements(
        text, tag="record", convert=to_record, missing="no EndNote <record> element found"
    )


def parse(text: str) -> ParseResult:
    warnings: list[str] = []
    records = list(iter_records(text, warnings))
    return ParseResult("endnote-xml", records, warnings)
