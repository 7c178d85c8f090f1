"""studies.dedup: exact identifiers, fuzzy matching, conservative vetoes, clustering."""

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
