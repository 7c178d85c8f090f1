"""Identification reads, scoped to a review: search log, imports, duplicates, PRISMA numbers."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from studies.models import DuplicateCandidate, ImportBatch, Record, Search
from synthesis.models import Review


def search_list(*, review: Review) -> QuerySet[Search]:
    """Searches with what was imported against them, next to the hits the database reported."""
    return (
        Search.objects.filter(review=review)
        .select_related("phase")
        .annotate(
            imported=Count("import_batches__records", distinct=True),
            n_batches=Count("import_batches", distinct=True),
        )
        .order_by("run_on", "id")
    )


def search_get(*, review: Review, search_id: int) -> Search:
    return Search.objects.select_related("phase").get(review=review, pk=search_id)


def batch_list(*, review: Review, search: Search | None = None) -> QuerySet[ImportBatch]:
    qs = ImportBatch.objects.filter(review=review).select_related("search", "job", "created_by")
    if search is not None:
        qs = qs.filter(search=search)
    return qs.order_by("-created_at")


def batch_get(*, review: Review, batch_id: int) -> ImportBatch:
    return ImportBatch.objects.select_related("search", "job").get(review=review, pk=batch_id)


def duplicate_list(*, review: Review, status: str = "pending") -> QuerySet[DuplicateCandidate]:
    qs = DuplicateCandidate.objects.filter(review=review).select_related(
        "record_a", "record_b", "survivor", "decided_by"
    )
    if status == "pending":
        # A pair whose records have since been merged elsewhere is no longer a question.
        qs = qs.filter(
            status=DuplicateCandidate.Status.PENDING,
            record_a__duplicate_of__isnull=True,
            record_b__duplicate_of__isnull=True,
        )
    elif status:
        qs = qs.filter(status=status)
    return qs.order_by("-score", "id")


def record_sources(*, review: Review, record_ids: list[int]) -> dict[int, list[str]]:
    """The source of the search that found each record (one query); a record added by hand
    has none."""
    out: dict[int, list[str]] = {}
    for rid, source in Record.objects.filter(
        review=review, pk__in=record_ids, batch__isnull=False
    ).values_list("pk", "batch__search__source"):
        out[rid] = [source]
    return out


def prisma_identification(review: Review) -> dict:
    """PRISMA 2020 identification numbers from the data.

    Records identified count every import of a record against a search (a record found by
    three databases counts once for each); "duplicates removed" are records merged into
    another; "records screened" are those left (one per unique record).
    """
    per_search = list(
        Search.objects.filter(review=review)
        .annotate(n=Count("import_batches__records"))
        .values("id", "source", "kind", "reported_hits", "n")
        .order_by("run_on", "id")
    )
    arms = {"databases": {"records": 0, "sources": []}, "other": {"records": 0, "sources": []}}
    for s in per_search:
        arm = "databases" if s["kind"] in Search.DATABASE_ARM else "other"
        arms[arm]["records"] += s["n"]
        arms[arm]["sources"].append(
            {
                "search_id": s["id"],
                "source": s["source"],
                "kind": s["kind"],
                "records": s["n"],
                "reported_hits": s["reported_hits"],
            }  # fmt: skip
        )
    counts = Record.objects.filter(review=review).aggregate(
        total=Count("id"),
        duplicates=Count("id", filter=Q(duplicate_of__isnull=False)),
        duplicates_databases=Count(
            "id",
            filter=Q(duplicate_of__isnull=False, batch__search__kind__in=Search.DATABASE_ARM),
        ),
    )
    unique = counts["total"] - counts["duplicates"]
    return {
        "identified": {
            "databases": arms["databases"]["records"],
            "other": arms["other"]["records"],
            "total": arms["databases"]["records"] + arms["other"]["records"],
        },
        "per_source": arms["databases"]["sources"] + arms["other"]["sources"],
        "arms": arms,
        "duplicates_removed": counts["duplicates"],
        "duplicates_removed_databases": counts["duplicates_databases"],
        # Automation tools and other removals are not recorded at identification (yet):
        # reported as 0 so the diagram shows the box, not a guess.
        "ineligible_by_automation": 0,
        "removed_other_reasons": 0,
        "records_screened": unique,
        "pending_duplicate_checks": duplicate_list(review=review).count(),
    }
