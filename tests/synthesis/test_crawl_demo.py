"""Every page a demo user can reach by following links answers without a server error, and
every one of the review's pages is a 404 for someone who is not a member.

The crawl follows the links the pages actually render, so a new page is covered as soon as
something links to it."""

import re
from collections import Counter, deque
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.urls import Resolver404, resolve

from synthesis.demo import DEMO_USERS, demo_load

pytestmark = pytest.mark.django_db

HREF = re.compile(r'(?:href|hx-get|data-url)="([^"#]*)')  # links and htmx loads
PER_PATTERN = 3  # a few instances of each URL pattern: /cmocs/12/ and /cmocs/13/ run one view
SKIP = ("/accounts/logout", "/static/", "/media/", "/admin/")


def crawl(client, start: str) -> dict[str, int]:
    """GET every same-site link reachable from `start`; returns path → status."""
    seen: dict[str, int] = {}
    per_view: Counter = Counter()
    queue = deque([start])
    while queue:
        path = queue.popleft()
        if path in seen:
            continue
        try:
            name = resolve(urlsplit(path).path).url_name
        except Resolver404:
            name = None
        per_view[name] += 1
        if per_view[name] > PER_PATTERN:
            continue
        resp = client.get(path)
        seen[path] = resp.status_code
        if resp.status_code != 200 or "text/html" not in resp.get("Content-Type", ""):
            continue
        for href in HREF.findall(resp.content.decode()):
            url = urlsplit(urljoin(path, href.replace("&amp;", "&")))
            if url.netloc or not url.path.startswith("/") or url.path.startswith(SKIP):
                continue
            queue.append(url.path + (f"?{url.query}" if url.query else ""))
    return seen


@pytest.fixture
def demo():
    review, _ = demo_load()
    return review


@pytest.mark.parametrize("username", [u for u, _name, _role in DEMO_USERS])
def test_every_linked_page_answers_without_a_server_error(client, demo, username):
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username=username))
    seen = crawl(client, f"/reviews/{demo.pk}/")
    assert len(seen) > 40, sorted(seen)  # the crawl really went through the review
    errors = {p: s for p, s in seen.items() if s >= 500}
    assert errors == {}
    # A page linked for this role is one this role may open.
    refused = {p: s for p, s in seen.items() if s in (403, 404)}
    assert refused == {}


def test_a_non_member_gets_404_on_every_review_page(client, demo, make_user):
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username=DEMO_USERS[0][0]))
    pages = [p for p in crawl(client, f"/reviews/{demo.pk}/") if f"/{demo.pk}/" in p]
    assert len(pages) > 40
    client.logout()
    client.force_login(make_user("stranger"))
    answers = {p: client.get(p).status_code for p in pages}
    assert {p: s for p, s in answers.items() if s != 404} == {}
    posted = {p: client.post(p, {}).status_code for p in pages}
    assert {p: s for p, s in posted.items() if s not in (404, 405)} == {}


JUNK = {"page": "x", "sort": "nonsense", "status": "<b>", "q": "\x00'", "min_sources": "-1",
        "phase": "9999", "version": "abc", "filter": "?", "order": "zz", "search": "%%",
        "concept": "x", "stage": "x", "study": "x", "year": "x", "ordering": "-nonsense",
        "from": "x", "to": "x", "type": "x", "supported": "x", "format": "x"}  # fmt: skip


def test_junk_in_every_query_string_and_form_is_not_a_server_error(client, demo):
    """Garbage parameters (GET) and forms posted empty or with garbage (POST) get a page, a
    redirect or a 4xx with the problem: never a 500. Some posts may change the demo; only the
    status is checked."""
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username=DEMO_USERS[0][0]))
    pages = list(crawl(client, f"/reviews/{demo.pk}/"))
    client.raise_request_exception = False  # a 500 is counted, not raised
    answers = {}
    huge = "9" * 20  # beyond any integer column
    for path in pages:
        bare = path.split("?")[0]
        answers[f"GET {path}"] = client.get(bare, JUNK).status_code
        answers[f"GET {path} (huge)"] = client.get(bare, dict.fromkeys(JUNK, huge)).status_code
        answers[f"GET {path} (huge ids)"] = client.get(
            re.sub(r"/\d+/", f"/{huge}/", bare)
        ).status_code
    for path in pages:
        answers[f"POST {path}"] = client.post(path.split("?")[0], JUNK).status_code
        answers[f"POST {path} (empty)"] = client.post(path.split("?")[0], {}).status_code
    assert {k: s for k, s in answers.items() if s >= 500} == {}


class _PostForms(HTMLParser):
    """The POST forms of a page: (action, {field name: value as rendered})."""

    def __init__(self):
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []
        self._fields: dict[str, str] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            post = (a.get("method") or "").lower() == "post" or "hx-post" in a
            self._fields = {} if post else None
            if post:
                self.forms.append((a.get("hx-post") or a.get("action") or "", self._fields))
        elif self._fields is not None and tag in ("input", "select", "textarea") and a.get("name"):
            self._fields.setdefault(a["name"], a.get("value") or "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._fields = None


FIELD_JUNK = ("abc", "9" * 20, "x" * 5000, "\x00")


def test_junk_in_each_field_of_every_form_is_not_a_server_error(client, demo):
    """Every POST form the owner is shown, sent as rendered but for one field holding junk:
    a word where a number or choice is due, an id beyond any integer column, text longer than
    any column, a NUL. Each field in turn, so a junk value elsewhere cannot hide a server error
    behind an earlier refusal. (Delete, remove and log-out forms are left alone.)"""
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username=DEMO_USERS[0][0]))
    pages = crawl(client, f"/reviews/{demo.pk}/")
    client.raise_request_exception = False  # a 500 is counted, not raised
    tried: set[tuple] = set()
    answers = {}
    for page in pages:
        resp = client.get(page)
        if resp.status_code != 200 or "text/html" not in resp.get("Content-Type", ""):
            continue
        parser = _PostForms()
        parser.feed(resp.content.decode())
        for action, fields in parser.forms:
            url = urlsplit(urljoin(page, action or page)).path
            if re.search(r"delete|remove|logout", url) or (url, *sorted(fields)) in tried:
                continue
            tried.add((url, *sorted(fields)))
            for name in fields.keys() - {"csrfmiddlewaretoken"}:
                for junk in FIELD_JUNK:
                    status = client.post(url, {**fields, name: junk}).status_code
                    answers[f"{url} {name}={junk[:12]!r}"] = status
    assert len(tried) > 100  # the forms were found
    assert {k: s for k, s in answers.items() if s >= 500} == {}
