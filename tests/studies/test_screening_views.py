"""Screening pages: permissions, blinding in HTML, htmx flow, query counts."""

import pytest
from django.urls import reverse

from studies.models import RecordScore, ScreeningDecision
from studies.services import screening as svc
from tests.studies.screening_fixtures import make_records, make_stages


@pytest.fixture
def stages(review, users):
    review.dual_fraction = 1
    review.highlight_include_terms = "collaboration\ncare home"
    review.highlight_exclude_terms = "paediatric*"
    review.save()
    return make_stages(review, users["owner"])


def url(name, review, *args):
    return reverse(name, args=[review.pk, *args])


@pytest.mark.parametrize(
    "who,status", [("owner", 200), ("reviewer", 200), ("analyst", 403), ("viewer", 403),
                   ("outsider", 404)],
)  # fmt: skip
def test_screen_page_permissions(client_for, review, stages, who, status):
    make_records(review, 2)
    assert client_for(who).get(url("screening-screen", review, stages[0].pk)).status_code == status


@pytest.mark.parametrize("who,status", [("viewer", 403), ("analyst", 403), ("outsider", 404)])
def test_viewer_cannot_post_a_decision(client_for, review, stages, who, status):
    r = make_records(review, 1)[0]
    resp = client_for(who).post(
        url("screening-decide", review, stages[0].pk), {"record": r.pk, "decision": "include"}
    )
    assert resp.status_code == status
    assert not ScreeningDecision.objects.exists()


def test_read_pages_open_to_members_not_outsiders(client_for, review, stages):
    ta = stages[0]
    for name, args in [("screening-home", []), ("screening-conflicts", [ta.pk]),
                       ("screening-agreement", [ta.pk]), ("screening-fulltexts", [])]:  # fmt: skip
        assert client_for("viewer").get(url(name, review, *args)).status_code == 200
        assert client_for("outsider").get(url(name, review, *args)).status_code == 404
    assert client_for("reviewer").get(url("screening-stage-edit", review, ta.pk)).status_code == 403


def test_keyboard_flow_decide_returns_next_record_and_highlights(client_for, review, stages):
    ta = stages[0]
    recs = make_records(review, 3)
    c = client_for("reviewer")
    page = c.get(url("screening-screen", review, ta.pk)).content.decode()
    assert f'data-record-id="{recs[0].pk}"' in page
    assert '<mark class="hl-include">care home</mark>' in page
    assert '<mark class="hl-exclude">paediatric</mark>' in page
    resp = c.post(
        url("screening-decide", review, ta.pk),
        {"record": recs[0].pk, "decision": "include", "note": "clear fit"},
        HTTP_HX_REQUEST="true",
    )
    assert resp["HX-Trigger"] == "screened"
    body = resp.content.decode()
    assert "<html" not in body  # a partial, not a page
    assert f'data-record-id="{recs[1].pk}"' in body
    # full-text stage: exclusion without a reason is refused with a message, nothing saved
    resp = c.post(
        url("screening-decide", review, ta.pk), {"record": recs[1].pk, "decision": "bogus"}
    )
    assert 'id="screen-error"' in resp.content.decode()
    # undo brings the record back with no vote
    resp = c.post(url("screening-undo", review, ta.pk), {"record": recs[0].pk})
    assert f'data-record-id="{recs[0].pk}"' in resp.content.decode()
    assert not ScreeningDecision.objects.exists()
    # next / specific record partials
    nxt = c.get(url("screening-record", review, ta.pk), {"after": recs[0].pk}).content.decode()
    assert f'data-record-id="{recs[1].pk}"' in nxt
    one = c.get(url("screening-record", review, ta.pk), {"r": recs[2].pk}).content.decode()
    assert f'data-record-id="{recs[2].pk}"' in one


def test_blind_page_never_shows_the_other_vote_until_both_decided(
    client_for, review, stages, users
):
    ta = stages[0]
    r = make_records(review, 1)[0]
    svc.decision_record(user=users["reviewer2"], stage=ta, record=r, decision="exclude",
                        note="SECRET-NOTE-B")  # fmt: skip
    a = client_for("reviewer")
    a.defaults["HTTP_HX_REQUEST"] = "true"
    pages = [
        a.get(url("screening-screen", review, ta.pk), {"r": r.pk}),
        a.get(url("screening-record", review, ta.pk), {"r": r.pk}),
        a.get(url("screening-conflicts", review, ta.pk)),
        a.get(url("screening-agreement", review, ta.pk)),
    ]
    for resp in pages:
        html = resp.content.decode()
        assert "SECRET-NOTE-B" not in html
        assert "reviewer2" not in html
        assert 'id="conflict-flag"' not in html
    assert a.get(url("screening-conflict", review, ta.pk, r.pk)).status_code == 404
    # the owner (not a voter) does not see a half-screened dual record's vote either
    owner_html = client_for("owner").get(url("screening-record", review, ta.pk), {"r": r.pk})
    assert "SECRET-NOTE-B" not in owner_html.content.decode()
    # A decides: now both votes and the conflict show
    resp = a.post(url("screening-decide", review, ta.pk), {"record": r.pk, "decision": "include"})
    html = a.get(url("screening-record", review, ta.pk), {"r": r.pk}).content.decode()
    assert "SECRET-NOTE-B" in html and 'id="conflict-flag"' in html
    assert resp.status_code == 200


def test_owner_resolves_on_side_by_side_page(client_for, review, stages, users):
    ta = stages[0]
    r = make_records(review, 1)[0]
    svc.decision_record(user=users["reviewer"], stage=ta, record=r, decision="include")
    svc.decision_record(user=users["reviewer2"], stage=ta, record=r, decision="exclude")
    o = client_for("owner")
    detail = o.get(url("screening-conflict", review, ta.pk, r.pk)).content.decode()
    assert detail.count('class="card vote"') == 2
    resp = o.post(url("screening-conflict", review, ta.pk, r.pk),
                  {"decision": "include", "note": "meets criterion 2"})  # fmt: skip
    assert resp.status_code == 302
    assert (
        "resolved"
        in o.get(url("screening-conflicts", review, ta.pk), {"show": "all"}).content.decode()
    )
    # a voter cannot resolve their own conflict: error shown, nothing changed
    resp = client_for("reviewer").post(url("screening-conflict", review, ta.pk, r.pk),
                                       {"decision": "exclude"})  # fmt: skip
    assert resp.status_code == 200 and b"third reviewer" in resp.content
    ag = o.get(url("screening-agreement", review, ta.pk)).content.decode()
    assert 'id="ag-n">1<' in ag


def test_stage_edit_and_settings(client_for, review, stages):
    o = client_for("owner")
    ta = stages[0]
    resp = o.post(url("screening-stage-edit", review, ta.pk), {
        "name": "Titles", "inclusion_criteria": "Interagency collaboration",
        "exclusion_criteria": "", "reasons": "A\nB", "reason_required": "on"})  # fmt: skip
    assert resp.status_code == 302
    ta.refresh_from_db()
    assert ta.reason_required and list(ta.reasons.values_list("label", flat=True)) == ["A", "B"]
    resp = o.post(url("screening-settings", review), {
        "dual_fraction": "2", "dual_seed": "5", "maybe_counts_as": "separate"})  # fmt: skip
    review.refresh_from_db()
    assert review.dual_fraction == 1  # refused: out of range, nothing changed
    o.post(url("screening-settings", review), {"dual_fraction": "0.25", "dual_seed": "5",
                                               "maybe_counts_as": "separate"})  # fmt: skip
    review.refresh_from_db()
    assert float(review.dual_fraction) == 0.25 and not review.blind_screening


def test_query_counts_are_constant_as_data_grows(client_for, review, stages, users):
    """Every per-keystroke action (next record in each order and filter, save, undo) and the
    stage-wide pages run the same number of queries at 10 records and at 100."""
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ta = stages[0]
    c = client_for("reviewer")
    c.defaults["HTTP_HX_REQUEST"] = "true"
    me = users["reviewer"]
    record_url = url("screening-record", review, ta.pk)

    def grow(start, n):
        # Per block: a dual-screened half (conflicts where position % 3), then my maybes,
        # one include of mine, and records still undecided; every record scored.
        recs = make_records(review, n, start=start)
        half = n // 2
        for r in recs[:half]:
            svc.decision_record(user=users["reviewer2"], stage=ta, record=r, decision="include")
            svc.decision_record(user=users["owner"], stage=ta, record=r,
                                decision="exclude" if r.position % 3 else "include")  # fmt: skip
        for r in recs[half : half + 2]:
            svc.decision_record(user=me, stage=ta, record=r, decision="maybe")
        svc.decision_record(user=me, stage=ta, record=recs[half + 2], decision="include")
        RecordScore.objects.bulk_create(
            [RecordScore(stage=ta, record=r, score=0.5, rank=r.position + 1) for r in recs]
        )

    def counts():
        # Save, change and undo on a record nobody voted on: its outcome stays "pending",
        # so no reports-sought update is added at one size and not the other.
        voted = ScreeningDecision.objects.filter(stage=ta).values("record")
        unvoted = review.records.exclude(pk__in=voted)
        # The first record of each queue, so that a next record exists after it in every
        # filter at both sizes (no wrap-round query at one size and not the other).
        first = {
            "position": review.records.order_by("position").first(),
            "priority": review.records.order_by("scores__rank").first(),
            "random": review.records.order_by("screen_key", "id").first(),
        }
        target = {
            "position": unvoted.order_by("position").first(),
            "priority": unvoted.order_by("scores__rank").first(),
            "random": unvoted.order_by("screen_key", "id").first(),
        }
        calls = {}
        for order in ("position", "priority", "random"):
            for filter_ in ("undecided", "maybe", "mine", "conflicts"):
                calls[f"next {order} {filter_}"] = (
                    lambda o=order, f=filter_: c.get(
                        record_url, {"after": first[o].pk, "order": o, "filter": f}
                    )
                )  # fmt: skip
            calls[f"save {order}"] = lambda o=order: c.post(
                url("screening-decide", review, ta.pk),
                {"record": target[o].pk, "decision": "include", "order": o},
            )
            calls[f"change {order}"] = lambda o=order: c.post(
                url("screening-decide", review, ta.pk),
                {"record": target[o].pk, "decision": "exclude", "order": o},
            )
            calls[f"undo {order}"] = lambda o=order: c.post(
                url("screening-undo", review, ta.pk), {"record": target[o].pk}
            )
            # From the start of the queue (the undecided queue resumes after my latest vote,
            # which may be the last of the random order at one size: one wrap-round query).
            calls[f"open queue {order}"] = lambda o=order: c.get(
                url("screening-screen", review, ta.pk), {"order": o, "filter": "mine"}
            )
        cursor = review.records.order_by("position")[1]
        calls.update({
            "open queue, resume after my latest vote": lambda: c.get(
                url("screening-screen", review, ta.pk)),
            "show record": lambda: c.get(record_url, {"r": first["random"].pk}),
            "progress": lambda: c.get(url("screening-progress", review, ta.pk)),
            "conflicts": lambda: c.get(url("screening-conflicts", review, ta.pk)),
            "conflicts all": lambda: c.get(url("screening-conflicts", review, ta.pk),
                                           {"show": "all"}),
            "conflicts next page": lambda: c.get(url("screening-conflicts", review, ta.pk),
                                                 {"after": f"{cursor.position}-{cursor.pk}"}),
            "agreement": lambda: c.get(url("screening-agreement", review, ta.pk)),
        })  # fmt: skip
        cache.clear()
        out = {}
        for name, call in calls.items():
            with CaptureQueriesContext(connection) as ctx:
                assert call().status_code == 200, name
            out[name] = len(ctx.captured_queries)
        return out

    grow(0, 10)
    small = counts()
    grow(1000, 90)
    big = counts()
    assert small == big
    # Pinned: a change here is a deliberate change of the queue's queries. (Wrapping round
    # to the start of a queue costs one more query; the cursors above never wrap.)
    nexts = {k: v for k, v in small.items() if k.startswith("next")}
    assert set(nexts.values()) == {12, 14}
    assert all(v == 14 for k, v in nexts.items() if "priority" in k)
    assert max(v for k, v in small.items() if k.startswith(("save", "change"))) <= 27
    assert small["conflicts"] == small["conflicts next page"] == 7
    assert small["agreement"] == 8 and small["progress"] == 10


def test_resume_after_changing_an_earlier_vote(client_for, review, stages):
    ta = stages[0]
    recs = make_records(review, 5)
    c = client_for("reviewer")
    d = url("screening-decide", review, ta.pk)
    # without JavaScript the form posts normally and lands on the next record
    resp = c.post(d, {"record": recs[4].pk, "decision": "include"})
    assert resp.status_code == 302 and f"r={recs[0].pk}" in resp["Location"]
    c.post(url("screening-undo", review, ta.pk), {"record": recs[4].pk})
    c.defaults["HTTP_HX_REQUEST"] = "true"
    c.post(d, {"record": recs[0].pk, "decision": "include"})
    c.post(d, {"record": recs[1].pk, "decision": "include"})
    # back on record 0 while record 2 was on screen: carry on at record 2
    body = c.post(d, {"record": recs[0].pk, "decision": "exclude", "resume": recs[2].pk})
    assert f'data-record-id="{recs[2].pk}"' in body.content.decode()
    # a new session starts after the latest vote
    page = c.get(url("screening-screen", review, ta.pk)).content.decode()
    assert f'data-record-id="{recs[2].pk}"' in page


def test_dashboard_activity_never_shows_another_reviewers_blind_vote(client_for, review, stages):
    ta = stages[0]
    r = make_records(review, 1)[0]
    svc.decision_record(user=review.memberships.get(user__username="reviewer2").user, stage=ta,
                        record=r, decision="exclude", note="SECRET-NOTE-B")  # fmt: skip
    dash = url("review-dashboard", review)
    assert f"exclude record {r.pk}" not in client_for("reviewer").get(dash).content.decode()
    assert f"exclude record {r.pk}" in client_for("reviewer2").get(dash).content.decode()
    review.blind_screening = False
    review.save()
    assert f"exclude record {r.pk}" in client_for("reviewer").get(dash).content.decode()


def test_a_junk_or_foreign_exclusion_reason_is_no_reason_not_a_server_error(
    client_for, review, stages, users
):
    ta, ft = stages
    recs = make_records(review, 3)
    c = client_for("reviewer")
    other_stage_reason = ft.reasons.first()
    for record, reason in [(recs[0], "abc"), (recs[1], "9" * 20), (recs[2], other_stage_reason.pk)]:
        resp = c.post(
            url("screening-decide", review, ta.pk),
            {"record": record.pk, "decision": "exclude", "reason": reason},
            HTTP_HX_REQUEST="true",
        )
        assert resp.status_code == 200 and resp["HX-Trigger"] == "screened"
    votes = ScreeningDecision.objects.filter(stage=ta).values_list("decision", "reason")
    assert sorted(votes) == [("exclude", None)] * 3
    # the same on the conflict page
    svc.decision_record(user=users["reviewer2"], stage=ta, record=recs[0], decision="include")
    resp = client_for("owner").post(
        url("screening-conflict", review, ta.pk, recs[0].pk),
        {"decision": "exclude", "reason": "abc"},
    )
    assert resp.status_code == 302
    assert ta.resolutions.get(record=recs[0]).reason is None
