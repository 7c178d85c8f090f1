"""Mark a review's inclusion terms (green) and exclusion terms (red) in a title or abstract.

Plain Python: returns HTML-escaped text with <mark> tags, safe to render.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache


def parse_terms(text: str) -> tuple[str, ...]:
    """One term per line (commas also separate); blanks dropped; a trailing * is a wildcard."""
    terms = []
    for line in (text or "").replace(",", "\n").splitlines():
        term = line.strip()
        if term and term not in terms:
            terms.append(term)
    return tuple(terms)


def _term_pattern(term: str) -> str:
    if term.endswith("*"):
        return r"\b" + re.escape(term[:-1]) + r"\w*"
    return r"\b" + re.escape(term) + r"\b"


@lru_cache(maxsize=64)
def _compiled(include: tuple[str, ...], exclude: tuple[str, ...]) -> re.Pattern | None:
    parts = [f"(?P<i{n}>{_term_pattern(t)})" for n, t in enumerate(include)]
    parts += [f"(?P<e{n}>{_term_pattern(t)})" for n, t in enumerate(exclude)]
    if not parts:
        return None
    # Longer terms first so "care home" wins over "care".
    parts.sort(key=len, reverse=True)
    return re.compile("|".join(parts), re.IGNORECASE)


def highlight(text: str, include: tuple[str, ...], exclude: tuple[str, ...]) -> str:
    pattern = _compiled(tuple(include), tuple(exclude))
    if pattern is None or not text:
        return html.escape(text or "")
    out, last = [], 0
    for m in pattern.finditer(text):
        out.append(html.escape(text[last : m.start()]))
        kind = "include" if (m.lastgroup or "").startswith("i") else "exclude"
        out.append(f'<mark class="hl-{kind}">{html.escape(m.group(0))}</mark>')
        last = m.end()
    out.append(html.escape(text[last:]))
    return "".join(out)
