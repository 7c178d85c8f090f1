"""Screening services: votes, undo, resolutions, trust (races, audit), full texts."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.http import Http404

from studies import selectors_screening as sel
from studies.models import Record, ScreeningDecision, ScreeningResolution, Study
from studies.screening_rules import is_dual
from studies.services import screening as svc
from synthesis.models import ReviewEvent
from tests.concurrency import SAVED, at_the_same_moment
from tests.studies.screening_fixtures import make_records, make_stages, pdf_bytes


@pytest.fixture
def setup(review, users):
    ta, ft = make_stages(review, users["owner"])
    records = make_records(review, 10)
    return ta, ft, records


def decide(users, stage, record, who, decision, **kw):
    return svc.decision_record(user=users[who], stage=stage, record=record, decision=decision, **kw)


def test_decision_upsert_is_idempotent_and_audited(setup, users):
    ta, _, records = setup
    r = records[0]
    v1 = decide(users, ta, r, "reviewer", "include")
    v2 = decide(users, ta, r, "reviewer", "include")
    assert v1.pk == v2.pk
    assert ScreeningDecision.objects.filter(record=r, stage=ta).count() == 1
    decide(users, ta, r, "reviewer", "exclude", note="wrong setting")
    events = list(ReviewEvent.objects.filter(verb__startswith="screening.").order_by("id"))
    assert [e.verb for e in events] == ["screening.decide", "screening.change"]
    assert events[1].data["old"]["decision"] == "include"
    assert events[1].data["new"] == {"decision": "exclude", "reason": None, "note": "wrong setting"}
    assert events[1].actor == users["reviewer"]


def test_reason_required_at_full_text_and_reason_from_stage(setup, users, review):
    ta, ft, records = setup
    with pytest.raises(ValidationError):
        decide(users, ft, records[0], "reviewer", "exclude")
    other_reason = ta.reasons.first()
    with pytest.raises(ValidationError):
        decide(users, ft, records[0], "reviewer", "exclude", reason=other_reason)
    v = decide(users, ft, records[0], "reviewer", "exclude", reason=ft.reasons.first())
    assert v.reason == ft.reasons.first()
    # Optional at title/abstract; a reason on an include is dropped.
    assert decide(users, ta, records[1], "reviewer", "exclude").reason is None
    assert decide(users, ta, records[2], "reviewer", "include", reason=other_reason).reason is None


def test_duplicates_and_other_reviews_are_not_screened(setup, users, review):
    ta, _, records = setup
    records[1].duplicate_of = records[0]
    records[1].save()
    with pytest.raises(ValidationError):
        decide(users, ta, records[1], "reviewer", "include")
    from synthesis.models import Review

    other = Review.objects.create(title="Other")
    foreign = make_records(other, 1, start=100)[0]
    with pytest.raises(ValidationError):
        decide(users, ta, foreign, "reviewer", "include")


@pytest.mark.parametrize("who,exc", [("viewer", PermissionDenied), ("analyst", PermissionDenied),
                                     ("outsider", Http404)])  # fmt: skip
def test_only_screeners_can_vote(setup, users, who, exc):
    ta, _, records = setup
    with pytest.raises(exc):
        decide(users, ta, records[0], who, "include")
    assert not ScreeningDecision.objects.exists()


def test_double_submit_race_resolves_to_one_row(setup, users, monkeypatch):
    """Simulate losing the race: the first lookup misses, another request inserts, our
    INSERT hits the unique constraint; the retry updates the winner's row."""
    ta, _, records = setup
    r = records[0]
    real = svc._decision_upsert
    calls = {"n": 0}

    def racing(user, stage, record, decision, reason, note):
        calls["n"] += 1
        if calls["n"] == 1:
            ScreeningDecision.objects.create(record=record, stage=stage, reviewer=user,
                                             decision="maybe")  # fmt: skip
            raise IntegrityError("UNIQUE constraint failed")
        return real(user, stage, record, decision, reason, note)

    monkeypatch.setattr(svc, "_decision_upsert", racing)
    v = decide(users, ta, r, "reviewer", "include")
    assert calls["n"] == 2
    assert v.decision == "include"
    assert ScreeningDecision.objects.filter(record=r, stage=ta).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_reviewers_at_the_same_moment_both_keep_their_votes(review, users):
    ta, _ = make_stages(review, users["owner"])
    r = make_records(review, 1)[0]
    outcomes = at_the_same_moment(*[
        lambda who=who, decision=decision: decide(users, ta, r, who, decision)
        for who, decision in [("reviewer", "include"), ("reviewer2", "exclude"),
                              ("reviewer", "include"), ("reviewer2", "exclude")]
    ])  # fmt: skip
    assert outcomes == [SAVED] * 4
    votes = dict(
        ScreeningDecision.objects.filter(record=r).values_list("reviewer__username", "decision")
    )
    assert votes == {"reviewer": "include", "reviewer2": "exclude"}
    assert ScreeningDecision.objects.filter(record=r).count() == 2


def test_undo_removes_only_my_vote(setup, users):
    ta, _, records = setup
    decide(users, ta, records[0], "reviewer", "include")
    decide(users, ta, records[0], "reviewer2", "exclude")
    assert svc.decision_undo(user=users["reviewer"], stage=ta, record=records[0])
    assert not svc.decision_undo(user=users["reviewer"], stage=ta, record=records[0])
    assert list(ScreeningDecision.objects.values_list("reviewer__username", flat=True)) == [
        "reviewer2"
    ]
    ev = ReviewEvent.objects.get(verb="screening.undo")
    assert ev.data["old"]["decision"] == "include" and ev.data["new"] is None


def test_resolution_keeps_votes_and_is_for_owner_or_third_reviewer(setup, users, review, make_user):
    ta, _, records = setup
    r = records[0]
    decide(users, ta, r, "reviewer", "include")
    with pytest.raises(ValidationError):  # one vote is no conflict
        svc.resolution_record(user=users["owner"], stage=ta, record=r, decision="include")
    decide(users, ta, r, "reviewer2", "exclude")
    with pytest.raises(PermissionDenied):
        svc.resolution_record(user=users["reviewer"], stage=ta, record=r, decision="include")
    with pytest.raises(PermissionDenied):
        svc.resolution_record(user=users["viewer"], stage=ta, record=r, decision="include")
    from synthesis.models import Membership

    third = make_user("third")
    Membership.objects.create(review=review, user=third, role="reviewer")
    res = svc.resolution_record(user=third, stage=ta, record=r, decision="include", note="fits")
    res2 = svc.resolution_record(user=users["owner"], stage=ta, record=r, decision="exclude")
    assert res.pk == res2.pk and ScreeningResolution.objects.count() == 1
    votes = dict(ScreeningDecision.objects.values_list("reviewer__username", "decision"))
    assert votes == {"reviewer": "include", "reviewer2": "exclude"}
    ev = ReviewEvent.objects.filter(verb="screening.resolve").order_by("id").last()
    assert ev.data["old"]["decision"] == "include" and ev.data["new"]["decision"] == "exclude"


def test_included_records_become_reports_sought_and_ft_queue(setup, users, review):
    ta, ft, records = setup
    review.dual_fraction = 0
    review.save()
    decide(users, ta, records[0], "reviewer", "include")
    decide(users, ta, records[1], "reviewer", "maybe")
    decide(users, ta, records[2], "reviewer", "exclude")
    status = dict(Record.objects.values_list("id", "fulltext_status"))
    assert status[records[0].pk] == "sought" and status[records[1].pk] == "sought"
    assert status[records[2].pk] == ""
    assert set(sel.stage_records(ft).values_list("id", flat=True)) == {records[0].pk, records[1].pk}
    svc.decision_undo(user=users["reviewer"], stage=ta, record=records[1])
    assert Record.objects.get(pk=records[1].pk).fulltext_status == ""
    svc.fulltext_not_retrieved(user=users["reviewer"], record=records[0])
    assert not sel.stage_records(ft).exists()
    # The set-based sync agrees with the per-vote one.
    Record.objects.filter(pk=records[0].pk).update(fulltext_status="")
    assert svc.reports_sought_sync(user=users["viewer"], stage=ta) == 1


def test_dual_subset_needs_two_votes_and_blinds(setup, users, review):
    ta, _, records = setup
    review.dual_fraction = 1
    review.save()
    r = records[0]
    decide(users, ta, r, "reviewer", "include")
    # reviewer2 still has it in the queue, and cannot see reviewer's vote
    assert sel.next_record(stage=ta, user=users["reviewer2"]).pk == r.pk
    assert not sel.decisions_visible_to(users["reviewer2"], ta).filter(record=r).exists()
    assert not sel.decisions_visible_to(users["owner"], ta).filter(record=r).exists()
    assert sel.decisions_visible_to(users["reviewer"], ta).filter(record=r).count() == 1
    assert not sel.conflict_list(stage=ta).exists()
    decide(users, ta, r, "reviewer2", "exclude")
    assert sel.decisions_visible_to(users["reviewer2"], ta).filter(record=r).count() == 2
    assert list(sel.conflict_list(stage=ta)) == [r]
    # blinding off: visible at once
    decide(users, ta, records[1], "reviewer", "include")
    assert not sel.decisions_visible_to(users["reviewer2"], ta).filter(record=records[1]).exists()
    review.blind_screening = False
    review.save()
    assert sel.decisions_visible_to(users["reviewer2"], ta).filter(record=records[1]).exists()


def test_single_screened_records_leave_the_queue_after_one_vote(setup, users, review):
    ta, _, records = setup
    review.dual_fraction = "0.3"
    review.save()
    for r in records:
        decide(users, ta, r, "reviewer", "exclude")
    queue = []
    after = None
    while (nxt := sel.next_record(stage=ta, user=users["reviewer2"], after=after)) is not None:
        queue.append(nxt.pk)
        after = nxt
    expected = [r.pk for r in records if is_dual(r.pk, review.dual_seed, review.dual_fraction)]
    assert queue == expected
    assert sel.next_record(stage=ta, user=users["reviewer"]) is None


def test_queue_orders(setup, users, review):
    ta, _, records = setup
    from studies.models import RecordScore

    RecordScore.objects.create(stage=ta, record=records[7], score=0.9, rank=1, terms=["care"])
    RecordScore.objects.create(stage=ta, record=records[3], score=0.5, rank=2)
    walk = {}
    for order in ("position", "random", "priority"):
        seen, after = [], None
        while (n := sel.next_record(stage=ta, user=users["reviewer"], after=after,
                                    order=order)) is not None:  # fmt: skip
            seen.append(n.pk)
            after = n
        walk[order] = seen
    ids = [r.pk for r in records]
    assert walk["position"] == ids
    assert sorted(walk["random"]) == ids and walk["random"] != ids
    assert walk["priority"][:2] == [records[7].pk, records[3].pk]
    assert sorted(walk["priority"]) == ids
    decide(users, ta, records[0], "reviewer", "maybe")
    decide(users, ta, records[1], "reviewer", "include")
    assert sel.next_record(stage=ta, user=users["reviewer"], filter_="maybe").pk == records[0].pk
    assert sel.next_record(stage=ta, user=users["reviewer"], filter_="mine",
                           after=records[0]).pk == records[1].pk  # fmt: skip


def test_stage_update_reasons(setup, users):
    ta, _, records = setup
    reason = ta.reasons.get(label="Not about the topic")
    decide(users, ta, records[0], "reviewer", "exclude", reason=reason)
    with pytest.raises(ValidationError):
        svc.stage_update(user=users["owner"], stage=ta, reasons=["Something else"])
    svc.stage_update(user=users["owner"], stage=ta, reasons=["New first", "Not about the topic"],
                     inclusion_criteria="Collaboration between sectors")  # fmt: skip
    assert list(ta.reasons.values_list("label", flat=True)) == ["New first", "Not about the topic"]
    with pytest.raises(PermissionDenied):
        svc.stage_update(user=users["reviewer"], stage=ta, name="x")


def test_fulltext_upload_pdf_pages_and_batch_matching(setup, users, review):
    ta, ft, records = setup
    review.dual_fraction = 0
    review.save()
    for r in records[:3]:
        decide(users, ta, r, "reviewer", "include")
    doc = svc.fulltext_upload(user=users["reviewer"], record=records[0], filename="paper.pdf",
                              data=pdf_bytes(["First page text", "Second page text"]))  # fmt: skip
    assert "First page text" in doc.text and "Second page text" in doc.text
    assert len(doc.page_map) == 2 and doc.page_map[0] == 0
    assert doc.page_at(doc.text.index("Second")) == 2
    assert Record.objects.get(pk=records[0].pk).fulltext_status == "retrieved"
    result = svc.fulltext_batch_upload(user=users["reviewer"], review=review, files=[
        ("10.1000_rec1.txt", b"page one\fpage two"),
        ("anything.html", b"<html><body><p>See doi:10.1000/rec2 for</p></body></html>"),
        ("unknown.txt", b"no match here"),
        ("broken.pdf", b"not a pdf"),
        ("notes.docx", b"x"),
    ])  # fmt: skip
    assert [(n, r.pk) for n, r in result.matched] == [
        ("10.1000_rec1.txt", records[1].pk), ("anything.html", records[2].pk)
    ]  # fmt: skip
    assert result.unmatched == ["unknown.txt"]
    assert len(result.errors) == 2
    txt = records[1].documents.get()
    assert txt.page_map == [0, len("page one\n\n")]


def test_included_full_texts_become_studies_and_companions_group(setup, users, review):
    ta, ft, records = setup
    review.dual_fraction = 0
    review.save()
    for r in records[:3]:
        decide(users, ta, r, "reviewer", "include")
    reason = ft.reasons.first()
    decide(users, ft, records[0], "reviewer", "include")
    decide(users, ft, records[1], "reviewer", "include")
    decide(users, ft, records[2], "reviewer", "exclude", reason=reason)
    created = svc.studies_from_included(user=users["owner"], stage=ft)
    assert len(created) == 2
    assert Study.objects.count() == 2
    assert created[0].label == "Author0 et al. 2000"
    svc.report_group(user=users["reviewer"], record=records[1], study=created[0])
    assert set(created[0].records.values_list("id", flat=True)) == {records[0].pk, records[1].pk}
    assert svc.studies_from_included(user=users["owner"], stage=ft) == []


def test_screening_counts_for_prisma(setup, users, review):
    ta, ft, records = setup
    review.dual_fraction = 0
    review.save()
    for r in records[:4]:
        decide(users, ta, r, "reviewer", "include")
    for r in records[4:]:
        decide(users, ta, r, "reviewer", "exclude")
    svc.fulltext_not_retrieved(user=users["reviewer"], record=records[3])
    wrong = ft.reasons.get(label="Wrong setting")
    decide(users, ft, records[0], "reviewer", "include")
    decide(users, ft, records[1], "reviewer", "exclude", reason=wrong)
    decide(users, ft, records[2], "reviewer", "exclude", reason=wrong)
    svc.studies_from_included(user=users["owner"], stage=ft)
    c = sel.screening_counts(review=review)
    assert c["stages"][0]["screened"] == 10 and c["stages"][0]["exclude"] == 6
    assert c["reports_sought"] == 4 and c["reports_not_retrieved"] == 1
    assert c["reports_assessed"] == 3
    assert c["stages"][1]["excluded_by_reason"] == {"Wrong setting": 2}
    assert c["studies_included"] == 1


def test_random_order_key_is_the_seeded_hash_and_follows_the_seed(setup, users, review):
    from studies.screening_rules import order_seed, screen_hash
    from synthesis.services import review_screening_update

    ta, _, records = setup
    for r in records:
        assert r.screen_key == screen_hash(r.pk, order_seed(review.dual_seed))
    walk, after = [], None
    while (n := sel.next_record(stage=ta, user=users["reviewer"], after=after,
                                order="random")) is not None:  # fmt: skip
        walk.append(n.pk)
        after = n
    assert walk == [r.pk for r in sorted(records, key=lambda r: (r.screen_key, r.pk))]
    review.refresh_from_db()
    review_screening_update(user=users["owner"], review=review, dual_seed=review.dual_seed + 1)
    for r in Record.objects.filter(review=review):
        assert r.screen_key == screen_hash(r.pk, order_seed(review.dual_seed))
    # a record created without a key (bulk_create outside the importer) is keyed when the
    # random queue is opened, and meanwhile a cursor on it still works
    (new,) = Record.objects.bulk_create([Record(review=review, title="late", position=99)])
    sel.next_record(stage=ta, user=users["reviewer"], after=new, order="random")  # no error
    svc.record_keys_assign(review_id=review.pk, dual_seed=review.dual_seed)
    new.refresh_from_db()
    assert new.screen_key == screen_hash(new.pk, order_seed(review.dual_seed))


def test_import_keys_new_records_for_the_random_order(review, users):
    from pathlib import Path

    from studies.services import identification as ident

    search = ident.search_create(user=users["reviewer"], review=review, source="MEDLINE",
                                 kind="database")  # fmt: skip
    data = (Path(__file__).resolve().parents[2] / "fixtures/samples/ovid_medline.ris").read_bytes()
    batch = ident.import_batch_create(user=users["reviewer"], review=review, search=search,
                                      data=data, filename="x.ris")  # fmt: skip
    ident.import_run(user=users["reviewer"], batch=batch)
    assert Record.objects.filter(review=review).count() > 1
    assert not Record.objects.filter(review=review, screen_key__isnull=True).exists()


@pytest.mark.parametrize("mode", ["include", "exclude", "separate"])
def test_conflicts_follow_how_maybe_counts_and_page_by_cursor(setup, users, review, mode):
    from studies.screening_rules import is_conflict

    ta, _, records = setup
    review.maybe_counts_as = mode
    review.save()
    pairs = [("include", "exclude"), ("include", "maybe"), ("exclude", "maybe"),
             ("maybe", "maybe"), ("include", "include"), ("exclude", "exclude")]  # fmt: skip
    for r, (a, b) in zip(records, pairs, strict=False):
        decide(users, ta, r, "reviewer", a)
        decide(users, ta, r, "reviewer2", b)
    expected = [r.pk for r, p in zip(records, pairs, strict=False) if is_conflict(list(p), mode)]
    assert [r.pk for r in sel.conflict_list(stage=ta)] == expected
    # the same set as the grouped count used by the progress bars
    assert sel.conflict_record_ids(ta).count() == len(expected)
    first = Record.objects.get(pk=expected[0])
    rest = sel.conflict_list(stage=ta, after=(first.position, first.pk))
    assert [r.pk for r in rest] == expected[1:]
    svc.resolution_record(user=users["owner"], stage=ta, record=first, decision="include")
    assert [r.pk for r in sel.conflict_list(stage=ta, unresolved=True)] == expected[1:]
    assert sel.conflict_list(stage=ta).get(pk=first.pk).resolved


def test_agreement_counts_match_the_votes_pair_by_pair(setup, users, review, make_user):
    from studies.agreement import agreement, agreement_from_counts

    ta, _, records = setup
    from synthesis.models import Membership

    third = make_user("third")
    Membership.objects.create(review=review, user=third, role="reviewer")
    rng = __import__("random").Random(3)
    votes = {}
    for r in records:
        for who in ("reviewer", "reviewer2"):
            votes[(who, r.pk)] = rng.choice(["include", "exclude", "maybe"])
            decide(users, ta, r, who, votes[(who, r.pk)])
    for r in records[:4]:
        svc.decision_record(user=third, stage=ta, record=r, decision="exclude")
    tables = sel.agreement_counts(stage=ta)
    a, b = sorted([users["reviewer"].pk, users["reviewer2"].pk])
    name = {users["reviewer"].pk: "reviewer", users["reviewer2"].pk: "reviewer2"}
    pairs = [(votes[(name[a], r.pk)], votes[(name[b], r.pk)]) for r in records]
    for mode in ("include", "exclude", "separate"):
        assert agreement_from_counts(tables[(a, b)], maybe=mode) == agreement(pairs, maybe=mode)
    assert sum(tables[(users["reviewer"].pk, third.pk)].values()) == 4
    assert set(tables) == {(a, b), (users["reviewer"].pk, third.pk),
                           (users["reviewer2"].pk, third.pk)}  # fmt: skip


def test_cached_agreement_tables_follow_every_vote_change(setup, users):
    ta, _, records = setup
    r0, r1 = records[:2]
    for r in (r0, r1):
        decide(users, ta, r, "reviewer", "include")
        decide(users, ta, r, "reviewer2", "include")
    pair = tuple(sorted([users["reviewer"].pk, users["reviewer2"].pk]))
    assert sel.agreement_counts(stage=ta)[pair] == {("include", "include"): 2}
    assert sel.agreement_counts(stage=ta)[pair] == {("include", "include"): 2}  # cached
    decide(users, ta, r0, "reviewer2", "exclude")  # a change
    a_first = pair[0] == users["reviewer"].pk
    flipped = ("include", "exclude") if a_first else ("exclude", "include")
    assert sel.agreement_counts(stage=ta)[pair] == {("include", "include"): 1, flipped: 1}
    svc.decision_undo(user=users["reviewer2"], stage=ta, record=r1)  # a withdrawal
    assert sel.agreement_counts(stage=ta)[pair] == {flipped: 1}
    svc.decision_undo(user=users["reviewer2"], stage=ta, record=r0)
    decide(users, ta, r1, "reviewer2", "include")  # withdraw one, add another: same count
    assert sel.agreement_counts(stage=ta)[pair] == {("include", "include"): 1}


def test_progress_counts_mine_decided_and_open_conflicts(setup, users, review):
    from django.core.cache import cache

    ta, _, records = setup
    decide(users, ta, records[0], "reviewer", "include")
    decide(users, ta, records[0], "reviewer2", "exclude")  # conflict
    decide(users, ta, records[1], "reviewer", "maybe")
    decide(users, ta, records[1], "reviewer2", "include")  # maybe counts as include: agree
    decide(users, ta, records[2], "reviewer", "exclude")
    decide(users, ta, records[2], "reviewer2", "include")  # conflict, resolved below
    decide(users, ta, records[3], "reviewer2", "exclude")
    svc.resolution_record(user=users["owner"], stage=ta, record=records[2], decision="include")
    cache.clear()
    p = sel.progress(stage=ta, user=users["reviewer"])
    assert (p["total"], p["mine"], p["decided"], p["conflicts"]) == (10, 3, 4, 1)
    assert (p["mine_pct"], p["decided_pct"]) == (30, 40)
    assert sel.open_conflicts_cached(stage=ta) == 1


def test_two_resolvers_at_once_end_in_one_resolution(setup, users, monkeypatch):
    """Losing the race to resolve: the INSERT hits the unique constraint (here simulated
    inside our savepoint, which rolls the other row back); the service retries instead of
    failing with a 500, and one resolution results."""
    ta, _, records = setup
    r = records[0]
    decide(users, ta, r, "reviewer", "include")
    decide(users, ta, r, "reviewer2", "exclude")
    real = svc._resolution_upsert
    calls = {"n": 0}

    def racing(user, stage, record, decision, reason, note, expected):
        calls["n"] += 1
        if calls["n"] == 1:
            ScreeningResolution.objects.create(record=record, stage=stage, decision="exclude")
            raise IntegrityError("UNIQUE constraint failed")
        return real(user, stage, record, decision, reason, note, expected)

    monkeypatch.setattr(svc, "_resolution_upsert", racing)
    res = svc.resolution_record(user=users["owner"], stage=ta, record=r, decision="include")
    assert calls["n"] == 2 and res.decision == "include"
    assert ScreeningResolution.objects.filter(record=r, stage=ta).count() == 1
    assert ReviewEvent.objects.filter(verb="screening.resolve").count() == 1
