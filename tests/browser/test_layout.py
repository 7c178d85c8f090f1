"""Coding, theory and reporting pages fit their screen: nothing widens the page sideways,
on a phone (390 px) or on a laptop (1366 px), even with long concept labels and study titles."""

import pytest
from rest_framework.authtoken.models import Token

from cmoc.models import CMOC, Concept
from studies.models import Study

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG = "Perceived legitimacy of the collaboration among senior leaders of partner organisations"

# Elements wider than the viewport that are not inside a scrolling box: the page itself scrolls.
OVERFLOWING = """() => {
  const W = document.documentElement.clientWidth, out = [];
  for (const e of document.querySelectorAll('body *')) {
    const r = e.getBoundingClientRect();
    if (r.width === 0 || r.right <= W + 1) continue;
    let p = e.parentElement, clipped = false;
    for (; p; p = p.parentElement) {
      if (/(auto|scroll|hidden)/.test(getComputedStyle(p).overflowX)) { clipped = true; break; }
    }
    if (!clipped) out.push(e.tagName + (e.id ? '#' + e.id : '') + (e.name ? '[' + e.name + ']' : ''));
  }
  return out;
}"""


SIDEWAYS = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture
def long_labels(review, users):
    Token.objects.create(user=users["owner"])  # the API page then shows a long curl command
    for i in range(3):
        Concept.objects.create(review=review, label=f"{LONG} ({i})")
    Study.objects.create(review=review, label="Aunger et al. 2021", title=LONG * 2, year=2021)
    for i in range(3):
        CMOC.objects.create(review=review, code=f"C{i}", statement=LONG * 3)
    return review


@pytest.mark.parametrize("width", [390, 1366])
def test_coding_and_reporting_pages_do_not_scroll_sideways(
    page, live_server, login, long_labels, width
):
    review = long_labels
    login("owner")
    page.set_viewport_size({"width": width, "height": 844})
    for path in ["cmocs/", "codebook/", "reporting/api/", "reporting/rameses/"]:
        page.goto(f"{live_server.url}/reviews/{review.pk}/{path}")
        assert page.evaluate(OVERFLOWING) == [], (width, path)
        # text overflowing a box that keeps its width (a long curl command in <pre>)
        assert page.evaluate(SIDEWAYS) == 0, (width, path)
