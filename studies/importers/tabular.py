"""CSV exports (Scopus, Embase, generic, ",", ";" or tab separated) and Web of Science
tab-delimited files, via pandas.

Known headers are mapped to record fields automatically; a user mapping
(`options["columns"] = {"Header": "field"}`) overrides or completes it. Every column is kept in
`raw` under its original header.
"""

from __future__ import annotations

import ast
import csv
import io
import re
import warnings
from urllib.parse import unquote

import pandas as pd

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
    fold,
)

FIELDS = [
    "title", "abstract", "authors", "year", "journal", "volume", "issue", "pages",
    "page_start", "page_end", "article_number", "citation", "doi", "pmid", "url", "keywords",
    "type", "language", "book_title",
]  # fmt: skip
# Embase's older CSV has no year/volume columns, only "Source":
# "Endoscopic Ultrasound (2014) 3:3 (152-160). Date of Publication: 2014"
_EMBASE_SOURCE = re.compile(
    r"^(?P<journal>.+?) \((?P<year>\d{4})\)(?: (?P<volume>[^\s:(]+)(?::(?P<issue>[^\s(]+))?)?"
    r"(?: \((?P<pages>[^)]*)\))?\.?(?: Date of Publication:.*)?$"
)
_COMMA_OUTSIDE_BRACKETS = re.compile(r",(?![^(]*\))")
_DOI_IN_LINK = re.compile(r"doi[:/=](10\.\d{4,9}/[^&\s]+)", re.I)
_CITATION = re.compile(r";\s*([^;:()\s]+)?(?:\(([^)]+)\))?(?::\s*([^.;\s]+))?\.")

# Folded header → field, in order of preference per field (first present header wins).
KNOWN_HEADERS: dict[str, list[str]] = {
    "title": ["title", "article title", "document title", "ti", "primary title", "titles", "item title"],
    "abstract": ["abstract", "ab", "abstracts", "abstract note", "notes abstract"],
    "authors": ["author full names", "authors", "author", "author names", "af", "au", "author(s)", "creators", "contributors", "first authors"],
    "year": ["year", "publication year", "py", "pubyear", "year of publication", "publication date", "date", "pd"],
    "journal": ["source title", "journal", "so", "journal title", "publication title", "source", "secondary title", "journal/book", "journal name", "full journal title", "pubtitle", "alternate title3"],
    "volume": ["volume", "vl", "vol"],
    "issue": ["issue", "is", "number", "issue number"],
    # Not "PG": in Web of Science's tab-delimited file it is the page count.
    "pages": ["pages", "page", "page numbers", "pagination"],
    # "PS" is the page span in Web of Science's BIOSIS and Zoological Record tables; the
    # latter has no BP/EP ("2274-2285"), the former has both (BP wins).
    "page_start": ["page start", "first page", "bp", "start page", "ps"],
    # Online-only articles have an article number instead of pages (Scopus, WoS): the
    # record's pages when its page columns are empty.
    "article_number": ["art. no.", "article number", "ar"],
    # PubMed's CSV has volume, issue and pages only inside its "Citation":
    # "Cyberpsychol Behav Soc Netw. 2022 Mar;25(3):181-188. doi: ..."
    "citation": ["citation"],
    "page_end": ["page end", "last page", "ep", "end page"],
    "doi": ["doi", "di", "digital object identifier", "digitalobjectidentifier"],
    "pmid": ["pubmed id", "pmid", "medline pmid", "pm", "pubmed"],
    "url": ["link", "url", "ur", "links", "full text link", "documenturl"],
    "keywords": ["author keywords", "keywords", "de", "index keywords", "id", "keywords plus", "manual tags", "automatic tags", "mesh terms", "emtree medical index terms (major focus)", "emtree medical index terms", "emtree drug index terms (major focus)", "emtree drug index terms", "subjects", "subject terms", "subjectterms", "identifierkeywords"],
    # Zotero's CSV has "Item Type" (journalArticle…) and a "Type" (genre, mostly empty).
    "type": ["document type", "publication type", "dt", "item type", "type", "reference type", "documenttype", "entrytype", "type of reference"],
    "language": ["language of original document", "language", "la", "language of article"],
    # The venue of a conference paper or chapter, in tables written from BibTeX (CoLRev,
    # bib-dedupe, JabRef): used as the journal when a row has none.
    "book_title": ["booktitle", "book title", "proceedings title", "conference name"],
}  # fmt: skip
# Written into empty cells by some tools (CoLRev's "UNKNOWN"): not a value to store.
_PLACEHOLDERS = {"UNKNOWN", "unknown", "N/A", "n/a", "NA"}
_MULTI = {"keywords"}
_SHORT_AUTHORS = re.compile(
    r"^[^,]+ (?:[A-Z][-A-Z.]*\.?)(?:, [^,]+ (?:[A-Z][-A-Z.]*\.?))+$"
)  # fields that collect every matching column


_EXTRA_PMID = re.compile(r"^PMID:\s*(\d{1,9})\s*$", re.M)


def _extra_pmid(value: str) -> str:
    found = set(_EXTRA_PMID.findall(value)) if "PMID" in value else ()
    return next(iter(found)) if len(found) == 1 else ""


def _header(text: str) -> str:
    # "publication_year" as "publication year": tables written from rispy's field names
    # (ASReview's export of a RIS import: first_authors, start_page, type_of_reference).
    return fold(text).replace("_", " ")


def sniff_separator(header_line: str) -> str:
    counts = {}
    for sep in (",", ";", "\t", "|"):
        try:
            row = next(csv.reader([header_line], delimiter=sep))
        except (csv.Error, StopIteration):
            row = []
        counts[sep] = len(row)
    best = max(counts, key=lambda s: (counts[s], s == "\t", s == ","))
    return best if counts[best] > 1 else ","


def looks_tabular(head: str) -> bool:
    first = head.split("\n", 1)[0]
    sep = sniff_separator(first)
    try:
        cells = next(csv.reader([first], delimiter=sep))
    except (csv.Error, StopIteration):
        return False
    if len(cells) < 2 or any(len(c) > 120 for c in cells):
        return False
    known = {h for names in KNOWN_HEADERS.values() for h in names}
    return any(_header(c) in known for c in cells)


def column_mapping(headers: list[str], user: dict | None = None) -> dict[str, list[str]]:
    """field → list of headers (preferred first)."""
    folded = {_header(h): h for h in headers}
    mapping: dict[str, list[str]] = {}
    user = user or {}
    ignored = {k for k, v in user.items() if not v and k in headers}  # "" = do not import
    user = {k: v for k, v in user.items() if v in FIELDS and k in headers}
    taken = set(user) | ignored
    for header, field in user.items():
        mapping.setdefault(field, []).append(header)
    wos = "ut" in folded or "ut (unique wos id)" in folded
    for field, names in KNOWN_HEADERS.items():
        if field in mapping and field not in _MULTI:
            continue
        for name in names:
            header = folded.get(name)
            if header is None or header in taken:
                continue
            if (
                name == "id" and not wos
            ):  # a record number, except in Web of Science (Keywords Plus)
                continue
            mapping.setdefault(field, []).append(header)
            taken.add(header)
            if field not in _MULTI:
                break
    return mapping


def export_source(headers: list[str]) -> str:
    """Which database a CSV export looks like, from its headers (shown to the user)."""
    folded = {fold(h) for h in headers}
    if (
        "eid" in folded
        or {"source title", "art. no."} <= folded
        or "link" in folded
        and ("source title" in folded)
    ):
        return "Scopus"
    if any(h.startswith(("emtree", "embase")) for h in folded) or "medline pmid" in folded:
        return "Embase"
    if {"pt", "au", "ti"} <= folded or "ut (unique wos id)" in folded:
        return "Web of Science"
    return "generic"


def describe_columns(text: str, options: dict | None = None) -> dict:
    """The export's columns, the field each is mapped to ("" = not imported, kept in raw)
    under the user's mapping and the known headers, and the first row's value."""
    df = read_table(text)
    headers = [str(h) for h in df.columns]
    mapping = column_mapping(headers, (options or {}).get("columns"))
    field_of = {h: f for f, hs in mapping.items() for h in hs}
    first = df.iloc[0].to_dict() if len(df) else {}
    return {
        "source": export_source(headers),
        "columns": [
            {"header": h, "field": field_of.get(h, ""), "sample": str(first.get(h, ""))[:80]}
            for h in headers
        ],
    }


def xlsx_to_csv(data: bytes) -> str:
    """The first sheet of an Excel workbook as CSV text (an export opened in Excel and saved
    as .xlsx, or a database's own Excel export): cells as Excel shows them, whole numbers
    without ".0", dates as ISO dates."""
    import datetime

    try:
        import openpyxl
    except ImportError:  # pragma: no cover - openpyxl is a dependency
        raise ImportFormatError(
            "an Excel workbook: save it as CSV (UTF-8) and import that", line=1
        ) from None
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # zipfile, XML and openpyxl errors alike: a broken workbook
        raise ImportFormatError(f"an Excel workbook that cannot be read ({exc})", line=1) from None

    def cell(v) -> str:
        if v is None:
            return ""
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        if isinstance(v, datetime.datetime | datetime.date):
            return v.date().isoformat() if isinstance(v, datetime.datetime) else v.isoformat()
        return str(v)

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    try:
        sheet = book.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            cells = [cell(v) for v in row]
            if any(cells):  # formatted but empty rows below the table
                writer.writerow(cells)
    finally:
        book.close()
    return out.getvalue()


def _abstract(value: str) -> str:
    # Scopus fills the column of a record without an abstract with a placeholder.
    return "" if value == "[No abstract available]" else clean_abstract(value)


def _py_list(value: str) -> list[str] | None:
    """The items of a Python list written into a cell ("['Marx, Karl', 'Lindgren, Astrid']",
    as pandas writes rispy's lists in ASReview's export), or None for any other value."""
    if value[:2] not in ("['", '["', "[]") or value[-1:] != "]":
        return None
    try:
        items = ast.literal_eval(value)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    if isinstance(items, list) and all(isinstance(v, str) for v in items):
        return items
    return None


def _split_authors(value: str) -> list[str]:
    if not value:
        return []
    if (items := _py_list(value)) is not None:
        return _names(items)
    if ";" in value:
        parts = value.split(";")
    elif " and " in value:
        parts = value.split(" and ")
    elif "\n" in value:
        parts = value.split("\n")
    elif _SHORT_AUTHORS.match(value):  # Scopus "Kislov R., Wilson P."
        parts = value.split(", ")
    else:
        parts = [value]
    # Scopus "Author full names": "Smith, John (57190000000)" → drop the author id (and
    # an e-mail address in brackets, below).
    out = []
    for p in parts:
        p = p.strip()
        if p.endswith(")") and "(" in p:
            inside = p[p.rfind("(") + 1 : -1].strip()
            # BIOSIS and Zoological Record: "Tingley, Morgan W. (morgan.tingley@uconn.edu)".
            if inside.isdigit() or ("@" in inside and " " not in inside):
                p = p[: p.rfind("(")].strip()
        out.append(p)
    if len(out) > 1 and out[-1].endswith(".") and not any(p.endswith(".") for p in out[:-1]):
        out[-1] = out[-1][:-1]  # PubMed's "Wang C, Lizardo O, Hachen DS.": the list's full stop
    return _names(out)


def _names(values: list[str]) -> list[str]:
    # Repeats are kept: one cell lists each author once, so "Hakim M, Miller R, Hakim M"
    # (PubMed's CSV) names two people. clean_list would keep one of them.
    return [name for v in values if (name := clean_text(v))]


def _read(text: str, chunksize: int | None = None):
    body = text.lstrip("\n")
    first = body.split("\n", 1)[0]
    sep = sniff_separator(first)
    try:
        return pd.read_csv(
            io.StringIO(body),
            sep=sep,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            index_col=False,
            skip_blank_lines=True,
            quoting=csv.QUOTE_NONE if sep == "\t" and '"' not in first else csv.QUOTE_MINIMAL,
            engine="c",
            chunksize=chunksize,
        )
    except pd.errors.EmptyDataError:
        raise ImportFormatError("the table has no header row", line=1) from None
    except (pd.errors.ParserError, ValueError, csv.Error) as exc:
        raise ImportFormatError(f"malformed table: {str(exc).strip()}") from None


def _columns_cleaned(df: pd.DataFrame) -> pd.DataFrame:
    df.columns = [str(c).strip() for c in df.columns]
    return df.loc[:, [c for c in df.columns if c and not c.startswith("Unnamed:")]]


def read_table(text: str) -> pd.DataFrame:
    return _columns_cleaned(_read(text))


CHUNK = 5000  # rows converted at a time: memory holds one chunk's frame, not the table's


_EXTRA_CELLS = (
    "some rows have more cells than the header row: the cells past the last column were not "
    "imported (check the separator and the quoting)"
)


def _chunks(text: str, notes: list[str] | None = None):
    reader = _read(text, chunksize=CHUNK)
    with reader:
        while True:
            # pandas drops the cells of a row longer than the header with only a
            # ParserWarning: the user is told instead.
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", pd.errors.ParserWarning)
                try:
                    df = next(reader)
                except StopIteration:
                    return
                except (pd.errors.ParserError, ValueError, csv.Error) as exc:
                    raise ImportFormatError(f"malformed table: {str(exc).strip()}") from None
            extra = any(issubclass(w.category, pd.errors.ParserWarning) for w in caught)
            if extra and notes is not None and _EXTRA_CELLS not in notes:
                notes.append(_EXTRA_CELLS)
            yield _columns_cleaned(df)


def _mapping(headers: list[str], options: dict | None, warnings: list[str]) -> dict:
    mapping = column_mapping(headers, (options or {}).get("columns"))
    if not any(f in mapping for f in ("title", "authors", "doi", "pmid")):
        raise ImportFormatError(
            "no column recognised as title, authors, DOI or PMID; map the columns "
            f"(headers: {', '.join(headers[:30])})",
            line=1,
        )
    unmapped = [h for h in headers if not any(h in hs for hs in mapping.values())]
    if unmapped:
        warnings.append(f"columns kept only as raw fields: {', '.join(unmapped[:20])}")
    return mapping


def iter_records(text: str, warnings: list[str], *, options: dict | None = None):
    """Records a chunk of rows at a time (pandas chunksize), so a large CSV never sits in
    memory as one frame plus all its records."""
    mapping = None
    offset = 0
    for df in _chunks(text, warnings):
        if mapping is None:
            mapping = _mapping(list(df.columns), options, warnings)
        yield from _records(df, mapping, offset)
        offset += len(df)
    if mapping is None:  # a header without rows: still check the header
        _mapping(list(read_table(text).columns), options, warnings)


def _records(df: pd.DataFrame, mapping: dict, offset: int):
    def col(field: str) -> list[str] | None:
        hs = mapping.get(field)
        return df[hs[0]].tolist() if hs else None

    n = len(df)
    empty = [""] * n
    cols = {f: col(f) or empty for f in FIELDS}
    kw_cols = [df[h].tolist() for h in mapping.get("keywords", [])]
    # Link columns that may carry the DOI when no DOI column does (Embase's "Open URL Link":
    # "...&id=doi:10.4103%2F2303-9027.138783&...").
    link_cols = [df[h].tolist() for h in df.columns if "url" in fold(h) or "link" in fold(h)]
    # MEDLINE searched on the Web of Science platform has no PMID column: UT "MEDLINE:29782655".
    ut = next((h for h in df.columns if _header(h) in ("ut", "ut (unique wos id)")), None)
    ut_col = df[ut].tolist() if ut is not None else None
    # Zotero keeps the PubMed ID of an item in its "Extra" notes, a "PMID: 25555555" line.
    extra = next((h for h in df.columns if _header(h) == "extra"), None)
    extra_col = df[extra].tolist() if extra is not None else None
    raw_rows = df.to_dict("records")
    for i in range(n):
        raw = {k: v for k, v in raw_rows[i].items() if v != ""}
        pages = (
            cols["pages"][i]
            or clean_pages(cols["page_start"][i], cols["page_end"][i])
            or cols["article_number"][i]
        )
        volume, issue, year = cols["volume"][i], cols["issue"][i], cols["year"][i]
        journal = cols["journal"][i] or cols["book_title"][i]
        citation = cols["citation"][i]
        if citation and not (volume or issue or pages) and (m := _CITATION.search(citation)):
            volume, issue, pages = m.group(1) or "", m.group(2) or "", m.group(3) or ""
        if not (year or volume) and "(" in journal and (m := _EMBASE_SOURCE.match(journal)):
            journal, year = m.group("journal"), m.group("year")
            volume, issue, pages = (
                m.group("volume") or "",
                m.group("issue") or "",
                m.group("pages") or "",
            )
        doi = clean_doi(cols["doi"][i])
        if not doi:
            for c in link_cols:
                if "doi" in c[i] and (m := _DOI_IN_LINK.search(unquote(c[i]))):
                    doi = clean_doi(m.group(1))
                    break
        kws: list[str] = []
        for c in kw_cols:
            # "; " (Scopus, WoS) or, in Embase's Emtree columns, ", "
            kw = c[i]
            if (items := _py_list(kw)) is not None:
                kws.extend(clean_list(items))
            elif ";" in kw or "," not in kw:
                kws.extend(clean_list(kw, split=";"))
            else:  # Emtree: "cyst (diagnosis, surgery), colonoscopy": not inside brackets
                kws.extend(clean_list(_COMMA_OUTSIDE_BRACKETS.split(kw)))
        yield finish(
            ImportedRecord(
                title=clean_text(cols["title"][i]),
                abstract=_abstract(cols["abstract"][i]),
                authors=_split_authors(cols["authors"][i]),
                year=clean_year(year),
                journal=clean_text(journal),
                volume="" if volume in _PLACEHOLDERS else clean_text(volume),
                issue="" if issue in _PLACEHOLDERS else clean_text(issue),
                pages="" if pages in _PLACEHOLDERS else clean_pages(pages),
                doi=doi,
                pmid=clean_pmid(cols["pmid"][i])
                or (clean_pmid(ut_col[i][8:]) if ut_col and ut_col[i][:8] == "MEDLINE:" else "")
                or (_extra_pmid(extra_col[i]) if extra_col else ""),
                url=clean_url(cols["url"][i]),
                keywords=list(dict.fromkeys(kws)),
                type=clean_text(cols["type"][i]),
                language=clean_text(cols["language"][i]),
                raw=raw,
                line=offset + i + 2,
            )
        )


def parse(text: str, *, options: dict | None = None, fmt: str = "csv") -> ParseResult:
    warnings: list[str] = []
    records = list(iter_records(text, warnings, options=options))
    return ParseResult(fmt, records, warnings)
