"""Screening rules that need no database: who must vote on a record, and what its votes
add up to. The selectors mirror `screen_hash` in SQL so the two always agree.
"""

from __future__ import annotations

from decimal import Decimal

from studies.agreement import EXCLUDE, INCLUDE, MAYBE, map_vote

# A small integer hash that PostgreSQL and SQLite can both compute with + * % on 64-bit
# integers (no XOR in SQLite). Squaring modulo a prime breaks the regular stride that a
# purely linear congruence would give consecutive record ids.
HASH_P = 2147483647  # 2**31 - 1, prime
HASH_A = 48271
HASH_C = 11


def screen_hash(record_id: int, seed: int) -> int:
    h1 = ((record_id + seed) * HASH_A + HASH_C) % HASH_P
    return (h1 * h1 + seed) % HASH_P


def dual_threshold(fraction: float | Decimal) -> int | None:
    """Hash values below the threshold are dual-screened. None means every record."""
    f = float(fraction)
    if f >= 1:
        return None
    return max(0, int(f * HASH_P))


def is_dual(record_id: int, seed: int, fraction: float | Decimal) -> bool:
    """Whether a record is in the reproducible random subset screened by two reviewers."""
    threshold = dual_threshold(fraction)
    return threshold is None or screen_hash(record_id, seed) < threshold


def order_seed(seed: int) -> int:
    """Seed of the random screening order; differs from the dual seed so that the dual
    subset is not screened first."""
    return seed + 7919


def votes_required(dual: bool) -> int:
    return 2 if dual else 1


def passing_votes(maybe: str) -> set[str]:
    """Votes that send a record on to the next stage. "maybe" goes forward unless the
    review counts it as exclude: the full text decides."""
    return {INCLUDE} if maybe == "exclude" else {INCLUDE, MAYBE}


def is_conflict(votes: list[str], maybe: str) -> bool:
    return len({map_vote(v, maybe) for v in votes}) > 1


def outcome(votes: list[str], resolution: str | None, *, dual: bool, maybe: str) -> str:
    """A record's state at a stage: "include", "exclude", "conflict" or "pending"."""
    passing = passing_votes(maybe)
    if resolution:
        return INCLUDE if resolution in passing else EXCLUDE
    if len(votes) < votes_required(dual):
        return "pending"
    if is_conflict(votes, maybe):
        return "conflict"
    return INCLUDE if votes[0] in passing else EXCLUDE


__all__ = [
    "EXCLUDE", "INCLUDE", "MAYBE", "dual_threshold", "is_conflict", "is_dual", "order_seed",
    "outcome", "passing_votes", "screen_hash", "votes_required",
]  # fmt: skip
