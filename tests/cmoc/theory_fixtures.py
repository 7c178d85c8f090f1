"""A small review whose CMOCs chain as in the seed (chapter 4): organisational size →
perceived task complexity → faith → collaborative behaviour, over two phases."""

from cmoc.models import CMOC, CMOCElement, CMOCEvidence, Concept, Excerpt
from studies.models import Document, Study
from synthesis.models import Phase

LABELS = [
    "Organisational size",
    "Perceived task complexity",
    "Faith",
    "Collaborative behaviour",
    "Synergy",
    "Interoperable IT systems",
    "Trust",
]

# code, phase order, statement, elements [(role, label, direction)], relation, prior, studies
CMOCS = [
    (
        "B1-1",
        1,
        "A larger organisation size leads to greater perceived task complexity, reducing faith.",
        [
            ("context", "Organisational size", "increase"),
            ("mechanism", "Perceived task complexity", "increase"),
            ("outcome", "Faith", "decrease"),
        ],
        "",
        None,
        ["Aunger 2021", "Mervyn 2019"],
    ),
    (
        "B1-2",
        1,
        "Interoperable IT systems reduce perceived task complexity, which enhances faith.",
        [
            ("context", "Interoperable IT systems", ""),
            ("mechanism", "Perceived task complexity", "decrease"),
            ("outcome", "Faith", "increase"),
        ],
        "",
        None,
        ["Aunger 2021"],
    ),
    (
        "B1-3",
        1,
        "Where actors have faith in the endeavour, trust grows and they collaborate.",
        [
            ("context", "Faith", ""),
            ("mechanism", "Trust", "increase"),
            ("outcome", "Collaborative behaviour", "increase"),
        ],
        "",
        None,
        ["Vangen 2003"],
    ),
    (
        "B2-1",
        2,
        "Faith is the context in which collaborative behaviour occurs, leading to synergy.",
        [
            ("context", "Faith", ""),
            ("mechanism", "Collaborative behaviour", "increase"),
            ("outcome", "Synergy", "increase"),
        ],
        "refines",
        "B1-3",
        ["Interview P04", "Mervyn 2019"],
    ),
    (
        "B2-2",
        2,
        "In the buddying case a large partner did not make the task feel harder; faith held.",
        [
            ("context", "Organisational size", "increase"),
            ("mechanism", "Perceived task complexity", ""),
            ("outcome", "Faith", "increase"),
        ],
        "refutes",
        "B1-1",
        ["Interview P07"],
    ),
]


def build_chain_review(review, *, prefix: str = "") -> dict:
    """CMOCs, concepts, studies, documents and excerpts for `review` (phases from the
    `review` fixture: "Theory gleaning" and "Realist evaluation")."""
    phases = {p.order: p for p in Phase.objects.filter(review=review)}
    concepts = {
        label: Concept.objects.create(review=review, label=prefix + label) for label in LABELS
    }
    studies, docs = {}, {}
    cmocs = {}
    excerpts = {}
    for code, phase, statement, elements, relation, prior, sources in CMOCS:
        cmoc = CMOC.objects.create(
            review=review,
            code=code,
            phase=phases[phase],
            statement=statement,
            relation=relation,
            prior=cmocs.get(prior),
            theme="Collaborative functioning" if phase == 1 else "Evaluation",
            source_count=len(sources),
        )
        cmocs[code] = cmoc
        for role, label, direction in elements:
            CMOCElement.objects.create(
                cmoc=cmoc, role=role, concept=concepts[label], direction=direction
            )
        for i, label in enumerate(sources):
            if label not in studies:
                studies[label] = Study.objects.create(review=review, label=label)
                docs[label] = Document.objects.create(
                    review=review, study=studies[label], title=label, text="x" * 2000
                )
            excerpt = Excerpt.objects.create(
                review=review,
                document=docs[label],
                text=f"{label} on {code}: {statement[:60]}",
                page=3 + i,
                start=10 * len(excerpts),
                end=10 * len(excerpts) + 9,
            )
            excerpts[(code, label)] = excerpt
            CMOCEvidence.objects.create(cmoc=cmoc, excerpt=excerpt)
    return {"concepts": concepts, "cmocs": cmocs, "excerpts": excerpts, "docs": docs}
