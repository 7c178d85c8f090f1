"""Browser journey: upload → preview → import → duplicates page → confirm a merge."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from studies.models import Record, Search, Study
from studies.services.extraction import answer_save, extraction_form_create_default

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SAMPLES = Path(__file__).resolve().parents[2] / "fixtures" / "samples"


def test_upload_preview_import_and_merge(live_server, page, login, review, users, tmp_path):
    review.auto_merge_threshold = 0.999  # keep the near-duplicate for the reviewer
    review.save()
    search = Search.objects.create(review=review, source="MEDLINE (Ovid)", reported_hits=2)
    Record.objects.create(review=review, title="Trust in university hospital partnerships",
                          authors=["Smith, J"], year=2020, position=1)  # fmt: skip
    export = tmp_path / "ovid.txt"
    export.write_text(
        "TY  - JOUR\nTI  - Trust in university-hospital partnership\nAU  - Smith, John\n"
        "PY  - 2020\nAB  - How trust grows.\nER  - \n"
        "TY  - JOUR\nTI  - An unrelated paper on hospital finance\nAU  - Jones, P\nER  - \n"
    )
    login("reviewer")
    page.goto(f"{live_server.url}/reviews/{review.pk}/identification/")
    page.get_by_role("link", name="Import records").click()
    page.select_option("#id_search", str(search.pk))
    page.set_input_files("#id_file", str(export))
    page.click("#upload")
    page.wait_for_selector("#preview")
    assert page.inner_text("#preview-count") == "2"
    assert Record.objects.count() == 1  # preview writes nothing
    page.click("#confirm-import")
    page.wait_for_selector("#batch-counts")
    assert Record.objects.count() == 3
    page.get_by_role("link", name="Check duplicates").click()
    pair = page.locator(".pair").first
    expect(pair.locator(".differs").first).to_be_attached()
    pair.get_by_role("button", name="Merge (keep the more complete)").click()
    page.wait_for_selector(".pair .badge.ok")
    assert Record.objects.filter(duplicate_of__isnull=False).count() == 1
    page.get_by_role("button", name="Undo").click()
    page.wait_for_selector(".pair button[data-action=confirm]")
    assert Record.objects.filter(duplicate_of__isnull=False).count() == 0


def test_csv_columns_mapped_with_selects(live_server, page, login, review, users, tmp_path):
    search = Search.objects.create(review=review, source="Scopus", reported_hits=1)
    export = tmp_path / "mine.csv"
    export.write_text(
        "Article Name,Writers,Yr,Source title\n"
        '"Trust in partnerships","Doe, J.",2021,Implementation Science\n'
    )
    login("reviewer")
    page.goto(f"{live_server.url}/reviews/{review.pk}/identification/import/")
    page.select_option("#id_search", str(search.pk))
    page.set_input_files("#id_file", str(export))
    page.click("#upload")
    page.wait_for_selector("#column-mapping")
    # the known Scopus header is preselected; the others are for the user to map
    assert page.locator("select[data-header='Source title']").input_value() == "journal"
    assert page.locator("select[data-header='Article Name']").input_value() == ""
    page.select_option("select[data-header='Article Name']", "title")
    page.select_option("select[data-header='Writers']", "authors")
    page.select_option("select[data-header='Yr']", "year")
    page.click("#apply-columns")
    page.wait_for_selector("#preview")
    assert page.inner_text("#preview-count") == "1"
    assert page.locator("select[data-header='Article Name']").input_value() == "title"
    page.click("#confirm-import")
    page.wait_for_selector("#batch-counts")
    record = Record.objects.get()
    assert (record.title, record.authors, record.year, record.journal) == (
        "Trust in partnerships",
        ["Doe, J."],
        2021,
        "Implementation Science",
    )


def test_search_log_and_import_fit_a_phone_screen(live_server, page, login, review, users):
    """Wide tables scroll inside themselves: the page (and its navigation) stays phone-wide."""
    Search.objects.create(
        review=review,
        source="National Institute for Health and Care Excellence (NICE) evidence search",
        query="1. exp Interprofessional Relations/\n2. (collaborat* adj3 organi?ation*).tw.",
        reported_hits=2144,
    )
    # a study page lists its characteristics under the form's long labels
    form = extraction_form_create_default(user=users["owner"], review=review)
    study = Study.objects.create(review=review, label="Adedoyin et al. 2016")
    values = {
        "study": "Adedoyin et al.", "country": "USA", "partnership_type": "Merger",
        "sector": "Social work programmes", "phase_of_use": "Gleaning and refinement",
        "methods_and_sample": "Journaling to report personal experiences of the merger",
    }  # fmt: skip
    answer_save(user=users["reviewer"], study=study, form=form, values=values)
    login("reviewer")
    page.set_viewport_size({"width": 390, "height": 844})
    paths = ("identification/", "identification/import/", "appraisal/", f"studies/{study.pk}/")
    for path in paths:
        page.goto(f"{live_server.url}/reviews/{review.pk}/{path}")
        widths = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert widths[0] <= widths[1], (path, widths)
