"""Duplicate detection for bibliographic records (no Django).

    items = [DedupItem(id=..., title=..., authors=[...], year=..., ...), ...]
    pairs = find_duplicates(items)            # within one set
    pairs = find_duplicates(new, existing=old) # new against new and against the library
    groups = clusters(pairs, threshold=0.97)

Steps: (1) exact match on normalised DOI or PMID, checked against the title so a DOI pasted on
the wrong record cannot merge two papers; (2) blocking on several cheap keys (title prefix,
title suffix, first-author surname + year, a sorted "rare words" key) so that only records
sharing a block are compared and cost grows near-linearly; (3) rapidfuzz scoring on title, year,
authors, journal, volume and pages, with vetoes. The blocked pairs are built with numpy, and
those certain to fail the first title test are dropped in bulk (rapidfuzz's C++ loop) before
Python scores the rest, a few per cent of them (tests/studies/test_dedup_candidates.py checks
that nothing else is dropped). Before scoring, what databases add to a record is set aside:
MEDLINE's appended "[Erratum appears in …]" notes and bracketed translations,
DARE's "(Provisional abstract)", Embase's "Conference: …" after a journal name, EndNote record
numbers in the issue field, supplement numbers in the pages (see bench/dedup.py and
BENCHMARKS.md for the labelled sets these rules were checked on).

Conservative by design: a false merge loses evidence, a missed duplicate costs a reviewer a
click. Hence the vetoes: a conference paper and its journal version are different records;
different volumes, first pages, or years more than one apart mean different records; different
DOIs need near-identical everything else; an erratum, correction or reply is not merged with the
paper it is about (save a reply inside a record that prints letter and reply together). The
exceptions follow the labelled sets where their labels agree and several fields corroborate:
a single-page record of a paper in its volume, one abstract in two journals' supplements, a
paper printed again in the next volume, an online-first record (BENCHMARKS.md counts them).
"""

from __future__ import annotations

import gc
import re
import unicodedata
from collections import defaultdict
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain
from operator import attrgetter
from urllib.parse import unquote

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Postfix, Prefix

AUTO_MERGE = 0.97  # default; the review's own threshold is passed in by the service
CANDIDATE = 0.80  # below this a pair is not even shown to the reviewer
MAX_BLOCK = 60  # larger blocks are too generic to be worth comparing pairwise


@dataclass
class DedupItem:
    id: Hashable
    title: str = ""
    authors: list[str] = field(default_factory=list)
    year: int | None = None
    journal: str = ""
    volume: str = ""
    issue: str = ""
    pages: str = ""
    doi: str = ""
    pmid: str = ""
    type: str = ""
    # fold(title), when the caller has computed it already (the import stores it as the
    # record's title key): saves folding every title twice.
    folded_title: str | None = None


@dataclass
class Pair:
    a: Hashable
    b: Hashable
    score: float
    reason: str


# --- normalisation ---------------------------------------------------------------------------

_NON_ALNUM = re.compile(r"[^\w]+")
_BRACKETED = re.compile(r"\[([^\]]{8,})\]")
_ANY_BRACKETS = re.compile(r"\[[^\]]*\]")  # "[careers]", "[Editorial]", "[Review]"
# Notices about another paper: never the same record as the paper they are about.
# (_maybe_notice below lists words that every match holds: keep the two in step.)
_NOTICE = re.compile(
    r"^(?:erratum|errata|corrigendum|corrigenda|correction|retraction|retracted|expression of "
    r"concern|withdrawn|comment|commentary|reply|response|author s reply|authors reply|"
    r"in reply|letter to the editor)\b|\b(?:erratum|corrigendum|retraction notice|"
    r"author s reply|authors reply)\b|\breply$"
)
# How citation indexes title a correction: "Title (vol 142, pg 310, 2003)" (Web of Science),
# "Title (Journal (2009) 360 (542-544))" (Embase). Matched on the raw title.
_ERRATUM_REF = re.compile(
    r"\(vol\.? \w+,? pg\.? \w+,? (?:19|20)\d\d\)\s*$|\([^()]+\((?:19|20)\d\d\)[^()]*\([^()]*\)\)\s*$",
    re.I,
)
_NOTICE_PREFIX = re.compile(
    r"^(?:erratum|errata|corrigendum|corrigenda|correction|retraction|expression of concern)"
    r"(?: (?:to|for|on|of|in|notice))?\s+"
)
# Notes that MEDLINE (Ovid) appends to a title: "….[Erratum appears in J Pediatr. 2003 Jun…",
# "[Comment in: …]", often cut off by the export: they point to other records and say nothing
# about this one. "[Erratum]" or "[Comment on: …]" (this record IS a notice) are kept. So is
# a "[abstract" tag the export cut before its closing bracket (a closed one is a bracket variant).
_APPENDED_NOTE = re.compile(
    r"\s*\[(?:(?:erratum appears|erratum|comment|retraction|retracted|update|updated|"
    r"corrected and republished|summary for patients|republished|expression of concern) in\b|"
    r"note:|abstract(?![^\]]*\])).*$",
    re.I | re.S,
)
# Annotations databases add to a title: DARE's "(Provisional abstract)", Embase's "(multiple
# letters)", old MEDLINE's "(author's transl)", and "LA: Chi" language codes after a title.
_ANNOTATION = re.compile(
    r"\s*\((?:provisional abstract|structured abstract|abstract|multiple letters|"
    r"author'?s transl|see comments?|letter|editorial|review)\)|\s+LA:\s*\w+\s*$",
    re.I,
)


def _maybe_notice(title: str) -> bool:
    """False when _NOTICE cannot match: every match holds one of these words. A few substring
    tests cost a fifth of the regex, which scans the whole title for its middle alternatives."""
    return (
        "errat" in title or "corrig" in title or "correction" in title or "retract" in title
        or "comment" in title or "reply" in title or "response" in title or "withdrawn" in title
        or "expression of concern" in title or "letter to the editor" in title
    )  # fmt: skip


_DIGITS = re.compile(r"\d+")
_NAME_SPLIT = re.compile(r"[\s,.;]+")
_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "and",
        "in",
        "on",
        "for",
        "to",
        "with",
        "by",
        "from",
        "at",
        "as",
        "is",
        "are",
        "its",
        "their",
        "or",
        "vs",
        "versus",
        "der",
        "die",
        "das",
        "und",
        "im",
        "in",
        "zur",
        "zum",
        "des",
        "la",
        "le",
        "les",
        "et",
        "de",
        "du",
        "en",
        "el",
        "los",
        "las",
        "y",
    ]
)
# Function words of the languages reviews meet most after English: a title with them and one
# without, in the same journal, volume and pages by the same authors, is a translated title.
_FOREIGN = frozenset(
    "der das und zur zum des fur einer les une pour dans sur avec aux los las del para una por "  # noqa: SIM905
    "della degli delle nella het een voor".split()
)
_CONF = re.compile(r"conference|proceeding|symposium|workshop|congress|\bconf\b|meeting", re.I)
_CONF_TYPES = {"inproceedings", "conference", "conf", "cpaper", "proceedings", "conference paper",
               "conference proceeding", "conference review", "proceedings paper", "abstr"}  # fmt: skip
_JOURNAL_TYPES = {"article", "jour", "journal article", "ejour", "review", "article in press"}


def fold(text: str) -> str:
    """Lower-case, strip diacritics and punctuation, collapse spaces."""
    if not text:
        return ""
    if text.isascii():
        # Most records. In ASCII, \w is [A-Za-z0-9_] and "_" separates too: one byte table
        # lowercases letters and blanks everything else, in C (the regex took 3 µs a title).
        if "&" in text:
            text = text.replace("&", " and ")
        return " ".join(text.encode("ascii").translate(_FOLD_ASCII).decode("ascii").split())
    text = _COMBINING.sub("", unicodedata.normalize("NFKD", text))
    text = text.replace("ß", "ss").replace("æ", "ae").replace("ø", "o").replace("Ø", "o")
    text = text.replace("Æ", "ae").replace("ł", "l").replace("Ł", "l").replace("đ", "d")
    text = text.lower().replace("&", " and ").replace("_", " ")
    return " ".join(_NON_ALNUM.sub(" ", text).split())


_FOLD_ASCII = bytes(
    c + 32 if 65 <= c <= 90 else c if 48 <= c <= 57 or 97 <= c <= 122 else 32 for c in range(256)
)
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def norm_doi(doi: str) -> str:
    doi = (doi or "").strip().lower()
    if "%" in doi:
        doi = unquote(doi)
    if doi[:3] == "10.":  # most DOIs: none of the prefixes below can start them
        return doi
    for prefix in ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/",
                   "http://dx.doi.org/", "doi:", "doi "):  # fmt: skip
        if doi.startswith(prefix):
            doi = doi[len(prefix) :].strip()
    return doi if doi.startswith("10.") else ""


def norm_pmid(pmid: str) -> str:
    pmid = (pmid or "").strip()
    return pmid.lstrip("0") if pmid.isdigit() else ""


def clean_title(title: str) -> str:
    """The title without notes and annotations added by the database it came from."""
    if "[" in title:
        title = _APPENDED_NOTE.sub("", title)
    if "(" in title or "LA:" in title:
        title = _ANNOTATION.sub(" ", title)
    return title


def title_variants(title: str, folded: str | None = None) -> list[str]:
    """The folded title (first: the one used as "the" title), plus the bracketed original of a
    translated title ("English title [Original title]") and the title without it. Database
    notes ("[Erratum appears in …]", "(Provisional abstract)") are dropped first. `folded` is
    fold(title) when the caller has it."""
    title = title or ""
    cleaned = clean_title(title) if ("[" in title or "(" in title or "LA:" in title) else title
    if cleaned != title:
        out = [fold(cleaned)]
        title = cleaned
    else:
        out = [fold(title) if folded is None else folded]
    if "[" in title:
        m = _BRACKETED.search(title)
        if m:
            out.append(fold(m.group(1)))
        out.append(fold(_ANY_BRACKETS.sub(" ", title)))
    if len(out) == 1:  # most titles
        return out if out[0] else []
    return [t for t in dict.fromkeys(out) if t]


def notice_variants(title: str, folded: str) -> list[str]:
    """Titles of a notice (erratum, correction) without the words that make it one, so that two
    databases' records of the same notice can still be matched with each other."""
    out = []
    bare = _ERRATUM_REF.sub("", title)
    if bare != title:
        out.append(fold(bare))
    stripped = _NOTICE_PREFIX.sub("", fold(bare) if bare != title else folded)
    if stripped:
        out.append(stripped)
    return out


def author_tokens(authors: list[str], limit: int = 6) -> frozenset[str]:
    """Name tokens of the first authors, initials dropped: robust to "Smith, J." vs
    "John Smith" vs swapped given/family names."""
    return frozenset(chain.from_iterable(map(_name_tokens, authors[:limit])))


# Names, journals and types repeat across a library (and a duplicate repeats them all):
# caching their normalisation saves most of the folding in a large import.
@lru_cache(maxsize=1 << 16)
def _name_tokens(name: str) -> tuple[str, ...]:
    out = []
    for raw in _NAME_SPLIT.split(name):
        if not raw or (raw.isupper() and len(raw) <= 3):  # "DK" in "Allen DK": initials
            continue
        # fold() of a plain ASCII word is its lower case (most name parts): skip its regex.
        tok = raw.lower() if raw.isalpha() and raw.isascii() else fold(raw).replace(" ", "")
        if len(tok) > 1:
            out.append(tok)
    return tuple(out)


fold_cached = lru_cache(maxsize=1 << 14)(fold)


def first_surname(authors: list[str]) -> str:
    return _surname(authors[0]) if authors else ""


@lru_cache(maxsize=1 << 16)
def _surname(name: str) -> str:
    if "," in name:
        head = name.split(",", 1)[0]
        if head.isalpha() and head.isascii():  # fold() of one ASCII word: its lower case
            return head.lower()
        return fold(head).replace(" ", "")
    parts = fold(name).split()
    if not parts:
        return ""
    # "Smith JA" (MEDLINE short form) → surname first; "John Smith" → surname last
    if len(parts) > 1 and len(parts[-1]) <= 3 and name.split()[-1].isupper():
        return parts[0]
    return parts[-1]


def page_range(pages: str) -> tuple[str, str]:
    """(first, last) page with abbreviated ends expanded: "123-9" → ("123", "129")."""
    nums = _DIGITS.findall(pages or "")
    if not nums:
        return "", ""
    first = nums[0].lstrip("0")
    if len(nums) < 2:
        return first, first
    last = nums[1].lstrip("0")
    if len(last) < len(first) and first:
        last = first[: len(first) - len(last)] + last
    return first, last


def first_page(pages: str) -> str:
    m = _DIGITS.search(pages or "")
    return m.group(0).lstrip("0") if m else ""


def norm_volume(volume: str) -> str:
    m = _DIGITS.search(volume or "")
    value = m.group(0).lstrip("0") if m else ""
    # A year in the volume field ("2016") is an export quirk, not a volume.
    return "" if len(value) == 4 and value[:2] in ("19", "20") else value


_JOURNAL_NOISE = re.compile(r"\[electronic resource\]|\.?\s*conference\s*:.*$", re.I | re.S)


@lru_cache(maxsize=1 << 14)
def journal_key(journal: str) -> str:
    """The journal name to compare: without Embase's appended conference ("Pediatric
    Nephrology.Conference: 44th Annual …"), MEDLINE's "[Electronic Resource]" or a leading
    "The"."""
    if not journal:
        return ""
    if "[" in journal or ":" in journal:
        journal = _JOURNAL_NOISE.sub("", journal)
    folded = fold(journal)
    return folded[4:] if folded.startswith("the ") else folded


def venue_kind(item: DedupItem) -> str:
    """ "conference", "journal" or "other" (book chapters, reports: never vetoed on)."""
    return _venue_kind(item.type, item.journal)


@lru_cache(maxsize=1 << 14)
def _venue_kind(type_: str, journal: str) -> str:
    t = fold(type_)
    if t in _CONF_TYPES or "conference" in t or "proceeding" in t:
        return "conference"
    if t in _JOURNAL_TYPES:
        return "journal"
    if journal and _CONF.search(journal):
        return "conference"
    return "journal" if (not t and journal) else "other"


@dataclass(slots=True)
class _Prep:
    item: DedupItem
    titles: list[str]
    title: str
    doi: str
    pmid: str
    surname: str
    page: str
    last_page: str
    notice: bool
    # Read only once a pair has passed score_pair's first test: find_duplicates leaves them to
    # _complete for the few records of such pairs (the author tokens are most of _prepare).
    authors: frozenset[str] = frozenset()
    journal: str = ""
    volume: str = ""
    issue: str = ""
    venue: str = ""
    foreign: int = 0
    complete: bool = False


def _foreign_words(title: str) -> int:
    words = title.split()
    return 0 if _FOREIGN.isdisjoint(words) else sum(1 for w in words if w in _FOREIGN)


_SUPPLEMENT = re.compile(r"suppl\w*\.?\s*[-:]?\s*\d*\s*:?", re.I)


def _prepare(item: DedupItem, *, complete: bool = True) -> _Prep:
    raw = item.title or ""
    titles = title_variants(raw, item.folded_title)
    notice = bool(titles) and bool(
        (_maybe_notice(titles[0]) and _NOTICE.search(titles[0]))
        or (raw[-1:] == ")" and _ERRATUM_REF.search(raw))
    )
    if notice:
        titles += [t for t in notice_variants(raw, titles[0]) if t not in titles]
    pages = item.pages or ""
    if pages and ("uppl" in pages or "UPPL" in pages):
        pages = _SUPPLEMENT.sub(" ", pages)  # "Suppl 3:S417-29": 3 numbers the supplement
    page, last_page = page_range(pages)
    if page and last_page and int(last_page) < int(page):
        page = ""  # "2297-2108" for 2097-2108: a typo in the first page; trust the last only
    p = _Prep(
        item=item,
        titles=titles,
        title=titles[0] if titles else "",
        doi=norm_doi(item.doi),
        pmid=norm_pmid(item.pmid),
        surname=first_surname(item.authors),
        page=page,
        last_page=last_page,
        notice=notice,
    )
    return _complete(p) if complete else p


def _complete(p: _Prep) -> _Prep:
    """Fill in the fields score_pair reads after its first test (once)."""
    if p.complete:
        return p
    item = p.item
    p.authors = author_tokens(item.authors)
    p.journal = journal_key(item.journal)
    p.volume = norm_volume(item.volume)
    p.issue = norm_volume(item.issue)
    p.venue = venue_kind(item)
    # MEDLINE puts the English translation of a non-English title in brackets
    p.foreign = _foreign_words(p.title) + (2 if (item.title or "")[:1] == "[" else 0)
    p.complete = True
    return p


# --- scoring ---------------------------------------------------------------------------------


def _title_sim(a: _Prep, b: _Prep) -> tuple[float, bool]:
    """(similarity, whether one title is the other minus its subtitle)."""
    best, prefix = 0.0, False
    for ta in a.titles:
        for tb in b.titles:
            if ta == tb:
                return 1.0, False
            best = max(best, fuzz.ratio(ta, tb, score_cutoff=80) / 100)
            short, long_ = (ta, tb) if len(ta) < len(tb) else (tb, ta)
            if (
                len(short) >= 15
                and " " in short
                and (
                    long_.startswith(short + " ")
                    # a section heading before the title ("MEDICAL PROGRESS Atypical …")
                    or long_.endswith(" " + short)
                )
            ):
                prefix = True
    return best, prefix


def _glued_prefix(a: _Prep, b: _Prep) -> bool:
    """One title is the start of the other once spaces are ignored: the subtitle glued on
    ("… inflammatory statesthe examples of …") or hyphens written differently ("sub-group",
    "subgroup"). Only asked of pairs already at the same place (it builds new strings)."""
    for ta in a.titles:
        for tb in b.titles:
            short, long_ = (ta, tb) if len(ta) < len(tb) else (tb, ta)
            if len(short) >= 40 and long_.replace(" ", "").startswith(short.replace(" ", "")):
                return True
    return False


def _journal_sim(a: str, b: str) -> float | None:
    if not a or not b:
        return None
    if a == b:
        return 1.0
    if _acronym_of(a, b) or _acronym_of(b, a):
        return 0.95  # "ICIS : Transforming Society…" / "International Conference on Information…"
    # abbreviations ("J Health Serv Res Policy") vs full names
    wa = [w for w in a.split() if w not in _STOP]
    wb = [w for w in b.split() if w not in _STOP]
    if wa and wb and _abbreviates(wa, wb):
        return 0.95
    return fuzz.token_set_ratio(a, b) / 100


def _acronym_of(short: str, full: str) -> bool:
    """Whether `short` starts with the initials of `full`'s words (articles and prepositions
    left out) written as one word of three letters or more."""
    head = short.split(" ", 1)[0]
    if short[0] != full[0] or not 3 <= len(head) <= 8 or len(full) <= len(head) * 2:
        return False
    initials = "".join(w[0] for w in full.split() if w not in _STOP)
    return initials == head


def _same_first_author(a: _Prep, b: _Prep) -> bool:
    """Whether the first authors share a surname: "Le Quintrec, M." / "Quintrec, M." /
    "Le, Quintrec M." are one person; particles ("le", "de", "van") do not count."""
    if a.surname == b.surname:
        return bool(a.surname)
    if not (a.item.authors and b.item.authors):
        return False
    mine = {t for t in _name_tokens(a.item.authors[0]) if len(t) > 3}
    return bool(mine.intersection(_name_tokens(b.item.authors[0])))


def _holds_notice(a: _Prep, b: _Prep) -> bool:
    """Embase prints a letter and the authors' reply as one record ("… (multiple letters)"):
    the reply's page lies in that record's page range, in the same journal volume and year,
    and every author of the reply is among that record's authors. Only then is a reply the
    same record as a non-notice; comments, errata and replies printed on their own stay apart."""
    notice, other = (a, b) if a.notice else (b, a)
    if not (
        notice.page and other.page and other.last_page and notice.volume
        and notice.volume == other.volume and notice.item.year == other.item.year
        and (_journal_sim(notice.journal, other.journal) or 0) >= 0.9
        and int(other.page) <= int(notice.page) <= int(notice.last_page) <= int(other.last_page)
    ):  # fmt: skip
        return False
    mine = {_surname(n) for n in notice.item.authors} - {""}
    theirs = {_surname(n) for n in other.item.authors}
    return bool(mine) and mine <= theirs and len(theirs) > len(mine)


def _notice_follows(a: _Prep, b: _Prep) -> bool:
    """A correction printed on the page right after its article, quoting its title, by the
    same authors, in the same volume and year: the publisher appended it to the article, and
    the databases index the one item twice. The labelled sets mark this case a duplicate,
    while errata printed elsewhere (later in the volume, in the next volume) are apart."""
    notice, other = (a, b) if a.notice else (b, a)
    if not (
        notice.page and other.last_page and notice.volume
        and notice.volume == other.volume and notice.item.year == other.item.year
        and (_journal_sim(notice.journal, other.journal) or 0) >= 0.9
        and int(notice.page) == int(other.last_page) + 1
        and int(notice.last_page or notice.page) <= int(notice.page) + 1
    ):  # fmt: skip
        return False
    mine = {_surname(n) for n in notice.item.authors} - {""}
    return bool(mine) and mine == {_surname(n) for n in other.item.authors} - {""}


def _abbreviates(wa: list[str], wb: list[str]) -> bool:
    """Whether two word lists name the same journal word by word, each word a prefix of the
    other's ("J Thromb Haemost" / "Journal of Thrombosis and Haemostasis"). A single letter
    with no counterpart is an elided article ("Annales Francaises d'Anesthesie")."""
    i = j = 0
    while i < len(wa) and j < len(wb):
        x, y = wa[i], wb[j]
        if x.startswith(y) or y.startswith(x):
            i += 1
            j += 1
        elif len(x) == 1:
            i += 1
        elif len(y) == 1:
            j += 1
        else:
            return False
    return all(len(w) == 1 for w in wa[i:]) and all(len(w) == 1 for w in wb[j:])


def _author_sim(a: _Prep, b: _Prep) -> float | None:
    """Share of the smaller set of name tokens found in the other (typos tolerated)."""
    if not a.authors or not b.authors:
        return None
    small, big = (a, b) if len(a.authors) <= len(b.authors) else (b, a)
    hits = 0
    missed = []
    for tok in small.authors:
        if tok in big.authors or (
            len(tok) > 4 and any(fuzz.ratio(tok, o, score_cutoff=85) for o in big.authors)
        ):
            hits += 1
        else:
            missed.append(tok)
    if missed:
        hits += _compound_hits(missed, small.item.authors, big.item.authors)
    return hits / len(small.authors)


def _compound_hits(missed: list[str], mine: list[str], theirs: list[str]) -> int:
    """How many of `missed` belong to a name that is one of `theirs` split elsewhere: databases
    cut compound surnames at different places ("Garbrecht-Buettner, S" / "Garbrecht, Buettner
    S", "van Loenen-Frosch, F" / "van-Loenen, Frosch F"), so the name's parts differ while the
    name, read without spaces, hyphens and commas, is the same."""
    limit = 6  # the names author_tokens reads
    compacts = {"".join(_name_tokens(n)) for n in theirs[:limit]}
    covered: set[str] = set()
    for name in mine[:limit]:
        parts = _name_tokens(name)
        if "".join(parts) in compacts:
            covered.update(parts)
    return sum(1 for tok in missed if tok in covered)


def _numbers_differ(a: _Prep, b: _Prep) -> bool:
    """Whether both titles carry numbers ("part 2", "phase 3", "CD46") and they differ. Read
    from each title's last variant: the one without bracketed notes ("[45 refs]") if it had
    any. Computed here, for the few pairs that get this far, not for every record."""
    na = _DIGITS.findall(a.titles[-1]) if a.titles else None
    nb = _DIGITS.findall(b.titles[-1]) if na and b.titles else None
    return bool(na and nb) and {n.lstrip("0") for n in na} != {n.lstrip("0") for n in nb}


def score_pair(a: _Prep, b: _Prep) -> tuple[float, str]:
    """Similarity in [0, 1] and a short reason a reviewer can read."""
    t, prefix = _title_sim(a, b)
    same_doi = bool(a.doi and a.doi == b.doi)
    same_pmid = bool(a.pmid and a.pmid == b.pmid)
    if t < 0.85 and not (prefix or same_doi or same_pmid or (a.page and a.page == b.page)):
        return 0.0, "different titles"  # cheap exit for most blocked pairs
    if {a.venue, b.venue} == {"conference", "journal"} and not same_doi:
        return 0.0, "conference paper vs journal article"
    if a.notice != b.notice and not same_doi:
        if t >= 0.9 and _holds_notice(a, b):
            return 0.97, "letter and reply printed as one record, and the reply alone"
        if t >= 0.9 and _notice_follows(a, b):
            return 0.97, "correction printed on the page after its article"
        return 0.0, "erratum, comment or reply vs the paper it is about"
    au = _author_sim(a, b)
    ya, yb = a.item.year, b.item.year
    year_diff = abs(ya - yb) if ya and yb else None
    vol_clash = bool(a.volume and b.volume and a.volume != b.volume)
    issue_clash = bool(a.issue and b.issue and a.issue != b.issue)
    page_clash = bool(a.page and b.page and a.page != b.page)
    js = _journal_sim(a.journal, b.journal)
    # Same place in the same journal: volume, first page, year and authors all agree.
    same_place = bool(
        a.volume and a.page and not vol_clash and not page_clash and b.volume and b.page
        and year_diff == 0 and (js or 0) >= 0.9 and (au or 0) >= 0.5
    )  # fmt: skip
    same_pages = bool(
        a.page and a.page == b.page and year_diff == 0 and (js or 0) >= 0.9 and (au or 0) >= 0.5
    )
    if not prefix and t < 1.0 and (same_place or same_pages):
        prefix = _glued_prefix(a, b)
    if same_doi or same_pmid:
        key = "DOI" if same_doi else "PMID"
        if t >= 0.9 or ((t >= 0.6 or prefix or same_place) and (au or 0) >= 0.5):
            return 1.0, f"same {key}"
        # A DOI shared by different titles: a book DOI on chapters, or an export error.
        return (0.85 if t >= 0.5 or prefix else 0.0), f"same {key}, different titles"
    if (
        (page_clash or issue_clash) and t >= 0.98 and len(a.title) >= 50 and year_diff == 0
        and (au or 0) >= 0.6 and a.volume and a.volume == b.volume and (js or 0) >= 0.9
        and not (a.doi and b.doi)
        and a.page and b.page and (a.page == a.last_page) != (b.page == b.last_page)
        and _same_first_author(a, b) and not _numbers_differ(a, b)
    ):  # fmt: skip
        # The same long title by the same authors in the same volume of the same journal, one
        # record a single page: the meeting abstract printed earlier in the volume, an erratum
        # that repeats the title, or a record that took its erratum's issue and page ("240-240",
        # issue 25, for 240-245 in issue 1). The labelled sets count these as one record; two
        # distinct papers cannot share all of it.
        return 0.97, "same long title, authors, journal and volume; one record a single page"
    if (
        (vol_clash or page_clash or issue_clash) and t == 1.0 and len(a.title) >= 50
        and year_diff == 0 and (au or 0) >= 0.8 and len(a.authors) >= 2 and len(b.authors) >= 2
        and not (a.doi and b.doi) and _short_item(a) and _short_item(b)
        and _same_first_author(a, b)
    ):  # fmt: skip
        # The same abstract printed in two journals' meeting supplements the same year: one or
        # two pages each (volume, issue and pages are then the other journal's). Full papers of
        # one title in two journals stay apart.
        return 0.97, "same long title and authors the same year; two abstracts"
    if (
        bool(a.volume) != bool(b.volume) and (b.page if a.volume else a.page) == "1"
        and t == 1.0 and len(a.title) >= 50 and (au or 0) >= 0.8 and year_diff is not None
        and year_diff <= 1 and (js or 0) >= 0.9 and not (a.doi and b.doi)
    ):  # fmt: skip
        # An online-first record (paged from 1, no volume yet) and the issue's record of the
        # same long title, authors and journal: its pages and issue number are not the issue's.
        if year_diff == 0:
            return 0.97, "online-first record and the issue's record"
        # A year apart, shown but not merged: the labelled sets hold one such pair, labelled
        # apart (2012 online, 2013 in the issue); the pair labelled a duplicate has one year.
        return 0.95, "online-first record and the issue's record, a year apart"
    if issue_clash and not (a.doi and b.doi and a.doi != b.doi) and (
        (same_place and a.last_page == b.last_page
         and (t >= 0.85 or max(len(a.issue), len(b.issue)) >= 3))
        or (
            max(len(a.issue), len(b.issue)) >= 3 and t == 1.0 and len(a.title) >= 30
            and (au or 0) >= 0.8 and year_diff == 0
            and ((a.volume and a.volume == b.volume)
                 or (a.page and a.page == b.page and a.last_page == b.last_page)
                 or (len(a.title) >= 50 and (js or 0) >= 0.9
                     and not ((a.volume or a.page) and (b.volume or b.page))))
        )
    ):  # fmt: skip
        # Same volume and page range with a similar title, or an "issue" of three digits or
        # more on a record that otherwise agrees (same volume, same page range, or the same
        # long title in the same journal with one record lacking both): not an issue (EndNote
        # exports put their record number there) or a database's error. Small issue numbers still part recurring columns
        # ("Editor's Comments" in issues 1-4 of one volume) and different papers at the same
        # pages of journals that paginate each issue from 1.
        issue_clash = False
    if issue_clash:
        return 0.0, "different issues"
    if t < 0.85:
        if prefix and (same_place or same_pages):
            return 0.97, "title without its subtitle, same authors, journal, volume, pages"
        if prefix and (au or 0) >= 0.8 and year_diff == 0:
            return 0.9, "title without its subtitle"
        if (
            same_place and a.page != "1" and a.last_page == b.last_page and (au or 0) >= 0.8
            and (a.foreign > 0) != (b.foreign > 0)
        ):  # fmt: skip
            # A translated title: same authors, journal, year, volume and page range.
            return 0.97, "same authors, journal, volume and page range; title translated"
        if same_place:
            return 0.9, "same journal, volume, pages and authors; titles differ (translation?)"
        return 0.0, "different titles"
    if year_diff is not None and year_diff > 1:
        return 0.0, "years differ"
    if (
        vol_clash and page_clash and year_diff == 1 and t == 1.0 and len(a.title) >= 40
        and len(a.item.authors) == len(b.item.authors) >= 2 and au == 1.0
        and (js or 0) >= 0.9 and abs(int(a.volume) - int(b.volume)) == 1
        and a.last_page and b.last_page
        and int(a.last_page) - int(a.page) == int(b.last_page) - int(b.page) >= 4
        and not _numbers_differ(a, b)
    ):  # fmt: skip
        # The same paper printed again in the next volume (a publisher's reprint, with a DOI
        # of its own): same title, the same authors, journal and length. A correction or a
        # comment of the same title is shorter; a series carries numbers.
        return 0.97, "same title, authors, journal and length in consecutive volumes"
    if prefix and same_place and a.last_page == b.last_page and not (a.doi and b.doi):
        # One title is the other plus a subtitle or a database's note (erratum notices cut off
        # by the export), at the same page range of the same volume, year and journal.
        return 0.97, "title without its subtitle, same authors, journal, volume, page range"
    # Two different DOIs: different records unless everything else agrees.
    if (a.doi and b.doi) and (t < 0.98 or vol_clash or page_clash or (au is not None and au < 0.8)):
        return min(t, 0.84), "different DOIs"
    parts = [(t, 0.55)]
    if au is not None:
        parts.append((au, 0.15))
    if year_diff is not None:
        parts.append((1.0 if year_diff == 0 else 0.5, 0.10))
    if js is not None:
        parts.append((js, 0.10))
    if a.volume and b.volume:
        parts.append((0.0 if vol_clash else 1.0, 0.05))
    if a.page and b.page:
        parts.append((0.0 if page_clash else 1.0, 0.05))
    score = sum(v * w for v, w in parts) / sum(w for _, w in parts)
    reason = "similar title"
    # Little corroborating evidence: a short or generic title alone must not auto-merge.
    evidence = (
        (au is not None)
        + (year_diff is not None)
        + (js is not None)
        + bool(a.volume and b.volume)
        + bool(a.page and b.page)
    )
    if evidence < 2 or len(a.title) < 25 or (evidence < 3 and t < 0.98):
        # Only authors and year besides an inexact title (registry entries, reports): one word
        # apart ("adult" / "adolescent" patients) is another study by the same sponsor.
        score = min(score, 0.9)
        reason = "similar title, little other evidence"
    if _numbers_differ(a, b) and not (same_place and a.last_page == b.last_page):
        # "… (part 1)" / "… (part 2)", "… 2019" / "… 2020": near-identical titles, other papers.
        score = min(score, 0.9)
        reason = "similar title, different numbers in it"
    if vol_clash or page_clash:
        score = min(score, 0.85)
        reason = "similar title, different volume/pages"
    if au is not None and au < 0.34:
        score = min(score, 0.82)
        reason = "similar title, different authors"
    if year_diff == 1:
        score = min(score, 0.95)
    # The same long title by the same authors, with a positive match on where it appeared:
    # venue names vary too much between databases (translated, abbreviated, the proceedings
    # series instead of the conference) to hold such a pair below the merge threshold.
    if (
        t == 1.0
        and len(a.title) >= 30
        and (au or 0) >= 0.8
        and not (vol_clash or page_clash or issue_clash or (a.doi and b.doi))
    ):
        same_vol = bool(a.volume and a.volume == b.volume)
        same_page = bool(a.page and a.page == b.page)
        if year_diff == 0 and (same_vol or same_page):
            return max(round(score, 4), 0.98), "same title, authors, year and volume/pages"
        # A long title, its authors and year, in the same journal (or two names of one
        # conference: "AMCIS 2017 Proceedings"), one record lacking volume or pages.
        if (
            year_diff == 0
            and len(a.title) >= 50
            and ((js or 0) >= 0.9 or a.venue == b.venue == "conference")
        ):
            return max(round(score, 4), 0.97), "same long title, authors, year and venue"
        # Online-first and print years differ by one; so do conference records.
        if year_diff == 1 and len(a.title) >= 40 and ((same_vol and same_page) or (js or 0) >= 0.9):
            return max(round(score, 4), 0.97), "same title, authors and venue; years one apart"
    if (
        year_diff == 1 and t == 1.0 and (au or 0) >= 0.8 and a.volume and a.volume == b.volume
        and a.page and a.page == b.page and a.last_page == b.last_page and a.page != a.last_page
        and (js or 0) >= 0.9 and not (issue_clash or (a.doi and b.doi))
    ):  # fmt: skip
        # A short title, but the whole citation agrees: volume, page range (and issue), one
        # year apart ("Nephron" 2011 c37-c42 / "Nephron - Clinical Practice" 2010 37-42).
        return max(round(score, 4), 0.97), "same title, authors, volume and page range"
    if (
        year_diff == 1 and t >= 0.97 and len(a.title) >= 40 and (au or 0) >= 0.8
        and a.volume and a.volume == b.volume and (js or 0) >= 0.9
        and not (page_clash or issue_clash or (a.doi and b.doi) or _numbers_differ(a, b))
    ):  # fmt: skip
        # A typo in a long title ("eculizamab"), the same authors, journal and volume, the
        # meeting's year on one record and the supplement's on the other.
        return max(round(score, 4), 0.97), "near-identical title, same authors, journal, volume"
    if (
        prefix and t < 1.0 and year_diff == 0 and (au or 0) >= 0.8 and (js or 0) >= 0.9
        and min(len(a.title), len(b.title)) >= 40
        and not (vol_clash or page_clash or issue_clash or (a.doi and b.doi))
        and _DIGITS.findall(a.title) == _DIGITS.findall(b.title)
    ):  # fmt: skip
        # One long title is the other with words before or after it ("How did it ... Upwork's
        # CEO on how …"), same authors, journal and year, nothing in conflict. Not when the
        # added words carry a number ("Part 2: …": one part of a series).
        return max(round(score, 4), 0.97), "title within the other, same authors, journal, year"
    return round(score, 4), reason


def _short_item(p: _Prep) -> bool:
    """A record of one or two pages (a meeting abstract)."""
    return bool(p.page and p.last_page) and 0 <= int(p.last_page) - int(p.page) <= 1


# --- blocking --------------------------------------------------------------------------------


def _block_keys(p: _Prep) -> list[tuple]:
    """Blocking keys; DOI and PMID keys come first (_candidates tells them apart so)."""
    keys: list[tuple] = []
    if p.doi:
        keys.append(("doi", p.doi))
    if p.pmid:
        keys.append(("pmid", p.pmid))
    for title in p.titles:
        compact = title.replace(" ", "")
        if len(compact) >= 10:
            keys.append(("tp", compact[:24]))
            keys.append(("ts", compact[-24:]))
        words = [w for w in title.split() if len(w) > 3 and w not in _STOP]
        if len(words) >= 3:
            # Longest first, ties alphabetical: sort by word, then (stable) by length
            # descending, which is cheaper than a Python key function per word.
            words.sort()
            words.sort(key=len, reverse=True)
            keys.append(("tw", " ".join(sorted(words[:4]))))
    if p.surname and p.item.year:
        keys.append(("ay", p.surname, p.item.year))
    return keys


def find_duplicates(
    items: list[DedupItem],
    *,
    existing: list[DedupItem] | None = None,
    min_score: float = CANDIDATE,
) -> list[Pair]:
    """Pairs scoring at least `min_score`, among `items` and between `items` and `existing`
    (pairs inside `existing` are not reported: the library has been deduplicated already)."""
    with gc_paused():
        return _find_duplicates(items, existing or [], min_score)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cycle collector while building large acyclic structures: every few
    thousand allocations it would walk all the objects alive (hundreds of thousands of keys and
    block lists here), which doubled the time of a 100k-record dedup. Nothing built here forms
    reference cycles, so reference counting frees it all the same."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _find_duplicates(items: list[DedupItem], existing: list[DedupItem], min_score: float):
    preps = [_prepare(i, complete=False) for i in (*items, *existing)]
    n_new, n_all = len(items), len(preps)
    if n_all < 2:
        return []
    lo, hi = _candidates(preps, n_new)
    if min_score > 0.0:  # a dropped pair scores 0.0: only a min_score of 0 keeps it
        keep = _may_pass_cheap_exit(preps, lo, hi)
        lo, hi = lo[keep], hi[keep]
    for i in np.unique(np.concatenate([lo, hi])).tolist():
        _complete(preps[i])
    pairs: list[Pair] = []
    for i, j in zip(lo.tolist(), hi.tolist(), strict=True):
        a, b = preps[i], preps[j]
        score, reason = score_pair(a, b)
        if score >= min_score:
            pairs.append(Pair(a.item.id, b.item.id, score, reason))
    pairs.sort(key=lambda p: -p.score)
    return pairs


def _candidates(preps: list[_Prep], n_new: int) -> tuple[np.ndarray, np.ndarray]:
    """The pairs (lo, hi), lo < hi, of records sharing a block, each once, in the order a
    double loop over the blocks meets them first: blocks in the order their key first occurs
    (DOI and PMID blocks first, whatever their size; then the others of at most MAX_BLOCK
    records), members in record order. That order decides the order of equal scores in the
    result. Pairs of two `existing` records (index >= n_new) are left out.

    Blocks are keyed by the hash of the key, not the key: ints take a fraction of the memory of
    a million tuples of strings. A hash collision only puts two blocks together, so a few more
    pairs are scored; it cannot merge anything by itself. Exact (DOI/PMID) blocks are kept
    apart because they are never skipped for their size."""
    hashes: list[int] = []
    counts: list[int] = []
    for p in preps:
        before = len(hashes)
        hashes.extend(map(hash, _block_keys(p)))
        counts.append(len(hashes) - before)
    h = np.array(hashes, dtype=np.int64)
    del hashes
    owner = np.repeat(np.arange(len(preps), dtype=np.int64), counts)
    # _block_keys puts a record's DOI and PMID keys first
    n_exact = np.array([bool(p.doi) + bool(p.pmid) for p in preps], dtype=np.int64)
    first_key = np.cumsum(counts) - counts
    is_exact = np.arange(len(h)) - np.repeat(first_key, counts) < np.repeat(n_exact, counts)
    members_e, starts_e, sizes_e = _blocks(h[is_exact], owner[is_exact])
    members_f, starts_f, sizes_f = _blocks(h[~is_exact], owner[~is_exact])
    small = sizes_f <= MAX_BLOCK
    members = np.concatenate([members_e, members_f])
    starts = np.concatenate([starts_e, starts_f[small] + len(members_e)])
    sizes = np.concatenate([sizes_e, sizes_f[small]])
    many = sizes >= 2
    starts, sizes = starts[many], sizes[many]
    n_pairs = sizes * (sizes - 1) // 2
    offsets = np.cumsum(n_pairs) - n_pairs
    lo = np.empty(int(n_pairs.sum()), dtype=np.int64)
    hi = np.empty_like(lo)
    for size in np.unique(sizes).tolist():  # all blocks of one size at once
        sel = sizes == size
        grid = members[starts[sel][:, None] + np.arange(size)]
        x, y = np.triu_indices(size, 1)  # (0, 1), (0, 2) … (1, 2) …: the double loop's order
        at = (offsets[sel][:, None] + np.arange(len(x))).ravel()
        lo[at] = grid[:, x].ravel()
        hi[at] = grid[:, y].ravel()
    # Members are in record order, so lo <= hi; lo == hi: two keys of one record in one block.
    ok = (lo != hi) & (lo < n_new)
    lo, hi = lo[ok], hi[ok]
    n_all = len(preps)
    _, first = np.unique(lo * n_all + hi, return_index=True)  # first occurrences
    first.sort()
    return lo[first], hi[first]


def _blocks(h: np.ndarray, owner: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group records by key hash: (members grouped by block, each block's start and size),
    blocks in the order their key first occurs, each block's members in record order."""
    order = np.argsort(h, kind="stable")
    sorted_h = h[order]
    starts = np.flatnonzero(np.r_[True, sorted_h[1:] != sorted_h[:-1]]) if len(h) else order
    sizes = np.diff(np.r_[starts, len(h)])
    by_first = np.argsort(order[starts], kind="stable")  # a stable sort keeps the first
    return owner[order], starts[by_first], sizes[by_first]


# Looser than score_pair's 0.85 on fuzz.ratio / 100: a margin for floating point.
_RATIO_FLOOR = 84.0


def _may_pass_cheap_exit(preps: list[_Prep], lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """False for pairs certain to take score_pair's first exit (0.0, "different titles"):
    all title variants below 0.85 similarity, neither title the other with words added, no
    shared DOI, PMID or first page. Computed in bulk (rapidfuzz's C++ loops over the pairs)
    so that Python scores only the rest, a few per cent of the blocked pairs. It is looser than
    the exit, never stricter: "may be a prefix" only asks that the shorter title of at least 15
    characters start or end the other, and similarity has a margin."""
    n = len(preps)
    keep = np.zeros(len(lo), dtype=bool)
    for name in ("doi", "pmid", "page"):
        values = list(map(attrgetter(name), preps))
        code = np.fromiter(map(hash, values), dtype=np.int64, count=n)
        present = np.fromiter(map(bool, values), dtype=bool, count=n)
        # equal hashes of different strings only keep a pair for score_pair to reject
        keep |= present[lo] & (code[lo] == code[hi])
    rest = np.flatnonzero(~keep)
    if not len(rest):
        return keep
    # Every variant of one title against every variant of the other (_title_sim's max).
    n_titles = np.fromiter(map(len, map(attrgetter("titles"), preps)), dtype=np.int64, count=n)
    title_at = np.cumsum(n_titles) - n_titles
    variants = list(chain.from_iterable(map(attrgetter("titles"), preps)))
    lengths = np.fromiter(map(len, variants), dtype=np.int64, count=len(variants))
    # Hashes of the first and last 15 characters: a title that starts or ends another has them.
    heads = np.fromiter((hash(t[:15]) for t in variants), dtype=np.int64, count=len(variants))
    tails = np.fromiter((hash(t[-15:]) for t in variants), dtype=np.int64, count=len(variants))
    variants = np.array(variants or [""], dtype=object)
    a, b = lo[rest], hi[rest]
    per_pair = n_titles[a] * n_titles[b]
    pair = np.repeat(rest, per_pair)
    k = np.arange(int(per_pair.sum())) - np.repeat(np.cumsum(per_pair) - per_pair, per_pair)
    width = np.repeat(n_titles[b], per_pair)
    va = np.repeat(title_at[a], per_pair) + k // width
    vb = np.repeat(title_at[b], per_pair) + k % width
    la, lb = lengths[va], lengths[vb]
    shorter = np.minimum(la, lb)
    # fuzz.ratio is 100 * (1 - indel distance / (la + lb)) and the distance is >= |la - lb|.
    ratio_may = 100 * (la + lb - np.abs(la - lb)) >= _RATIO_FLOOR * (la + lb)
    maybe = np.zeros(len(va), dtype=bool)
    at = np.flatnonzero(ratio_may)
    ratio = process.cpdist(variants[va[at]], variants[vb[at]], scorer=fuzz.ratio, dtype=np.float64)
    maybe[at] = ratio >= _RATIO_FLOOR
    for ends, scorer in ((heads, Prefix.similarity), (tails, Postfix.similarity)):
        at = np.flatnonzero(~maybe & (shorter >= 15) & (ends[va] == ends[vb]))
        common = process.cpdist(variants[va[at]], variants[vb[at]], scorer=scorer)
        maybe[at] = common >= shorter[at]
    keep[pair[maybe]] = True
    return keep


def clusters(pairs: list[Pair], *, threshold: float = AUTO_MERGE) -> list[list[Hashable]]:
    """Groups of ids linked by pairs scoring at least `threshold` (union-find)."""
    parent: dict[Hashable, Hashable] = {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for p in pairs:
        if p.score >= threshold:
            ra, rb = find(p.a), find(p.b)
            if ra != rb:
                parent[rb] = ra
    groups: dict[Hashable, list] = defaultdict(list)
    for x in parent:
        groups[find(x)].append(x)
    return [g for g in groups.values() if len(g) > 1]


def completeness(values: dict) -> int:
    """How complete a record is: used to choose the survivor of a merge."""
    return sum(1 for v in values.values() if v not in (None, "", [], {}))
