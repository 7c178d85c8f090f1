"""Extract the text of a full text (PDF, TXT, HTML) with the offset at which each page starts.

Plain Python. Excerpt offsets point into the returned text, and `page_map[i]` is the start
offset of page i + 1, so a passage's page number can always be recovered.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

DOI_RE = re.compile(r"\b10\.\d{4,9}/[^\s\"<>]+", re.IGNORECASE)


class ExtractionError(ValueError):
    pass


@dataclass
class Extracted:
    text: str
    page_map: list[int]
    content_type: str


def kind_of(filename: str) -> str:
    name = filename.lower()
    if name.endswith(".pdf"):
        return "pdf"
    if name.endswith((".txt", ".text")):
        return "txt"
    if name.endswith((".html", ".htm", ".xhtml")):
        return "html"
    raise ExtractionError(f"{filename}: only PDF, TXT and HTML full texts can be uploaded.")


def _join_pages(pages: list[str]) -> tuple[str, list[int]]:
    text, page_map, offset = [], [], 0
    for page in pages:
        page_map.append(offset)
        chunk = page.rstrip() + "\n\n"
        text.append(chunk)
        offset += len(chunk)
    return "".join(text), page_map


def _decode(data: bytes) -> str:
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def extract(filename: str, data: bytes) -> Extracted:
    kind = kind_of(filename)
    if kind == "pdf":
        from pypdf import PdfReader

        try:
            reader = PdfReader(io.BytesIO(data))
            pages = [(p.extract_text() or "") for p in reader.pages]
        except Exception as exc:  # noqa: BLE001
            # A damaged PDF makes pypdf raise far more than PdfReadError (TypeError,
            # AttributeError, LimitReachedError… seen on corrupted copies): all of them mean
            # the same to the reviewer, and none may be a server error.
            raise ExtractionError(f"{filename}: not a readable PDF ({exc}).") from exc
        text, page_map = _join_pages(pages)
        return Extracted(text, page_map, "application/pdf")
    if kind == "txt":
        # A form feed is the conventional page break in plain-text exports.
        text, page_map = _join_pages(_decode(data).split("\f"))
        return Extracted(text, page_map, "text/plain")
    import lxml.html

    try:
        root = lxml.html.fromstring(data)
    except (ValueError, lxml.etree.ParserError) as exc:
        raise ExtractionError(f"{filename}: not readable HTML ({exc}).") from exc
    for bad in root.xpath("//script|//style"):
        bad.drop_tree()
    text = re.sub(r"[ \t]+", " ", root.text_content())
    text = re.sub(r"\n\s*\n+", "\n\n", text).strip() + "\n"
    return Extracted(text, [0], "text/html")


def normalise_doi(doi: str) -> str:
    doi = (doi or "").strip().lower()
    doi = re.sub(r"^(https?://(dx\.)?doi\.org/|doi:\s*)", "", doi)
    return doi.rstrip(".,;)")


def doi_from_filename(filename: str) -> str:
    """A DOI written into a file name, with "/" replaced by "_" (or kept)."""
    stem = re.sub(r"\.(pdf|txt|text|html?|xhtml)$", "", filename.lower())
    stem = stem.rsplit("/", 1)[-1]
    if stem.startswith("10."):
        head, _, tail = stem.partition("_")
        return normalise_doi(f"{head}/{tail}" if tail and "/" not in stem else stem)
    return ""


def dois_in_text(text: str, limit: int = 5000) -> list[str]:
    """DOIs printed near the start of a full text (the article's own DOI is usually there)."""
    return [normalise_doi(m.group(0)) for m in DOI_RE.finditer(text[:limit])]
