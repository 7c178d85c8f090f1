"""REST API writes, as thin adapters onto the coding services (cmoc/services/coding.py):
the API and the pages share one set of validation, permission checks and audit events.

Only the shapes differ: the API names concepts by id in element dicts and edits a concept's
label and parent through the same PATCH as its description.
"""

from collections.abc import Iterable

from django.db import transaction

from cmoc.models import CMOC, CMOCEvidence, Concept, Excerpt
from cmoc.services import coding
from cmoc.services.coding import ElementSpec
from studies.models import Document
from synthesis.models import Review
from synthesis.permissions import Action, check

CONCEPT_FIELDS = {"label", "parent", "description", "synonyms", "mechanism_type", "source"}


def concept_create(*, user, review: Review, label: str, **fields) -> Concept:
    return coding.concept_create(user=user, review=review, label=label, **fields)


@transaction.atomic
def concept_update(*, user, concept: Concept, expected_version=None, **fields) -> Concept:
    """A PATCH: label → rename, parent → move, the rest → update (each audited as such).
    `expected_version` is checked once, before any of them, under the row lock (each step
    then counts as a new version)."""
    unknown = set(fields) - CONCEPT_FIELDS
    if unknown:
        raise ValueError(f"Unknown concept fields: {', '.join(sorted(unknown))}")
    check(user, concept.review, Action.EDIT_EVIDENCE)
    coding.concept_lock(concept, expected_version)
    changed = False
    label = fields.pop("label", concept.label)
    if label != concept.label:
        coding.concept_rename(user=user, concept=concept, label=label)
        changed = True
    parent = fields.pop("parent", concept.parent)
    if parent != concept.parent:
        coding.concept_move(user=user, concept=concept, parent=parent)
        changed = True
    if fields or not changed:  # an empty PATCH is still permission-checked
        coding.concept_update(user=user, concept=concept, **fields)
    return concept


def excerpt_create(
    *,
    user,
    document: Document,
    start: int,
    end: int,
    text: str = "",
    page: int | None = None,
    note: str = "",
) -> Excerpt:
    """Without ``text`` the passage is cut from the document; with it, it must match."""
    return coding.excerpt_create(
        user=user, document=document, start=start, end=end, text=text or None, page=page,
        note=note,
    )  # fmt: skip


def _specs(elements: Iterable[dict]) -> list[ElementSpec]:
    return [
        ElementSpec(role=e["role"], concept=e["concept"], direction=e.get("direction") or "")
        for e in elements
    ]


def cmoc_create(
    *, user, review: Review, code: str, statement: str, elements: Iterable[dict] = (), **fields
) -> CMOC:
    return coding.cmoc_create(
        user=user, review=review, elements=_specs(elements), code=code, statement=statement,
        **fields,
    )  # fmt: skip


def cmoc_update(
    *, user, cmoc: CMOC, elements: Iterable[dict] | None = None, expected_version=None, **fields
) -> CMOC:
    return coding.cmoc_update(
        user=user, cmoc=cmoc, elements=None if elements is None else _specs(elements),
        expected_version=expected_version, **fields,
    )  # fmt: skip


def cmoc_evidence_add(
    *, user, cmoc: CMOC, excerpt: Excerpt, stance: str = "supports", note: str = ""
) -> CMOCEvidence:
    """A create: linking the same excerpt twice is an error here, not an update."""
    return coding.evidence_add(
        user=user, cmoc=cmoc, excerpt=excerpt, stance=stance, note=note, allow_existing=False
    )


def cmoc_evidence_remove(*, user, evidence: CMOCEvidence) -> None:
    coding.evidence_remove(user=user, evidence=evidence)
