"""How the audit trail reads to a person: areas of work, wording of verbs, readable details.

Plain Python (no Django import): the activity page, its CSV export and the per-object
history lists all word events through here. Verbs are `<thing>.<change>` strings written by
the services (synthesis.audit.event_record); a verb not listed still reads sensibly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

# Areas of work, in the order of the review's workflow: label and the verb prefixes
# (`<prefix>.`) that belong to it.
AREAS: dict[str, tuple[str, tuple[str, ...]]] = {
    "identification": (
        "Searches, imports and deduplication",
        ("search", "import", "duplicate", "dedup"),
    ),
    "screening": (
        "Screening and full texts",
        ("screening", "stage", "fulltext", "ranking", "report", "study"),
    ),
    "appraisal": ("Appraisal and extraction", ("appraisal", "form", "field", "extraction")),
    "coding": (
        "CMOC coding",
        ("cmoc", "cmoc_link", "evidence", "excerpt", "participant", "document"),
    ),
    "codebook": ("Codebook", ("concept",)),
    "theory": (
        "Theory building",
        ("demi_regularity", "middle_range_theory", "theory_version"),
    ),
    "team": ("Review, team and phases", ("review", "membership", "phase", "demo")),
    "exports": ("Exports, backups and API access", ("export", "api")),
}
# A few verbs of a prefix belong elsewhere: a review backup is an export, not a setting.
AREA_OF_VERB = {"review.export": "exports", "review.import": "exports"}

VERB_LABELS: dict[str, str] = {
    "appraisal.create": "appraised",
    "appraisal.delete": "deleted an appraisal",
    "appraisal.update": "changed an appraisal",
    "cmoc.check": "second-coded a CMOC",
    "cmoc.comment": "commented on a CMOC",
    "cmoc.create": "created a CMOC",
    "cmoc.uncheck": "withdrew a second-coder check",
    "cmoc.update": "changed a CMOC",
    "cmoc_link.create": "chained two CMOCs",
    "cmoc_link.delete": "removed a CMOC chain link",
    "concept.create": "added a concept",
    "concept.merge": "merged concepts",
    "concept.move": "moved a concept",
    "concept.rename": "renamed a concept",
    "concept.update": "described a concept",
    "demi_regularity.create": "created a demi-regularity",
    "demi_regularity.delete": "deleted a demi-regularity",
    "demi_regularity.update": "changed a demi-regularity",
    "demo.load": "loaded the demo review",
    "document.create": "added a document",
    "duplicate.confirm": "merged duplicates",
    "duplicate.reject": "marked records as not duplicates",
    "duplicate.undo": "undid a duplicate decision",
    "evidence.add": "added evidence to a CMOC",
    "evidence.remove": "removed evidence from a CMOC",
    "evidence.stance": "changed an evidence stance",
    "excerpt.create": "highlighted an excerpt",
    "excerpt.delete": "deleted an excerpt",
    "excerpt.update": "changed an excerpt",
    "api.token_replace": "replaced their API token",
    "export.download": "downloaded an export",
    "export.request": "requested an export",
    "extraction.consensus": "agreed an extraction value",
    "extraction.save": "extracted study characteristics",
    "field.add": "added an extraction field",
    "field.remove": "removed an extraction field",
    "field.reorder": "reordered extraction fields",
    "field.update": "changed an extraction field",
    "form.create": "created an extraction form",
    "form.update": "changed an extraction form",
    "form.version": "versioned an extraction form",
    "fulltext.not_retrieved": "marked a full text not retrieved",
    "fulltext.upload": "uploaded a full text",
    "import.columns": "mapped import columns",
    "import.run": "imported records",
    "import.upload": "uploaded an import file",
    "membership.remove": "removed a member",
    "membership.set": "set a member's role",
    "middle_range_theory.create": "created a middle-range theory",
    "middle_range_theory.delete": "deleted a middle-range theory",
    "middle_range_theory.link": "linked a CMOC to a theory",
    "middle_range_theory.unlink": "unlinked a CMOC from a theory",
    "middle_range_theory.update": "changed a middle-range theory",
    "participant.create": "added a participant",
    "participant.update": "changed a participant",
    "phase.create": "added a phase",
    "phase.delete": "deleted a phase",
    "phase.update": "changed a phase",
    "ranking.excluded_remaining": "excluded the remaining records by automation",
    "ranking.requested": "requested prioritisation",
    "ranking.trained": "prioritised the queue",
    "report.group": "grouped a report with a study",
    "review.create": "started the review",
    "review.export": "backed up the review",
    "review.import": "restored the review",
    "review.update": "changed the review's details",
    "screening.change": "changed a screening vote",
    "screening.decide": "screened a record",
    "screening.resolve": "resolved a screening conflict",
    "screening.settings": "changed the screening settings",
    "screening.undo": "withdrew a screening vote",
    "search.create": "logged a search",
    "search.update": "changed a search",
    "stage.create": "added a screening stage",
    "stage.update": "changed a screening stage",
    "study.create": "created a study",
    "theory_version.create": "saved a programme theory version",
}

TARGET_LABELS = {
    "cmoc": "CMOC",
    "cmoclink": "CMOC link",
    "concept": "concept",
    "demiregularity": "demi-regularity",
    "document": "document",
    "duplicatecandidate": "duplicate pair",
    "excerpt": "excerpt",
    "extractionfield": "extraction field",
    "extractionform": "extraction form",
    "importbatch": "import",
    "middlerangetheory": "middle-range theory",
    "participant": "participant",
    "record": "record",
    "review": "review",
    "screeningdecision": "screening vote",
    "screeningresolution": "conflict resolution",
    "screeningstage": "screening stage",
    "search": "search",
    "study": "study",
    "theoryversion": "programme theory version",
}


def area_of(verb: str) -> str:
    """The area key of a verb ("" when it belongs to none)."""
    if verb in AREA_OF_VERB:
        return AREA_OF_VERB[verb]
    prefix = verb.split(".", 1)[0]
    for key, (_label, prefixes) in AREAS.items():
        if prefix in prefixes:
            return key
    return ""


def area_verbs(area: str) -> list[str]:
    """The verbs of an area, as an exact list: `verb IN (…)` is answered from the
    (review, verb) index, where `LIKE 'concept.%'` scans every event of the review (SQLite's
    LIKE is case-insensitive and skips the index). Every verb the services write is listed in
    VERB_LABELS (a test reads the sources to keep it so)."""
    return sorted(v for v in VERB_LABELS if area_of(v) == area)


def verb_label(verb: str) -> str:
    if verb in VERB_LABELS:
        return VERB_LABELS[verb]
    thing, _, change = verb.partition(".")
    return f"{change.replace('_', ' ') or 'changed'} {thing.replace('_', ' ')}".strip()


def target_label(target_type: str) -> str:
    return TARGET_LABELS.get(target_type, target_type.replace("_", " "))


def _text(value) -> str:
    """One value as a person reads it: lists joined, empties as a dash, nested data as JSON."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


NOT_RECORDED = "(not recorded)"


@dataclass(frozen=True)
class Change:
    field: str
    old: str
    new: str


@dataclass(frozen=True)
class Details:
    """`data` made readable: field-by-field changes (from `old`/`new`) and other facts."""

    changes: list[Change]
    facts: list[tuple[str, str]]

    def __bool__(self) -> bool:
        return bool(self.changes or self.facts)


def details(data: dict | None) -> Details:
    """Split an event's data into changes and facts. Services write `{"old": …, "new": …}`
    either as two dicts (a record of fields, compared key by key; unchanged keys are left
    out) or as two plain values (one field: shown as "value"); or `{"changed": …}` (below)."""
    data = data if isinstance(data, dict) else {}
    changes: list[Change] = []
    facts: list[tuple[str, str]] = []
    skip = {"old", "new"}
    changed = data.get("changed")
    if isinstance(changed, dict):
        # {"changed": {field: [old, new]}} (excerpts) or {"changed": {field: new}} with the
        # old values, where recorded, in {"old": {field: old}} (CMOCs)
        before = data.get("old") if isinstance(data.get("old"), dict) else {}
        for key, value in changed.items():
            if key not in before and isinstance(value, list) and len(value) == 2:
                changes.append(Change(_field(key), _text(value[0]), _text(value[1])))
            else:
                old = _text(before[key]) if key in before else NOT_RECORDED
                changes.append(Change(_field(key), old, _text(value)))
        skip = {"old", "changed"}
    elif "old" in data or "new" in data:
        old, new = data.get("old"), data.get("new")
        if isinstance(old, dict) or isinstance(new, dict):
            old, new = old if isinstance(old, dict) else {}, new if isinstance(new, dict) else {}
            for key in [*old, *(k for k in new if k not in old)]:
                if old.get(key) != new.get(key):
                    changes.append(Change(_field(key), _text(old.get(key)), _text(new.get(key))))
        elif old != new:
            changes.append(Change("value", _text(old), _text(new)))
    for key, value in data.items():
        if key not in skip:
            facts.append((_field(key), _text(value)))
    return Details(changes, facts)


def _field(key) -> str:
    return str(key).replace("_", " ")
