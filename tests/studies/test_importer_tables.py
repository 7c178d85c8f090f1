"""Tables written from BibTeX by reference tools (CoLRev, bib-dedupe's benchmark sets,
JabRef): the entry type, the venue of conference papers, and placeholders in empty cells."""

from studies.importers import parse

COLREV_CSV = (
    "ID,ENTRYTYPE,title,author,year,journal,booktitle,volume,number,pages,doi\n"
    'a1,inproceedings,Platform work and control,"Smith, Ann and Jones, Bo",2019,,'
    "Proceedings of ICIS 2019,UNKNOWN,UNKNOWN,1--12,\n"
    'a2,article,Algorithmic management,"Lee, Cy",2020,Work Employ Soc,,34,2,201--219,'
    "10.1177/0950017019863658\n"
)


def test_entry_type_and_conference_venue_are_read():
    result = parse(COLREV_CSV.encode(), filename="records_pre_merged.csv")
    assert result.format == "csv"
    paper, article = result.records
    assert paper.type == "inproceedings" and article.type == "article"
    # No journal: the proceedings are the venue (dedup compares venues).
    assert paper.journal == "Proceedings of ICIS 2019"
    assert article.journal == "Work Employ Soc"
    assert paper.authors == ["Smith, Ann", "Jones, Bo"]
    assert (article.volume, article.issue, article.pages) == ("34", "2", "201-219")
    assert article.doi == "10.1177/0950017019863658"


def test_placeholders_are_not_stored_but_kept_in_raw():
    paper = parse(COLREV_CSV.encode(), filename="x.csv").records[0]
    assert (paper.volume, paper.issue) == ("", "")
    assert paper.raw["volume"] == "UNKNOWN"
    assert "booktitle" in paper.raw and "ENTRYTYPE" in paper.raw


def test_a_journal_column_wins_over_book_title_when_both_are_filled():
    text = "title,journal,booktitle\nA study,Journal of Things,Some Book\n"
    assert parse(text.encode(), filename="t.csv").records[0].journal == "Journal of Things"
