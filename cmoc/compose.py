"""Compose a CMOC statement from its parts. Plain Python, no Django."""


def _lower_first(s: str) -> str:
    return s[:1].lower() + s[1:]


def statement_compose(
    *, context: str = "", resource: str = "", reasoning: str = "", outcome: str = ""
) -> str:
    """A CMOC statement in the usual realist phrasing — "In the context of C, resource R
    triggers reasoning M, leading to O" — which the coder then edits."""

    def clean(s: str) -> str:
        return " ".join(s.split()).rstrip(".;,").strip()

    c, r, m, o = clean(context), clean(resource), clean(reasoning), clean(outcome)
    mechanism = f"{r} triggers {_lower_first(m)}" if r and m else (r or m)
    clauses = []
    if c:
        clauses.append(f"In the context of {_lower_first(c)}")
    if mechanism:
        clauses.append(_lower_first(mechanism) if clauses else mechanism)
    if o:
        clauses.append(f"leading to {_lower_first(o)}" if clauses else o)
    s = ", ".join(clauses)
    return (s[:1].upper() + s[1:] + ".") if s else ""
