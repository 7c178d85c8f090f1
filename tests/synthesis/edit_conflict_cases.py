"""The shared, multi-user objects edited through versioned forms: how to make one, how to
update it through its service, and two of its fields (A: the late editor's, B: the first
editor's). Used by the service, threaded and page tests of edit conflicts."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cmoc.services import coding
from studies.models import Document, Study
from studies.services import identification, screening
from synthesis import services as review_services


@dataclass
class Case:
    name: str
    make: Callable  # (review, users) -> obj
    update: Callable  # (user, obj, expected_version, **fields) -> obj
    a: tuple[str, Any]  # field, value written by the late editor
    b: tuple[str, Any]  # field, value written by the first editor
    editors: tuple[str, str] = ("reviewer", "reviewer2")
    version_field: str = "version"  # the counter of this form (Review has two)

    def version(self, obj) -> int:
        return getattr(obj, self.version_field)


def _excerpt(review, users):
    study = Study.objects.create(review=review, label="Mervyn et al. 2019")
    doc = Document.objects.create(
        review=review, study=study, title="Mervyn", text="Trust grew between the partners."
    )
    return coding.excerpt_create(user=users["reviewer"], document=doc, start=0, end=10)


CASES = [
    Case(
        "search",
        lambda r, u: identification.search_create(
            user=u["reviewer"], review=r, source="MEDLINE (Ovid)", query="collaborat*"
        ),
        lambda user, obj, v, **f: identification.search_update(
            user=user, search=obj, expected_version=v, **f
        ),
        ("query", "(public adj2 private).ti,ab."),
        ("notes", "Re-run in May"),
    ),
    Case(
        "stage",
        lambda r, u: screening.stage_create(user=u["owner"], review=r, name="Title/abstract"),
        lambda user, obj, v, **f: screening.stage_update(
            user=user, stage=obj, expected_version=v, **f
        ),
        ("inclusion_criteria", "Any collaboration between sectors"),
        ("exclusion_criteria", "Not about health services"),
        editors=("owner", "owner"),
    ),
    Case(
        "stage reasons",
        lambda r, u: screening.stage_create(
            user=u["owner"], review=r, name="Full text", kind="full_text", reasons=["Wrong design"]
        ),
        lambda user, obj, v, **f: screening.stage_update(
            user=user, stage=obj, expected_version=v, **f
        ),
        ("inclusion_criteria", "Empirical studies"),
        ("reasons", ["Wrong design", "No outcome data"]),
        editors=("owner", "owner"),
    ),
    Case(
        "demi-regularity",
        lambda r, u: coding.demi_regularity_create(user=u["reviewer"], review=r, label="Trust"),
        lambda user, obj, v, **f: coding.demi_regularity_update(
            user=user, demi_regularity=obj, expected_version=v, **f
        ),
        ("summary", "Trust builds when goals are shared."),
        ("label", "Trust and shared goals"),
    ),
    Case(
        "middle-range theory",
        lambda r, u: coding.middle_range_theory_create(
            user=u["reviewer"], review=r, name="Social exchange"
        ),
        lambda user, obj, v, **f: coding.middle_range_theory_update(
            user=user, theory=obj, expected_version=v, **f
        ),
        ("description", "Reciprocity sustains exchange."),
        ("citation", "Blau 1964"),
    ),
    Case(
        "excerpt",
        _excerpt,
        lambda user, obj, v, **f: coding.excerpt_update(
            user=user, excerpt=obj, expected_version=v, **f
        ),
        ("note", "Trust as an outcome"),
        ("interviewee_stance", "confirms"),
    ),
    Case(
        "concept",
        lambda r, u: coding.concept_create(user=u["reviewer"], review=r, label="Trust"),
        lambda user, obj, v, **f: coding.concept_update(
            user=user, concept=obj, expected_version=v, **f
        ),
        ("description", "Confidence in a partner's goodwill"),
        ("source", "Table 7"),
    ),
    Case(
        "participant",
        lambda r, u: coding.participant_create(user=u["reviewer"], review=r, code="P01"),
        lambda user, obj, v, **f: coding.participant_update(
            user=user, participant=obj, expected_version=v, **f
        ),
        ("notes", "Interviewed twice"),
        ("role", "Programme manager"),
    ),
    Case(
        "review details",
        lambda r, u: r,
        lambda user, obj, v, **f: review_services.review_update(
            user=user, review=obj, expected_version=v, **f
        ),
        ("description", "A realist synthesis of collaborations"),
        ("registration", "CRD42020000000"),
        editors=("owner", "owner"),
    ),
    Case(
        "phase",
        lambda r, u: review_services.phase_create(user=u["owner"], review=r, name="Gleaning"),
        lambda user, obj, v, **f: review_services.phase_update(
            user=user, phase=obj, expected_version=v, **f
        ),
        ("description", "Theories gleaned from the literature"),
        ("order", 2),
        editors=("owner", "owner"),
    ),
    Case(
        "screening settings",
        lambda r, u: r,
        lambda user, obj, v, **f: review_services.review_screening_update(
            user=user, review=obj, expected_version=v, **f
        ),
        ("highlight_include_terms", "partnership"),
        ("maybe_counts_as", "exclude"),
        editors=("owner", "owner"),
        version_field="screening_version",
    ),
]


def value_of(obj, field):
    if field == "reasons":
        return list(obj.reasons.values_list("label", flat=True))
    return getattr(obj, field)
