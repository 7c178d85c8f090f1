"""The one normalised record type every importer produces, its error, and the shared cleaning.

Liberal in what we accept (any field may be missing, odd or duplicated), strict in what we
store: values are trimmed, years range-checked, DOIs/PMIDs normalised, and every original field
is kept verbatim in `raw` so nothing the database exported is lost.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import asdict, dataclass, field

MAX_LEN = {"journal": 500, "volume": 50, "issue": 50, "pages": 50, "type": 60, "language": 40}


class ImportFormatError(ValueError):
    """A file that cannot be imported. Names the file, where (line/record) and the problem."""

    def __init__(
        self,
        problem: str,
        *,
        filename: str = "",
        line: int | None = None,
        record: int | None = None,
    ):
        self.problem = problem
        self.filename = filename
        self.line = line
        self.record = record
        super().__init__(self.message)

    @property
    def message(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.record is not None:
            where.append(f"record {self.record}")
        head = self.filename or "file"
        if where:
            head += f" ({', '.join(where)})"
        return f"{head}: {self.problem}"

    def with_filename(self, filename: str) -> ImportFormatError:
        if not self.filename:
            self.filename = filename
            self.args = (self.message,)
        return self


@dataclass
class ImportedRecord:
    title: str = ""
    abstract: str = ""
    authors: list[str] = field(default_factory=list)
    year: int | None = None
    journal: str = ""
    volume: str = ""
    issue: str = ""
    pages: str = ""
    doi: str = ""
    pmid: str = ""
    url: str = ""
    keywords: list[str] = field(default_factory=list)
    type: str = ""
    language: str = ""
    raw: dict = field(default_factory=dict)
    line: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def is_empty(self) -> bool:
        return not (self.title or self.authors or self.doi or self.pmid or self.abstract)


@dataclass
class ParseResult:
    format: str
    records: list[ImportedRecord]
    warnings: list[str] = field(default_factory=list)


# --- cleaning -----------------------------------------------------------------------------

_WS = re.compile(r"\s+")
_TAGS = re.compile(r"</?(?:i|b|em|strong|sup|sub|u|span|p|br|inf|scp|sc)\b[^>]*>", re.I)
_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*|doi\s+)", re.I)
_DOI = re.compile(r"10\.\d{3,9}/\S+")
_YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d)(?!\d)")
_URL = re.compile(r"^https?://\S+$", re.I)


def clean_text(value) -> str:
    """One-line text: markup and entities removed, whitespace collapsed."""
    if value is None or value == "":  # most calls: a tag the record does not have
        return ""
    if value.__class__ is not str:
        if isinstance(value, list | tuple):
            value = " ".join(str(v) for v in value if v)
        value = str(value)
    return " ".join(_unmark(value).split())


def _unmark(text: str) -> str:
    # Most values hold neither markup nor entities: skip the regex and the unescape for them.
    if "<" in text:
        text = _TAGS.sub("", text)
    return html.unescape(text) if "&" in text else text


def clean_abstract(value) -> str:
    if isinstance(value, list | tuple):
        value = "\n".join(str(v) for v in value if v)
    if value is None:
        return ""
    text = _unmark(str(value))
    if "\n" not in text:
        return " ".join(text.split())
    lines = [" ".join(ln.split()) for ln in text.split("\n")]
    return "\n".join(ln for ln in lines if ln)


def clean_doi(value) -> str:
    """Bare DOI (10.xxxx/...) or "" when the value holds none. Case is kept; matching lowercases."""
    text = clean_text(value)
    if not text:
        return ""
    text = _DOI_PREFIX.sub("", text)
    m = _DOI.search(text)
    if not m:
        return ""
    return m.group(0).rstrip(".,;)]}")[:255]


def clean_pmid(value) -> str:
    text = clean_text(value)
    m = re.match(r"^(?:pmid:?\s*)?(\d{1,9})\b", text, re.I)
    return m.group(1) if m else ""


def clean_year(value) -> int | None:
    text = clean_text(value)
    m = _YEAR.search(text)
    return int(m.group(1)) if m else None


def clean_url(value) -> str:
    for candidate in value if isinstance(value, list | tuple) else [value]:
        text = clean_text(candidate)
        if text and _URL.match(text) and len(text) <= 1000:
            return text
    return ""


def clean_list(values, *, split: str | None = None) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    out: list[str] = []
    seen: set[str] = set()  # not `p in out`: quadratic on records with thousands of authors
    for v in values:
        parts = str(v).split(split) if split else [str(v)]
        for p in parts:
            p = clean_text(p)
            if p and p not in seen:
                seen.add(p)
                out.append(p)
    return out


def clean_pages(start, end=None) -> str:
    start, end = clean_text(start), clean_text(end)
    start = start.replace("--", "-").replace("–", "-").replace("—", "-")
    if end and end != start:
        return f"{start}-{end}" if start else end
    return start


def finish(rec: ImportedRecord) -> ImportedRecord:
    """Apply the store-side limits (lengths) after an importer filled the record."""
    for name, limit in MAX_LEN.items():
        value = getattr(rec, name)
        if len(value) > limit:
            setattr(rec, name, value[:limit])
    if rec.pages and len(rec.pages) > 50:
        rec.pages = rec.pages[:50]
    return rec


def jsonable(value):
    """Raw fields must survive JSON storage."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def iter_lines(text: str):
    """Lines of `text` without building a list of them (a 100k-record export has ~2M)."""
    pos, n = 0, len(text)
    find = text.find
    while pos < n:
        end = find("\n", pos)
        if end < 0:
            yield text[pos:]
            return
        yield text[pos:end]
        pos = end + 1


def fold(text: str) -> str:
    """Lowercase ASCII-ish fold used for header matching."""
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).lower().strip()
