"""Bibliographic importers (no Django): bytes → text → format → normalised records.

    result = parse(data, filename="medline.txt")   # format detected from content
    result.records  # list[ImportedRecord]; result.warnings; raises ImportFormatError

Formats: RIS, PubMed/MEDLINE (nbib), BibTeX, EndNote XML, EndNote tagged / Refer (.enw), Web
of Science tagged and tab-delimited, Ovid's tagged and labelled text exports, CSV (Scopus,
Embase, generic, with a user column mapping).
"""

from __future__ import annotations

import codecs
import re

from studies.importers.base import ImportedRecord, ImportFormatError, ParseResult

__all__ = [
    "FORMATS",
    "ImportFormatError",
    "ImportedRecord",
    "ParseResult",
    "decode_bytes",
    "detect_format",
    "parse",
    "parse_stream",
]

FORMATS = {
    "ris": "RIS (and Ovid's own tagged export)",
    "ovid": "Ovid labelled text (the Ovid / Complete Reference display saved as text)",
    "medline": "PubMed / MEDLINE (nbib)",
    "bibtex": "BibTeX",
    "endnote-xml": "EndNote XML",
    "wos": "Web of Science (tagged or tab-delimited)",
    "csv": "CSV (Scopus, Embase, generic)",
    "refer": "EndNote tagged / Refer (.enw)",
    "pubmed-xml": "PubMed XML",
}

_BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
]


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode an export of unknown encoding; returns (text with \\n line ends, encoding).

    Order: BOM; UTF-16 without BOM (NUL bytes in every other position); strict UTF-8;
    then charset-normalizer among the legacy encodings exports actually use (cp1252/latin-1
    from Windows tools, GBK/GB18030 from Chinese databases, Shift-JIS, EUC-KR, cp1251);
    latin-1 last because it never fails.
    """
    if isinstance(data, str):
        return normalise_newlines(data), "str"
    binary = _binary_kind(data)
    if binary == "xlsx":
        from studies.importers.tabular import xlsx_to_csv

        return xlsx_to_csv(data), "xlsx"
    if binary:
        raise ImportFormatError(binary, line=1)
    text = None
    encoding = ""
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                text, encoding = data[len(bom) :].decode(enc), enc
            except UnicodeDecodeError:
                text = None
            break
    if text is None and len(data) >= 4:
        sample = data[:4000]
        even_nuls = sample[0::2].count(0)
        odd_nuls = sample[1::2].count(0)
        half = len(sample) / 2
        if odd_nuls > 0.3 * half and even_nuls < 0.05 * half:
            encoding = "utf-16-le"
        elif even_nuls > 0.3 * half and odd_nuls < 0.05 * half:
            encoding = "utf-16-be"
        if encoding:
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                text, encoding = None, ""
    if text is None:
        try:
            text, encoding = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text = None
    if text is None:
        from charset_normalizer import from_bytes

        best = from_bytes(
            data[:200_000],
            cp_isolation=["cp1252", "latin_1", "gb18030", "big5", "shift_jis", "euc_kr", "cp1251"],
        ).best()
        encoding = best.encoding if best is not None else "cp1252"
        if encoding == "gbk":
            encoding = "gb18030"
        elif encoding == "cp1251" and _same_in_cp1252(data):
            # Western text whose only non-ASCII bytes are typographic punctuation (– “ ”),
            # which both code pages spell alike: name the Western one.
            encoding = "cp1252"
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            text, encoding = data.decode("latin-1"), "latin-1"
    return normalise_newlines(text.lstrip("\ufeff")), encoding


def _binary_kind(data: bytes) -> str:
    """ "xlsx" for an Excel workbook (read as CSV), the problem for other binary files people
    upload instead of the export (a saved workbook, a zipped download, the PDF), "" for text."""
    head = data[:8]
    if head.startswith(b"PK\x03\x04"):
        if b"xl/workbook" in data:
            return "xlsx"
        if b"word/document" in data:
            return "a Word document, not a bibliographic export"
        return "a ZIP archive: unzip it and import the export file inside"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "an old Excel (.xls) or Word (.doc) file: save it as CSV (UTF-8) and import that"
    if head.startswith(b"%PDF"):
        return "a PDF file, not a bibliographic export"
    if head.startswith(b"\x1f\x8b"):
        return "a gzip-compressed file: decompress it and import the export inside"
    return ""


def _same_in_cp1252(data: bytes) -> bool:
    try:
        return data.decode("cp1252") == data.decode("cp1251")
    except UnicodeDecodeError:
        return False


def normalise_newlines(text: str) -> str:
    # `in` first: it runs at memchr speed, replace() scans far slower even when it finds
    # nothing (a tenth of a second on a 160 MB export).
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("\x00", "") if "\x00" in text else text


_RIS_TAG = re.compile(r"^\s*TY\s{1,2}-", re.M)
_MEDLINE = re.compile(r"^(?:PMID|OWN |STAT|PMC |FAU |DCOM)\s*-", re.M)
_WOS_TAGGED = re.compile(r"^(?:FN (?:Thomson|Clarivate|ISI)|VR 1\.0|PT [A-Z]\s*$)", re.M)
_BIBTEX = re.compile(r"^\s*@\s*[A-Za-z]+\s*[{(]", re.M)
_XML = re.compile(r"^\s*(?:<\?xml|<xml>|<records>|<record>)", re.I)
_HTML = re.compile(r"<(?:!doctype\s+html|html[\s>]|head>|body[\s>])", re.I)
# Ovid's own tagged exports (Citavi, EndNote direct export): "<1. >" numbers each record,
# VN names Ovid, and there is no TY or ER.
_OVID_TAGGED = re.compile(r"^(?:VN\s{1,2}- Ovid|<\s*\d+\.\s*>\s*\n[A-Z][A-Z0-9]\s{1,2}- )", re.M)


def detect_format(text: str) -> str:
    """Guess the format from content, not extension. Raises ImportFormatError if none fits."""
    head = text[:20000]
    stripped = head.lstrip()
    if not stripped:
        raise ImportFormatError("the file is empty")
    if stripped[:1] == "<" and _HTML.search(stripped[:2000]) and "<record" not in head:
        raise ImportFormatError(
            "this is a web page (HTML), not an export: perhaps a login or error page was "
            "saved instead of the file",
            line=1,
        )
    if stripped[:1] == "<" and "<PubmedArticle" in head:  # PubMed's XML, with or without <?xml
        return "pubmed-xml"
    if _XML.match(stripped):
        if "<record" in head.lower():
            return "endnote-xml"
        raise ImportFormatError("XML file, but no EndNote <record> elements found")
    first_line = stripped.split("\n", 1)[0]
    if first_line.startswith(("PT\t", "Publication Type\t")) or (
        "\tTI\t" in first_line and "\tAU\t" in first_line
    ):
        return "wos"
    if _RIS_TAG.search(head) or (
        ("VN" in head or ". >" in head) and _OVID_TAGGED.search(head)
    ):  # the substring tests first: the regex would scan every MEDLINE or WoS head
        return "ris"
    if "<1>" in text[:200_000]:  # after a long search strategy, the first record may be far
        from studies.importers.ovid_fields import DETECT as OVID_FIELDS

        if OVID_FIELDS.search(text[:200_000]):
            return "ovid"
    if _MEDLINE.search(head):
        return "medline"
    if _WOS_TAGGED.search(head):
        return "wos"
    if "%" in head:
        from studies.importers.refer import DETECT

        if len(DETECT.findall(head)) >= 2 and not _BIBTEX.search(head):
            return "refer"
    if _BIBTEX.search(head):
        return "bibtex"
    from studies.importers.tabular import looks_tabular

    if looks_tabular(head):
        return "csv"
    raise ImportFormatError(
        "unrecognised format: expected RIS, PubMed/MEDLINE, PubMed XML, BibTeX, EndNote XML, "
        "EndNote tagged (.enw), Web of Science, Ovid or CSV",
        line=1,
    )


class ParseStream:
    """Records parsed lazily, one at a time, so a 100k-record file never sits in memory as
    100k records. Iterate once; `warnings` fills up as records are read, and an
    ImportFormatError (naming file and line) can be raised at any point of the iteration: the
    caller must treat what it consumed so far as void (the import service rolls back)."""

    def __init__(self, text: str, *, format: str, filename: str, options: dict, encoding: str):
        self.format = detect_format(text) if format in ("", "auto") else format
        self.filename = filename
        self.warnings: list[str] = []
        if encoding == "xlsx":
            self.warnings.append("read the first sheet of an Excel workbook")
        elif encoding not in _UNICODE:
            self.warnings.append(f"decoded as {encoding} (not UTF-8)")
        self.count = 0
        # What a file says of the search that produced it (Ovid's text export: database,
        # strategy, hits), for the search log.
        self.meta: dict = {}
        self._text = text
        self._options = options

    def _records(self):
        # Only the format's own module is imported: tabular pulls in pandas (a third of a
        # second), which a RIS or MEDLINE import does not need.
        text, fmt = self._text, self.format
        if fmt == "ris":
            from studies.importers import ris

            return ris.iter_records(text, self.warnings)
        if fmt == "medline":
            from studies.importers import tagged

            return tagged.iter_medline(text, self.warnings)
        if fmt == "ovid":
            from studies.importers import ovid_fields

            return ovid_fields.iter_records(text, self.warnings, self.meta)
        if fmt == "wos":
            first = text.lstrip().split("\n", 1)[0]
            if "\t" not in first:
                from studies.importers import tagged

                return tagged.iter_wos(text, self.warnings)
            from studies.importers import tabular

            return tabular.iter_records(text, self.warnings, options=self._options)
        if fmt == "endnote-xml":
            from studies.importers import endnote

            return endnote.iter_records(text, self.warnings)
        if fmt == "pubmed-xml":
            from studies.importers import pubmed_xml

            return pubmed_xml.iter_records(text, self.warnings)
        if fmt == "refer":
            from studies.importers import refer

            return refer.iter_records(text, self.warnings)
        if fmt == "csv":
            from studies.importers import tabular

            return tabular.iter_records(text, self.warnings, options=self._options)
        if fmt == "bibtex":
            from studies.importers import bibtex

            # bibtexparser 2 parses the whole string into a Library before handing out any
            # entry (its splitter needs the full text to pair braces and resolve @string
            # macros used anywhere in the file), so BibTeX records are built as a list.
            result = bibtex.parse(text)
            self.warnings.extend(result.warnings)
            return iter(result.records)
        raise ImportFormatError(f"unknown format {fmt!r}")

    def __iter__(self):
        try:
            for i, rec in enumerate(self._records(), start=1):
                if rec.is_empty:
                    where = f"line {rec.line}" if rec.line else f"record {i}"
                    self.warnings.append(
                        f"{where}: skipped a record with no title, author or identifier"
                    )
                    continue
                self.count += 1
                yield rec
        except ImportFormatError as exc:
            raise exc.with_filename(self.filename) from None
        except RecursionError:
            raise ImportFormatError(
                "the file is nested too deeply", filename=self.filename
            ) from None
        self._text = ""  # release the text once read
        if not self.count:
            raise ImportFormatError(
                f"no records found in this {FORMATS.get(self.format, self.format)} file",
                filename=self.filename,
            )


_UNICODE = ("utf-8", "str", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")


def parse_stream(
    data: bytes | str, *, format: str = "auto", filename: str = "", options: dict | None = None
) -> ParseStream:
    """Decode and detect now (errors raised here), parse lazily while iterating."""
    try:
        text, encoding = decode_bytes(data)
        return ParseStream(
            text, format=format, filename=filename, options=options or {}, encoding=encoding
        )
    except ImportFormatError as exc:
        raise exc.with_filename(filename) from None


def parse(
    data: bytes | str, *, format: str = "auto", filename: str = "", options: dict | None = None
) -> ParseResult:
    stream = parse_stream(data, format=format, filename=filename, options=options)
    records = list(stream)
    return ParseResult(stream.format, records, stream.warnings)
