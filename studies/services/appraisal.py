"""Realist appraisal: relevance, richness and rigour of a study (document level) or of an
excerpt or CMOC (fragment level), with an explicit verdict.

Method (seed chapter 3, after Wong): rigour screening asks whether the method that produced
a piece of data is credible; relevance asks whether it can contribute to theory building.
High relevance with low rigour is never excluded automatically: only an appraiser's explicit
verdict excludes, and its reason is recorded (reasons are recorded for inclusions too).
"""

from collections import defaultdict
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction

from cmoc.models import CMOC, Excerpt
from studies.appraisal_agreement import DIMENSIONS, DimensionAgreement, agreement_by_dimension
from studies.models import Appraisal, ExclusionReason, Study
from synthesis.audit import event_record
from synthesis.models import Review
from synthesis.permissions import Action, check

# What makes a source rich for a realist synthesis (Booth et al. 2013 "richness": conceptual
# richness, thick vs thin description). Stored as keys in Appraisal.richness_criteria.
RICHNESS_CRITERIA: list[tuple[str, str]] = [
    ("context", "Describes the context in detail"),
    ("mechanism", "Explains how or why it worked (resources and reasoning)"),
    ("outcomes", "Links outcomes to what produced them"),
    ("programme", "Describes the programme or collaboration itself"),
    ("voices", "Reports participants' own accounts (quotes)"),
    ("theory", "Uses or develops theory (e.g. a middle-range theory)"),
]
RICHNESS_KEYS = {k for k, _ in RICHNESS_CRITERIA}

EXTERNAL_TOOLS = ["CASP", "MMAT", "JBI", "AACODS", "Other"]


class AppraisalTarget:
    STUDY = "study"
    EXCERPT = "excerpt"
    CMOC = "cmoc"
    ALL = (STUDY, EXCERPT, CMOC)


def _target_of(*, review: Review, study, excerpt, cmoc) -> tuple[str, object]:
    given = [(k, t) for k, t in (("study", study), ("excerpt", excerpt), ("cmoc", cmoc)) if t]
    if len(given) != 1:
        raise ValueError("Appraise exactly one thing: a study, an excerpt or a CMOC.")
    kind, target = given[0]
    if target.review_id != review.pk:
        raise ValueError(f"That {kind} belongs to another review.")
    return kind, target


@transaction.atomic
def appraisal_record(
    *,
    user,
    review: Review,
    study: Study | None = None,
    excerpt: Excerpt | None = None,
    cmoc: CMOC | None = None,
    relevance: str = "",
    informs: str = "",
    informs_cmocs: Iterable[CMOC] = (),
    relevance_note: str = "",
    richness: str = "",
    richness_criteria: Iterable[str] = (),
    rigour: str = "",
    method_described: bool | None = None,
    data_supports_claim: str = "",
    rigour_note: str = "",
    external_tool: str = "",
    external_score: str = "",
    verdict: str = "",
    verdict_reason: str = "",
    exclusion_reason: ExclusionReason | None = None,
    verdict_explicit: bool = True,
) -> Appraisal:
    """Create or update the user's own appraisal of one target.

    `verdict_explicit=False` marks a verdict proposed by a rule rather than typed by an
    appraiser; such a verdict may never exclude. Raises ValidationError with field errors.
    """
    check(user, review, Action.EDIT_EVIDENCE)
    kind, target = _target_of(review=review, study=study, excerpt=excerpt, cmoc=cmoc)
    informs_cmocs = list(informs_cmocs)
    richness_criteria = list(dict.fromkeys(richness_criteria))
    verdict_reason = verdict_reason.strip()
    errors: dict[str, str] = {}

    for name, value, choices in [
        ("relevance", relevance, Appraisal.Relevance.values),
        ("richness", richness, Appraisal.Richness.values),
        ("rigour", rigour, Appraisal.Rigour.values),
        ("data_supports_claim", data_supports_claim, Appraisal.Supports.values),
        ("verdict", verdict, Appraisal.Verdict.values),
    ]:
        if value and value not in choices:
            errors[name] = f"Choose one of: {', '.join(choices)}."
    unknown = [c for c in richness_criteria if c not in RICHNESS_KEYS]
    if unknown:
        errors["richness_criteria"] = f"Unknown criteria: {', '.join(unknown)}."
    if any(c.review_id != review.pk for c in informs_cmocs):
        errors["informs_cmocs"] = "Pick CMOCs of this review."
    if external_score and not external_tool:
        errors["external_tool"] = "Name the tool the score comes from (e.g. CASP, MMAT)."

    if verdict == Appraisal.Verdict.EXCLUDE and not verdict_explicit:
        # The seed's rule: ratings alone never exclude (least of all high relevance with low
        # rigour); an appraiser must decide and say why.
        raise ValueError(
            "Exclusion needs an appraiser's explicit verdict; a rule cannot exclude "
            f"(relevance {relevance or 'unrated'}, rigour {rigour or 'unrated'})."
        )
    if verdict and not verdict_reason:
        errors["verdict_reason"] = "Record the reason for this decision (also when including)."
    if verdict == Appraisal.Verdict.INCLUDE_SPECIFIC and not informs_cmocs:
        errors["informs_cmocs"] = "Pick the CMOCs it is included for."
    if exclusion_reason is not None:
        if verdict != Appraisal.Verdict.EXCLUDE:
            errors["exclusion_reason"] = "Only an exclusion takes a PRISMA exclusion reason."
        elif exclusion_reason.stage.review_id != review.pk:
            errors["exclusion_reason"] = "Pick an exclusion reason of this review."
    elif (
        verdict == Appraisal.Verdict.EXCLUDE
        and kind == AppraisalTarget.STUDY
        and ExclusionReason.objects.filter(stage__review=review).exists()
    ):
        errors["exclusion_reason"] = "Pick the exclusion reason to report in the PRISMA diagram."
    if errors:
        raise ValidationError(errors)

    appraisal, created = Appraisal.objects.select_for_update().get_or_create(
        review=review, appraiser=user, **{kind: target}
    )
    old = {d: getattr(appraisal, d) for d in DIMENSIONS}
    appraisal.relevance = relevance
    appraisal.informs = informs.strip()
    appraisal.relevance_note = relevance_note.strip()
    appraisal.richness = richness
    appraisal.richness_criteria = richness_criteria
    appraisal.rigour = rigour
    appraisal.method_described = method_described
    appraisal.data_supports_claim = data_supports_claim
    appraisal.rigour_note = rigour_note.strip()
    appraisal.external_tool = external_tool.strip()
    appraisal.external_score = external_score.strip()
    appraisal.verdict = verdict
    appraisal.verdict_reason = verdict_reason
    appraisal.exclusion_reason = exclusion_reason
    appraisal.save()
    appraisal.informs_cmocs.set(informs_cmocs)
    event_record(
        review=review,
        actor=user,
        verb="appraisal.create" if created else "appraisal.update",
        target=appraisal,
        summary=f"{kind} {target}: relevance {relevance or '—'}, rigour {rigour or '—'}, "
        f"verdict {verdict or '—'}",
        data={"old": old, "new": {d: getattr(appraisal, d) for d in DIMENSIONS}},
    )
    return appraisal


@transaction.atomic
def appraisal_delete(*, user, appraisal: Appraisal) -> None:
    """Withdraw one's own appraisal (owners may withdraw anyone's)."""
    role = check(user, appraisal.review_id, Action.EDIT_EVIDENCE)
    if appraisal.appraiser_id != user.pk and role != "owner":
        raise ValueError("Only the appraiser or an owner can withdraw an appraisal.")
    event_record(
        review=appraisal.review_id, actor=user, verb="appraisal.delete", target=appraisal,
        summary=str(appraisal.target),
    )  # fmt: skip
    appraisal.delete()


def appraisals_for(*, review: Review, kind: str, target_id: int) -> list[Appraisal]:
    """All appraisals of one target, first appraiser first."""
    if kind not in AppraisalTarget.ALL:
        raise ValueError(f"Unknown appraisal target: {kind}")
    return list(
        Appraisal.objects.filter(review=review, **{f"{kind}_id": target_id})
        .select_related("appraiser", "exclusion_reason")
        .prefetch_related("informs_cmocs")
        .order_by("created_at", "id")
    )


def appraisal_agreement(*, review: Review, kind: str | None = None) -> dict:
    """Percent agreement per dimension between the first two appraisers of every target
    appraised twice. One query."""
    qs = Appraisal.objects.filter(review=review)
    if kind:
        qs = qs.filter(**{f"{kind}__isnull": False})
    rows = qs.order_by("created_at", "id").values(
        "study_id", "excerpt_id", "cmoc_id", "appraiser_id", *DIMENSIONS
    )
    by_target: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        by_target[(row["study_id"], row["excerpt_id"], row["cmoc_id"])].append(row)
    pairs = [(a[0], a[1]) for a in by_target.values() if len(a) >= 2]
    dims: list[DimensionAgreement] = agreement_by_dimension(pairs)
    return {"n_targets": len(pairs), "dimensions": dims}
