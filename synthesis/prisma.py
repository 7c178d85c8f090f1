"""PRISMA 2020 flow diagram from a plain dict of counts: totals, arithmetic checks, SVG and
the CSV read by the PRISMA2020 R package / Shiny app. No Django import: the selector in
`synthesis.selectors_reporting.prisma_counts` gathers the counts from the database.

The SVG is written by hand: the diagram is a fixed grid of boxes and no Python library
draws PRISMA 2020 (the R package needs R and DiagrammeR).
"""

import csv
import io
from dataclasses import dataclass, field
from html import escape

# Keys of the counts dict (all optional, default 0 / {}):
#   databases, registers, websites, organisations, citations, other_sources: {source: n}
#   duplicates, automation_excluded, other_removed, records_screened, records_excluded,
#   awaiting_screening, undecided_screening,
#   dbr_sought, dbr_not_retrieved, dbr_assessed, dbr_excluded {reason: n}, dbr_included,
#   dbr_undecided_fulltext,
#   other_sought, other_not_retrieved, other_assessed, other_excluded {reason: n},
#   other_included, other_undecided_fulltext, other_excluded_at_screening,
#   new_studies, new_reports, reports_without_study, previous_studies, previous_reports

DICT_KEYS = (
    "databases", "registers", "websites", "organisations", "citations", "other_sources",
    "dbr_excluded", "other_excluded", "unimported_searches",
)  # fmt: skip


@dataclass
class Check:
    label: str
    ok: bool
    message: str


@dataclass
class Flow:
    counts: dict
    checks: list[Check] = field(default_factory=list)

    def __getitem__(self, key):
        return self.counts[key]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)


def _total(d: dict) -> int:
    return sum(d.values())


def flow(counts: dict) -> Flow:
    """Fill in totals and check that each box follows from the ones above it; every failed
    check says which numbers disagree and the likely reason."""
    c = {k: 0 for k in (
        "duplicates", "automation_excluded", "other_removed", "records_screened",
        "records_excluded", "awaiting_screening", "undecided_screening", "dbr_sought",
        "dbr_not_retrieved", "dbr_assessed", "dbr_included", "dbr_undecided_fulltext",
        "other_sought", "other_not_retrieved", "other_assessed", "other_included",
        "other_undecided_fulltext", "other_excluded_at_screening", "new_studies", "new_reports",
        "reports_without_study", "previous_studies", "previous_reports",
    )}  # fmt: skip
    c.update({k: {} for k in DICT_KEYS})
    c.update(counts)
    c["database_results"] = _total(c["databases"])
    c["register_results"] = _total(c["registers"])
    c["dbr_identified"] = c["database_results"] + c["register_results"]
    c["website_results"] = _total(c["websites"])
    c["organisation_results"] = _total(c["organisations"])
    c["citations_results"] = _total(c["citations"]) + _total(c["other_sources"])
    c["other_identified"] = (
        c["website_results"] + c["organisation_results"] + c["citations_results"]
    )
    c["dbr_excluded_total"] = _total(c["dbr_excluded"])
    c["other_excluded_total"] = _total(c["other_excluded"])
    c["total_studies"] = c["new_studies"] + c["previous_studies"]
    c["total_reports"] = c["new_reports"] + c["previous_reports"]

    checks: list[Check] = []

    def check(label: str, expected: int, actual: int, why: str) -> None:
        ok = expected == actual
        msg = f"{label}: expected {expected}, found {actual}." + ("" if ok else f" {why}")
        checks.append(Check(label, ok, msg))

    removed = c["duplicates"] + c["automation_excluded"] + c["other_removed"]
    check(
        "Records screened = identified − removed before screening",
        c["dbr_identified"] - removed - c["awaiting_screening"],
        c["records_screened"],
        f"{c['awaiting_screening']} records still await title/abstract screening"
        " and are left out; any other gap means duplicates were merged without a search"
        " source or records were imported without a search.",
    )
    check(
        "Reports sought = screened − excluded at title/abstract",
        c["records_screened"] - c["records_excluded"] - c["undecided_screening"],
        c["dbr_sought"],
        f"{c['undecided_screening']} screened records have no final decision (conflict"
        " not resolved, or 'maybe' counted separately).",
    )
    check(
        "Reports assessed (databases) = sought − not retrieved",
        c["dbr_sought"] - c["dbr_not_retrieved"],
        c["dbr_assessed"] + c["dbr_undecided_fulltext"],
        "Some reports were assessed without being sought, or retrieval is still pending.",
    )
    check(
        "Included (databases) = assessed − excluded with reasons",
        c["dbr_assessed"] - c["dbr_excluded_total"],
        c["dbr_included"],
        "Full-text decisions other than include/exclude (e.g. 'maybe') are in neither box.",
    )
    check(
        "Reports assessed (other methods) = sought − not retrieved",
        c["other_sought"] - c["other_not_retrieved"],
        c["other_assessed"] + c["other_undecided_fulltext"],
        "Some reports from other methods were assessed without being sought.",
    )
    check(
        "Included (other methods) = assessed − excluded with reasons",
        c["other_assessed"] - c["other_excluded_total"],
        c["other_included"],
        "Full-text decisions other than include/exclude are in neither box.",
    )
    check(
        "Reports of included studies = included reports of both arms",
        c["dbr_included"] + c["other_included"],
        c["new_reports"],
        "Studies also hold reports that did not pass through screening (e.g. added by hand).",
    )
    # A passed check reads as a fact, not as the problem it guards against ("71 studies but
    # 71 reports" under a tick read like a fault).
    orphans = c["reports_without_study"]
    checks.append(
        Check(
            "Every included report belongs to a study",
            orphans == 0,
            "Every included report belongs to a study."
            if orphans == 0
            else f"{orphans} included reports are not yet grouped under a study.",
        )
    )
    enough = c["new_reports"] >= c["new_studies"]
    checks.append(
        Check(
            "Each included study has at least one report",
            enough,
            f"Each included study has at least one report: {c['new_studies']} studies,"
            f" {c['new_reports']} reports."
            if enough
            else f"{c['new_studies']} studies but only {c['new_reports']} reports:"
            " some included studies have no report.",
        )
    )
    unimported = c.get("unimported_searches") or {}
    if unimported:
        listed = "; ".join(f"{source} ({n:,} reported)" for source, n in unimported.items())
        checks.append(
            Check(
                "Database and register searches have their records imported",
                False,
                f"{len(unimported)} database or register source(s) report hits but have no"
                f" imported records: {listed}. The diagram counts imported records only; import"
                " their exports to have them counted.",
            )
        )
    if c["other_excluded_at_screening"]:
        checks.append(
            Check(
                "Other-methods records excluded at title/abstract",
                True,
                f"{c['other_excluded_at_screening']} records from other methods were excluded at"
                " title/abstract; PRISMA 2020 has no box for them, so they are not shown.",
            )
        )
    return Flow(counts=c, checks=checks)


def _reasons(d: dict) -> str:
    """PRISMA2020 package format: `Reason, n; Reason, n`."""
    return "; ".join(f"{k.replace(';', ',')}, {v}" for k, v in d.items())


# (data key, node, box, description, box text) — the node/box ids the PRISMA2020 package reads.
CSV_ROWS = [
    ("NA", "node4", "prevstud", "Grey title box; Previous studies", "Previous studies"),
    ("previous_studies", "node5", "box1", "Studies included in previous version of review", "Studies included in previous version of review"),
    ("previous_reports", "NA", "box1", "Reports of studies included in previous version of review", "Reports of studies included in previous version of review"),
    ("NA", "node6", "newstud", "Yellow title box; Identification of new studies via databases and registers", "Identification of new studies via databases and registers"),
    ("database_results", "node7", "box2", "Records identified from: Databases", "Databases"),
    ("register_results", "NA", "box2", "Records identified from: Registers", "Registers"),
    ("NA", "node16", "othstud", "Grey title box; Identification of new studies via other methods", "Identification of new studies via other methods"),
    ("website_results", "node17", "box11", "Records identified from: Websites", "Websites"),
    ("organisation_results", "NA", "box11", "Records identified from: Organisations", "Organisations"),
    ("citations_results", "NA", "box11", "Records identified from: Citation searching", "Citation searching"),
    ("duplicates", "node8", "box3", "Duplicate records", "Duplicate records"),
    ("excluded_automatic", "NA", "box3", "Records marked as ineligible by automation tools", "Records marked as ineligible by automation tools"),
    ("excluded_other", "NA", "box3", "Records removed for other reasons", "Records removed for other reasons"),
    ("records_screened", "node9", "box4", "Records screened (databases and registers)", "Records screened"),
    ("records_excluded", "node10", "box5", "Records excluded (databases and registers)", "Records excluded"),
    ("dbr_sought_reports", "node11", "box6", "Reports sought for retrieval (databases and registers)", "Reports sought for retrieval"),
    ("dbr_notretrieved_reports", "node12", "box7", "Reports not retrieved (databases and registers)", "Reports not retrieved"),
    ("other_sought_reports", "node18", "box12", "Reports sought for retrieval (other)", "Reports sought for retrieval"),
    ("other_notretrieved_reports", "node19", "box13", "Reports not retrieved (other)", "Reports not retrieved"),
    ("dbr_assessed", "node13", "box8", "Reports assessed for eligibility (databases and registers)", "Reports assessed for eligibility"),
    ("dbr_excluded", "node14", "box9", "Reports excluded (databases and registers)", "Reports excluded"),
    ("other_assessed", "node20", "box14", "Reports assessed for eligibility (other)", "Reports assessed for eligibility"),
    ("other_excluded", "node21", "box15", "Reports excluded (other)", "Reports excluded"),
    ("new_studies", "node15", "box10", "New studies included in review", "New studies included in review"),
    ("new_reports", "NA", "box10", "Reports of new included studies", "Reports of new included studies"),
    ("total_studies", "node22", "box16", "Total studies included in review", "Total studies included in review"),
    ("total_reports", "NA", "box16", "Reports of total included studies", "Reports of total included studies"),
    ("identification", "node1", "identification", "Blue identification box", "Identification"),
    ("screening", "node2", "screening", "Blue screening box", "Screening"),
    ("included", "node3", "included", "Blue included box", "Included"),
]  # fmt: skip

_CSV_VALUE = {
    "excluded_automatic": "automation_excluded",
    "excluded_other": "other_removed",
    "dbr_sought_reports": "dbr_sought",
    "dbr_notretrieved_reports": "dbr_not_retrieved",
    "other_sought_reports": "other_sought",
    "other_notretrieved_reports": "other_not_retrieved",
}


def prisma2020_csv(f: Flow) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["data", "node", "box", "description", "boxtext", "tooltips", "url", "n"])
    for data, node, box, description, boxtext in CSV_ROWS:
        key = _CSV_VALUE.get(data, data)
        if data in ("dbr_excluded", "other_excluded"):
            n = _reasons(f[data]) or "0"
        elif key in f.counts and not isinstance(f[key], dict):
            n = f[key]
        else:
            n = 0
        w.writerow([data, node, box, description, boxtext, description, "NA", n])
    return out.getvalue()


# ---- SVG -------------------------------------------------------------------------------

W_BOX, GAP = 300, 40


def _box(x: int, y: int, w: int, h: int, lines: list[str], *, fill="#fff", bold=False) -> str:
    text = "".join(
        f'<tspan x="{x + 10}" dy="{0 if i == 0 else 16}">{escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    weight = ' font-weight="bold"' if bold else ""
    return (
        f'<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{fill}" stroke="#333"/>'
        f'<text x="{x + 10}" y="{y + 20}" font-size="13"{weight}>{text}</text>'
    )


def _wrap(text: str, width: int = 40) -> list[str]:
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return lines + ([line] if line else [])


def _arrow(x1, y1, x2, y2) -> str:
    return f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#333" marker-end="url(#arrow)"/>'


def _lines_for(title: str, items: dict, total: int) -> list[str]:
    lines = [f"{title} (n = {total})"] if title else []
    for k, v in items.items():
        lines += [f"  {line}" for line in _wrap(f"{k} (n = {v})", 38)]
    return lines


def svg(f: Flow, *, other_methods: bool = True) -> str:
    """The PRISMA 2020 diagram for new reviews (databases/registers and other methods)."""
    c = f.counts
    x1, x2 = 140, 140 + W_BOX + GAP  # main column, exclusion column (databases arm)
    x3, x4 = x2 + W_BOX + 60, x2 + 2 * W_BOX + 60 + GAP  # other-methods arm
    width = (x4 + W_BOX + 20) if other_methods else (x2 + W_BOX + 20)
    parts: list[str] = []
    y = 20
    parts.append(
        _box(
            x1,
            y,
            2 * W_BOX + GAP,
            30,
            ["Identification of new studies via databases and registers"],
            fill="#f7e6a6",
            bold=True,
        )
    )
    if other_methods:
        parts.append(
            _box(
                x3,
                y,
                2 * W_BOX + GAP,
                30,
                ["Identification of new studies via other methods"],
                fill="#ddd",
                bold=True,
            )
        )

    def rows(key_dict):
        return {k: v for k, v in key_dict.items()}

    y = 70
    ident = ["Records identified from:"]
    ident += _lines_for("Databases", rows(c["databases"]), c["database_results"])
    ident += _lines_for("Registers", rows(c["registers"]), c["register_results"])
    removed = [
        "Records removed before screening:",
        f"  Duplicate records (n = {c['duplicates']})",
        "  Records marked as ineligible",
        f"  by automation tools (n = {c['automation_excluded']})",
        f"  Removed for other reasons (n = {c['other_removed']})",
    ]
    h_ident = max(len(ident), len(removed)) * 16 + 20
    parts.append(_box(x1, y, W_BOX, h_ident, ident))
    parts.append(_box(x2, y, W_BOX, h_ident, removed))
    parts.append(_arrow(x1 + W_BOX, y + h_ident // 2, x2, y + h_ident // 2))
    if other_methods:
        oth = ["Records identified from:"]
        oth += _lines_for("Websites", rows(c["websites"]), c["website_results"])
        oth += _lines_for("Organisations", rows(c["organisations"]), c["organisation_results"])
        oth += _lines_for(
            "Citation searching and other",
            {**c["citations"], **c["other_sources"]},
            c["citations_results"],
        )
        h_oth = max(h_ident, len(oth) * 16 + 20)
        h_ident = max(h_ident, h_oth)
        parts.append(_box(x3, y, W_BOX, h_oth, oth))
    y_top_screen = y + h_ident + GAP
    parts.append(_arrow(x1 + W_BOX // 2, y + h_ident, x1 + W_BOX // 2, y_top_screen))

    def step(y, left: list[str], right: list[str], *, arm_x=x1, right_x=x2, arrow_down=True):
        h = max(len(left), len(right) or 1) * 16 + 20
        parts.append(_box(arm_x, y, W_BOX, h, left))
        if right:
            parts.append(_box(right_x, y, W_BOX, h, right))
            parts.append(_arrow(arm_x + W_BOX, y + h // 2, right_x, y + h // 2))
        if arrow_down:
            parts.append(_arrow(arm_x + W_BOX // 2, y + h, arm_x + W_BOX // 2, y + h + GAP))
        return y + h + GAP

    y = y_top_screen
    y = step(
        y,
        [f"Records screened (n = {c['records_screened']})"],
        [f"Records excluded (n = {c['records_excluded']})"],
    )
    y = step(
        y,
        [f"Reports sought for retrieval (n = {c['dbr_sought']})"],
        [f"Reports not retrieved (n = {c['dbr_not_retrieved']})"],
    )
    excl = _lines_for("Reports excluded:", c["dbr_excluded"], c["dbr_excluded_total"])
    excl[0] = f"Reports excluded (n = {c['dbr_excluded_total']}):"
    y_assess = y
    y = step(y, [f"Reports assessed for eligibility (n = {c['dbr_assessed']})"], excl)
    if other_methods:
        yo = y_top_screen + 16 + 20 + GAP  # start level with "reports sought"
        parts.append(_arrow(x3 + W_BOX // 2, 70 + h_ident, x3 + W_BOX // 2, yo))
        yo = step(
            yo,
            [f"Reports sought for retrieval (n = {c['other_sought']})"],
            [f"Reports not retrieved (n = {c['other_not_retrieved']})"],
            arm_x=x3,
            right_x=x4,
        )
        oexcl = _lines_for("", c["other_excluded"], c["other_excluded_total"])
        oexcl.insert(0, f"Reports excluded (n = {c['other_excluded_total']}):")
        h_ass = max(1, len(oexcl)) * 16 + 20
        yo = max(yo, y_assess)
        step(
            yo,
            [f"Reports assessed for eligibility (n = {c['other_assessed']})"],
            oexcl,
            arm_x=x3,
            right_x=x4,
            arrow_down=False,
        )
        y = max(y, yo + h_ass + GAP)
    incl = [
        f"New studies included in review (n = {c['new_studies']})",
        f"Reports of new included studies (n = {c['new_reports']})",
    ]
    step(y, incl, [], arrow_down=False)
    if other_methods:
        parts.append(_arrow(x3 + W_BOX // 2, yo + h_ass, x1 + W_BOX, y + 20))
    height = y + 16 * 2 + 20 + 20
    # Phase labels down the left side.
    bands = [
        ("Identification", 70, y_top_screen - GAP),
        ("Screening", y_top_screen, y - GAP),
        ("Included", y, height - 20),
    ]
    for label, top, bottom in bands:
        parts.append(
            f'<rect x="20" y="{top}" width="30" height="{bottom - top}" fill="#a9c6e8" stroke="#333"/>'
            f'<text x="40" y="{(top + bottom) // 2}" font-size="13" font-weight="bold" text-anchor="middle"'
            f' transform="rotate(-90 40 {(top + bottom) // 2})">{label}</text>'
        )
    defs = (
        '<defs><marker id="arrow" markerWidth="10" markerHeight="8" refX="9" refY="4" orient="auto">'
        '<path d="M0,0 L10,4 L0,8 z" fill="#333"/></marker></defs>'
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}" font-family="Arial, Helvetica, sans-serif"'
        f' role="img" aria-labelledby="prisma-title"><title id="prisma-title">PRISMA 2020 flow'
        f" diagram</title>{defs}"
        f'<rect width="{width}" height="{height}" fill="#fff"/>' + "".join(parts) + "</svg>"
    )
