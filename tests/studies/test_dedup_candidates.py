"""studies.dedup's bulk candidate generation and pre-filter give what the plain algorithm gives:
every pair of records sharing a block, met in block order, scored with score_pair. Random small
sets built to hold near-duplicates (a word changed, a subtitle added, a heading before the
title, a bracketed translation, a notice, shared DOIs, PMIDs and pages), so that a pre-filter
dropping a pair that score_pair would keep fails here."""

import random
import string

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from studies import dedup
from studies.dedup import DedupItem, _prepare, find_duplicates, score_pair

_WORDS = ["trust", "partnership", "realist", "review", "hospital", "nurses", "policy",
          "care", "outcomes", "primary", "health", "services", "evaluation", "mechanism",
          "der", "und", "pour", "implementation", "context", "of", "the", "in", "a"]  # fmt: skip
_NAMES = ["Smith, J.", "Smith JA", "García, María", "Le Quintrec, M.", "Quintrec, M.",
          "van Loenen-Frosch, F", "Allen DK", "Mervyn, Kieran", "O'Brien, T"]  # fmt: skip
_JOURNALS = ["Health Research Policy and Systems", "Health Res Policy Syst", "BMJ Open",
             "The Lancet [Electronic Resource]", "Proceedings of the HSR UK Conference"]  # fmt: skip
_EDITS = ["same", "word", "typo", "subtitle", "heading", "bracket", "notice", "erratum_ref",
          "upper", "short", "other"]  # fmt: skip


def _edit(draw, title: str) -> str:
    kind = draw(st.sampled_from(_EDITS))
    words = title.split()
    if kind == "word":
        words[draw(st.integers(0, len(words) - 1))] = draw(st.sampled_from(_WORDS))
    elif kind == "typo":
        i = draw(st.integers(0, len(title) - 1))
        return title[:i] + draw(st.sampled_from("xe -")) + title[i + 1 :]
    elif kind == "subtitle":
        return (
            title + ": " + " ".join(draw(st.lists(st.sampled_from(_WORDS), min_size=1, max_size=4)))
        )
    elif kind == "heading":
        return draw(st.sampled_from(["MEDICAL PROGRESS", "Review", "Part 2:"])) + " " + title
    elif kind == "bracket":
        return (
            title
            + " ["
            + " ".join(draw(st.lists(st.sampled_from(_WORDS), min_size=2, max_size=5)))
            + "]"
        )
    elif kind == "notice":
        return draw(st.sampled_from(["Erratum: ", "Correction to: ", "Reply: ", ""])) + title
    elif kind == "erratum_ref":
        return title + " (vol 23, pg 1957, 2008)"
    elif kind == "upper":
        return title.upper() + "."
    elif kind == "short":
        return " ".join(words[: max(1, len(words) // 2)])
    elif kind == "other":
        return " ".join(draw(st.lists(st.sampled_from(_WORDS), min_size=2, max_size=10)))
    return " ".join(words)


@st.composite
def _records(draw, max_size=14):
    bases = draw(st.lists(st.lists(st.sampled_from(_WORDS), min_size=3, max_size=12).map(" ".join),
                          min_size=1, max_size=4))  # fmt: skip
    items = []
    for i in range(draw(st.integers(2, max_size))):
        title = _edit(draw, draw(st.sampled_from(bases)))
        first = draw(st.integers(1, 30))
        items.append(DedupItem(
            id=i,
            title=title,
            authors=draw(st.lists(st.sampled_from(_NAMES), max_size=3)),
            year=draw(st.sampled_from([None, 2018, 2019, 2020])),
            journal=draw(st.sampled_from(["", *_JOURNALS])),
            volume=draw(st.sampled_from(["", "17", "18", "2016"])),
            issue=draw(st.sampled_from(["", "1", "2", "123"])),
            pages=draw(st.sampled_from(["", f"{first}-{first + 9}", str(first), "Suppl 3:S41-9"])),
            doi=draw(st.sampled_from(["", "", "10.1/a", "https://doi.org/10.1/A", "10.1/b"])),
            pmid=draw(st.sampled_from(["", "", "123", "0123", "456"])),
            type=draw(st.sampled_from(["", "JOUR", "inproceedings"])),
        ))  # fmt: skip
    return items


def _reference(items, existing, min_score):
    """The plain algorithm: blocks keyed by the keys themselves, a double loop over each
    block in block order, every new pair scored once, results sorted by score (stably)."""
    preps = [_prepare(i) for i in items] + [_prepare(i) for i in existing]
    n_new = len(items)
    exact, fuzzy = {}, {}
    for idx, p in enumerate(preps):
        for key in dedup._block_keys(p):
            (exact if key[0] in ("doi", "pmid") else fuzzy).setdefault(key, []).append(idx)
    blocks = [*exact.values(), *(m for m in fuzzy.values() if len(m) <= dedup.MAX_BLOCK)]
    seen, pairs = set(), []
    for members in blocks:
        for x, i in enumerate(members):
            for j in members[x + 1 :]:
                if i == j or (i >= n_new and j >= n_new) or (i, j) in seen:
                    continue
                seen.add((i, j))
                score, reason = score_pair(preps[i], preps[j])
                if score >= min_score:
                    pairs.append((preps[i].item.id, preps[j].item.id, score, reason))
    pairs.sort(key=lambda p: -p[2])
    return pairs


@settings(max_examples=300, deadline=None)
@given(records=_records(), n_existing=st.integers(0, 4),
       min_score=st.sampled_from([0.0, 0.5, 0.8, 0.85, 0.97]))  # fmt: skip
def test_find_duplicates_gives_the_plain_algorithms_pairs_in_its_order(
    records, n_existing, min_score
):
    items, existing = records[n_existing:], records[:n_existing]
    got = [(p.a, p.b, p.score, p.reason) for p in find_duplicates(items, existing=existing,
                                                                  min_score=min_score)]  # fmt: skip
    assert got == _reference(items, existing, min_score)


@settings(max_examples=300, deadline=None)
@given(records=_records(max_size=10))
def test_the_pre_filter_only_drops_pairs_that_score_zero(records):
    """Every pair, blocked or not, in both orders: a pair the pre-filter drops is one that
    score_pair turns away at its first test."""
    preps = [_prepare(i) for i in records]
    n = len(preps)
    lo, hi = np.triu_indices(n, 1)
    keep = dedup._may_pass_cheap_exit(preps, lo.astype(np.int64), hi.astype(np.int64))
    for i, j, kept in zip(lo.tolist(), hi.tolist(), keep.tolist(), strict=True):
        if not kept:
            assert score_pair(preps[i], preps[j]) == (0.0, "different titles")
            assert score_pair(preps[j], preps[i]) == (0.0, "different titles")


def test_the_pre_filter_keeps_subtitles_headings_and_shared_identifiers():
    """Pairs below 0.85 title similarity that score_pair still reads on: each must be kept."""
    title = "Researcher practitioner partnerships in health services"
    longer = title + " a realist review of trust and of the mechanisms of what works for whom"
    cases = [
        (dict(title=title), dict(title=longer)),  # a subtitle
        (dict(title=title), dict(title="medical progress and news of the week " + title)),
        (dict(title="Alpha beta", doi="10.1/x"), dict(title="Gamma delta", doi="10.1/x")),
        (dict(title="Alpha beta", pmid="7"), dict(title="Gamma delta", pmid="07")),
        (dict(title="Alpha beta", pages="23-35"), dict(title="Gamma delta", pages="23-35")),
    ]
    same = dict(
        authors=["Mervyn, Kieran", "Simon, Amy"], year=2019, journal="BMJ Open", volume="17"
    )
    for a, b in cases:
        pa, pb = _prepare(DedupItem(id=1, **same, **a)), _prepare(DedupItem(id=2, **same, **b))
        assert score_pair(pa, pb) != (0.0, "different titles"), (a, b)  # the case is real
        keep = dedup._may_pass_cheap_exit([pa, pb], np.array([0]), np.array([1]))
        assert keep.tolist() == [True], (a, b)
    unrelated = [_prepare(DedupItem(id=i, title=t)) for i, t in enumerate([title, "Gamma delta"])]
    assert dedup._may_pass_cheap_exit(unrelated, np.array([0]), np.array([1])).tolist() == [False]


@settings(max_examples=500, deadline=None)
@given(text=st.lists(st.sampled_from(
    ["erratum", "errata", "corrigendum", "correction", "retraction", "retracted", "notice",
     "expression", "of", "concern", "withdrawn", "comment", "commentary", "reply", "response",
     "author", "s", "authors", "in", "letter", "to", "the", "editor", "on", "trust", " ", "r"]),
    max_size=8).map(" ".join))  # fmt: skip
def test_the_notice_pre_test_never_hides_a_notice(text):
    if dedup._NOTICE.search(text):
        assert dedup._maybe_notice(text)


@settings(max_examples=100, deadline=None)
@given(records=_records())
def test_a_prep_completed_later_equals_one_prepared_at_once(records):
    for item in records:
        assert dedup._complete(_prepare(item, complete=False)) == _prepare(item)


def test_a_block_of_max_block_records_is_compared_one_more_is_not_and_doi_blocks_always_are():
    pair = [
        "Management of chronic obstructive pulmonary disease in primary care settings",
        "Managements of chronic obstructive pulmonary diseases in primary care setting",
    ]  # share no title key: only the first author and year put them together

    def records(n_fillers, **same):
        rng = random.Random(n_fillers)
        words = ["".join(rng.choices(string.ascii_lowercase, k=8)) for _ in range(6 * n_fillers)]
        titles = pair + [" ".join(words[6 * i : 6 * i + 6]) for i in range(n_fillers)]
        return [DedupItem(id=i, title=t, authors=["Smith, J."], year=2019, **same)
                for i, t in enumerate(titles)]  # fmt: skip

    at_limit = records(dedup.MAX_BLOCK - 2)
    found = find_duplicates(at_limit)
    assert [(p.a, p.b) for p in found] == [(0, 1)]
    assert [(p.a, p.b, p.score, p.reason) for p in found] == _reference(at_limit, [], 0.8)
    assert find_duplicates(records(dedup.MAX_BLOCK - 1)) == []
    same_doi = records(dedup.MAX_BLOCK, doi="10.1/same")
    got = find_duplicates(same_doi, min_score=0.0)
    assert len(got) == len(same_doi) * (len(same_doi) - 1) // 2
    assert [(p.a, p.b, p.score, p.reason) for p in got] == _reference(same_doi, [], 0.0)
