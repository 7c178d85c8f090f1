"""Split a document's text into runs for the reader, at excerpt and page boundaries.

Plain Python (no Django) so it can be tested on its own. The reader renders each run as a
``<span data-offset=…>``; because offsets come from the stored text rather than from the DOM,
excerpts keep their place however the page is re-rendered or styled.
"""

from bisect import bisect_right
from dataclasses import dataclass, field


@dataclass
class Segment:
    start: int
    end: int
    text: str
    excerpt_ids: list[int] = field(default_factory=list)
    page: int | None = None  # set on the first segment of each page
    opens: list[int] = field(default_factory=list)  # excerpts starting here (for anchors)


def page_of(page_map: list[int], offset: int) -> int | None:
    """1-based page containing ``offset`` given the start offsets of pages."""
    if not page_map:
        return None
    return max(1, bisect_right(page_map, offset))


def split(
    text: str, excerpts: list[tuple[int, int, int]], page_map: list[int] | None = None
) -> list[Segment]:
    """``excerpts`` are ``(id, start, end)``; out-of-range offsets are clipped. The
    concatenated segment texts always equal ``text``."""
    n = len(text)
    page_map = [p for p in (page_map or []) if 0 <= p <= n]
    cuts = {0, n}
    spans = []
    for eid, start, end in excerpts:
        s, e = max(0, min(start, n)), max(0, min(end, n))
        if e > s:
            spans.append((eid, s, e))
            cuts.update((s, e))
    cuts.update(page_map)
    points = sorted(cuts)
    page_starts = set(page_map)
    if page_map and 0 not in page_starts:
        page_starts.add(0)
    out: list[Segment] = []
    for a, b in zip(points, points[1:], strict=False):
        if b <= a:
            continue
        covering = [eid for eid, s, e in spans if s <= a and e >= b]
        seg = Segment(start=a, end=b, text=text[a:b], excerpt_ids=covering)
        if a in page_starts:
            seg.page = page_of(page_map, a)
        seg.opens = [eid for eid, s, _ in spans if s == a]
        out.append(seg)
    return out
