"""Compose a CMOC statement from its parts. Plain Python, no Django."""


def statement_compose(
    *, context: str = "", resource: str = "", reasoning: str = "", outcome: str = ""
) -> str:
    """A CMOC statement from its parts, in the seed's "In C, M(resource) → M(reasoning) → O"
    phrasing; the coder edits it afterwards."""

    def clean(s: str) -> str:
        return s.strip().rstrip(".").strip()

    c, r, m, o = clean(context), clean(resource), clean(reasoning), clean(outcome)
    parts = []
    if c:
        parts.append(f"In contexts where {c[0].lower() + c[1:]},")
    if r:
        parts.append(r if not parts else r[0].lower() + r[1:])
    if m:
        parts.append(("leads to " if parts else "") + (m[0].lower() + m[1:] if parts else m))
    if o:
        parts.append(("resulting in " if parts else "") + (o[0].lower() + o[1:] if parts else o))
    s = " ".join(parts).strip().rstrip(",")
    return (s[0].upper() + s[1:] + ".") if s else ""
