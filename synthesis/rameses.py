"""RAMESES reporting checklists as data, pre-filled from facts about the review.

Items follow the RAMESES publication standards for realist syntheses (Wong et al. 2013,
19 items) and RAMESES II for realist evaluations (Wong et al. 2016, 20 items); the
descriptions are short paraphrases, not the published wording. No Django import: the
facts come from `synthesis.selectors_reporting.rameses_facts`.
"""

import csv
import io
from collections.abc import Callable

# (number, section, title, paraphrase)
SYNTHESIS_ITEMS = [
    (1, "Title", "Title", "Say in the title that the review is a realist synthesis."),
    (2, "Abstract", "Abstract", "Summarise background, aims, methods, results and conclusions."),
    (3, "Introduction", "Rationale for review", "Explain why the review is needed and what is already known."),
    (4, "Introduction", "Objectives and focus", "State the review question(s), objectives and how the focus was chosen and refined."),
    (5, "Methods", "Changes in the review process", "Report and justify any departure from the planned process."),
    (6, "Methods", "Rationale for realist synthesis", "Explain why a realist approach suits the question."),
    (7, "Methods", "Scoping the literature", "Describe how the literature was scoped to build the initial programme theory."),
    (8, "Methods", "Searching processes", "Give the search strategy: sources, dates, terms and how searching evolved."),
    (9, "Methods", "Selection and appraisal of documents", "Explain how documents were selected and judged for relevance and rigour."),
    (10, "Methods", "Data extraction", "Describe what data were extracted and how."),
    (11, "Methods", "Analysis and synthesis processes", "Describe how the data were analysed into CMOCs and synthesised into programme theory."),
    (12, "Results", "Document flow diagram", "Show the number of documents at each stage, with reasons for exclusion."),
    (13, "Results", "Document characteristics", "Describe the included documents."),
    (14, "Results", "Main findings", "Present the key findings, focused on the programme theory and its CMOCs."),
    (15, "Discussion", "Summary of findings", "Summarise the main findings in relation to the question."),
    (16, "Discussion", "Strengths, limitations and future research", "Discuss strengths, limitations and what research should follow."),
    (17, "Discussion", "Comparison with existing literature", "Compare and contrast with other work."),
    (18, "Discussion", "Conclusion and recommendations", "State conclusions and recommendations for policy and practice."),
    (19, "Funding", "Funding", "Give funding sources and the funders' role."),
]  # fmt: skip

EVALUATION_ITEMS = [
    (1, "Title", "Title", "Say in the title that the study is a realist evaluation."),
    (2, "Abstract", "Summary or abstract", "Summarise the evaluation, its design and key findings."),
    (3, "Introduction", "Rationale for evaluation", "Explain why the evaluation is needed."),
    (4, "Introduction", "Programme theory", "Describe the initial programme theory and how it was developed."),
    (5, "Introduction", "Evaluation questions, objectives and focus", "State the questions and how the focus was chosen."),
    (6, "Introduction", "Ethical approval", "Report ethical approval."),
    (7, "Methods", "Rationale for realist evaluation", "Explain why a realist evaluation suits the questions."),
    (8, "Methods", "Environment surrounding the evaluation", "Describe the setting in which the programme ran."),
    (9, "Methods", "Programme evaluated", "Describe the programme: resources, activities and intended outcomes."),
    (10, "Methods", "Evaluation design", "Describe and justify the design and any changes to it."),
    (11, "Methods", "Data collection methods", "Describe how data were collected and why."),
    (12, "Methods", "Recruitment and sampling", "Describe how participants were recruited and sampled to test the theory."),
    (13, "Methods", "Data analysis", "Describe how data were analysed into CMOCs and used to refine the theory."),
    (14, "Results", "Details of participants", "Describe the participants and cases."),
    (15, "Results", "Main findings", "Present the findings as refined programme theory with CMOCs."),
    (16, "Discussion", "Summary of findings", "Summarise the main findings."),
    (17, "Discussion", "Strengths, limitations and future directions", "Discuss strengths, limitations and next steps."),
    (18, "Discussion", "Comparison with existing literature", "Compare and contrast with other work."),
    (19, "Discussion", "Conclusion and recommendations", "State conclusions and recommendations."),
    (20, "Funding", "Funding and conflict of interest", "Give funding and declare conflicts of interest."),
]  # fmt: skip

CHECKLISTS = {
    "rameses": ("RAMESES publication standards: realist syntheses", SYNTHESIS_ITEMS),
    "rameses2": ("RAMESES II: realist evaluations", EVALUATION_ITEMS),
}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# Pre-fill rules: (checklist, item) → function(facts) → (evidence, where) or None.
def _title(f):
    if f["title"]:
        realist = "realist" in f["title"].lower()
        return (
            f"Title: “{f['title']}”" + ("" if realist else " (does not say ‘realist’)"),
            "Review settings",
        )
    return None


def _question(f):
    return (f"Question: {f['question']}", "Review settings") if f["question"] else None


def _changes(f):
    if f["n_versions"]:
        return (
            f"{_plural(f['n_versions'], 'programme theory version')}: {f['versions']}",
            "Theory versions",
        )
    return None


def _scoping(f):
    if f["n_initial_cmocs"]:
        return (
            f"{_plural(f['n_initial_cmocs'], 'CMOC')} in the first phase ({f['first_phase']})",
            "CMOC table",
        )
    return None


def _searches(f):
    if f["n_searches"]:
        return (
            f"{_plural(f['n_searches'], 'search')} logged: {f['search_sources']}",
            "Searches log",
        )
    return None


def _selection(f):
    parts = []
    if f["stages"]:
        parts.append("Screening stages: " + f["stages"])
    if f["n_appraisals"]:
        parts.append(f"{_plural(f['n_appraisals'], 'appraisal')} (relevance and rigour) recorded")
    if f["agreement"]:
        parts.append("Agreement: " + f["agreement"])
    return ("; ".join(parts), "Screening, appraisal, agreement report") if parts else None


def _extraction(f):
    if f["extraction_fields"]:
        return (f"Extraction form fields: {f['extraction_fields']}", "Study characteristics export")
    return None


def _analysis(f):
    if f["n_cmocs"]:
        return (
            f"{_plural(f['n_cmocs'], 'CMOC')} coded from {_plural(f['n_excerpts'], 'excerpt')};"
            f" {f['n_concepts']} codebook concepts; {f['n_chains']} computed chain links"
            f" and {f['n_asserted_links']} asserted by reviewers",
            "CMOC table, codebook",
        )
    return None


def _flow(f):
    if f["prisma"]:
        return (f["prisma"], "PRISMA 2020 diagram")
    return None


def _characteristics(f):
    if f["n_studies"]:
        return (
            f"{_plural(f['n_studies'], 'study')} included: {f['study_kinds']}",
            "Study characteristics export",
        )
    return None


def _findings(f):
    if f["n_cmocs"]:
        return (
            f"{f['n_supported']} of {f['n_cmocs']} CMOCs supported by ≥ 2 sources;"
            f" relations to prior theory: {f['relations']}",
            "CMOC table",
        )
    return None


def _participants(f):
    if f["n_participants"]:
        return (
            f"{_plural(f['n_participants'], 'participant')} (interviews/focus groups)",
            "Participants",
        )
    return None


def _programme_theory(f):
    return _changes(f) or _scoping(f)


RULES: dict[tuple[str, int], Callable] = {
    ("rameses", 1): _title, ("rameses", 4): _question, ("rameses", 5): _changes,
    ("rameses", 7): _scoping, ("rameses", 8): _searches, ("rameses", 9): _selection,
    ("rameses", 10): _extraction, ("rameses", 11): _analysis, ("rameses", 12): _flow,
    ("rameses", 13): _characteristics, ("rameses", 14): _findings,
    ("rameses2", 1): _title, ("rameses2", 4): _programme_theory, ("rameses2", 5): _question,
    ("rameses2", 10): _changes, ("rameses2", 12): _participants, ("rameses2", 13): _analysis,
    ("rameses2", 14): _participants, ("rameses2", 15): _findings,
}  # fmt: skip


def checklist(name: str, facts: dict) -> list[dict]:
    """Items of one checklist with `reported` (pre-filled from data / to write), `evidence`
    (what the data say) and `where` (where in Retroduce the evidence lives)."""
    _, items = CHECKLISTS[name]
    out = []
    for number, section, title, description in items:
        rule = RULES.get((name, number))
        found = rule(facts) if rule else None
        out.append(
            {
                "item": number,
                "section": section,
                "title": title,
                "description": description,
                "reported": "pre-filled from data" if found else "to write",
                "evidence": found[0] if found else "",
                "where": found[1] if found else "",
            }  # fmt: skip
        )
    return out


def checklist_csv(name: str, facts: dict) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["Item", "Section", "Topic", "What to report", "Reported", "Evidence", "Where"])
    for row in checklist(name, facts):
        w.writerow([row["item"], row["section"], row["title"], row["description"],
                    row["reported"], row["evidence"], row["where"]])  # fmt: skip
    return out.getvalue()
