"""PubMed XML (PubmedArticleSet: PubMed's XML download, E-utilities efetch) via lxml iterparse.

As for EndNote XML: entities are not resolved, the DTD named in the DOCTYPE is never fetched,
and each <PubmedArticle> is converted and then cleared, so memory stays flat.
"""

from __future__ import annotations

from studies.importers.base import (
    ImportedRecord,
    clean_abstract,
    clean_doi,
    clean_list,
    clean_pages,
    clean_pmid,
    clean_text,
    clean_year,
    finish,
)
from studies.importers.xml_records import iter_elements

_ARTICLES = ("PubmedArticle", "PubmedBookArticle")


def _text(el) -> str:
    """The element's text with inline markup (<i>, <sup>) flattened."""
    return "".join(el.itertext()).strip() if el is not None else ""


def _first(root, *paths: str) -> str:
    for path in paths:
        for el in root.iterfind(path):
            if value := _text(el):
                return value
    return ""


def _author(el) -> str:
    if (collective := _text(el.find("CollectiveName"))) != "":
        return collective
    last = _text(el.find("LastName"))
    first = _text(el.find("ForeName")) or _text(el.find("Initials"))
    return f"{last}, {first}" if last and first else last or first


def to_record(article, line: int | None) -> ImportedRecord:
    pmid = _first(article, ".//MedlineCitation/PMID", ".//BookDocument/PMID")
    ids = {
        el.get("IdType", ""): _text(el)
        for el in article.iterfind(".//PubmedData/ArticleIdList/ArticleId")
    }
    elocations = {el.get("EIdType", ""): _text(el) for el in article.iterfind(".//ELocationID")}
    # Structured abstracts: one AbstractText per section, its heading in Label.
    sections = []
    for el in article.iterfind(".//Abstract/AbstractText"):
        text = _text(el)
        label = el.get("Label")
        sections.append(f"{label}: {text}" if label and text else text)
    authors = [_author(el) for el in article.iterfind(".//AuthorList[@Type='authors']/Author")]
    if not authors:
        authors = [_author(el) for el in article.iterfind(".//AuthorList/Author")]
    pages = _first(article, ".//Pagination/MedlinePgn")
    if not pages:
        start, end = (
            _first(article, ".//Pagination/StartPage"),
            _first(article, ".//Pagination/EndPage"),
        )
        pages = clean_pages(start, end)
    keywords = [_text(el) for el in article.iterfind(".//KeywordList/Keyword")] + [
        _text(el) for el in article.iterfind(".//MeshHeadingList/MeshHeading/DescriptorName")
    ]
    date = _first(article, ".//JournalIssue/PubDate/Year", ".//JournalIssue/PubDate/MedlineDate")
    raw = {
        "PMID": pmid,
        "ArticleTitle": _first(article, ".//ArticleTitle", ".//BookTitle"),
        "VernacularTitle": _first(article, ".//VernacularTitle"),
        "Journal": _first(article, ".//Journal/Title"),
        "ISOAbbreviation": _first(article, ".//Journal/ISOAbbreviation"),
        "ISSN": [_text(el) for el in article.iterfind(".//Journal/ISSN")],
        "Volume": _first(article, ".//JournalIssue/Volume"),
        "Issue": _first(article, ".//JournalIssue/Issue"),
        "PubDate": " ".join(_text(el) for el in article.iterfind(".//JournalIssue/PubDate/*")),
        "Pagination": _first(article, ".//Pagination/MedlinePgn"),
        "ELocationID": elocations,
        "AuthorList": authors,
        "Affiliation": [_text(el) for el in article.iterfind(".//AffiliationInfo/Affiliation")],
        "AbstractText": sections,
        "Language": [_text(el) for el in article.iterfind(".//Language")],
        "PublicationType": [_text(el) for el in article.iterfind(".//PublicationType")],
        "Keyword": keywords,
        "ArticleIdList": ids,
        "PublicationStatus": _first(article, ".//PubmedData/PublicationStatus"),
        "Publisher": _first(article, ".//Book/Publisher/PublisherName"),
    }
    rec = ImportedRecord(
        title=clean_text(raw["ArticleTitle"] or raw["VernacularTitle"]),
        abstract=clean_abstract("\n".join(s for s in sections if s)),
        authors=clean_list(authors),
        year=clean_year(date)
        or clean_year(_first(article, ".//ArticleDate/Year", ".//Book/PubDate/Year")),
        journal=clean_text(raw["Journal"] or raw["ISOAbbreviation"]),
        volume=clean_text(raw["Volume"]),
        issue=clean_text(raw["Issue"]),
        pages=clean_pages(pages),
        doi=clean_doi(elocations.get("doi") or ids.get("doi", "")),
        pmid=clean_pmid(pmid or ids.get("pubmed", "")),
        keywords=clean_list(keywords),
        type=clean_text(raw["PublicationType"][0] if raw["PublicationType"] else ""),
        language=clean_text(raw["Language"][0] if raw["Language"] else ""),
        raw={k: v for k, v in raw.items() if v},
        line=line,
    )
    if rec.pmid:
        rec.url = f"https://pubmed.ncbi.nlm.nih.gov/{rec.pmid}/"
    return finish(rec)


def iter_records(text: str, warnings: list[str]):
    return iter_elements(
        text, tag=_ARTICLES, convert=to_record, missing="no <PubmedArticle> element found"
    )
