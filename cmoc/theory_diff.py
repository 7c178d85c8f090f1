"""Programme theory versions as plain data: snapshot → graph input, and the diff between two
snapshots (no Django import).

A snapshot (``TheoryVersion.snapshot``) is::

    {"format": 1,
     "cmocs": [{"id", "code", "phase", "theme", "statement", "context", "mechanism_resource",
                "mechanism_reasoning", "outcome", "origin", "relation", "prior_id",
                "prior_code", "source_count",
                "elements": [[role, concept_id, concept_label, direction], ...],
                "evidence": [[excerpt_id, stance, study_id], ...]}],
     "links": [{"id", "source", "target", "kind", "note", "evidence": [excerpt_id, ...]}],
     "concepts": {"<concept_id>": label}}
"""

from __future__ import annotations

from cmoc.graph import TheoryData

SNAPSHOT_FORMAT = 1
TEXT_FIELDS = (
    "statement",
    "context",
    "mechanism_resource",
    "mechanism_reasoning",
    "outcome",
)
CHANGE_KINDS = ("added", "removed", "refined", "refuted", "evidence_gained", "evidence_lost")


def snapshot_data(snapshot: dict) -> TheoryData:
    """The graph input for a version, straight from its snapshot."""
    cmocs: dict[int, dict] = {}
    elements: list[tuple[int, str, int, str]] = []
    for c in snapshot.get("cmocs", []):
        cmocs[c["id"]] = {
            "code": c.get("code", ""),
            "phase": c.get("phase") or "",
            "statement": c.get("statement", ""),
            "relation": c.get("relation") or "",
            "theme": c.get("theme") or "",
            "source_count": c.get("source_count") or 0,
        }
        for role, concept_id, _label, direction in c.get("elements", []):
            elements.append((c["id"], role, concept_id, direction or ""))
    concepts = {int(k): v for k, v in snapshot.get("concepts", {}).items()}
    links = [
        {
            "id": lk.get("id"),
            "source": lk["source"],
            "target": lk["target"],
            "kind": lk["kind"],
            "evidence": len(lk.get("evidence", [])),
        }
        for lk in snapshot.get("links", [])
        if lk["source"] in cmocs and lk["target"] in cmocs
    ]
    return TheoryData(cmocs=cmocs, elements=elements, concepts=concepts, links=links)


def _entry(c: dict, why: str, **extra) -> dict:
    return {
        "id": c["id"],
        "code": c.get("code", ""),
        "statement": c.get("statement", ""),
        "phase": c.get("phase") or "",
        "relation": c.get("relation") or "",
        "prior_id": c.get("prior_id"),
        "prior_code": c.get("prior_code") or "",
        "source_count": c.get("source_count") or 0,
        "why": why,
        **extra,
    }


def _elements(c: dict) -> set[tuple]:
    return {(role, concept, direction or "") for role, concept, _label, direction in c["elements"]}


def _element_labels(c: dict) -> dict[tuple, str]:
    return {(r, cid, d or ""): f"{r}: {label}{_arrow(d)}" for r, cid, label, d in c["elements"]}


def _arrow(direction: str) -> str:
    return {"increase": " ↑", "decrease": " ↓"}.get(direction or "", "")


def version_diff(old: dict, new: dict) -> dict:
    """What changed from snapshot `old` to snapshot `new`.

    - added: CMOCs only in `new` (a new CMOC that refines or refutes a prior one is listed
      under refined/refuted instead, linked to its prior);
    - removed: CMOCs only in `old` (noting which new CMOC supersedes them, if any);
    - refined: CMOCs in both whose statement, C/M/O text or coded elements changed, and new
      CMOCs whose relation to prior theory is "refines";
    - refuted: new CMOCs that refute a prior one, and CMOCs whose relation became "refutes";
    - evidence_gained / evidence_lost: excerpts added to or dropped from CMOCs in both.

    CMOCs are matched by id, then by code (a CMOC deleted and re-coded under the same code).
    """
    old_by_id = {c["id"]: c for c in old.get("cmocs", [])}
    new_by_id = {c["id"]: c for c in new.get("cmocs", [])}
    pairs: list[tuple[dict, dict]] = []
    only_new = [c for i, c in new_by_id.items() if i not in old_by_id]
    only_old = {c.get("code"): c for i, c in old_by_id.items() if i not in new_by_id}
    for i, c in new_by_id.items():
        if i in old_by_id:
            pairs.append((old_by_id[i], c))
    still_new = []
    for c in only_new:
        match = only_old.pop(c.get("code"), None)
        if match is not None:
            pairs.append((match, c))
        else:
            still_new.append(c)

    out: dict[str, list] = {k: [] for k in CHANGE_KINDS}
    superseded: dict[int, list[str]] = {}
    for c in still_new:
        relation = c.get("relation") or ""
        prior = c.get("prior_code") or ""
        if relation == "refines":
            out["refined"].append(_entry(c, f"New CMOC refining {prior or 'prior theory'}"))
        elif relation == "refutes":
            out["refuted"].append(_entry(c, f"New CMOC refuting {prior or 'prior theory'}"))
        else:
            label = {
                "affirms": "affirms prior theory",
                "novel_context": "novel in context",
                "novel_mechanism": "novel in mechanism",
                "novel_outcome": "novel in outcome",
                "novel_relationship": "novel relationship",
            }.get(relation, "new")
            out["added"].append(_entry(c, f"New CMOC ({label})"))
        if c.get("prior_id") is not None:
            superseded.setdefault(c["prior_id"], []).append(c.get("code", ""))

    for c in only_old.values():
        by = superseded.get(c["id"])
        why = f"Removed; superseded by {', '.join(by)}" if by else "Removed from the theory"
        out["removed"].append(_entry(c, why))

    unchanged = 0
    for a, b in pairs:
        changed = [f for f in TEXT_FIELDS if (a.get(f) or "") != (b.get(f) or "")]
        ea, eb = _elements(a), _elements(b)
        element_changes = []
        if ea != eb:
            labels = {**_element_labels(a), **_element_labels(b)}
            element_changes = [f"+ {labels[e]}" for e in sorted(eb - ea, key=str)] + [
                f"− {labels[e]}" for e in sorted(ea - eb, key=str)
            ]
            changed.append("elements")
        became_refuted = (b.get("relation") == "refutes") and (a.get("relation") != "refutes")
        if became_refuted:
            out["refuted"].append(
                _entry(b, "Relation to prior theory is now “refutes”", changes=changed)
            )
        elif changed:
            why = "Edited: " + ", ".join(f.replace("_", " ") for f in changed)
            out["refined"].append(_entry(b, why, changes=changed, element_changes=element_changes))
        ev_a = {e[0]: e for e in a.get("evidence", [])}
        ev_b = {e[0]: e for e in b.get("evidence", [])}
        gained = [ev_b[i] for i in ev_b if i not in ev_a]
        lost = [ev_a[i] for i in ev_a if i not in ev_b]
        delta = (b.get("source_count") or 0) - (a.get("source_count") or 0)
        if gained:
            out["evidence_gained"].append(
                _entry(
                    b,
                    f"{len(gained)} excerpt{'s' if len(gained) != 1 else ''} added"
                    + (f"; sources {delta:+d}" if delta else ""),
                    excerpts=[{"id": e[0], "stance": e[1]} for e in gained],
                )
            )
        if lost:
            out["evidence_lost"].append(
                _entry(
                    b,
                    f"{len(lost)} excerpt{'s' if len(lost) != 1 else ''} dropped"
                    + (f"; sources {delta:+d}" if delta else ""),
                    excerpts=[{"id": e[0], "stance": e[1]} for e in lost],
                )
            )
        if not (changed or became_refuted or gained or lost):
            unchanged += 1

    for kind in CHANGE_KINDS:
        out[kind].sort(key=lambda e: e["code"])
    return {
        **out,
        "unchanged": unchanged,
        "counts": {k: len(out[k]) for k in CHANGE_KINDS},
        "old_total": len(old_by_id),
        "new_total": len(new_by_id),
    }
