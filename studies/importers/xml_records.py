"""Records from an XML export one element at a time (EndNote XML, PubMed XML), via lxml
iterparse: entities are not resolved, no DTD is loaded and the network is never touched (no
XXE, no billion laughs); each record element is converted, then cleared with what came before
it, so the tree never holds more than one record however large the file.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator

from lxml import etree

from studies.importers.base import ImportedRecord, ImportFormatError


def iter_elements(
    text: str,
    *,
    tag: str | tuple[str, ...],
    convert: Callable[[etree._Element, int | None], ImportedRecord],
    missing: str,
) -> Iterator[ImportedRecord]:
    """`convert(element, line)` for each `tag` element; a malformed file raises
    ImportFormatError naming the line and record, one without any `tag` says `missing`."""
    data = text.encode("utf-8")
    if data.lstrip().startswith(b"<?xml"):  # the text is decoded: drop the encoding claim
        end = data.find(b"?>")
        data = data[end + 2 :] if end != -1 else data
    context = etree.iterparse(
        io.BytesIO(data),
        events=("end",),
        tag=tag,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=True,
        recover=False,
    )
    del data  # the BytesIO holds it
    count = 0
    try:
        for _event, el in context:
            count += 1
            rec = convert(el, el.sourceline)
            el.clear(keep_tail=False)
            parent = el.getparent()
            while parent is not None and el.getprevious() is not None:
                del parent[0]
            yield rec
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if getattr(exc, "lineno", None) else None
        msg = exc.msg if getattr(exc, "msg", None) else str(exc)
        raise ImportFormatError(f"malformed XML: {msg}", line=line, record=count + 1) from None
    if not count:
        raise ImportFormatError(missing, line=1)
