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
from itertools import chain

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


@dataclass(slots=True)  # 100k of them for a large file: no __dict__ each
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
_TAGS = re.compile(r"</?(?:i|b|em|strong|sup|sub|u|span|inf|scp|sc)\b[^>]*>", re.I)
# Block markup separates words: Europe PMC abstracts run "<h4>Background</h4>Preliminary…".
_BLOCK_TAGS = re.compile(r"</?(?:h[1-6]|p|br|div|li|ul|ol)\b[^>]*>", re.I)
_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*|doi\s+)", re.I)
_DOI = re.compile(r"10\.\d{3,9}/\S+")
# A year alone or at the head of a compact date (TRID's RIS: "PY  - Start date: 20170812").
_YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d)(?:(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]))?(?!\d)")
_PMID = re.compile(r"^(?:pmid:?\s*)?(\d{1,9})\b", re.I)
_URL = re.compile(r"^https?://\S+$", re.I)
_URL_SPLIT = re.compile(r"\s*[,;]\s*(?=https?://)|\s+(?=https?://)")
_PAGE_DASH = re.compile(r"(?<=\w) *- *(?=\w)")
_PAGES_LABEL = re.compile(r"pp?(?:\.\s*|\s+)(?=[A-Za-z]?\d)", re.I)


def clean_text(value) -> str:
    """One-line text: markup and entities removed, whitespace collapsed."""
    if value.__class__ is str:
        if "<" not in value and "&" not in value:  # most values: only whitespace to collapse
            # A long value is usually clean already: checking is cheaper than split and join.
            if len(value) > 200 and is_clean(value):
                return value
            return " ".join(value.split())
    elif value is None or value == "":
        return ""
    else:
        if isinstance(value, list | tuple):
            value = " ".join(str(v) for v in value if v)
        value = str(value)
    return " ".join(_unmark(value).split())


def is_clean(text: str) -> bool:
    """True when clean_text would return `text` unchanged: no markup or entity, no whitespace
    but single spaces between words. Found with a few substring scans, a fraction of the cost
    of splitting and re-joining every value (on a 100k-record file, over a second for the
    abstracts alone). All the whitespace str.split() knows except the space is non-printable
    (a test walks the whole Unicode range), so isprintable() rules it out; on long ASCII
    text, scanning for the nine ASCII ones (memchr) is faster than isprintable's loop."""
    if not _spaces_only(text):
        return False
    return (
        text[:1] != " "
        and text[-1:] != " "
        and "<" not in text
        and "&" not in text
        and "  " not in text
    )


def _spaces_only(text: str) -> bool:
    """No whitespace in `text` but the space (is_clean's first test, see there)."""
    if len(text) > 200 and text.isascii():
        return not (
            "\n" in text or "\t" in text or "\r" in text or "\x0b" in text or "\x0c" in text
            or "\x1c" in text or "\x1d" in text or "\x1e" in text or "\x1f" in text
        )  # fmt: skip
    return text.isprintable()


def plain_values(raw: dict, skip: str | None = None) -> bool:
    """True when clean_text would return each value of `raw` (but raw[skip]) unchanged, line
    breaks aside: there are none either (values str, or lists of str; anything else: False).
    One check of the values joined with spaces, instead of a cleaning call per field: most
    records need none. A value with a space at either end, or an empty one, puts a double
    space in the joined text (or a space at its ends) and fails the check; so do markup and
    every whitespace character but the space, as in is_clean. An "&" passes when a space
    follows it: no entity starts so (html.unescape leaves it), as in "Science & Medicine"."""
    try:
        text = " ".join(
            [v if v.__class__ is str
             # Exactly str: clean_text converts a subclass with str(), which may differ.
             else " ".join(v) if v.__class__ is list and {*map(type, v)} == _ONLY_STR else None
             for k, v in raw.items() if k != skip]
        )  # fmt: skip
    except TypeError:  # a value neither str nor a list of str
        return False
    return plain_text(text)


def plain_lists(fields: dict, skip: str | None = None) -> bool:
    """plain_values of {tag: [values]} (MEDLINE): the types checked in two sets for the whole
    record rather than one for each list."""
    lists = [v for k, v in fields.items() if k != skip]
    if {*map(type, lists)} != _ONLY_LIST or {*map(type, chain.from_iterable(lists))} != _ONLY_STR:
        return False
    return plain_text(" ".join(map(" ".join, lists)))


def plain_text(text: str) -> bool:
    """True when clean_text would return each of the values joined with spaces in `text`
    unchanged, and none holds a line break (see plain_values)."""
    if "&" in text and text.count("&") != text.count("& "):
        return False
    if not _spaces_only(text):
        return False
    return text[:1] != " " and text[-1:] != " " and "<" not in text and "  " not in text


_ONLY_STR, _ONLY_LIST = {str}, {list}


def unique(values: list[str]) -> list[str]:
    """clean_list(values) of values clean_text leaves unchanged (plain_values)."""
    out = dict.fromkeys(values)
    out.pop("", None)
    return list(out)


def _unmark(text: str) -> str:
    # Most values hold neither markup nor entities: skip the regex and the unescape for them.
    if "<" in text:
        text = _BLOCK_TAGS.sub(" ", _TAGS.sub("", text))
    return html.unescape(text) if "&" in text else text


def clean_abstract(value) -> str:
    if value.__class__ is str and "\n" not in value and "&" not in value:
        # One paragraph (an entity could be "&#10;"): clean_text. Most abstracts are long,
        # ASCII, free of markup and clean already: its check inline, without the scans for
        # what is known absent (line breaks, entities, markup).
        if "<" not in value and len(value) > 200 and value.isascii():
            if (
                value[0] != " " and value[-1] != " " and "\t" not in value and "\r" not in value
                and "\x0b" not in value and "\x0c" not in value and "\x1c" not in value
                and "\x1d" not in value and "\x1e" not in value and "\x1f" not in value
                and "  " not in value
            ):  # fmt: skip
                return value
            return " ".join(value.split())
        return clean_text(value)
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
    if text[:3] == "10." and " " not in text:
        # A bare DOI, most values: what the regexes find is all of it. No prefix matches
        # "10.", and cleaned text holds no whitespace but spaces, so \S+ runs to the end.
        slash = text.find("/", 3)
        if 6 <= slash <= 12 and slash + 1 < len(text):
            digits = text[3:slash]
            if digits.isdigit() and digits.isascii():
                return text.rstrip(".,;)]}")[:255]
    if not text:
        return ""
    text = _DOI_PREFIX.sub("", text)
    m = _DOI.search(text)
    if not m:
        return ""
    return m.group(0).rstrip(".,;)]}")[:255]


def only_doi(value: str) -> str:
    """The DOI a note or link gives for this record, or "" when it names several: notes can
    carry a reference list, and a cited paper's DOI taken for the record's own would make
    two different records exact duplicates."""
    found = {m.rstrip(".,;)]}").lower() for m in _DOI_ANY.findall(value)}
    return clean_doi(value) if len(found) == 1 else ""


_DOI_ANY = re.compile(r"10\.\d{3,9}/[^\s\"<>]+")


def clean_pmid(value) -> str:
    if value.__class__ is str and value.isdigit() and value.isascii() and len(value) <= 9:
        return value  # what _PMID takes from a bare PMID
    text = clean_text(value)
    m = _PMID.match(text)
    return m.group(1) if m else ""


def clean_year(value) -> int | None:
    if value.__class__ is str and value[4:5] in ("", " "):
        # "2019", "2019 Mar": cleaning cannot change a leading "dddd " (markup or entities
        # after it stay apart), so a year there is the first one _YEAR finds.
        head = value[:4]
        if head.isdigit() and head.isascii() and len(head) == 4:
            if "1500" <= head <= "2099":
                return int(head)
            if len(value) == 4:
                return None
    text = clean_text(value)
    m = _YEAR.search(text)
    return int(m.group(1)) if m else None


def clean_url(value) -> str:
    for candidate in value if isinstance(value, list | tuple) else [value]:
        text = clean_text(candidate)
        if text.count("http") > 1:
            # Several URLs in one value (Mendeley joins them with commas, others with "; "
            # or spaces): keep the first. "?url=http…" inside one URL is not a separator.
            text = _URL_SPLIT.split(text, 1)[0]
        if text and _URL.match(text) and len(text) <= 1000:
            return text
    return ""


def clean_list(values, *, split: str | None = None) -> list[str]:
    """Cleaned, non-empty, first occurrence of each (a dict, not `p in out`: quadratic on
    records with thousands of authors)."""
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    if split:
        cleaned = dict.fromkeys(clean_text(p) for v in values for p in str(v).split(split))
    else:
        cleaned = dict.fromkeys([clean_text(v if v.__class__ is str else str(v)) for v in values])
    cleaned.pop("", None)
    return list(cleaned)


def clean_pages(start, end=None) -> str:
    return join_pages(clean_text(start), clean_text(end))


def join_pages(start: str, end: str) -> str:
    """clean_pages of a start and an end page clean_text leaves unchanged."""
    start = start.replace("--", "-").replace("–", "-").replace("—", "-")
    if start[:1] in ("p", "P") and (m := _PAGES_LABEL.match(start)):
        start = start[m.end() :]  # TRID's RIS: "SP  - pp 278-298"
    if " -" in start or "- " in start:  # EBSCO's BibTeX "725 - 736"
        start = _PAGE_DASH.sub("-", start)
    if end and end != start:
        return f"{start}-{end}" if start else end
    return start


def finish(rec: ImportedRecord) -> ImportedRecord:
    """Apply the store-side limits (lengths, MAX_LEN) after an importer filled the record.
    Spelled out field by field: it runs once per record, 100k times for a large file."""
    if len(rec.journal) > 500:
        rec.journal = rec.journal[:500]
    if len(rec.volume) > 50:
        rec.volume = rec.volume[:50]
    if len(rec.issue) > 50:
        rec.issue = rec.issue[:50]
    if len(rec.pages) > 50:
        rec.pages = rec.pages[:50]
    if len(rec.type) > 60:
        rec.type = rec.type[:60]
    if len(rec.language) > 40:
        rec.language = rec.language[:40]
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


LINE_CHUNK = 1 << 20  # characters split into lines at a time by iter_line_chunks


def iter_line_chunks(text: str, size: int | None = None):
    """The lines of iter_lines(text), as lists of the lines of about `size` characters at a
    time: str.split does the splitting in C (a Python generator yielding ~2M lines cost half
    a second on its own), while memory holds one chunk's lines, not the file's."""
    size = size or LINE_CHUNK
    pos, n = 0, len(text)
    while pos < n:
        end = text.find("\n", pos + size)
        if end < 0:
            lines = text[pos:].split("\n")
            if lines[-1] == "":  # text ends with a newline: no line after it
                lines.pop()
            yield lines
            return
        yield text[pos:end].split("\n")
        pos = end + 1


def fold(text: str) -> str:
    """Lowercase ASCII-ish fold used for header matching."""
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).lower().strip()
