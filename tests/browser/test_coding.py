"""Coding journey in real Chromium: select a sentence of seed 003 (Mervyn et al. 2019) in the
reader, make it an excerpt and a CMOC with new concepts, find the CMOC with one source, then
add an excerpt from a second study and watch the rigour flag turn to "supported"."""

from pathlib import Path

import pytest

from cmoc.models import CMOC, Concept, Excerpt
from studies.models import Document, Study

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MERVYN = Path(__file__).resolve().parents[2] / "fixtures" / "demo" / "mervyn2019.txt"
SENTENCE = "there was a shared sense of frustration with the pace of impact."
SECOND = "Partners who saw early wins kept faith in the collaboration."


def select(page, phrase: str) -> None:
    """Select `phrase` in the reader's text the way a mouse drag would leave it."""
    page.evaluate(
        """(phrase) => {
          const walker = document.createTreeWalker(document.getElementById('doc-text'),
                                                   NodeFilter.SHOW_TEXT);
          let node;
          while ((node = walker.nextNode())) {
            const i = node.data.indexOf(phrase);
            if (i >= 0) {
              const range = document.createRange();
              range.setStart(node, i);
              range.setEnd(node, i + phrase.length);
              const sel = window.getSelection();
              sel.removeAllRanges();
              sel.addRange(range);
              document.dispatchEvent(new MouseEvent('mouseup'));
              return;
            }
          }
          throw new Error('phrase not found: ' + phrase);
        }""",
        phrase,
    )


def test_code_seed_003_and_reach_two_sources(page, live_server, login, review):
    text = MERVYN.read_text(encoding="utf-8")
    mervyn = Study.objects.create(review=review, label="Mervyn et al. 2019")
    doc = Document.objects.create(review=review, study=mervyn, title="Mervyn et al. 2019",
                                  text=text)  # fmt: skip
    other = Study.objects.create(review=review, label="Aunger et al. 2021")
    doc2 = Document.objects.create(
        review=review, study=other, title="Aunger et al. 2021",
        text="Early wins matter.\n\n" + SECOND + "\n\nSlow progress tested everyone.",
    )  # fmt: skip
    base = f"{live_server.url}/reviews/{review.pk}"

    login("reviewer")
    page.goto(f"{base}/coding/documents/{doc.pk}/")
    select(page, SENTENCE)
    page.wait_for_function(
        "document.getElementById('selection-preview').textContent.includes('pace of impact')"
    )
    page.keyboard.press("x")
    page.wait_for_selector("#current-excerpt")
    excerpt = Excerpt.objects.get()
    assert excerpt.text == SENTENCE and excerpt.start == text.index(SENTENCE)
    current = page.locator("#doc-text .hl.current")
    assert current.inner_text() == SENTENCE
    current.wait_for()
    assert page.evaluate(
        """() => { const r = document.querySelector('#doc-text .hl.current').getBoundingClientRect();
                   const c = document.getElementById('doc-text').getBoundingClientRect();
                   return r.top >= c.top && r.bottom <= c.bottom; }"""
    ), "the new excerpt is scrolled into view"

    # c: start a new CMOC from the excerpt, same screen
    page.keyboard.press("c")
    page.wait_for_selector("#cmoc-form")
    page.fill("#cmoc-form [name=context]", "A place-based network with ambitious aims")
    page.fill("#cmoc-form [name=mechanism_reasoning]", "Partners feel progress is too slow")
    page.fill("#cmoc-form [name=outcome]", "Frustration and inertia")
    page.locator("#cmoc-form [name=context_concept]").first.fill("Overambition")
    page.locator("#cmoc-form [name=mechanism_concept]").first.fill("Frustration with pace")
    page.locator("#cmoc-form [name=mechanism_direction]").first.select_option("increase")
    page.locator("#cmoc-form [name=outcome_concept]").first.fill("Collaborative inertia")
    page.click("#cmoc-form button:has-text('Compose from parts')")
    page.wait_for_function(
        "document.getElementById('id_statement').value.startsWith('In the context of')"
    )
    page.click("#save-cmoc")
    page.wait_for_url(f"**/coding/documents/{doc.pk}/?excerpt={excerpt.pk}")
    cmoc = CMOC.objects.get()
    assert cmoc.source_count == 1
    assert set(Concept.objects.values_list("label", flat=True)) == {
        "Overambition", "Frustration with pace", "Collaborative inertia"}  # fmt: skip
    assert page.locator(f"#excerpt-{excerpt.pk} .chip").inner_text() == cmoc.code

    # the CMOC list finds it with one source, below the two-source rule
    page.goto(f"{base}/cmocs/")
    page.fill("input[name=q]", "too slow")
    row = page.locator(f"#cmoc-{cmoc.pk}")
    row.wait_for()
    assert "1" in row.locator("td.num").inner_text()
    assert row.locator(".rigour").inner_text() == "below rule"

    # an excerpt from a second study, attached by keyboard: x, a, type the code, Enter
    page.goto(f"{base}/coding/documents/{doc2.pk}/")
    select(page, SECOND)
    page.keyboard.press("x")
    page.wait_for_selector("#current-excerpt")
    page.keyboard.press("a")
    page.keyboard.type(cmoc.code)
    page.wait_for_selector("#attach-results input[name=cmoc]")
    page.keyboard.press("Enter")
    page.wait_for_selector("#coding-notice")
    assert f"attached to {cmoc.code}" in page.inner_text("#coding-notice")

    page.goto(f"{base}/cmocs/")
    page.select_option("select[name=supported]", "yes")
    page.wait_for_url("**supported=yes**")
    row = page.locator(f"#cmoc-{cmoc.pk}")
    row.wait_for()
    assert row.locator(".rigour").inner_text() == "supported"
    cmoc.refresh_from_db()
    assert cmoc.source_count == 2
    page.goto(f"{base}/cmocs/{cmoc.pk}/")
    assert "Supporting (2)" in page.inner_text("#evidence")
