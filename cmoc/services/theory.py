"""Writes for programme theory: versions (immutable snapshots) and asserted chain links."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max

from cmoc import selectors_theory
from cmoc.models import CMOC, CMOCLink, Excerpt, TheoryVersion
from synthesis.audit import event_record
from synthesis.models import Review
from synthesis.permissions import Action, check


@transaction.atomic
def theory_version_create(
    *,
    review: Review,
    user,
    label: str,
    kind: str = TheoryVersion.Kind.OTHER,
    rationale: str = "",
    cmoc_ids=None,
    phase_names=None,
) -> TheoryVersion:
    """Freeze the programme theory as the next version: all CMOCs, or only the given CMOC ids
    or phases. The snapshot is never edited afterwards (no service changes it)."""
    check(user, review, Action.EDIT_EVIDENCE)
    label = (label or "").strip()
    errors = {}
    if not label:
        errors["label"] = "Give the version a label."
    if kind not in TheoryVersion.Kind.values:
        errors["kind"] = f"Unknown kind {kind!r}."
    if errors:
        raise ValidationError(errors)
    snapshot = selectors_theory.snapshot_build(
        review=review, cmoc_ids=cmoc_ids, phase_names=phase_names
    )
    if not snapshot["cmocs"]:
        raise ValidationError({"label": "There are no CMOCs to put in this version."})
    # Lock the review row so two reviewers saving at once cannot take the same number.
    Review.objects.select_for_update().filter(pk=review.pk).first()
    number = (TheoryVersion.objects.filter(review=review).aggregate(n=Max("number"))["n"] or 0) + 1
    version = TheoryVersion.objects.create(
        review=review,
        number=number,
        label=label[:200],
        kind=kind,
        rationale=rationale,
        snapshot=snapshot,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    event_record(
        review=review,
        actor=user,
        verb="theory_version.create",
        target=version,
        summary=f"Programme theory v{number} “{version.label}” ({len(snapshot['cmocs'])} CMOCs)",
        data={"number": number, "kind": kind, "cmocs": len(snapshot["cmocs"])},
    )
    return version


@transaction.atomic
def cmoc_link_create(
    *,
    review: Review,
    user,
    source: CMOC | int,
    target: CMOC | int,
    kind: str = CMOCLink.Kind.OUTCOME_CONTEXT,
    note: str = "",
    evidence_ids=(),
) -> CMOCLink:
    """Assert that one CMOC chains into another, with the excerpts that show it."""
    check(user, review, Action.EDIT_EVIDENCE)
    source_id = source.pk if isinstance(source, CMOC) else source
    target_id = target.pk if isinstance(target, CMOC) else target
    found = dict(
        CMOC.objects.filter(review=review, pk__in=[source_id, target_id]).values_list("pk", "code")
    )
    errors = {}
    if source_id not in found:
        errors["source"] = "Choose a CMOC of this review."
    if target_id not in found:
        errors["target"] = "Choose a CMOC of this review."
    if source_id == target_id:
        errors["target"] = "A CMOC cannot chain into itself."
    if kind not in CMOCLink.Kind.values:
        errors["kind"] = f"Unknown link kind {kind!r}."
    evidence_ids = sorted({int(i) for i in evidence_ids})
    excerpts = list(Excerpt.objects.filter(review=review, pk__in=evidence_ids))
    if len(excerpts) != len(evidence_ids):
        missing = sorted(set(evidence_ids) - {e.pk for e in excerpts})
        errors["evidence"] = f"No such excerpt in this review: {', '.join(map(str, missing))}."
    if (
        not errors
        and CMOCLink.objects.filter(source_id=source_id, target_id=target_id, kind=kind).exists()
    ):
        errors["target"] = "This link is already recorded."
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            link = CMOCLink.objects.create(
                review=review,
                source_id=source_id,
                target_id=target_id,
                kind=kind,
                note=note,
                created_by=user if getattr(user, "is_authenticated", False) else None,
            )
    except IntegrityError as exc:  # a concurrent duplicate
        raise ValidationError({"target": "This link is already recorded."}) from exc
    link.evidence.set(excerpts)
    event_record(
        review=review,
        actor=user,
        verb="cmoc_link.create",
        target=link,
        summary=f"{found[source_id]} → {found[target_id]} ({link.get_kind_display().lower()})",
        data={"source": source_id, "target": target_id, "kind": kind, "evidence": evidence_ids},
    )
    return link


@transaction.atomic
def cmoc_link_delete(*, review: Review, user, link: CMOCLink | int) -> None:
    check(user, review, Action.EDIT_EVIDENCE)
    link_id = link.pk if isinstance(link, CMOCLink) else link
    try:
        link = CMOCLink.objects.select_related("source", "target").get(review=review, pk=link_id)
    except CMOCLink.DoesNotExist as exc:
        raise ValidationError("No such link in this review.") from exc
    summary = f"{link.source.code} → {link.target.code} ({link.get_kind_display().lower()})"
    data = {
        "source": link.source_id,
        "target": link.target_id,
        "kind": link.kind,
        "evidence": list(link.evidence.values_list("pk", flat=True)),
    }
    event_record(
        review=review, actor=user, verb="cmoc_link.delete", target=link, summary=summary, data=data
    )
    link.delete()
