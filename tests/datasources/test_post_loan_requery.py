"""The nightly re-query of active loans: each source asked again on the interval of the loan's
class, only under a consent in force, through the worker's path; new bad news raises an
early-warning alert with its evidence, once; a failing source leaves the run going."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from datasources import checks
from datasources.models import Consent, LoanRequery, RequeryInterval, SourceQuery
from datasources.selectors import requeries_needing_consent
from datasources.services import loans_requery, source_answer_fetch, source_queries_requeue_due
from notifications.models import Notification
from postloan import demo as postloan_demo
from postloan.models import Alert, Loan
from postloan.services import loan_open
from tests.datasources.conftest import SIMULATED, consent, credit_code_where, subject
from tests.factories import ApplicationFactory, CompanyFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


@pytest.fixture
def loan(staff, branch):
    """loan(days_ago, classification="normal", code=None) -> an active loan paid out
    `days_ago` days ago, never asked about since."""
    postloan_demo.seed()

    def make(days_ago: int, classification: str = "normal", code: str | None = None) -> Loan:
        company = CompanyFactory(home_branch=branch, **({"credit_code": code} if code else {}))
        application = ApplicationFactory(
            company=company,
            status="disbursed",
            amount=Decimal("500000.00"),
            filed_by=staff["rm"],
            relationship_manager=staff["rm"],
            disbursed_at=timezone.now(),
        )
        made = loan_open(
            application=application,
            data={"value_date": (TODAY - datetime.timedelta(days=days_ago)).isoformat()},
        )
        Loan.objects.filter(pk=made.pk).update(classification=classification)
        return Loan.objects.select_related("application").get(pk=made.pk)

    return make


def _asked(loan_, source=None):
    rows = SourceQuery.objects.filter(application=loan_.application, purpose="post_loan")
    return rows.filter(source=source) if source else rows


def test_each_class_is_asked_again_on_its_interval_and_the_admin_sets_it(loan, staff):
    normal_not_yet, normal_due = loan(89), loan(90)
    watched_due, substandard_not_yet, substandard_due = (
        loan(30, "special_mention"),
        loan(6, "substandard"),
        loan(7, "substandard"),
    )
    everyone = [normal_not_yet, normal_due, watched_due, substandard_not_yet, substandard_due]
    for each in everyone:
        consent(each.application, by=staff["rm"], scope=("courts",))
    counts = loans_requery(today=TODAY)
    assert counts["queried"] == 3
    asked = {each.pk for each in everyone if _asked(each).exists()}
    assert asked == {normal_due.pk, watched_due.pk, substandard_due.pk}
    query = _asked(normal_due).get()
    assert query.source == "courts" and query.requested_by is None
    assert AuditEvent.objects.filter(
        application=normal_due.application, action="datasource_query", subject_id=query.pk
    ).exists()

    RequeryInterval.objects.filter(classification="normal").update(every_days=60)
    assert loans_requery(today=TODAY)["queried"] == 1
    assert _asked(normal_not_yet).count() == 1


def test_the_batch_is_bounded_and_the_longest_waiting_go_first(loan, staff):
    loans = [loan(days) for days in (95, 200, 120)]
    for each in loans:
        consent(each.application, by=staff["rm"])
    assert loans_requery(today=TODAY, limit=6)["queried"] == 6
    assert [_asked(each).count() for each in loans] == [0, 4, 2]
    assert loans_requery(today=TODAY, limit=6)["queried"] == 6
    assert [_asked(each).count() for each in loans] == [4, 4, 4]
    assert loans_requery(today=TODAY, limit=6)["queried"] == 0


def test_no_query_without_a_consent_in_force_and_the_loan_is_listed_once(loan, staff):
    due = loan(100)
    expired = consent(due.application, by=staff["rm"], scope=("courts",))
    Consent.objects.filter(pk=expired.pk).update(
        valid_until=timezone.now() - datetime.timedelta(days=1)
    )
    counts = loans_requery(today=TODAY)
    assert counts["queried"] == 0 and counts["needs_consent"] == 4
    assert not _asked(due).exists()
    listed = list(requeries_needing_consent())
    assert {row.source for row in listed} == {"bureau", "tax", "registry", "courts"}
    assert {row.loan_id for row in listed} == {due.pk}
    skipped = AuditEvent.objects.filter(
        application=due.application, action="datasource_requery_skipped"
    )
    assert skipped.count() == 4
    assert any("expired" in event.data["reason"] for event in skipped)

    assert loans_requery(today=TODAY)["needs_consent"] == 0
    assert skipped.count() == 4

    consent(due.application, by=staff["rm"], scope=("courts",))
    assert loans_requery(today=TODAY)["queried"] == 1
    assert _asked(due, "courts").count() == 1
    courts = LoanRequery.objects.get(loan=due, source="courts")
    assert courts.consent_missing_since is None and courts.last_asked_on == TODAY
    assert {row.source for row in requeries_needing_consent()} == {"bureau", "tax", "registry"}


def _bad_at_courts(code: str) -> bool:
    return SIMULATED["courts"]().has_bad_news(subject(code))


def test_new_bad_news_raises_one_alert_with_its_evidence(loan, staff):
    due = loan(100, code=credit_code_where(_bad_at_courts))
    granted = consent(due.application, by=staff["rm"], scope=("courts",))
    # The answer the loan was granted on: nothing at the courts.
    before = SourceQuery.objects.create(
        application=due.application,
        credit_code=due.application.company.credit_code,
        source="courts",
        adapter="datasources.adapters.SimulatedCourts",
        consent=granted,
        purpose="pre_loan",
        requested_at=timezone.now() - datetime.timedelta(days=120),
    )
    before.arrive(answer={"enforcements": [], "dishonest_debtor": [], "lawsuits": []})
    before.save()
    SourceQuery.objects.filter(pk=before.pk).update(
        answered_at=timezone.now() - datetime.timedelta(days=120)
    )

    assert loans_requery(today=TODAY)["queried"] == 1
    # Last asked when the loan was granted (the pre-loan answer), not at the payout.
    row = LoanRequery.objects.get(loan=due, source="courts")
    assert row.last_asked_on == TODAY
    query = _asked(due, "courts").get()
    assert source_answer_fetch(query_id=query.pk) == "arrived"
    query.refresh_from_db()
    alert = Alert.objects.get(loan=due)
    assert alert.rule.kind == "source_court_record" and alert.status == "open"
    evidence = alert.evidence
    assert evidence["source"] == "courts" and evidence["query"] == query.pk
    assert evidence["previous_query"] == before.pk
    assert evidence["before"] == {"records": 0} and evidence["after"]["records"] == 2
    assert {r["case_no"] for r in evidence["records"]} == {
        r["case_no"] for r in query.answer["dishonest_debtor"]
    }
    assert AuditEvent.objects.filter(
        application=due.application, action="datasource_bad_news", subject_id=alert.pk
    ).exists()
    assert Notification.objects.filter(user=staff["rm"], kind="early_warning").exists()
    # No facts to confirm from a post-loan answer: the investigation is long closed.
    assert not query.facts.exists()

    # Twice the same night: nothing asked, nothing raised.
    assert loans_requery(today=TODAY)["queried"] == 0
    assert _asked(due).count() == 1
    # Asked again later, the same records are no news (and the alert is still open).
    later = TODAY + datetime.timedelta(days=91)
    assert loans_requery(today=later)["queried"] == 1
    again = _asked(due, "courts").exclude(pk=query.pk).get()
    assert again.status == "arrived" and again.reused_from == query  # answered today
    assert Alert.objects.filter(loan=due).count() == 1


def test_a_failing_source_leaves_the_run_going_and_is_retried(loan, staff, settings):
    settings.LOANFLOW_DATASOURCE_SIMULATED_FAULT = "error"
    settings.LOANFLOW_DATASOURCE_SIMULATED_FAULT_SOURCES = ["bureau"]
    settings.LOANFLOW_DATASOURCE_BREAKER_FAILURES = 100
    first, second = loan(100), loan(100)
    for each in (first, second):
        consent(each.application, by=staff["rm"], scope=("bureau", "registry"))
    assert loans_requery(today=TODAY)["queried"] == 4
    outcomes = {
        (q.application_id, q.source): source_answer_fetch(query_id=q.pk)
        for q in SourceQuery.objects.filter(purpose="post_loan").order_by("pk")
    }
    assert set(outcomes.values()) == {"retry", "arrived"}
    assert all(
        outcome == ("retry" if source == "bureau" else "arrived")
        for (_app, source), outcome in outcomes.items()
    )
    assert loans_requery(today=TODAY)["queried"] == 0

    settings.LOANFLOW_DATASOURCE_SIMULATED_FAULT = ""
    pending = SourceQuery.objects.filter(purpose="post_loan", status="pending")
    assert pending.count() == 2 and all(q.attempts == 1 for q in pending)
    pending.update(next_attempt_at=timezone.now())
    assert source_queries_requeue_due() == 2
    for query in list(pending):
        assert source_answer_fetch(query_id=query.pk) == "arrived"


@pytest.mark.parametrize(
    ("source", "before", "after", "kind"),
    [
        (
            "bureau",
            {"company": {"loans": [{"overdue_days": 0}]}},
            {"company": {"loans": [{"overdue_days": 0}, {"overdue_days": 31}]}},
            "source_bureau_overdue",
        ),
        ("bureau", {"company": {"loans": [{"overdue_days": 31}]}}, None, None),
        ("tax", {"periods": [{"grade": "B"}]}, {"periods": [{"grade": "D"}]}, "source_tax_grade_d"),
        ("tax", {"periods": [{"grade": "D"}]}, {"periods": [{"grade": "D"}]}, None),
        ("tax", {"periods": [{"grade": "A"}]}, {"periods": [{"grade": "C"}]}, None),
        (
            "courts",
            {"enforcements": [{"case_no": "1", "status": "closed"}]},
            {"enforcements": [{"case_no": "1", "status": "open"}]},
            "source_court_record",
        ),
        (
            "registry",
            {"status": "active", "abnormal_operations": []},
            {"status": "active", "abnormal_operations": [{"listed_on": "2026-11-01"}]},
            "source_abnormal_operation",
        ),
        ("registry", {"status": "active"}, {"status": "revoked"}, "source_abnormal_operation"),
        (
            "registry",
            {"legal_representative": "王伟"},
            {"legal_representative": "李娜"},
            "source_legal_rep_change",
        ),
    ],
)
def test_only_what_the_previous_answer_did_not_have_is_news(source, before, after, kind):
    found = checks.news(source, before, before if after is None else after)
    assert [f["kind"] for f in found] == ([kind] if kind else [])
