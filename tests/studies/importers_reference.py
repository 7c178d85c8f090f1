"""The RIS / MEDLINE / WoS parsers and the cleaning as they were before the fast paths
(commit 48aad9f): the plain, general version of each, which the faster code must agree with
(tests/studies/test_importers_fast_paths.py). Not used by the application."""

from __future__ import annotations

import re

from studies.importers.base import (
    _DOI,
    _DOI_PREFIX,
    _URL,
    _YEAR,
    MAX_LEN,
    ImportedRecord,
    _unmark,
    iter_lines,
)
from studies.importers.ris import _NUMBERING, _PMID_IN_TEXT, _PUBMED_LINK, _READ_TAGS, _TAG_LINE

_UPPER = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_UPPER_OR_DIGIT = _UPPER | frozenset("0123456789")


def clean_text(value) -> str:
    """One-line text: markup and entities removed, whitespace collapsed."""
    if value is None or value == "":  # most calls: a tag the record does not have
        return ""
    if value.__class__ is not str:
        if isinstance(value, list | tuple):
            value = " ".join(str(v) for v in value if v)
        value = str(value)
    return " ".join(_unmark(value).split())


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
        pattern = r"\s*[,;]\s*(?=https?://)|\s+(?=https?://)"
        text = re.split(pattern, clean_text(candidate), maxsplit=1)[0]
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
    start = re.sub(r"^pp?(?:\.\s*|\s+)(?=[A-Za-z]?\d)", "", start, flags=re.I)  # "pp 278-298"
    start = re.sub(r"(?<=\w) *- *(?=\w)", "-", start)  # "725 - 736" (EBSCO BibTeX)
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


# --- RIS


def _tag(line: str) -> tuple[str, str] | None:
    """(tag, value) of a tagged line, or None. Fast path for the canonical "XX  - value"."""
    if line[2:6] == "  - " and line[0] in _UPPER and line[1] in _UPPER_OR_DIGIT:
        return line[:2], line[6:].strip()
    if line[2:5] == "  -" and len(line) == 5 and line[0] in _UPPER and line[1] in _UPPER_OR_DIGIT:
        return line[:2], ""
    m = _TAG_LINE.match(line)
    return (m.group(1), (m.group(2) or "").strip()) if m else None


def iter_raw(text: str, warnings: list[str]):
    """Yield (line number of the TY, {tag: value or [values]}) per record, streaming.
    Warnings are appended to `warnings` as they are found."""
    raw: dict = {}
    last = ""
    start = 0
    in_record = False
    skipped_head = 0
    tail = None  # the record ER just closed: tags it lacks, right after the ER, are its own
    for lineno, line in enumerate(iter_lines(text), start=1):
        tagged = _tag(line)
        if not tagged:
            tail = None
        if tagged:
            tag, value = tagged
            if tag == "TY":
                tail = None
                if in_record and raw:
                    warnings.append(
                        f"line {lineno}: record started before the previous one ended (ER added)"
                    )
                    yield start, raw
                start = lineno
                in_record = True
                raw, last = {"TY": value}, "TY"
            elif not in_record:
                if tag == "VN":  # Ovid tagged: VN opens a record
                    tail = None
                    start, in_record, raw, last = lineno, True, {"VN": value}, "VN"
                elif tag == "ER":
                    tail = None
                elif tail is not None and tag not in tail and tag not in _READ_TAGS:
                    tail[tag] = value
                else:
                    tail = None
                    skipped_head += 1
            elif tag == "ER":
                in_record = False
                yield start, raw
                tail, raw, last = raw, {}, ""
            elif tag == "VN" and "VN" in raw and "TY" not in raw:  # the next Ovid record
                yield start, raw
                start, raw, last = lineno, {"VN": value}, "VN"
            else:
                old = raw.get(tag)
                if old is None:
                    raw[tag] = value
                elif isinstance(old, list):
                    old.append(value)
                else:
                    raw[tag] = [old, value]
                last = tag
            continue
        stripped = line.strip()
        if not stripped:
            continue
        if re.fullmatch(r"<\s*\d+\.\s*>", stripped):  # Ovid tagged: "<12. >" opens a record
            if in_record and raw:
                yield start, raw
            start, in_record, raw, last = lineno, True, {}, ""
            continue
        if not in_record or not last:
            if not _NUMBERING.match(line):
                skipped_head += 1
            continue
        # Continuation of the previous tag's (last) value; for KW, the next keyword.
        sep = "\n" if last == "KW" else " "
        old = raw[last]
        if isinstance(old, list):
            old[-1] = f"{old[-1]}{sep}{stripped}" if old[-1] else stripped
        else:
            raw[last] = f"{old}{sep}{stripped}" if old else stripped
    if in_record and raw:
        if "TY" in raw:
            warnings.append(
                f"line {start}: the last record has no 'ER' line (the file may be cut off)"
            )
        yield start, raw
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
                # one DOI only: several are a reference list (session 5)
                cited = {
                    d.rstrip(".,;)]}").lower() for d in re.findall(r"10\.\d{3,9}/[^\s\"<>]+", value)
                }
                doi = clean_doi(value) if len(cited) == 1 else ""
                if doi:
                    break
    pmid = ""
    an = clean_text(_first(raw, "AN"))
    db = clean_text(_first(raw, "DB", "DP")).lower()
    if an.isdigit() and ("medline" in db or "pubmed" in db or db == "nlm"):
        pmid = an
    if not pmid:
        for value in _all(raw, "C2", "N1", "M1", "AN", "U1", "ID"):
            found = set(_PMID_IN_TEXT.findall(value))
            if len(found) == 1:
                pmid = found.pop()
                break
    c2 = clean_text(_first(raw, "C2"))
    if not pmid and c2.isdigit() and raw.get("DB") == "Scopus":
        pmid = c2
    c5 = clean_text(_first(raw, "C5"))
    if not pmid and c5.isdigit() and clean_text(_first(raw, "DB")).lower() == "embase":
        pmid = c5
    if not pmid:
        links = [m.group(1) for v in _all(raw, "UR", "L2") if (m := _PUBMED_LINK.search(v))]
        pmid = links[0] if links else ""
    pages = clean_pages(_first(raw, "SP"), _first(raw, "EP"))
    if pages == "No-Specified":  # Ovid's "No Pagination Specified"
        pages = ""
    c7 = clean_text(_first(raw, "C7"))
    if not pages and len(c7) <= 20 and " " not in c7:
        pages = c7
    kw = [part for k in _all(raw, "KW") for part in k.split("\n")]
    keywords = clean_list(kw, split=";") if any(";" in k for k in kw) else clean_list(kw)
    keywords = clean_list([k.replace("*", "") for k in keywords])  # Ovid's major-focus mark
    rec = ImportedRecord(
        title=clean_text(_first(raw, "TI", "T1", "CT", "BT")),
        abstract=clean_abstract(_first(raw, "AB", "N2")),
        authors=clean_list(_all(raw, "AU", "A1")),
        year=clean_year(_first(raw, "PY", "Y1", "DA")),
        journal=clean_text(_first(raw, *journal_tags)),
        volume=clean_text(_first(raw, "VL")),
        issue=clean_text(_first(raw, "IS", "CP")),
        pages=pages,
        doi=doi,
        pmid=clean_pmid(pmid),
        url=clean_url(_all(raw, "UR", "L2")),
        keywords=keywords,
        type=ty,
        language=clean_text(_first(raw, "LA")),
        raw=raw,  # str or list of str by construction (iter_raw): JSON-safe as is
        line=line,
    )
    return finish(rec)


# --- MEDLINE and WoS tagged


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
    if not pages:  # the article number: an LID without a "[doi]"/"[pii]" label
        pages = next(
            (v for v in fields.get("LID", []) if v and re.fullmatch(r"[^\[ ]{1,20}", v)), ""
        )
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
        keywords=clean_list(
            fields.get("OT", []) + [m.replace("*", "") for m in fields.get("MH", [])]
        ),
        type=clean_text(_one(fields, "PT")),
        language=clean_text(_one(fields, "LA")),
        raw=_raw(fields),
        line=line,
    )
    if rec.pmid:
        rec.url = f"https://pubmed.ncbi.nlm.nih.gov/{rec.pmid}/"
    return finish(rec)


def wos_record(fields: dict, line: int | None) -> ImportedRecord:
    def joined(tag: str) -> str:
        return " ".join(fields.get(tag, []))

    authors = fields.get("AF") or fields.get("AU") or fields.get("BA") or []
    keywords = clean_list([joined("DE"), joined("ID")], split=";")
    pmid = _one(fields, "PM")
    if not pmid and _one(fields, "UT").startswith("MEDLINE:"):
        pmid = _one(fields, "UT").removeprefix("MEDLINE:")
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
