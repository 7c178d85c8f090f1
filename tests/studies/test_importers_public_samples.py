"""Importers against the quirks of public export files (session 5).

Each fixture in fixtures/samples/variants reproduces, byte for byte, a habit seen in a public
export file (fixtures/samples/variants/README.md names the file) with a couple of real
references; each test fails without the importer change it guards.
"""

from pathlib import Path

import pytest

from studies.importers import ImportFormatError, parse
from studies.importers.base import clean_abstract, clean_pages, clean_text, clean_year

VARIANTS = Path(__file__).resolve().parents[2] / "fixtures" / "samples" / "variants"


def _parse(name: str):
    return parse((VARIANTS / name).read_bytes(), filename=name)


def test_ais_elibrary_refer_title_before_the_type_line():
    # The AIS eLibrary writes "%T" first and "%0" second; "%0" must not cut the title off
    # into a record of its own.
    result = _parse("ais_elibrary.enw")
    assert (result.format, len(result.records)) == ("refer", 3)
    first, second, third = result.records
    assert (
        first.title == "Analyzing the Past to Prepare for the Future: Writing a Literature Review"
    )
    assert first.authors == ["Webster, Jane", "Watson, Richard T."]
    assert (first.year, first.volume, first.issue, first.pages) == (2002, "26", "2", "xiii-xxiii")
    assert first.journal == "Management Information Systems Quarterly"
    assert first.type == "Journal Article"
    assert second.title.startswith("Synthesizing information systems knowledge")
    assert second.authors[0] == "Paré, Guy" and len(second.authors) == 4
    # A record without "%0" (AIS' conference papers) still stands on its own.
    assert third.title == "Artificial intelligence and the conduct of literature reviews"
    assert (third.authors[0], third.year, third.type) == ("Wagner, Gerit", 2022, "")
    assert not result.warnings
    # "%0" still opens the next record when no blank line came between (EndNote, Refer).
    text = "%0 Journal Article\n%T One\n%A Smith, A\n%0 Journal Article\n%T Two\n"
    assert [r.title for r in parse(text.encode(), filename="x.enw").records] == ["One", "Two"]
    text = "%T One\n%A Smith, A\n%D 2001\n%0 Journal Article\n%T Two\n"  # classic Refer
    assert [r.title for r in parse(text.encode(), filename="x.enw").records] == ["One", "Two"]


def test_trid_ris_compact_start_date_and_pp_pages():
    result = _parse("trid.ris")
    assert (result.format, len(result.records)) == ("ris", 2)
    first, second = result.records
    assert (first.pages, first.year, first.doi) == ("265-294", 2010, "10.1080/01944361003766766")
    assert (second.year, second.pages) == (2008, "73-80")  # "Start date: 20080301", "pp. 73-80"
    assert second.raw["PY"] == "Start date: 20080301"  # kept as exported
    assert second.raw["SP"] == "pp. 73-80"


def test_compact_dates_and_page_labels():
    assert clean_year("20170812") == 2017
    assert clean_year("20171332") is None  # not a date: no year read out of a number
    assert clean_year("Accession 1234567") is None
    assert clean_pages("pp 278-298") == "278-298"
    assert clean_pages("P. 5") == "5"
    assert clean_pages("p1-p5") == "p1-p5"  # a letter prefix of the page itself stays
    assert clean_pages("146p") == "146p"


def test_europe_pmc_bibtex_pmid_key_and_html_headings():
    result = _parse("europe_pmc.bib")
    assert (result.format, len(result.records)) == ("bibtex", 2)
    first, second = result.records
    assert (first.pmid, second.pmid) == ("23360677", "16053581")  # only in the entry key
    assert first.abstract.startswith(
        "Background There is growing interest in realist synthesis as an alternative"
    )
    assert "<h4>" not in first.abstract and "review method. Methods We used" in first.abstract
    assert (first.doi, first.pages, first.year) == ("10.1186/1741-7015-11-21", "21", 2013)
    assert second.pages == "21-34"  # an em dash in Pages
    assert second.journal == "Journal of health services research & policy"
    assert first.raw["ID"] == "PMID:23360677"
    # Other keys are not PMIDs.
    bib = b"@article{smith2020,\n title={A},\n year={2020}\n}\n@article{PMID:123x,\n title={B}\n}\n"
    assert [r.pmid for r in parse(bib, filename="x.bib").records] == ["", ""]


def test_block_markup_separates_words():
    assert clean_text("one<br/>two<p>three</p>") == "one two three"
    assert (
        clean_abstract("<h4>Purpose</h4>Text.<h4>Results</h4>More.")
        == "Purpose Text. Results More."
    )
    assert clean_text("a <i>t</i>-test") == "a t-test"  # inline markup joins as before


def test_pubmed_article_number_only_in_lid_and_major_mesh_marks():
    result = _parse("pubmed_elocation.nbib")
    assert (result.format, len(result.records)) == ("medline", 1)
    rec = result.records[0]
    assert (rec.pages, rec.volume, rec.year) == ("e80092", "11", 2022)  # no PG: the LID
    assert (rec.doi, rec.pmid) == ("10.7554/eLife.80092", "36448670")
    assert rec.keywords == ["Animals", "Dinosaurs", "Fossils"]  # "*Dinosaurs": a major heading
    assert rec.raw["MH"][1] == "*Dinosaurs"  # kept as exported


def test_rayyan_ris_pmid_from_pubmed_links():
    result = _parse("rayyan.ris")
    assert (result.format, len(result.records)) == ("ris", 2)
    first, second = result.records
    assert first.pmid == "23360677"  # https://www.ncbi.nlm.nih.gov/pubmed/23360677
    assert second.pmid == "16053581"  # https://pubmed.ncbi.nlm.nih.gov/16053581/
    assert first.keywords == [
        "Review Literature as Topic", "Publishing/standards", "Research Design/standards"
    ]  # fmt: skip
    assert second.authors == ["Pawson, R.", "Greenhalgh, T.", "Harvey, G.", "Walshe, K."]
    assert first.url == "https://www.ncbi.nlm.nih.gov/pubmed/23360677"
    # A PubMed search link names no record.
    ris = b"TY  - JOUR\nTI  - A\nUR  - https://pubmed.ncbi.nlm.nih.gov/?term=12345678\nER  - \n"
    assert parse(ris, filename="x.ris").records[0].pmid == ""


def test_asreview_csv_with_rispy_columns_and_python_lists():
    # ASReview writes a RIS import back out with rispy's field names and lists as Python
    # literals: first_authors "['Wong, Geoff', ...]", publication_year "2013//".
    result = _parse("asreview_rispy.csv")
    assert (result.format, len(result.records)) == ("csv", 2)
    first, second = result.records
    assert first.authors == [
        "Wong, Geoff", "Greenhalgh, Trish", "Westhorp, Gill", "Buckingham, Jeanette", "Pawson, Ray"
    ]  # fmt: skip
    assert (first.year, first.journal, first.type) == (2013, "BMC medicine", "JOUR")
    assert first.keywords == ["Realist synthesis", "Reporting standards", "Meta-narrative"]
    assert (second.pages, second.issue, second.keywords) == ("21-34", "1_suppl", [])
    assert second.authors[3] == "Walshe, Kieran"
    assert first.raw["first_authors"].startswith("['Wong, Geoff'")  # kept as exported
    # Only a list of strings is read as one; other bracketed text is a value.
    text = "title;authors\nA;[Smith, J]\nB;['Smith, J', 3]\n"
    recs = parse(text.encode(), filename="x.csv").records
    assert [r.authors for r in recs] == [["[Smith, J]"], ["['Smith, J', 3]"]]


def test_pubmed_csv_keeps_two_authors_with_the_same_short_name():
    result = _parse("pubmed_same_initials.csv")
    assert (result.format, len(result.records)) == ("csv", 2)
    first, second = result.records
    assert first.authors == [
        "Hakim M", "Miller R", "Hakim M", "Tumin D", "Tobias JD", "Jatana KR", "Raman VT"
    ]  # fmt: skip
    assert (first.volume, first.issue, first.pages) == ("74", "3", "259-263")
    assert second.authors == ["Wong G", "Greenhalgh T", "Westhorp G", "Buckingham J", "Pawson R"]
    assert (second.volume, second.pages, second.pmid) == ("11", "21", "23360677")


def test_wos_zoological_record_table_pages_in_ps_and_cr_line_ends():
    result = _parse("wos_zoorec_tab.txt")
    assert (result.format, len(result.records)) == ("wos", 2)
    first, second = result.records
    assert first.title.startswith("Testing the benefits of conservation set-asides")
    assert first.authors[:2] == ["Scriven, Sarah A.", "Carlson, Kimberly M."]
    assert len(first.authors) == 7
    assert (first.year, first.volume, first.issue, first.pages) == (2019, "56", "10", "2274-2285")
    assert (first.journal, first.pmid) == ("Journal of Applied Ecology", "31762491")
    assert (second.pages, second.volume, second.issue) == ("146-153", "445", "")


def test_wos_biosis_table_author_email_dropped_and_bp_ep_preferred():
    result = _parse("wos_biosis_tab.txt")
    assert (result.format, len(result.records)) == ("wos", 2)
    first, second = result.records
    assert first.authors[:2] == ["Tingley, Morgan W.", "Stillman, Andrew N."]  # no e-mail
    assert (first.pages, first.doi, first.pmid) == (
        "1484-1496",
        "10.1111/1365-2656.12851",
        "29782655",
    )
    assert second.authors == ["Tarbill, Gina L.", "White, Angela M.", "Manley, Patricia N."]
    assert second.pages == "16"  # BP, not PS "Article No.: 16"
    assert first.raw["AU"].startswith("Tingley, Morgan W. (author@example.org)")  # kept


def test_medline_on_web_of_science_pmid_from_ut():
    result = _parse("wos_medline_tab.txt")
    assert (result.format, len(result.records)) == ("wos", 2)
    first, second = result.records
    assert (first.pmid, second.pmid) == ("29782655", "29414989")  # UT "MEDLINE:…", no PM
    assert (first.pages, second.pages) == ("1484-1496", "e0191645")  # PS
    assert first.authors[0] == "Tingley, Morgan W" and len(second.authors) == 6
    assert (second.doi, second.year, second.volume) == ("10.1371/journal.pone.0191645", 2018, "13")
    # The plain-text export of the same database: UT too, no PM.
    text = (
        "FN Clarivate Analytics Web of Science\nVR 1.0\nPT J\nAU Tingley, MW\n"
        "TI Cross-scale occupancy dynamics of a postfire specialist\nPY 2018\n"
        "UT MEDLINE:29782655\nER\n\nEF\n"
    )
    rec = parse(text.encode(), filename="savedrecs.txt").records[0]
    assert rec.pmid == "29782655"


def test_scopus_bibtex_bare_percent_and_ampersand_kept():
    # A bare "%" is a LaTeX comment to the decoder: the rest of the abstract was lost.
    result = _parse("scopus_percent.bib")
    assert (result.format, len(result.records)) == ("bibtex", 2)
    first, second = result.records
    assert "Sixteen (59%) of these fire responses were mediated by burn severity" in first.abstract
    assert first.abstract.endswith("burn heterogeneity or burn status, respectively. © 2019")
    assert first.raw["abstract"] == first.abstract  # raw keeps the text, not its remnant
    assert second.journal == "Forest Ecology & Management"  # a bare "&" became spaces
    assert second.authors == ["Roach, M.C.", "Thompson, F.R., III", "Jones-Farrand, T."]
    # Escaped ones are unchanged; verbatim fields keep their "%" and "&".
    bib = b"@article{k,\n title = {A 10\\% rise \\& more},\n url = {http://x.org/?a=1&b=2%20}\n}\n"
    rec = parse(bib, filename="x.bib").records[0]
    assert (rec.title, rec.url) == ("A 10% rise & more", "http://x.org/?a=1&b=2%20")


def test_cochrane_library_bibtex_authors_entities_and_record_headers():
    result = _parse("cochrane.bib")
    assert (result.format, len(result.records)) == ("bibtex", 2)
    first, second = result.records
    # "Roberts, D, Brown, J, Medley, N, and Dalziel, SR": commas between authors, "and"
    # before the last.
    assert first.authors == ["Roberts, D", "Brown, J", "Medley, N", "Dalziel, SR"]
    assert second.authors == ["Alfirevic, Z", "Devane, D", "Gyte, GML", "Cuthbert, A"]
    assert first.raw["publisher"] == "John Wiley & Sons, Ltd"  # "&amp;"
    assert (first.doi, first.issue, first.year) == ("10.1002/14651858.CD004454.pub3", "3", 2017)
    assert first.journal == "Cochrane Database of Systematic Reviews"
    assert not result.warnings  # the "Record #1 of 2" lines are not entries
    # BibTeX's own comma forms stay one person each.
    bib = b"@article{k,\n author = {von Last, Jr, First and Doe, J. A. and Smith, John},\n}\n"
    assert parse(bib, filename="x.bib").records[0].authors == [
        "von Last, Jr, First", "Doe, J. A.", "Smith, John"
    ]  # fmt: skip


def test_pubmed_xml():
    result = _parse("pubmed.xml")
    assert (result.format, len(result.records)) == ("pubmed-xml", 2)
    first, second = result.records
    assert first.title == "RAMESES publication standards: realist syntheses."  # <i> flattened
    assert first.authors == [
        "Wong, Geoff", "Greenhalgh, Trish", "Westhorp, Gill", "Buckingham, Jeanette", "Pawson, Ray"
    ]  # fmt: skip
    assert (first.year, first.journal, first.volume, first.pages) == (
        2013,
        "BMC medicine",
        "11",
        "21",
    )
    assert (first.doi, first.pmid) == ("10.1186/1741-7015-11-21", "23360677")  # not the cited ones
    assert first.abstract == (
        "BACKGROUND: There is growing interest in realist synthesis as an alternative systematic "
        "review method.\nMETHODS: We used multiple sources to develop and draw together evidence "
        "and expertise in realist synthesis."
    )
    assert (first.keywords, first.type, first.language) == (
        ["Research Design"],
        "Journal Article",
        "eng",
    )
    assert first.raw["ArticleIdList"]["pmc"] == "PMC3558331"
    assert second.journal == "Journal of health services research & policy"
    assert (second.volume, second.pages, second.doi) == (
        "10 Suppl 1",
        "21-34",
        "10.1258/1355819054308530",
    )


def test_pubmed_xml_without_declaration_group_author_and_medline_date():
    xml = (
        "<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>123</PMID><Article>"
        "<Journal><JournalIssue><PubDate><MedlineDate>2019 Mar-Apr</MedlineDate></PubDate>"
        "</JournalIssue><Title>J</Title></Journal><ArticleTitle>T</ArticleTitle>"
        "<AuthorList><Author><LastName>Smith</LastName><Initials>AB</Initials></Author>"
        "<Author><CollectiveName>RAMESES II Project Team</CollectiveName></Author></AuthorList>"
        "</Article></MedlineCitation></PubmedArticle></PubmedArticleSet>"
    )
    result = parse(xml.encode(), filename="efetch.xml")
    rec = result.records[0]
    assert (result.format, rec.pmid, rec.year) == ("pubmed-xml", "123", 2019)
    assert rec.authors == ["Smith, AB", "RAMESES II Project Team"]
    with pytest.raises(ImportFormatError, match="malformed XML"):
        parse(xml[:-30].encode(), filename="cut.xml")


def test_ovid_ris_tag_after_er_joins_its_record():
    # Ovid writes "NL  - <NLM journal abbreviation>" after each record's ER.
    result = _parse("ovid_psycinfo.ris")
    assert (result.format, len(result.records)) == ("ris", 2)
    first, second = result.records
    assert (first.raw["NL"], second.raw["NL"]) == ("J Health Serv Res Policy", "BMC Med")
    assert first.authors == ["Pawson, Ray", "Greenhalgh, Trisha", "Harvey, Gill", "Walshe, Kieran"]
    assert (first.pages, first.issue, first.doi) == ("21-34", "Suppl1", "10.1258/1355819054308530")
    assert second.title == "RAMESES publication standards: Realist syntheses."
    assert result.warnings == ["ignored 1 line(s) outside records (headers, notes)"]  # the link
    # Only tags the record lacks, and only until a blank line: after that they are outside.
    text = "TY  - JOUR\nTI  - A\nER  - \nTI  - B\nNL  - X\n\nNL  - Y\n"
    result = parse(text.encode(), filename="x.ris")
    (rec,) = result.records
    assert (rec.title, "NL" in rec.raw) == ("A", False)
    assert result.warnings == ["ignored 3 line(s) outside records (headers, notes)"]


def test_better_biblatex_report_number_is_not_an_issue():
    result = _parse("better_biblatex_report.bib")
    assert (result.format, len(result.records)) == ("bibtex", 2)
    report, article = result.records
    assert (report.type, report.issue, report.raw["number"]) == ("report", "", "2/2004")
    assert report.year == 2004 and report.authors[0] == "Pawson, Ray"
    assert (article.pages, article.volume, article.year) == ("21", "11", 2013)  # eid, date
    assert article.journal == "BMC Medicine"  # journaltitle
    # An article's number stays its issue.
    bib = b"@article{k,\n title = {T},\n number = {4}\n}\n@techreport{r,\n title = {R},\n number = {7}\n}\n"
    assert [r.issue for r in parse(bib, filename="x.bib").records] == ["4", ""]


def test_ris_fields_after_er_never_join_the_closed_record():
    # A next record that lost its TY: its title and authors are not read into the previous one.
    text = "TY  - JOUR\nTI  - A\nER  - \nAU  - Smith, J\nPY  - 1999\nNL  - X\nER  - \n"
    result = parse(text.encode(), filename="x.ris")
    (rec,) = result.records
    assert (rec.authors, rec.year, "AU" in rec.raw) == ([], None, False)
    assert result.warnings == ["ignored 3 line(s) outside records (headers, notes)"]


def test_major_mesh_mark_on_a_subheading_is_dropped_too():
    """PubMed marks a major subheading after the slash ("Dementia/*therapy"), Ovid the same."""
    nbib = "PMID- 1\nTI  - A title\nMH  - *Dementia/therapy\nMH  - Humans/*psychology\n\n"
    ris = "TY  - JOUR\nTI  - A title\nKW  - Dementia/*therapy\nHumans\nER  - \n"
    for text, name in ((nbib, "one.nbib"), (ris, "one.ris")):
        (rec,) = parse(text.encode(), filename=name).records
        assert "*" not in " ".join(rec.keywords) and "Dementia/therapy" in rec.keywords, name


def test_ebsco_pmid_with_nlm_prefix_in_notes():
    """CINAHL (EBSCO) gives a MEDLINE record's PubMed ID as "PMID: NLM23803397" in a note."""
    text = (
        "TY  - JOUR\nTI  - A title\nN1  - Accession Number: 104183344. Language: English. "
        "NLM UID: 0372646. PMID: NLM23803397.\nDB  - cin20\nER  - \n"
    )
    (rec,) = parse(text.encode(), filename="cinahl.ris").records
    assert rec.pmid == "23803397"


def test_zotero_csv_item_type_extra_pmid_and_tags():
    """Zotero's CSV export: "Item Type" is the type (its "Type" column is a genre, mostly
    empty), the PubMed ID is a "PMID: …" line of "Extra", tags are in two columns."""
    path = Path(__file__).resolve().parents[2] / "fixtures/samples/variants/zotero.csv"
    result = parse(path.read_bytes(), filename="zotero.csv")
    assert result.format == "csv"
    pawson, wong = result.records
    assert pawson.type == wong.type == "journalArticle"
    assert (pawson.pmid, wong.pmid) == ("16053581", "23360677")
    assert pawson.keywords == [
        "realist review", "complex interventions", "Evidence-Based Medicine", "Policy Making"
    ]  # fmt: skip
    assert (pawson.volume, pawson.issue, pawson.pages) == ("10", "1_suppl", "21-34")
    assert pawson.authors[0] == "Pawson, Ray" and len(wong.authors) == 5
    assert pawson.abstract.startswith("Evidence-based policy") and wong.abstract == ""
    assert pawson.raw["Extra"].startswith("PMID: 16053581")
