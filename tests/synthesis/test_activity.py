"""The activity page (audit trail), its CSV export, the per-object history lists and the one
blind-screening rule for events (synthesis.selectors_activity.events_visible_to)."""

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from cmoc.services import coding as coding_svc
from studies.services import screening as screening_svc
from synthesis.activity import area_of, details, verb_label
from synthesis.models import ReviewEvent
from synthesis.selectors_activity import ActivityFilters, events_filter, events_visible_to
from tests.studies.screening_fixtures import make_records, make_stages

pytestmark = pytest.mark.django_db


def activity(review, **params):
    from urllib.parse import urlencode

    return reverse("activity", args=[review.pk]) + ("?" + urlencode(params) if params else "")


def export(review, **params):
    from urllib.parse import urlencode

    return reverse("activity-csv", args=[review.pk]) + ("?" + urlencode(params) if params else "")


def event(review, actor, verb, summary="", at=None, **extra):
    e = ReviewEvent.objects.create(review=review, actor=actor, verb=verb, summary=summary, **extra)
    if at is not None:
        ReviewEvent.objects.filter(pk=e.pk).update(created_at=at)
    return e


def csv_rows(resp) -> list[list[str]]:
    body = b"".join(resp.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


# ------------------------------------------------------------------ wording (plain Python)


def test_every_verb_the_services_write_is_worded_and_has_an_area():
    """The area filter is an exact list of verbs (synthesis.activity.area_verbs): a verb
    written by the code but missing from VERB_LABELS would never be found by it."""
    import re
    from pathlib import Path

    from synthesis.activity import VERB_LABELS

    root = Path(__file__).resolve().parents[2]
    written = set()
    for app in ("synthesis", "studies", "cmoc"):
        for path in (root / app).rglob("*.py"):
            for line in path.read_text().splitlines():
                if "verb" in line:
                    written |= set(re.findall(r'(?<!summary=)"([a-z_]+\.[a-z_]+)"', line))
    assert len(written) > 60  # the scan found the services' verbs
    assert sorted(written - set(VERB_LABELS)) == []
    assert [v for v in VERB_LABELS if not area_of(v)] == []


def test_areas_come_from_verb_prefixes_with_backups_among_exports():
    assert area_of("cmoc.update") == "coding"
    assert area_of("cmoc_link.create") == "coding"
    assert area_of("screening.resolve") == "screening"
    assert area_of("import.run") == area_of("duplicate.confirm") == "identification"
    assert area_of("review.update") == "team"
    assert area_of("review.export") == "exports"
    assert area_of("unknown.thing") == ""


def test_unknown_verbs_still_read_as_words():
    assert verb_label("cmoc.create") == "created a CMOC"
    assert verb_label("widget.flip_over") == "flip over widget"


def test_details_compare_old_and_new_field_by_field():
    d = details(
        {"old": {"statement": "a", "phase": 1, "tags": []}, "new": {"statement": "b", "phase": 1,
         "tags": ["x", "y"]}, "record": 4}
    )  # fmt: skip
    assert [(c.field, c.old, c.new) for c in d.changes] == [
        ("statement", "a", "b"),
        ("tags", "—", "x, y"),
    ]
    assert d.facts == [("record", "4")]
    plain = details({"old": "sought", "new": "retrieved", "pages": 3})
    assert [(c.old, c.new) for c in plain.changes] == [("sought", "retrieved")]
    assert not details({}) and not details(None)
    assert details({"old": None, "new": {"decision": "include"}}).changes[0].new == "include"


# ------------------------------------------------------------------ the blind rule


@pytest.fixture
def votes(review, users):
    """Real votes through the services: reviewer2 excludes record A, reviewer includes B."""
    ta, _ft = make_stages(review, users["owner"])
    a, b = make_records(review, 2)
    screening_svc.decision_record(user=users["reviewer2"], stage=ta, record=a, decision="exclude")
    screening_svc.decision_record(user=users["reviewer"], stage=ta, record=b, decision="include")
    screening_svc.decision_record(user=users["reviewer2"], stage=ta, record=a, decision="include")
    screening_svc.decision_undo(user=users["reviewer2"], stage=ta, record=a)
    return ta, a, b


def test_another_reviewers_vote_events_are_hidden_while_blind(review, users, votes):
    assert review.blind_screening
    mine = events_visible_to(users["reviewer"], review)
    verbs = sorted(mine.filter(verb__startswith="screening.").values_list("verb", "actor"))
    assert verbs == [("screening.decide", users["reviewer"].pk)]
    theirs = events_visible_to(users["reviewer2"], review).filter(verb__startswith="screening.")
    assert sorted(theirs.values_list("verb", flat=True)) == [
        "screening.change", "screening.decide", "screening.undo",
    ]  # fmt: skip
    # the owner is blind too (as on the screening pages); other events stay visible
    owner = events_visible_to(users["owner"], review)
    assert not owner.filter(verb__startswith="screening.").exists()
    assert owner.filter(verb="stage.create").count() == 2
    review.blind_screening = False
    review.save()
    assert (
        events_visible_to(users["owner"], review).filter(verb__startswith="screening.").count() == 4
    )


def test_a_vote_event_without_an_actor_is_hidden_too(review, users):
    event(review, None, "screening.decide", "exclude record 1 at TA")
    assert not events_visible_to(users["owner"], review).exists()


def test_resolution_events_stay_visible_they_need_both_votes_first(review, users):
    ta, _ft = make_stages(review, users["owner"])
    (rec,) = make_records(review, 1)
    screening_svc.decision_record(user=users["reviewer"], stage=ta, record=rec, decision="include")
    screening_svc.decision_record(user=users["reviewer2"], stage=ta, record=rec, decision="exclude")
    screening_svc.resolution_record(user=users["owner"], stage=ta, record=rec, decision="include")
    seen = events_visible_to(users["analyst"], review).values_list("verb", flat=True)
    assert "screening.resolve" in seen and "screening.decide" not in seen


def test_page_csv_and_dashboard_all_apply_the_rule(client_for, review, users, votes):
    _ta, a, b = votes
    secret, own = f"record {a.pk} at", f"include record {b.pk}"
    c = client_for("reviewer")
    for url in (activity(review), reverse("review-dashboard", args=[review.pk])):
        body = c.get(url).content.decode()
        assert secret not in body and own in body
    rows = csv_rows(c.get(export(review)))
    summaries = [r[8] for r in rows[1:]]
    assert any(own in s for s in summaries) and not any(secret in s for s in summaries)
    # the other reviewer sees their own votes
    assert secret in client_for("reviewer2").get(activity(review)).content.decode()


# ------------------------------------------------------------------ permissions


@pytest.mark.parametrize(
    "who,page,csv_status",
    [("owner", 200, 200), ("reviewer", 200, 200), ("analyst", 200, 200), ("viewer", 200, 403),
     ("outsider", 404, 404)],
)  # fmt: skip
def test_members_read_the_activity_outsiders_get_404(
    client_for, review, users, who, page, csv_status
):
    event(review, users["owner"], "review.update", "Title changed")
    c = client_for(who)
    assert c.get(activity(review)).status_code == page
    assert c.get(export(review)).status_code == csv_status


def test_the_nav_links_to_the_activity_page(client_for, review):
    body = client_for("viewer").get(reverse("review-dashboard", args=[review.pk])).content.decode()
    assert f'href="{activity(review)}"' in body


# ------------------------------------------------------------------ filters


@pytest.fixture
def mixed(review, users):
    day = dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)
    return {
        "cmoc": event(review, users["reviewer"], "cmoc.update", "C1 statement", at=day),
        "concept": event(
            review, users["owner"], "concept.rename", "trust → faith", at=day + dt.timedelta(days=1)
        ),  # fmt: skip
        "import": event(
            review,
            users["reviewer2"],
            "import.run",
            "medline.ris: 120 records",
            at=day + dt.timedelta(days=2),
        ),  # fmt: skip
        "backup": event(
            review, users["owner"], "review.export", "backup", at=day + dt.timedelta(days=3)
        ),  # fmt: skip
        "settings": event(
            review,
            users["owner"],
            "review.update",
            "Question changed",
            at=day + dt.timedelta(days=4),
        ),  # fmt: skip
        "system": event(
            review,
            None,
            "ranking.trained",
            "Prioritised 300 records",
            at=day + dt.timedelta(days=5),
        ),  # fmt: skip
    }


def shown(client, url) -> set[int]:
    import re

    return {int(x) for x in re.findall(r'id="event-(\d+)"', client.get(url).content.decode())}


def test_filters_by_member_area_dates_and_words(client_for, review, users, mixed):
    c = client_for("analyst")
    ids = {k: e.pk for k, e in mixed.items()}
    assert shown(c, activity(review)) == set(ids.values())
    assert shown(c, activity(review, actor=users["owner"].pk)) == {
        ids["concept"],
        ids["backup"],
        ids["settings"],
    }
    assert shown(c, activity(review, actor="system")) == {ids["system"]}
    assert shown(c, activity(review, area="team")) == {ids["settings"]}
    assert shown(c, activity(review, area="exports")) == {ids["backup"]}
    assert shown(c, activity(review, area="identification")) == {ids["import"]}
    assert shown(c, activity(review, area="coding", actor=users["owner"].pk)) == set()
    assert shown(c, activity(review, since="2026-03-11", until="2026-03-12")) == {
        ids["concept"],
        ids["import"],
    }
    assert shown(c, activity(review, q="MEDLINE")) == {ids["import"]}
    assert shown(c, activity(review, target_type="cmoc")) == set()


def test_filters_reach_the_csv_and_the_export_is_audited(client_for, review, users, mixed):
    resp = client_for("analyst").get(export(review, area="codebook"))
    assert resp["Content-Type"].startswith("text/csv") and resp.streaming
    rows = csv_rows(resp)
    assert rows[0][:6] == ["When (UTC)", "Who", "Username", "Area", "What", "Verb"]
    assert [r[5] for r in rows[1:]] == ["concept.rename"]
    assert rows[1][0] == "2026-03-11T12:00:00+00:00" and rows[1][2] == "owner"
    assert ReviewEvent.objects.filter(verb="export.download", summary="activity.csv").count() == 1


@pytest.mark.parametrize(
    "params,error,n",
    [
        ({"since": "yesterday"}, True, 6), ({"until": "2026-13-45"}, True, 6),
        ({"since": "0001-01-01"}, True, 6), ({"until": "9999-12-31"}, True, 6),
        # the end date is refused, the start date still applies (12–15 March)
        ({"since": "2026-03-12", "until": "2026-03-10"}, True, 4),
        ({"actor": "12x"}, True, 6), ({"actor": "999999"}, True, 6), ({"area": "nope"}, True, 6),
        ({"target_id": "-4"}, True, 6), ({"target_id": "99999999999999999999999"}, True, 6),
        ({"target_type": "cmoc'; drop"}, True, 6), ({"before": "abc"}, True, 6),
        ({"after": "99999999999999999999"}, True, 6),
        ({"before": "123456789"}, False, 6),  # no such event: the first page
        ({"q": "x" * 500}, True, 6),
    ],
)  # fmt: skip
def test_junk_filters_are_reported_and_ignored_never_a_500(
    client_for, review, users, mixed, params, error, n
):
    c = client_for("owner")
    resp = c.get(activity(review, **params))
    assert resp.status_code == 200
    assert ('id="filter-errors"' in resp.content.decode()) == error
    assert len(shown(c, activity(review, **params))) == n
    assert client_for("analyst").get(export(review, **params)).status_code == 200


def test_a_bad_date_shows_a_form_error(client_for, review, mixed):
    body = client_for("owner").get(activity(review, since="yesterday")).content.decode()
    assert 'id="filter-errors"' in body and "this filter was ignored" in body
    assert len(shown(client_for("owner"), activity(review, since="yesterday"))) == len(mixed)
    body = client_for("owner").get(activity(review, since="2026-03-12", until="2026-03-10"))
    assert "The end date is before the start date." in body.content.decode()


# ------------------------------------------------------------------ keyset pages


def test_keyset_pages_walk_every_event_once_with_ties_on_time(client_for, review, users):
    at = timezone.now().replace(microsecond=0)
    made = []
    for i in range(120):
        # pairs of events share a timestamp: the id breaks the tie
        made.append(event(review, users["owner"], "cmoc.update", f"E{i}",
                          at=at + dt.timedelta(seconds=i // 2)).pk)  # fmt: skip
    c = client_for("owner")
    import re

    seen, url, pages = [], activity(review), 0
    while url:
        body = c.get(url).content.decode()
        seen += [int(x) for x in re.findall(r'id="event-(\d+)"', body)]
        m = re.search(r'href="\?([^"]*)" rel="next"', body)
        url = activity(review) + "?" + m.group(1).replace("&amp;", "&") if m else None
        pages += 1
    assert pages == 3 and seen == sorted(made, reverse=True)
    # from the last page, "newer" comes back to the page before it
    last = c.get(activity(review, before=seen[99])).content.decode()
    m = re.search(r'href="\?([^"]*)" rel="prev"', last)
    back = [
        int(x)
        for x in re.findall(
            r'id="event-(\d+)"',
            c.get(activity(review) + "?" + m.group(1).replace("&amp;", "&")).content.decode(),
        )
    ]
    assert back == seen[50:100]


def test_the_total_is_capped(review, users, monkeypatch):
    from synthesis import selectors_activity as sel

    for i in range(5):
        event(review, users["owner"], "cmoc.update", f"E{i}")
    monkeypatch.setattr(sel, "COUNT_CAP", 3)
    visible = sel.events_visible_to(users["owner"], review)
    page = sel.activity_page(visible, review=review, per_page=2)
    assert (page.total, page.capped) == (3, True)
    # a first page that holds every match is its own count
    whole = sel.activity_page(visible, review=review)
    assert (whole.total, whole.capped) == (5, False)
    qs = events_filter(events_visible_to(users["owner"], review), ActivityFilters(q="E4"))
    assert sel.activity_page(qs, review=review).total == 1


# ------------------------------------------------------------------ rows, links, history


def test_rows_link_to_their_objects_and_show_details(client_for, review, users):
    cmoc = coding_svc.cmoc_create(user=users["reviewer"], review=review, statement="Trust grows")
    coding_svc.cmoc_update(user=users["reviewer"], cmoc=cmoc, statement="Trust grows slowly")
    body = client_for("viewer").get(activity(review, target_type="cmoc", target_id=cmoc.pk))
    body = body.content.decode()
    assert f'href="{reverse("cmoc-detail", args=[review.pk, cmoc.pk])}"' in body
    assert "changed a CMOC" in body and "created a CMOC" in body
    assert "<details" in body and "Trust grows slowly" in body
    assert 'id="activity-target"' in body


def test_cmoc_detail_shows_its_history_with_a_link_to_the_filtered_page(client_for, review, users):
    cmoc = coding_svc.cmoc_create(user=users["reviewer"], review=review, statement="Trust grows")
    coding_svc.cmoc_update(user=users["owner"], cmoc=cmoc, statement="Trust grows slowly")
    other = coding_svc.cmoc_create(user=users["reviewer"], review=review, statement="Other")
    body = client_for("viewer").get(reverse("cmoc-detail", args=[review.pk, cmoc.pk]))
    body = body.content.decode()
    history = body[body.index('id="history"') :]
    assert "created a CMOC" in history and "changed a CMOC" in history
    assert "Trust grows → Trust grows slowly" in history.replace("&gt;", ">")
    assert f"target_type=cmoc&amp;target_id={cmoc.pk}" in history
    assert f"{other.code}" not in history


def test_details_read_the_changed_conventions_of_excerpts_and_cmocs():
    excerpt = details({"changed": {"page": [2, 7]}})
    assert [(c.field, c.old, c.new) for c in excerpt.changes] == [("page", "2", "7")]
    cmoc = details({"changed": {"statement": "b", "phase": "P2"}, "old": {"statement": "a"},
                    "version": 3})  # fmt: skip
    assert [(c.field, c.old, c.new) for c in cmoc.changes] == [
        ("statement", "a", "b"),
        ("phase", "(not recorded)", "P2"),
    ]
    assert cmoc.facts == [("version", "3")]
