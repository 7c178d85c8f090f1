"""RIS (EndNote, Zotero, Mendeley, Ovid, EBSCO, ProQuest, Scopus, Embase exports).

One streaming pass over the lines, liberal about what real exports do, with line numbers for
messages (rispy does not track them):
- "TY - X", "TY  -X", "TY  -" (empty tag) and lower-case spacing variants are tags;
- untagged continuation lines are folded into the preceding tag's value;
- Ovid numbering lines ("1.", "<12>") and blank lines between records are dropped, text
  before the first TY (export headers) is skipped with a warning;
- a record that lacks its closing ER (next TY, or end of file) is closed.

Tags are grouped exactly as rispy groups them with an identity mapping and no list tags (first
value a string, repeated tags a list, continuation lines joined with a space); a test holds
the two to the same output. We used to normalise lines and then run rispy over them, but on a
100k-record file that second pass over every line cost as much as the whole rispy parse, so the
grouping is done in the same pass as the normalisation.
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
    only_doi,
    plain_values,
    unique,
)

_TAG_LINE = re.compile(r"^\s{0,3}([A-Z][A-Z0-9])\s{0,3}-(?:\s(.*)|)$")
_NUMBERING = re.compile(r"^\s*(?:<\d+>|\d+\.|\d+)\s*$")
_OVID_MARK = re.compile(r"^<\s*\d+\.\s*>$")  # stripped
_PMID_IN_TEXT = re.compile(r"PMID:?\s*(?:NLM)?(\d{4,9})", re.I)  # EBSCO: "PMID: NLM…"
# A PubMed link names the record's PMID (Rayyan and EndNote put it in UR).
_PUBMED_LINK = re.compile(
    r"(?:ncbi\.nlm\.nih\.gov/pubmed/|pubmed\.ncbi\.nlm\.nih\.gov/)(\d{1,9})(?!\d)"
)

_UPPER = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_UPPER_OR_DIGIT = _UPPER | frozenset("0123456789")
_TAGS = frozenset(a + b for a in _UPPER for b in _UPPER_OR_DIGIT)  # every valid tag


# Every tag to_record reads. A tag after ER joins the closed record only if it is none of
# these: in a file whose next record lacks its TY, that record's fields must not be read
# into the previous one; an extra raw field is all a joining tag can add.
_READ_TAGS = frozenset(
    ("TY", "TI", "T1", "CT", "BT", "AB", "N2", "PY", "Y1", "DA", "VL", "IS", "CP", "SP", "EP",
     "DO", "DI", "AN", "LA", "T2", "JF", "JO", "JA", "J2", "UR", "L2", "L3", "M3", "N1", "ID",
     "C7", "C2", "M1", "U1", "DB", "DP", "C5", "KW", "AU", "A1",
     # and ovid_record's
     "SO", "FA", "JN", "JT", "VO", "VI", "IP", "PG", "UI", "YR", "MH", "XL", "JL", "PT", "ST", "LG")
)  # fmt: skip


def _tag(line: str) -> tuple[str, str] | None:
    """(tag, value) of a tagged line, or None. Fast path for the canonical "XX  - value"."""
    if line[2:6] == "  - " and line[:2] in _TAGS:
        return line[:2], line[6:].strip()
    if line[2:5] == "  -" and len(line) == 5 and line[:2] in _TAGS:
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
    lineno = 0
    tags = _TAGS
    # The record just closed by ER: Ovid writes "NL  - <journal abbreviation>" after the ER,
    # so tags that follow it directly (no blank line), that it lacks and that name no field
    # we read (_READ_TAGS) are still its own.
    # iter_records converts a record only once the next one is read, so they reach it.
    tail: dict | None = None
    for lines in iter_line_chunks(text):
        for line in lines:
            lineno += 1
            # The canonical "XX  - value" inline (most lines); the rest through _tag.
            if line[2:6] == "  - " and (tag := line[:2]) in tags:
                value = line[6:].strip()
            else:
                tagged = _tag(line)
                if tagged is None:
                    stripped = line.strip()
                    if not stripped:
                        tail = None
                        continue
                    if stripped[0] == "<" and _OVID_MARK.match(stripped):
                        # Ovid's own tagged export: "<12. >" opens each record (no TY/ER).
                        if in_record and raw:
                            yield start, raw
                        start, in_record, raw, last, tail = lineno, True, {}, "", None
                        continue
                    if not in_record or not last:
                        tail = None
                        if not _NUMBERING.match(line):
                            skipped_head += 1
                        continue
                    # Continuation of the previous tag's (last) value; a keyword's continuation
                    # line is the next keyword (EndNote writes them all under one KW).
                    old = raw[last]
                    sep = "\n" if last == "KW" else " "
                    if old.__class__ is list:
                        old[-1] = f"{old[-1]}{sep}{stripped}" if old[-1] else stripped
                    else:
                        raw[last] = f"{old}{sep}{stripped}" if old else stripped
                    continue
                tag, value = tagged
            if tag == "TY":
                if in_record and raw:
                    warnings.append(
                        f"line {lineno}: record started before the previous one ended (ER added)"
                    )
                    yield start, raw
                tail = None
                start = lineno
                in_record = True
                raw, last = {"TY": value}, "TY"
            elif tag == "ER":
                if in_record:
                    in_record = False
                    yield start, raw
                    tail, raw, last = raw, {}, ""
                else:
                    tail = None
            elif in_record:
                old = raw.get(tag)
                if old is None:
                    raw[tag] = value
                elif old.__class__ is list:
                    old.append(value)
                elif tag == "VN" and "TY" not in raw:  # Ovid tagged, no "<n. >" line
                    yield start, raw
                    start, raw = lineno, {"VN": value}
                else:
                    raw[tag] = [old, value]
                last = tag
            elif tag == "VN":  # Ovid tagged: VN opens the record
                start, in_record, raw, last, tail = lineno, True, {"VN": value}, "VN", None
            elif tail is not None and tag not in tail and tag not in _READ_TAGS:
                tail[tag] = value
            else:
                tail = None
                skipped_head += 1
    if in_record and raw:
        if "TY" in raw:
            warnings.append(
                f"line {start}: the last record has no 'ER' line (the file may be cut off)"
            )
        yield start, raw
    if skipped_head:
        warnings.append(f"ignored {skipped_head} line(s) outside records (headers, notes)")


def _first(raw: dict, tags: tuple[str, ...]) -> str:
    """The first non-empty value of the first of `tags` that has one."""
    value = raw.get(tags[0])
    if value and value.__class__ is str:  # the usual case: the first tag, present once
        return value
    for tag in tags:
        value = raw.get(tag)
        if isinstance(value, list):
            value = next((v for v in value if v), "")
        if value:
            return value
    return ""


def _all(raw: dict, tags: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for tag in tags:
        value = raw.get(tag)
        if value is None:
            continue
        if isinstance(value, list):
            out.extend(value)
        else:
            out.append(value)
    return out


_JOURNAL_FIRST = ("T2", "JF", "JO", "JA", "J2")
_JOURNAL_OTHER = ("JF", "JO", "JA", "T2", "J2")
_MAIN_TAGS = ("TY", "TI", "AB", "PY", "VL", "IS", "SP", "EP", "DO", "AN", "LA")


def to_record(raw: dict, line: int | None) -> ImportedRecord:
    ty, ti, ab, py, vl, is_, sp, ep, do, an, la = map(raw.get, _MAIN_TAGS)
    # Usually each field is in the first of its tags, once: the rest only through _first.
    if ty.__class__ is not str:
        ty = _first(raw, ("TY",))
    if not ti or ti.__class__ is not str:
        ti = _first(raw, ("TI", "T1", "CT", "BT"))
    if not ab or ab.__class__ is not str:
        ab = _first(raw, ("AB", "N2"))
    if not py or py.__class__ is not str:
        py = _first(raw, ("PY", "Y1", "DA"))
    if vl.__class__ is not str:
        vl = _first(raw, ("VL",))
    if not is_ or is_.__class__ is not str:
        is_ = _first(raw, ("IS", "CP"))
    if sp.__class__ is not str:
        sp = _first(raw, ("SP",))
    if ep.__class__ is not str:
        ep = _first(raw, ("EP",))
    if not do or do.__class__ is not str:
        do = _first(raw, ("DO", "DI"))
    if an.__class__ is not str:
        an = _first(raw, ("AN",))
    if la.__class__ is not str:
        la = _first(raw, ("LA",))
    # Most records hold no value to clean (markup, entities, odd whitespace): one check of all
    # of them, and their values are used as they are.
    plain = plain_values(raw, skip="AB")  # the abstract: clean_abstract checks it on its own
    if not plain:
        ty, an = clean_text(ty), clean_text(an)
    journal_tags = _JOURNAL_FIRST if ty in ("JOUR", "EJOUR", "MGZN", "NEWS", "") else _JOURNAL_OTHER
    doi = clean_doi(do)
    if not doi:
        for value in _all(raw, ("UR", "L2", "L3", "M3", "N1", "AN", "ID", "C7")):
            if "10." in value and ("doi" in value.lower() or value.strip().startswith("10.")):
                doi = only_doi(value)
                if doi:
                    break
    pmid = ""
    if an.isdigit():
        db = clean_text(_first(raw, ("DB", "DP"))).lower()
        if "medline" in db or "pubmed" in db or db == "nlm":  # EndNote: "DP  - NLM"
            pmid = an
    if not pmid:
        for value in _all(raw, ("C2", "N1", "M1", "AN", "U1", "ID")):
            if "d" not in value and "D" not in value:
                continue  # no "PMID": most values (an accession number), without the regex
            found = set(_PMID_IN_TEXT.findall(value))
            if len(found) == 1:  # several: a reference list, not this record's own
                pmid = found.pop()
                break
        if not pmid and "C2" in raw and raw.get("DB") == "Scopus":
            c2 = clean_text(_first(raw, ("C2",)))  # Scopus writes the bare PubMed ID in C2
            pmid = c2 if c2.isdigit() else ""
        if not pmid and "C5" in raw and clean_text(_first(raw, ("DB",))).lower() == "embase":
            c5 = clean_text(_first(raw, ("C5",)))  # Embase writes the MEDLINE PMID in C5
            pmid = c5 if c5.isdigit() else ""
        if not pmid and ("UR" in raw or "L2" in raw):
            for value in _all(raw, ("UR", "L2")):
                if "pubmed" in value and (m := _PUBMED_LINK.search(value)):
                    pmid = m.group(1)
                    break
    pages = join_pages(sp, ep) if plain else clean_pages(sp, ep)
    if pages == "No-Specified":  # Ovid's "No Pagination Specified", cut into SP and EP
        pages = ""
    if not pages and "C7" in raw:
        # Online-only articles: the article number (RIS C7; Scopus, EndNote) stands for pages.
        c7 = clean_text(_first(raw, ("C7",)))
        pages = c7 if len(c7) <= 20 and " " not in c7 else ""
    keywords: list[str] = []
    if kw := _all(raw, ("KW",)):
        # One string, tested and split in C: each value's lines are keywords (EndNote),
        # a ";" anywhere means "; "-separated lists, "*" may mark major headings (Ovid).
        joined = "\n".join(kw)
        if plain and ";" not in joined and "*" not in joined:
            keywords = unique(kw)  # no line break either: one keyword a value
        else:
            keywords = clean_list(joined.split("\n"), split=";" if ";" in joined else None)
            if "*" in joined:
                keywords = clean_list([k.replace("*", "") for k in keywords])
    urls = _all(raw, ("UR", "L2"))
    authors = _all(raw, ("AU", "A1"))
    journal = _first(raw, journal_tags)
    ab = clean_abstract(ab)
    if plain:
        authors = unique(authors)
    else:
        ti, authors = clean_text(ti), clean_list(authors)
        journal, vl, is_, la = clean_text(journal), clean_text(vl), clean_text(is_), clean_text(la)
    # Positional, in the fields' order: 16 keywords took a microsecond a record to match.
    rec = ImportedRecord(
        ti,  # title
        ab,  # abstract
        authors,
        clean_year(py),  # year
        journal,
        vl,  # volume
        is_,  # issue
        pages,
        doi,
        clean_pmid(pmid) if pmid else "",
        clean_url(urls) if urls else "",
        keywords,
        ty,  # type
        la,  # language
        raw,  # str or list of str by construction (iter_raw): JSON-safe as is
        line,
    )
    return finish(rec)


def iter_records(text: str, warnings: list[str]):
    """Records one at a time, so memory holds one record."""
    found = False
    held = None  # one record behind iter_raw: tags after its ER may still join it
    for line, raw in iter_raw(text, warnings):
        found = True
        if held is not None:
            yield to_record(held[1], held[0]) if "TY" in held[1] else ovid_record(held[1], held[0])
        held = (line, raw)
    if held is not None:
        yield to_record(held[1], held[0]) if "TY" in held[1] else ovid_record(held[1], held[0])
    if not found:
        raise ImportFormatError("no RIS record found (no line starting with 'TY  - ')", line=1)


# --- Ovid tagged ----------------------------------------------------------------------------
# Ovid's "Citavi" and "EndNote" direct exports (.ovd, .cgi, .txt): RIS-like lines with Ovid's
# own field names (IS is the ISSN, not the issue; UI the accession number, a PMID in MEDLINE),
# and the source as one string: "Forest Ecology & Management. 201(2-3):327-334, Nov 15, 2004."

_OVID_ROLE = re.compile(r"\s*\[[^\]]*\]?\s*$")  # "Werner, S. M. [Author, Reprint Author]"
_OVID_TITLE_LABEL = re.compile(r"\s*\[(?:Article|Report|Miscellaneous|References)\]\s*$")
_SO_JOURNAL = re.compile(r"^(.+?)\.\s+(?=\d|Conference|Vol\b|vol\.|\()")
_SO_VOL_ISSUE = re.compile(r"(?:^|[.;]\s*)(\d+)\s*\(([^)]+)\)")
_SO_VOL = re.compile(r"(?:^|[.;]\s*)(\d+)\s*:")
_SO_PAGES = re.compile(r"[\d)]\s*:\s*([A-Za-z]?\d+(?:\s*-\s*[A-Za-z]?\d+)?)(?=[,;.\s]|$)")
_SO_PP = re.compile(
    r"\(pp\.?\s*([A-Za-z]?\d+(?:\s*-\s*[A-Za-z]?\d+)?)\)"
)  # Embase: "5(4) (pp 221-223)"


def ovid_record(raw: dict, line: int | None) -> ImportedRecord:
    source = clean_text(_first(raw, ("SO",)))
    db = clean_text(_first(raw, ("DB",))).lower()
    people = _all(raw, ("FA",)) or _all(raw, ("AU", "A1"))
    authors = clean_list([_OVID_ROLE.sub("", a) for a in people])
    journal = clean_text(_first(raw, ("JN", "JT", "JF", "T2")))
    volume = clean_text(_first(raw, ("VO", "VI", "VL")))
    issue = clean_text(_first(raw, ("IP",)))
    pages = clean_pages(_first(raw, ("PG",)))
    tail = source
    if source and not journal:
        m = _SO_JOURNAL.match(source)
        journal = m.group(1) if m else source.split(". ", 1)[0].rstrip(".")
    if journal and source.startswith(journal):
        tail = source[len(journal) :]
    if tail and not volume:
        m = _SO_VOL_ISSUE.search(tail)
        if m:
            volume, issue = m.group(1), issue or m.group(2)
        elif m := _SO_VOL.search(tail):
            volume = m.group(1)
    if tail and not pages and (m := _SO_PAGES.search(tail) or _SO_PP.search(tail)):
        pages = clean_pages(m.group(1))
    ui = clean_text(_first(raw, ("UI", "AN")))
    # Ovid's KW is one "; "-separated value, wrapped over lines (unlike EndNote's RIS, whose
    # KW continuation lines are keywords): a line break there is a space.
    kw = [k.replace("\n", " ") for k in _all(raw, ("KW",))]
    keywords = clean_list(kw, split=";") + clean_list(
        [k.replace("*", "") for k in _all(raw, ("MH",))]
    )
    rec = ImportedRecord(
        title=_OVID_TITLE_LABEL.sub("", clean_text(_first(raw, ("TI", "T1")))),
        abstract=clean_abstract(_first(raw, ("AB",))),
        authors=authors,
        year=clean_year(_first(raw, ("YR", "PY", "DP"))) or clean_year(source),
        journal=journal,
        volume=volume,
        issue=issue,
        pages=pages,
        doi=clean_doi(_first(raw, ("DO", "DI"))),
        pmid=ui if ui.isdigit() and ("medline" in db or "pubmed" in db) else "",
        url=clean_url(_all(raw, ("XL", "UR", "JL"))),
        keywords=list(dict.fromkeys(keywords)),
        type=clean_text(_first(raw, ("PT", "ST"))),
        language=clean_text(_first(raw, ("LG", "LA"))),
        raw=raw,
        line=line,
    )
    return finish(rec)


def parse(text: str) -> ParseResult:
    warnings: list[str] = []
    records = list(iter_records(text, warnings))
    return ParseResult("ris", records, warnings)
