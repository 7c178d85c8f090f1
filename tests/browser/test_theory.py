"""Causal web and programme theory versions in real headless Chromium."""

import re

import pytest
from playwright.sync_api import expect

from cmoc.services.theory import theory_version_create
from tests.cmoc.theory_fixtures import build_chain_review

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CLICK_NODE = """(label) => {
  const cy = window.retroduceWeb;
  const node = cy.nodes().filter((n) => n.data('label') === label);
  const p = node.renderedPosition();
  const r = document.getElementById('cy').getBoundingClientRect();
  return {x: r.left + p.x, y: r.top + p.y, n: node.length};
}"""


# Answers to requests without a version arrive 800 ms late; window.heldBack counts those
# requests once settled (answered late, or aborted by the page before any answer).
HOLD_BACK_UNVERSIONED = """() => {
  const fetch = window.fetch;
  window.heldBack = 0;
  window.fetch = (url, opts) => {
    const answer = fetch(url, opts);
    if (String(url).includes("version=")) return answer;
    return answer.then(
      (r) => new Promise((ok) => setTimeout(() => { window.heldBack += 1; ok(r); }, 800)),
      (err) => { window.heldBack += 1; throw err; });
  };
}"""


def _wait_ready(page):
    page.wait_for_selector("#cy[data-ready='1']")


def test_filter_the_web_click_faith_find_paths_and_compare_versions(
    live_server, page, login, review, users
):
    build_chain_review(review)
    theory_version_create(
        review=review,
        user=users["owner"],
        label="Gleaned programme theory (Box 1)",
        kind="gleaned",
        phase_names=["Theory gleaning"],
    )
    theory_version_create(
        review=review, user=users["owner"], label="Realist evaluation (Box 2 added)"
    )
    login("reviewer")
    page.goto(f"{live_server.url}/reviews/{review.pk}/theory/web/")
    _wait_ready(page)
    stats = page.locator("#web-stats")
    expect(stats).to_contain_text("7 concepts")
    expect(stats).to_contain_text("5 CMOCs")

    page.get_by_label("Theory gleaning").check()
    expect(stats).to_contain_text("3 CMOCs")
    _wait_ready(page)
    assert "phase=Theory+gleaning" in page.url
    labels = page.evaluate("() => window.retroduceWeb.nodes().map((n) => n.data('label'))")
    assert "Synergy" not in labels and "Faith" in labels

    where = page.evaluate(CLICK_NODE, "Faith")
    assert where["n"] == 1
    page.mouse.click(where["x"], where["y"])
    panel = page.locator("#web-panel")
    expect(page.locator("#panel-title")).to_have_text("Faith")
    for code in ("B1-1", "B1-2", "B1-3"):
        expect(panel).to_contain_text(code)
    expect(panel).not_to_contain_text("B2-1")
    panel.get_by_text("2 excerpts").first.click()
    expect(panel).to_contain_text("Mervyn 2019")

    page.select_option("#path-from", label="Organisational size")
    page.select_option("#path-to", label="Collaborative behaviour")
    page.get_by_role("button", name="Find paths").click()
    expect(panel.locator("#path-result")).to_contain_text("1 path")
    expect(panel).to_contain_text("Trust")
    page.wait_for_function("() => window.retroduceWeb.nodes('.hl').length === 5")

    # The exports follow the filters.
    href = page.locator(".export-link[data-format=svg]").get_attribute("href")
    assert re.search(r"/theory/web/export/svg/\?phase=Theory\+gleaning", href)

    # A version's web comes from its snapshot. Filters changed in quick succession: the
    # answer for the first change (no phase, no version) is held back so that it arrives
    # last, and must not replace the web of the latest choice.
    page.evaluate(HOLD_BACK_UNVERSIONED)
    page.get_by_label("Theory gleaning").uncheck()
    page.select_option("select[name=version]", label="v1 Gleaned programme theory (Box 1)")
    expect(stats).to_contain_text("3 CMOCs")
    page.wait_for_function("() => window.heldBack === 1")  # the stale request has settled
    page.wait_for_timeout(100)
    expect(stats).to_contain_text("3 CMOCs")

    page.goto(f"{live_server.url}/reviews/{review.pk}/theory/versions/")
    page.get_by_role("button", name="Compare").click()
    summary = page.locator("#diff-summary")
    expect(summary).to_contain_text("v1 “Gleaned programme theory (Box 1)” (3 CMOCs)")
    expect(summary).to_contain_text("1 refined, 1 refuted")
    expect(page.locator("#diff-refined")).to_contain_text("New CMOC refining B1-3")
    page.locator("#diff-refuted").get_by_role("link", name="B2-2").click()
    expect(page.locator("h1")).to_contain_text("B2-2")


def test_filters_that_leave_nothing_say_so(live_server, page, login, review):
    """With filters no CMOC passes (here: at least 9 sources) the canvas used to stay blank
    with nothing but zero counts; it now says the filters left nothing to draw."""
    build_chain_review(review)
    login("analyst")
    page.goto(f"{live_server.url}/reviews/{review.pk}/theory/web/")
    _wait_ready(page)
    empty = page.locator("#web-empty")
    expect(empty).to_be_hidden()
    page.get_by_label("Min. sources").fill("9")
    page.get_by_label("Min. sources").press("Enter")
    expect(page.locator("#web-stats")).to_contain_text("0 CMOCs")
    expect(empty).to_be_visible()
    expect(empty).to_contain_text("no CMOC matches these filters")
    page.get_by_label("Min. sources").fill("0")
    page.get_by_label("Min. sources").press("Enter")
    expect(page.locator("#web-stats")).to_contain_text("5 CMOCs")
    expect(empty).to_be_hidden()
