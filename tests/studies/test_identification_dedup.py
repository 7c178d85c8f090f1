"""studies.dedup: exact identifiers, fuzzy matching, conservative vetoes, clustering."""

from hypothesis import given, settings
from hypothesis import strategies as st

from studies.dedup import DedupItem, clusters, find_duplicates, fold, norm_doi

BASE = dict(
    title="Researcher-practitioner partnerships in health services: a realist review",
    authors=["Mervyn, Kieran", "Simon, Amy", "Allen, David K."],
    year=2019, journal="Health Research Policy and Systems", volume="17", issue="1", pages="23-35",
)  # fmt: skip


def item(id, **kw):
    return DedupItem(id=id, **{**BASE, **kw})


def test_normalisation():
    assert fold("Café  Société: A “Naïve” Study!") == "cafe societe a naive study"
    assert norm_doi("https://doi.org/10.1186/S12961") == "10.1186/s12961"
    assert norm_doi("doi:10.1/X") == "10.1/x"


def test_doi_in_different_forms_and_variants_merge():
    a = item(1, doi="10.1186/S12961-019-0423-9")
    b = item(2, doi="https://doi.org/10.1186/s12961-019-0423-9", title=BASE["title"].upper() + ".")
    c = item(3, authors=["Mervyn K", "Simon A", "Allen DK"], journal="Health Res Policy Syst")
    pairs = find_duplicates([a, b, c])
    assert clusters(pairs, threshold=0.97) == [[1, 2, 3]] or sorted(clusters(pairs)[0]) == [1, 2, 3]


def test_conference_paper_and_journal_version_are_not_duplicates():
    journal = item(1, type="JOUR")
    conf = item(
        2, type="inproceedings", journal="Proceedings of the HSR UK Conference", volume="", pages=""
    )
    assert find_duplicates([journal, conf]) == []


def test_vetoes_keep_distinct_records_apart():
    editorial = dict(title="Editor's comments", authors=["Lee, Allen S."], year=2000,
                     journal="MIS Quarterly", volume="24")  # fmt: skip
    issues = [DedupItem(id=i, issue=str(i), **editorial) for i in range(1, 5)]
    assert clusters(find_duplicates(issues)) == []
    other_year = item(2, year=2012)
    other_pages = item(3, pages="101-110")
    pairs = find_duplicates([item(1), other_year, other_pages])
    assert all(p.score < 0.97 for p in pairs)


def test_same_doi_with_unrelated_title_is_not_merged():
    a = item(1, doi="10.1000/book")
    b = DedupItem(id=2, title="A completely different chapter on hospital finance", doi="10.1000/book",
                  authors=["Jones, P"], year=2019)  # fmt: skip
    assert all(p.score < 0.97 for p in find_duplicates([a, b]))


def test_against_library_only_reports_pairs_with_new_items():
    lib = [item(10), item(11, title="Something else entirely about trust in partnerships")]
    pairs = find_duplicates([item(1)], existing=lib)
    assert [(p.a, p.b) for p in pairs if p.score >= 0.97] == [(1, 10)]
    # the library's own near-duplicates are not re-reported
    assert find_duplicates([], existing=[item(20), item(21)]) == []


def test_blocking_scales_without_quadratic_pairs():
    items = [DedupItem(id=i, title=f"Unique study number {i} of workplace {i * 7} outcomes",
                       authors=[f"Author{i}, A"], year=2000 + i % 20) for i in range(3000)]  # fmt: skip
    assert find_duplicates(items) == []


def merged(*items, threshold=0.97):
    return [sorted(g) for g in clusters(find_duplicates(list(items)), threshold=threshold)]


def test_page_ranges_brackets_and_encoded_dois_normalise():
    from studies.dedup import page_range, title_variants

    assert page_range("123-9") == ("123", "129") == page_range("123–129")
    assert page_range("e0123") == ("123", "123")
    assert "the all seeing employer" in title_variants("The all-seeing employer - [careers]")
    assert norm_doi("https://doi.org/10.1000%2Fabc") == "10.1000/abc"


def test_same_title_and_authors_merge_across_venue_names():
    """Databases name the same venue differently (translated, abbreviated, the series instead
    of the conference): identical title, authors, year and volume/pages are enough."""
    a = item(1, journal="Jinko Chino Gakkai Ronbunshi", pages="")
    b = item(2, journal="Transactions of the Japanese Society for Artificial Intelligence",
             authors=["Mervyn, K.", "Simon, A.", "Allen, D. K."], pages="")  # fmt: skip
    assert merged(a, b) == [[1, 2]]
    # …but not without a volume or page to corroborate it
    c = item(3, journal="Another Journal", volume="", pages="")
    d = item(4, journal="Yet Another Name", volume="", pages="")
    assert merged(c, d) == []


def test_online_first_year_one_apart_merges_only_with_volume_and_pages():
    assert merged(item(1), item(2, year=2020)) == [[1, 2]]
    assert merged(item(1, volume="", pages=""), item(2, year=2020, volume="", pages="",
                                                   journal="Some Other Journal")) == []  # fmt: skip


def test_translated_title_same_place_merges():
    de = item(1, title="Plattformökonomie und Crowdworking als Herausforderungen für das Modell",
              pages="205-226")  # fmt: skip
    en = item(2, title="Platform economy and crowdworking as challenges for the model",
              pages="205-26", authors=["Mervyn, K.", "Simon, A."])  # fmt: skip
    assert merged(de, en) == [[1, 2]]
    # a different page range in the same volume is another article
    assert merged(de, item(3, title=en.title, pages="205-230")) == []


def test_erratum_and_comment_are_not_their_paper():
    paper = item(1)
    for title in ("Erratum to: " + BASE["title"], "Correction: " + BASE["title"],
                  "Comment on: " + BASE["title"], BASE["title"] + " [Erratum]"):  # fmt: skip
        assert merged(paper, item(2, title=title), threshold=0.8) == [], title


# --- patterns of medical database exports (held-out sets from the bib-dedupe benchmark) -------

AHUS = dict(
    title="Complement and the atypical hemolytic uremic syndrome in children",
    authors=["Loirat, C.", "Noris, M.", "Fremeaux-Bacchi, V."],
    year=2008, journal="Pediatric Nephrology", volume="23", issue="11", pages="1957-1972",
)  # fmt: skip


def med(id, **kw):
    return DedupItem(id=id, **{**AHUS, **kw})


def test_medline_appended_erratum_note_is_not_a_notice():
    """Ovid appends "[Erratum appears in …]" (often cut off) to the corrected article's title:
    the record is still the article."""
    note = AHUS["title"] + ".[Erratum appears in Pediatr Nephrol. 2009 Jan;24(1):227 Note: Lo"
    assert merged(med(1), med(2, title=note, journal="Pediatr Nephrol")) == [[1, 2]]
    nested = AHUS["title"] + ".[Erratum appears in X. 2009;9(9):2205 Note: Y [added]].[Erratum"
    assert merged(med(1), med(2, title=nested)) == [[1, 2]]


def test_erratum_notices_merge_with_each_other_not_with_the_article():
    wos = med(2, title=AHUS["title"] + " (vol 23, pg 1957, 2008)", pages="2301", issue="12",
              authors=["Loirat, C."])  # fmt: skip
    embase = med(3, title="Erratum: " + AHUS["title"] + " (Pediatric Nephrology (2008) 23 (1957",
                 pages="2301-2301", issue="12", authors=["Loirat, C."])  # fmt: skip
    assert merged(med(1), wos, embase, threshold=0.8) == [[2, 3]]
    # the Embase form with its closing brackets is a notice too
    full = med(4, title=AHUS["title"] + " (Pediatric Nephrology (2008) 23 (1957-1972))",
               pages="2301", issue="12")  # fmt: skip
    assert merged(med(1), full, threshold=0.8) == []


def test_correction_on_the_page_after_its_article_is_that_article():
    """The labelled sets mark a correction printed right after its article (same volume, same
    authors, the title quoted) a duplicate; errata printed anywhere else stay apart."""
    after = dict(title="Erratum to - " + AHUS["title"], pages="1973-1973")
    assert merged(med(1), med(2, **after, doi="10.1/erratum")) == [[1, 2]]
    assert merged(med(1), med(2, title="Correction: " + AHUS["title"], pages="1973")) == [[1, 2]]
    for other in (
        dict(pages="1975-1975"),  # later in the issue
        dict(pages="2301-2301", issue="12"),  # later in the volume
        dict(volume="24", year=2009),  # in the next volume, at the same page
        dict(authors=["Loirat, C."]),  # not by all the article's authors
        dict(pages="1973-1980"),  # a longer notice is a separate piece
        dict(journal="Kidney International"),
    ):
        assert merged(med(1), med(2, **{**after, **other}), threshold=0.8) == [], other


def test_reply_is_not_the_letter():
    letter = med(1, title="Atypical hemolytic uremic syndrome associated with group A beta "
                 "hemolytic streptococcus", pages="943-944")  # fmt: skip
    reply = med(2, title=letter.title + " - Reply", pages="945-945",
                authors=["Shepherd, A. B.", "Palmer, A. L.", "Baliga, R."])  # fmt: skip
    assert merged(letter, reply, threshold=0.8) == []


def test_database_annotations_are_ignored():
    dare = med(2, title=AHUS["title"] + " (Provisional abstract)")
    letters = med(3, title=AHUS["title"] + " (multiple letters) [1]")
    medline_review = med(4, title=AHUS["title"] + ". [Review] [45 refs]")
    lang = med(5, title="[" + AHUS["title"] + "] LA: Chi")
    assert merged(med(1), dare, letters, medline_review, lang) == [[1, 2, 3, 4, 5]]
    # other words in brackets are part of the title, not an annotation
    part1 = med(6, title=AHUS["title"] + " (part 1)", pages="", volume="", issue="")
    part2 = med(7, title=AHUS["title"] + " (part 2)", pages="", volume="", issue="")
    assert merged(part1, part2) == []


def test_section_heading_glued_subtitle_and_hyphenation_at_same_place():
    heading = med(2, title="MEDICAL PROGRESS " + AHUS["title"])
    glued = med(3, title=AHUS["title"] + "the examples of vascular damage in")
    hyphen = med(4, title=AHUS["title"].replace("hemolytic uremic", "hemolytic-uremic"))
    assert merged(med(1), heading, glued, hyphen) == [[1, 2, 3, 4]]
    # the same heading at another page range is another article
    assert merged(med(1), med(5, title=heading.title, pages="2001-2010")) == []


def test_endnote_record_number_in_issue_does_not_veto():
    """EndNote exports put their record number where the issue goes ("1112" vs "1113")."""
    a = med(1, issue="1112", pages="")
    b = med(2, issue="1113", authors=["Loirat, Chantal", "Noris, Marina", "Fremeaux-Bacchi, V"])
    assert merged(a, b) == [[1, 2]]
    # without a volume, the same page range stands in for it
    c, d = med(3, issue="109", volume=""), med(4, issue="108", volume="")
    assert merged(c, d) == [[3, 4]]
    # small issue numbers still keep a recurring column apart
    column = dict(title="Remarks from MIS Quarterly Editor - Editor's Comments",
                  authors=["Lee, Allen S."], year=2000, journal="MIS Quarterly", volume="24")  # fmt: skip
    assert merged(*[DedupItem(id=i, issue=str(i), **column) for i in range(1, 5)]) == []
    # …and different titles at the same pages of two issues (journals paginating each issue
    # from 1), while the same title there is one paper whose issue one database got wrong
    one = dict(authors=["Durlauf, Maria"], year=2019, volume="7", pages="54-59",
               journal="Psychosociological Issues in Human Resource Management")  # fmt: skip
    p1 = DedupItem(id=1, issue="1", title="The Commodification of Digital Labor in the Gig "
                   "Economy: Online Outsourcing and Insecure Employment", **one)  # fmt: skip
    p2 = DedupItem(id=2, issue="2", title="Big Data Analytics in Human Resource Management: "
                   "Automated Decision-Making Processes", **one)  # fmt: skip
    assert merged(p1, p2, threshold=0.8) == []
    assert merged(p1, DedupItem(**{**p1.__dict__, "id": 3, "issue": "2"})) == [[1, 3]]
    # …as do different DOIs on the same first page (journals paginating each issue from 1)
    ed = dict(title="Editorial Introduction", authors=["Zwass, Vladimir"], year=2006,
              journal="Journal of Management Information Systems", volume="23")  # fmt: skip
    e1 = DedupItem(id=1, issue="1", pages="5-12", doi="10.2753/MIS0742-1222230100", **ed)
    e2 = DedupItem(id=2, issue="2", pages="5-6", doi="10.2753/MIS0742-1222230200", **ed)
    assert merged(e1, e2, threshold=0.8) == []


def test_same_long_title_authors_year_and_venue_without_pages():
    conf = dict(title="How Consumers Perceive Trustworthiness of Providers in Sharing Economy: "
                "Effects of Photos and Comments on Demand at Airbnb", year=2017,
                type="inproceedings", authors=["Deng, Chaoqun", "Ravichandran, Thiagarajan"])  # fmt: skip
    a = DedupItem(id=1, journal="Americas Conference on Information Systems", **conf)
    b = DedupItem(id=2, journal="AMCIS 2017 Proceedings", **{**conf, "authors": ["Deng, C.", "Ravichandran, T."]})  # fmt: skip
    assert merged(a, b) == [[1, 2]]
    # the same minitrack introduction a year later is another record
    c = DedupItem(id=3, journal="AMCIS 2018 Proceedings", **{**conf, "year": 2018})
    assert merged(a, c) == []
    # an abstract with no pages and its journal record, conference name appended by Embase
    abstract = med(4, pages="", volume="", issue="", type="article",
                   journal="Pediatric Nephrology.Conference: 44th Annual Meeting of the ESPN")  # fmt: skip
    assert merged(med(5, journal="Pediatr Nephrol", type="article"), abstract) == [[4, 5]]
    # the same long title and authors in two unrelated journals, one record without pages:
    # not enough (a journal's name is the evidence here)
    other_journal = med(6, journal="Seminars in Thrombosis and Hemostasis", pages="", volume="")
    assert merged(med(7), other_journal) == []


def test_typo_in_first_page_falls_back_to_last_page():
    typo = med(2, pages="2957-1972")  # last page before the first: the first is mistyped
    assert merged(med(1), typo) == [[1, 2]]
    # a well-formed other range is another article
    assert merged(med(1), med(3, pages="1937-1942")) == []


def test_registry_entries_one_word_apart_are_not_merged():
    """Only a sponsor and a year besides the title: "adult" vs "adolescent" is another trial."""
    reg = dict(authors=["Alexion Pharmaceuticals, Inc"], year=2011)
    adult = DedupItem(id=1, title="Open Label Controlled Trial of Eculizumab in Adult Patients "
                      "With Plasma Therapy-Resistant aHUS", **reg)  # fmt: skip
    teen = DedupItem(id=2, title=adult.title.replace("Adult", "Adolescent"), **reg)
    assert merged(adult, teen) == []
    assert merged(adult, DedupItem(id=3, title=adult.title, **reg)) == [[1, 3]]


def test_medline_bracketed_translation_at_same_place_merges():
    """MEDLINE gives a non-English article's title in English brackets; another database gives
    the author's own English title. Same authors, journal, volume and page range: one article."""
    fr = dict(authors=["Train, M.", "Soulard, D.", "Bouyer, L.", "Bizouarn, P."], year=1994,
              volume="13", pages="280-284")  # fmt: skip
    own = DedupItem(id=1, title="Antibiotic prophylaxis in pulmonary surgery. A controlled "
                    "double-blind study of amoxicillin versus cefamandole",
                    journal="Ann Fr Anesth Reanim", issue="65", **fr)  # fmt: skip
    medline = DedupItem(id=2, title="[Comparison of amoxicillin and cefamandole in the prevention "
                        "of bronchopulmonary infections in pulmonary surgery]",
                        journal="Annales Francaises d'Anesthesie et de Reanimation", issue="266",
                        **fr)  # fmt: skip
    assert merged(own, medline) == [[1, 2]]
    # another page range in the same volume is another article
    other = DedupItem(**{**medline.__dict__, "id": 3, "pages": "285-290"})
    assert merged(own, other, threshold=0.8) == []


def test_journal_abbreviations_word_by_word():
    from studies.dedup import _journal_sim, journal_key

    def sim(a, b):
        return _journal_sim(journal_key(a), journal_key(b))

    assert sim("J Thromb Haemost", "Journal of Thrombosis and Haemostasis") == 0.95
    assert sim("Ann Fr Anesth Reanim", "Annales Francaises d'Anesthesie et de Reanimation") == 0.95
    assert sim("Pediatr Nephrol.", "Pediatric Nephrology") == 0.95
    assert (
        sim("Infectious Agents & Cancer [Electronic Resource]", "Infectious Agents and Cancer") == 1
    )
    assert sim("J Am Soc Nephrol", "Journal of the American Society of Hypertension") < 0.9
    assert sim("Ann Surg", "Annals of Surgical Oncology") < 0.9


_WORDS = st.sampled_from(
    [
        "complement",
        "factor",
        "renal",
        "transplant",
        "outcome",
        "children",
        "trial",
        "randomized",
        "pleural",
        "effusion",
        "cervical",
        "cytology",
        "screening",
        "human",
        "papillomavirus",
        "eculizumab",
        "syndrome",
        "atypical",
    ]
)
# at least 30 characters: shorter titles never auto-merge on the title alone, by design
_TITLES = (
    st.lists(_WORDS, min_size=4, max_size=12)
    .map(lambda w: " ".join(w).capitalize())
    .filter(lambda t: len(t) >= 30)
)


@settings(max_examples=60, deadline=None)
@given(title=_TITLES, note=st.sampled_from([
    ".[Erratum appears in J Pediatr. 2003 Jun;142(6):616",
    ". [Comment in: Lancet. 2001;357:1800]",
    " (Provisional abstract)",
    " (multiple letters)",
    ". [Review] [45 refs]",
]))  # fmt: skip
def test_database_notes_never_change_the_title_or_make_a_notice(title, note):
    from studies.dedup import _prepare, fold

    plain, noted = _prepare(med(1, title=title)), _prepare(med(2, title=title + note))
    assert fold(title) in noted.titles and not noted.notice
    assert merged(med(1, title=title), med(2, title=title + note)) == [[1, 2]]
    assert plain.notice is False


@settings(max_examples=60, deadline=None)
@given(title=_TITLES, prefix=st.sampled_from(["Erratum: ", "Correction to: ", "Retraction: "]))
def test_a_notice_never_merges_with_its_paper(title, prefix):
    paper = med(1, title=title)
    for notice in (prefix + title, title + " (vol 23, pg 1957, 2008)"):
        assert merged(paper, med(2, title=notice), threshold=0.8) == [], notice


def test_supplement_number_in_pages_is_not_a_page():
    wright = dict(title="Cervical squamous and glandular intraepithelial neoplasia: "
                  "identification and current management approaches", authors=["Wright, V C"],
                  year=2003, journal="Salud Publica de Mexico", volume="45")  # fmt: skip
    a = DedupItem(id=1, pages="S417-S429", **wright)
    b = DedupItem(id=2, pages="Suppl-29", **wright)
    c = DedupItem(id=3, pages="Suppl 3:S417-29", **wright)
    assert merged(a, b, c) == [[1, 2, 3]]
    # a real other page range still parts them
    assert merged(a, DedupItem(id=4, pages="S501-S510", **wright)) == []


def test_missing_fields_as_none_are_tolerated():
    """Rows read back from the database may carry None for empty text fields."""
    bare = DedupItem(id=1, title=None, journal=None, pages=None, volume=None, issue=None)  # type: ignore[arg-type]
    assert find_duplicates([bare, med(2)]) == []


# --- labelling conventions of the benchmark sets (BENCHMARKS.md counts them) -----------------

NEURO = dict(
    title="Neurological involvement in a child with atypical hemolytic uremic syndrome",
    authors=["Koehl, B.", "Boyer, O.", "Biebuyck-Gouge, N.", "Kossorotoff, M.",
             "Fremeaux-Bacchi, V.", "Boddaert, N.", "Niaudet, P."],
    year=2010, journal="Pediatric Nephrology", volume="25", issue="12", pages="2539-2542",
)  # fmt: skip


def neuro(id, **kw):
    return DedupItem(id=id, **{**NEURO, **kw})


def test_single_page_record_of_the_same_paper_in_the_same_volume_merges():
    """A meeting abstract printed earlier in the volume, an erratum repeating the title, or a
    record that took its erratum's issue and page: the labelled sets count each as the paper."""
    abstract = neuro(2, issue="9", pages="1875", authors=["Koehl, B.", "Boyer, O.",
                     "Kossorotoff, M.", "Biebuyck, N.", "Boddaert, N.", "Niaudet, P."])  # fmt: skip
    erratum_issue = neuro(3, issue="25", pages="2539-2539")
    assert merged(neuro(1), abstract, erratum_issue) == [[1, 2, 3]]
    # a particle written into the surname ("Le Quintrec" / "Quintrec"), a split word in the title
    particle = neuro(10, pages="2205", authors=["Le " + NEURO["authors"][0]] + NEURO["authors"][1:])
    split = neuro(11, pages="1880", title=NEURO["title"].replace("hemolytic", "hemo lytic"))
    assert merged(neuro(1), particle, split) == [[1, 10, 11]]
    # not in another volume, by another first author, with a short title, or when both
    # records are full page ranges (two papers of one title in one volume)
    assert merged(neuro(1), neuro(4, volume="26", pages="1875")) == []
    other_first = neuro(5, pages="1875", authors=NEURO["authors"][1:] + ["Loirat, C."])
    assert merged(neuro(1), other_first) == []
    short = dict(title="Atypical HUS in a child", pages="1875")
    assert merged(neuro(6, title=short["title"]), neuro(7, **short)) == []
    assert merged(neuro(1), neuro(8, pages="1875-1880")) == []
    # different DOIs are different records
    assert merged(neuro(1, doi="10.1/a"), neuro(9, pages="1875", doi="10.1/b")) == []


def test_letter_and_reply_printed_as_one_record_merge_with_the_reply():
    """Embase prints a letter and the authors' reply as one record ("(multiple letters)",
    authors of both, the page range of both): the reply alone is part of that record."""
    title = (
        "Atypical hemolytic uremic syndrome associated with group A beta hemolytic streptococcus"
    )
    both = med(1, title=title + " (multiple letters) [1]", pages="943-945", authors=[
        "Yildiz, B.", "Kural, N.", "Yarar, C.", "Shepherd, A. B.", "Palmer, A. L.", "Baliga, R."])  # fmt: skip
    letter = med(2, title=title, pages="943-944", authors=["Yildiz, B.", "Kural, N.", "Yarar, C."])
    reply = med(3, title=title + " - Reply", pages="945",
                authors=["Shepherd, Amy B.", "Palmer, April L.", "Baliga, Radhakrishna"])  # fmt: skip
    assert merged(both, letter, reply) == [[1, 2, 3]]
    # a response printed on its own, by people not among the letter's authors, stays apart
    # (Communications of the ACM: "… Research Response", p. 9, beside the letter at 8-9)
    cacm = dict(year=2016, journal="Communications of the ACM", volume="59", issue="8")
    letter = DedupItem(id=4, title="Acknowledge crowdworkers in crowdwork research",
                       pages="8-9", authors=["Brown, Barry", "Lampinen, Airi"], **cacm)  # fmt: skip
    response = DedupItem(id=5, title="Reply: Acknowledge crowdworkers in crowdwork research",
                         pages="9", authors=["Barowy, Daniel W."], **cacm)  # fmt: skip
    assert merged(letter, response, threshold=0.8) == []
    # a reply at a page outside the combined record's range is another item
    assert merged(both, med(6, title=reply.title, pages="946", authors=reply.authors)) == []


def test_one_abstract_in_two_journals_merges_two_full_papers_do_not():
    """The same meeting abstract (one or two pages) in two journals' supplements the same year,
    same first author: one record. Full papers of one title in two journals (a redundant
    publication) and abstracts presented by another first author stay apart, as labelled."""
    abstract = dict(title="Modification of the standard eculizumab dose to successfully manage "
                    "intravascular haemolysis breakthrough in paroxysmal nocturnal haemoglobinuria",
                    year=2009, authors=["Kelly, R.", "Arnold, L.", "Richards, S.", "Hill, A."])  # fmt: skip
    bjh = DedupItem(id=1, journal="British Journal of Haematology", volume="145", issue="1",
                    pages="23", **abstract)  # fmt: skip
    haematologica = DedupItem(id=2, journal="Haematologica", volume="94", issue="2",
                              pages="239-240", **abstract)  # fmt: skip
    assert merged(bjh, haematologica) == [[1, 2]]
    full = DedupItem(**{**haematologica.__dict__, "id": 3, "pages": "239-250"})
    assert merged(bjh, full) == []
    presenter = DedupItem(**{**haematologica.__dict__, "id": 4,
                             "authors": ["Arnold, L.", "Kelly, R.", "Richards, S.", "Hill, A."]})  # fmt: skip
    assert merged(bjh, presenter) == []
    next_year = DedupItem(**{**haematologica.__dict__, "id": 5, "year": 2010})
    assert merged(bjh, next_year) == []
    brain = dict(title="Early brain development toward shaping of human mind: an integrative "
                 "psychoneurodevelopmental model in prenatal and perinatal medicine", year=2013,
                 authors=["Hruby, R.", "Maas, L. M.", "Fedor-Freybergh, P. G."])  # fmt: skip
    a = DedupItem(id=6, journal="Neuro Endocrinol Lett", volume="34", pages="447-463", **brain)
    b = DedupItem(id=7, journal="Activitas Nervosa Superior Rediviva", volume="55",
                  pages="203-219", **brain)  # fmt: skip
    assert merged(a, b) == []


def test_same_citation_a_year_apart_and_a_title_typo_in_the_same_volume():
    kavanagh = dict(title="Haemolytic uraemic syndrome", authors=["Kavanagh, D.", "Goodship, T."],
                    volume="118", issue="1")  # fmt: skip
    a = DedupItem(id=1, year=2011, journal="Nephron", pages="c37-c42", **kavanagh)
    b = DedupItem(id=2, year=2010, journal="Nephron - Clinical Practice", pages="37-42", **kavanagh)
    assert merged(a, b) == [[1, 2]]
    # a short title at another page range, or in another volume, is another article
    assert merged(a, DedupItem(**{**b.__dict__, "id": 3, "pages": "43-48"})) == []
    assert merged(a, DedupItem(**{**b.__dict__, "id": 4, "volume": "117"})) == []
    legendre = dict(authors=["Legendre, CM", "Babu, S", "Furman, R", "Sheerin, N"],
                    journal="J Am Soc Nephrol", volume="21")  # fmt: skip
    title = "Safety & Efficacy of Eculizumab in aHUS Patients Resistant to Plasma Therapy"
    typo = DedupItem(id=1, year=2011, title=title.replace("Eculizumab", "eculizamab"), **legendre)
    right = DedupItem(id=2, year=2010, title=title, **legendre)
    assert merged(typo, right) == [[1, 2]]
    # consecutive volumes, or another number in the title, are other records
    assert merged(typo, DedupItem(**{**right.__dict__, "id": 3, "volume": "22"})) == []
    phase = DedupItem(**{**right.__dict__, "id": 4, "title": title + " phase 2"})
    assert merged(DedupItem(**{**typo.__dict__, "title": typo.title + " phase 3"}), phase) == []


def test_conference_acronym_and_a_title_inside_another():
    from studies.dedup import _journal_sim, journal_key

    def sim(a, b):
        return _journal_sim(journal_key(a), journal_key(b))

    assert sim("ICIS : Transforming Society with Digital Innovation",
               "International Conference on Information Systems") == 0.95  # fmt: skip
    assert sim("AMCIS 2017", "International Conference on Information Systems") < 0.9
    assert sim("ICIS", "Information Systems Journal") < 0.9
    icis = dict(title="Call for Bids to Improve Matching Efficiency: Evidence from Online Labor "
                "Markets", type="inproceedings", authors=["Guo, Xue", "Gong, Jing", "Pavlou, Paul A."])  # fmt: skip
    a = DedupItem(id=1, year=2017, journal="International Conference on Information Systems",
                  pages="1-12", **icis)  # fmt: skip
    b = DedupItem(id=2, year=2018, journal="ICIS : Transforming Society with Digital Innovation",
                  **icis)  # fmt: skip
    assert merged(a, b) == [[1, 2]]
    assert merged(a, DedupItem(**{**b.__dict__, "id": 3, "journal": "ECIS 2018"})) == []
    hbr = dict(journal="Harvard Business Review", year=2016)
    plain = DedupItem(id=1, title="Upwork's CEO on how an introverted engineer learned to lead",
                      authors=["Kasriel, S."], **hbr)  # fmt: skip
    prefixed = DedupItem(id=2, title="How did it ... " + plain.title, authors=["Kasriel, Stephane"],
                         volume="94", issue="5", pages="35+", **hbr)  # fmt: skip
    assert merged(plain, prefixed) == [[1, 2]]
    # not a year apart, nor by other authors, nor a numbered part of a series
    part = DedupItem(**{**prefixed.__dict__, "id": 5, "title": "Part 2: " + plain.title})
    assert merged(plain, part) == []
    assert merged(plain, DedupItem(**{**prefixed.__dict__, "id": 3, "year": 2017})) == []
    other = DedupItem(**{**prefixed.__dict__, "id": 4, "authors": ["Smith, John"]})
    assert merged(plain, other) == []


def test_paper_printed_again_in_the_next_volume_merges_a_shorter_item_does_not():
    """Journal of Information Technology printed one paper in 2009 and again in 2010, each
    with a DOI: same title, authors, journal and length. A same-titled correction or section
    introduction in the next volume is of another length, and stays apart (as labelled)."""
    jit = dict(title="Sponsorship and IT vendor management of projects",
               authors=["Liu, Li", "Yetton, Philip"], journal="Journal of Information Technology")  # fmt: skip
    a = DedupItem(id=1, year=2009, volume="24", pages="46--54", doi="10.1057/JIT.2009.2", **jit)
    b = DedupItem(id=2, year=2010, volume="25", pages="56--64", doi="10.1057/JIT.2008.23", **jit)
    assert merged(a, b) == [[1, 2]]
    shorter = DedupItem(**{**b.__dict__, "id": 3, "pages": "56--60"})
    two_apart = DedupItem(**{**b.__dict__, "id": 4, "volume": "26", "year": 2011})
    one_author = DedupItem(**{**b.__dict__, "id": 5, "authors": ["Liu, Li"]})
    assert merged(a, shorter) == merged(a, two_apart) == merged(a, one_author) == []
    section = dict(title="Special Section: Competitive Strategy, Economics, and Information "
                   "Systems", authors=["Kauffman, Robert J.", "Walden, Eric"],
                   journal="Journal of Management Information Systems")  # fmt: skip
    s1 = DedupItem(id=6, year=2009, volume="26", pages="7-13", **section)
    s2 = DedupItem(id=7, year=2010, volume="27", pages="7-10", **section)
    assert merged(s1, s2) == []


def test_abstract_tag_cut_before_its_bracket_is_dropped():
    from studies.dedup import clean_title

    cut = AHUS["title"] + " [abstract"
    assert clean_title(cut) == AHUS["title"]
    assert clean_title("A [abstract] B") == "A [abstract] B"  # closed: a bracket variant
    # EndNote record numbers in the issue field would otherwise veto the inexact title
    assert merged(med(1, issue="1687"), med(2, title=cut, issue="1689")) == [[1, 2]]


def test_online_first_record_paged_from_one_merges_with_the_issue_record():
    early = med(1, volume="", issue="937", pages="1-6")
    final = med(2, issue="938")
    assert merged(early, final) == [[1, 2]]
    # not with a volume on both (a journal paginating each issue from 1), not in another
    # journal, not two years apart
    assert merged(med(3, volume="22", pages="1-6"), final) == []
    assert (
        merged(DedupItem(**{**early.__dict__, "id": 4, "journal": "Kidney International"}), final)
        == []
    )
    assert merged(DedupItem(**{**early.__dict__, "id": 5, "year": 2006}), final) == []


def test_online_first_record_a_year_before_the_issue_is_shown_not_merged():
    """The one labelled pair of an online-first record dated a year before the issue's record
    ("01-Sep" for 1-9, 2012; 515-523, 2013) is labelled apart: shown to the reviewer only."""
    early = med(1, volume="", issue="1970", pages="01-Sep", year=2007)
    final = med(2, issue="1971")
    assert merged(early, final) == []
    assert merged(early, final, threshold=0.8) == [[1, 2]]
    # the same year still merges
    assert merged(DedupItem(**{**early.__dict__, "year": 2008}), final) == [[1, 2]]


def test_compound_surnames_cut_at_different_places_are_the_same_authors():
    """Databases split compound surnames differently ("Garbrecht-Buettner, S" / "Garbrecht,
    Buettner S"): read without spaces, hyphens and commas the names are the same."""
    one = ["Petry, K.-U.", "Menton, S", "van Loenen-Frosch, F", "de Carvalho, Gomes H",
           "Holz, B", "Garbrecht-Buettner, S"]  # fmt: skip
    other = ["Petry, K U", "Menton, S", "van-Loenen, Frosch F", "de-Carvalho, Gomes H",
             "Holz, B", "Garbrecht, Buettner S"]  # fmt: skip
    assert merged(med(1, authors=one), med(2, authors=other)) == [[1, 2]]
    # other given names are other people, not one name cut elsewhere
    strangers = ["Petry, K U", "Menton, S", "van-Loenen, Fischer F", "de-Carvalho, Lima H",
                 "Holz, B", "Garbrecht, Bauer S"]  # fmt: skip
    assert merged(med(1, authors=one), med(3, authors=strangers)) == []


def test_record_numbers_in_the_issue_do_not_part_a_record_without_volume_or_pages():
    """EndNote exports put their record number in the issue field (1863, 1864): it does not
    veto a record that lacks volume and pages, with the same long title, authors, year and
    journal (a Cochrane review exported twice)."""
    review = med(1, journal="Cochrane Database of Systematic Reviews", volume="6",
                 pages="CD006828", issue="1863")  # fmt: skip
    bare = DedupItem(**{**review.__dict__, "id": 2, "volume": "", "pages": "", "issue": "1864",
                        "authors": ["Loirat, Chantal", "Noris, Marina", "Fremeaux-Bacchi, V"]})  # fmt: skip
    assert merged(review, bare) == [[1, 2]]
    # small issue numbers are issues; another year is another version of the review
    in_issue_3 = DedupItem(**{**review.__dict__, "id": 5, "issue": "3"})
    assert merged(in_issue_3, DedupItem(**{**bare.__dict__, "id": 3, "issue": "4"})) == []
    assert merged(review, DedupItem(**{**bare.__dict__, "id": 4, "year": 2004})) == []
