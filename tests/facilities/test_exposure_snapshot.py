"""The bank-wide exposure read from a dated snapshot (docs/adr/0018): the snapshot's figures
are the one definition's, the view shows them with their time until a refresh, a risk officer
or a branch head refreshes it (one at a time, in the background, audited), the nightly flag
reads the snapshot the nightly job has just taken, and old snapshots are deleted."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone, translation

from audit.models import AuditEvent
from org.roles import Role
from postloan import demo
from postloan.exposure import PARTS, exposure_limits_flag, exposure_overview
from postloan.models import Alert, ExposureSnapshot, ExposureSnapshotRow, Loan, WarningRule
from postloan.snapshot import (
    exposure_snapshot_latest,
    exposure_snapshot_refresh_take,
    exposure_snapshot_request,
    exposure_snapshot_take,
)
from postloan.tasks import exposure_snapshot_refresh
from tests.facilities import test_exposure_overview as overview_tests
from tests.factories import make_staff

pytestmark = pytest.mark.django_db

D = Decimal
URL = "postloan-exposure"
API = "api-postloan-exposure"
REFRESH_API = "api-postloan-exposure-refresh"
# The small bank of the overview's tests (two groups, two branches and a sub-branch, limits),
# its snapshot taken.
bank = overview_tests.bank
limits = overview_tests.limits
_independent = overview_tests._independent


@pytest.fixture
def sent(monkeypatch):
    """The refresh tasks published (their arguments), instead of a broker."""
    published = []
    monkeypatch.setattr(
        exposure_snapshot_refresh,
        "apply_async",
        lambda args=(), kwargs=None, **options: published.append(args),
    )
    return published


def test_the_snapshot_figures_equal_an_independent_sum_over_loans_facilities_and_applications(
    bank,
):
    snapshot = exposure_snapshot_latest()
    rows = ExposureSnapshotRow.objects.filter(snapshot=snapshot)

    by_customer = {
        (row["company_id"], row["currency"]): row["total"]
        for row in rows.values("company_id", "currency").annotate(total=Sum("total"))
    }
    assert by_customer == _independent()
    assert snapshot.status == "taken" and snapshot.trigger == "nightly"
    assert snapshot.taken_at is not None and snapshot.as_of == timezone.localdate()
    assert snapshot.row_count == rows.count() == 6  # D in two currencies
    assert snapshot.customer_count == 5
    for row in rows:
        assert row.total == sum(getattr(row, part) for part in PARTS)
    a = rows.get(company=bank["A"])
    assert (a.loans, a.loan_count, a.undrawn, a.facility_count) == (
        D("3600000"),
        2,
        D("1400000"),
        1,
    )
    assert a.group_key == bank["A"].legal_representative_id
    assert rows.get(company=bank["E"]).group_key == bank["E"].legal_representative_id


def test_the_view_reads_the_snapshot_until_a_refresh_and_shows_its_time(
    client, api, staff, bank, sent, django_capture_on_commit_callbacks
):
    first = exposure_snapshot_latest()
    Loan.objects.filter(application__company=bank["A"], outstanding_principal=D("3000000")).update(
        status=Loan.Status.CLOSED, outstanding_principal=D("0")
    )

    response = api(staff["risk"]).get(reverse(API))
    a = next(row for row in response.data["results"] if row["name"] == "A Co")
    assert D(a["total"]) == D("5000000")  # as of the snapshot: the repayment is not in it
    assert response.data["snapshot_id"] == first.pk
    assert response.data["as_of"] == first.as_of.isoformat()
    assert response.data["trigger"] == "nightly" and response.data["taken_at"]
    client.force_login(staff["risk"])
    with translation.override("en"):
        page = client.get(reverse(URL))
    assert b"Exposure as of" in page.content and b"nightly" in page.content

    with django_capture_on_commit_callbacks(execute=True):
        refresh = api(staff["risk"]).post(reverse(REFRESH_API))
    assert refresh.status_code == 202
    exposure_snapshot_refresh.apply(args=sent[0])

    response = api(staff["risk"]).get(reverse(API))
    a = next(row for row in response.data["results"] if row["name"] == "A Co")
    assert D(a["total"]) == D("2000000")
    assert response.data["snapshot_id"] == refresh.data["snapshot_id"] != first.pk
    assert response.data["trigger"] == "requested"
    assert response.data["requested_by"] == staff["risk"].username
    with translation.override("en"):
        page = client.get(reverse(URL))
    assert b"requested by" in page.content


def test_a_branch_risk_officer_reads_only_their_branch_rows_of_the_snapshot(
    client, api, staff, bank, other_branch
):
    officer = make_staff(Role.RISK_OFFICER, other_branch, username="sh_risk")
    client.force_login(officer)
    response = client.get(reverse(URL), {"export": "customer"})
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    names = {row[0] for row in list(csv.reader(io.StringIO(content)))[1:]}
    assert names == {"C Co", "D Co"}
    overview = exposure_overview(user=officer, dimension="group")
    assert [row["companies"] for row in overview.figures(overview.rows)] == [["C Co", "D Co"]] * 2
    groups = exposure_overview(user=staff["head"], dimension="group")
    assert [row["companies"] for row in groups.figures(groups.rows)] == [["A Co", "B Co"]]
    assert api(staff["rm"]).get(reverse(API)).status_code == 403


def test_only_risk_officers_and_branch_heads_refresh_one_at_a_time_after_commit(
    client, api, staff, bank, sent, django_capture_on_commit_callbacks
):
    for user in (staff["rm"], staff["approver"]):
        assert api(user).post(reverse(REFRESH_API)).status_code == 403
        client.force_login(user)
        assert client.post(reverse(URL)).status_code == 403
    assert not ExposureSnapshot.objects.filter(trigger="requested").exists()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api(staff["head"]).post(reverse(REFRESH_API))
    assert response.status_code == 202 and response.data["status"] == "requested"
    assert sent == []  # nothing is published before the commit
    for callback in callbacks:
        callback()
    assert sent == [(response.data["snapshot_id"],)]

    assert api(staff["risk"]).post(reverse(REFRESH_API)).status_code == 409
    client.force_login(staff["risk"])
    with translation.override("en"):
        busy = client.post(reverse(URL))
        page = client.get(reverse(URL))
    assert busy.status_code == 409
    assert b"already being taken" in busy.content
    assert b'id="exposure-refreshing"' in page.content and b"Refresh now" not in page.content

    exposure_snapshot_refresh.apply(args=sent[0])
    snapshot = ExposureSnapshot.objects.get(pk=response.data["snapshot_id"])
    assert snapshot.status == "taken" and snapshot.requested_by == staff["head"]
    assert exposure_snapshot_latest() == snapshot
    assert exposure_snapshot_refresh_take(snapshot_id=snapshot.pk) is None  # taken once
    actions = list(
        AuditEvent.objects.filter(subject_type="postloan.exposuresnapshot", subject_id=snapshot.pk)
        .order_by("pk")
        .values_list("action", "actor_id", "to_state")
    )
    assert actions == [
        ("exposure_snapshot_request", staff["head"].pk, "requested"),
        ("exposure_snapshot_take", None, "taken"),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(reverse(URL))
    assert again.status_code == 302  # free again once taken


def test_a_request_left_unfinished_does_not_block_the_next_one(api, staff, bank, sent):
    stuck = exposure_snapshot_request(actor=staff["risk"])
    ExposureSnapshot.objects.filter(pk=stuck.pk).update(
        requested_at=timezone.now() - timedelta(minutes=16)
    )

    response = api(staff["risk"]).post(reverse(REFRESH_API))

    assert response.status_code == 202
    stuck.refresh_from_db()
    assert stuck.status == "failed" and stuck.error
    assert exposure_snapshot_refresh_take(snapshot_id=stuck.pk) is None


def test_a_refresh_that_fails_is_marked_failed(staff, bank, monkeypatch):
    from postloan import snapshot as snapshots

    request = exposure_snapshot_request(actor=staff["risk"])

    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(snapshots, "exposure_rows", broken)
    with pytest.raises(RuntimeError):
        exposure_snapshot_refresh_take(snapshot_id=request.pk)
    request.refresh_from_db()
    assert request.status == "failed" and request.error == "disk full"
    assert not ExposureSnapshotRow.objects.filter(snapshot=request).exists()


def test_the_nightly_flag_reads_the_snapshot_the_nightly_job_takes(staff, bank):
    demo.seed()
    rule = WarningRule.objects.get(kind=WarningRule.Kind.EXPOSURE_ABOVE_LIMIT)
    before = exposure_snapshot_latest()
    # Repaid after the snapshot: the flag still reads A above the limit as of it.
    Loan.objects.filter(application__company=bank["A"]).update(outstanding_principal=D("1"))
    alert_ids = exposure_limits_flag(snapshot=before)
    assert {
        alert.loan.application.company_id
        for alert in Alert.objects.filter(pk__in=alert_ids).select_related("loan__application")
    } == {bank["A"].pk, bank["B"].pk}
    assert Alert.objects.get(pk=min(alert_ids)).evidence["customer_total"] == "5000000.00"

    Alert.objects.filter(rule=rule).delete()
    from postloan.daily import daily_job_run

    counts = daily_job_run()
    tonight = exposure_snapshot_latest()
    assert tonight != before and tonight.trigger == "nightly"
    # Tonight A's loans are almost repaid: its group (A, B) is no longer above the limit.
    assert counts["exposure_alerts_raised"] == 0


def test_a_snapshot_with_nothing_in_it_and_none_at_all(client, api, staff):
    client.force_login(staff["risk"])
    with translation.override("en"):
        page = client.get(reverse(URL))
    assert page.status_code == 200
    assert b'id="exposure-none"' in page.content
    assert b'id="exposure-customers"' not in page.content and b"Refresh now" in page.content
    empty = api(staff["risk"]).get(reverse(API))
    assert empty.status_code == 200
    assert empty.data["snapshot_id"] is None and empty.data["count"] == 0

    snapshot = exposure_snapshot_take(trigger="nightly")
    assert snapshot.row_count == 0 and snapshot.status == "taken"
    response = api(staff["risk"]).get(reverse(API), {"dimension": "group"})
    assert response.data["snapshot_id"] == snapshot.pk
    assert response.data["results"] == [] and response.data["totals"] == []
    with translation.override("en"):
        page = client.get(reverse(URL))
    assert b'id="exposure-customers"' in page.content and b"None." in page.content


def test_old_snapshots_are_deleted_when_a_new_one_is_taken(staff, bank):
    old = exposure_snapshot_latest()
    week_ago = exposure_snapshot_take(trigger="nightly")
    requested = exposure_snapshot_take(trigger="requested", requested_by=staff["risk"])
    newer_request = exposure_snapshot_take(trigger="requested", requested_by=staff["head"])
    ExposureSnapshot.objects.filter(pk=old.pk).update(taken_at=timezone.now() - timedelta(days=8))
    ExposureSnapshot.objects.filter(pk=week_ago.pk).update(
        taken_at=timezone.now() - timedelta(days=6)
    )

    tonight = exposure_snapshot_take(trigger="nightly")

    kept = set(ExposureSnapshot.objects.values_list("pk", flat=True))
    assert kept == {week_ago.pk, newer_request.pk, tonight.pk}
    assert requested.pk not in kept
    assert not ExposureSnapshotRow.objects.filter(snapshot_id=old.pk).exists()


def test_administrators_see_the_snapshots_and_cannot_change_them(client, staff):
    snapshot = exposure_snapshot_take(trigger="requested", requested_by=staff["risk"])
    client.force_login(staff["admin"])

    listing = client.get(reverse("admin:postloan_exposuresnapshot_changelist"))
    assert listing.status_code == 200
    assert staff["risk"].username in listing.content.decode()
    page = reverse("admin:postloan_exposuresnapshot_change", args=[snapshot.pk])
    assert client.get(page).status_code == 200
    assert client.post(page, {"status": "failed", "row_count": 0}).status_code == 403
    assert client.get(reverse("admin:postloan_exposuresnapshot_add")).status_code == 403
    delete = reverse("admin:postloan_exposuresnapshot_delete", args=[snapshot.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert ExposureSnapshot.objects.get(pk=snapshot.pk).status == ExposureSnapshot.Status.TAKEN
