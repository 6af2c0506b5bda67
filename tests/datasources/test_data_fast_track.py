"""The data-driven fast track: an online application from the owner, for a product that
allows it, whose company passes the four sources and the fast-track rule is sent to approval
and approved by the system, without a site visit, within a minute of the sources answering.
Bad news, or a product without the setting, leaves it on the normal route."""

import time
from decimal import Decimal

import pytest

from applications.models import LoanApplication
from approvals import demo as approvals_demo
from approvals.models import ApprovalRecord, ApprovalTask
from audit.models import AuditEvent
from datasources import services
from investigation import demo as investigation_demo
from investigation.models import Investigation, SiteVisit
from investigation.selectors import investigation_missing
from investigation.services import data_fast_track_run, investigation_open, investigation_score
from tests.datasources.conftest import consent
from tests.datasources.scorecards import source_scorecard
from tests.factories import ApplicationFactory, CompanyFactory, ProductFactory, make_applicant

pytestmark = pytest.mark.django_db

CLEAN = "91310000000900004F"  # every simulated source answers without a flag
TAX_GRADE_D = "913100000009000117"  # the tax bureau grades it D: a high flag
ALL = ["bureau", "tax", "registry", "courts"]


@pytest.fixture
def setup(db):
    approvals_demo.seed()
    policy = investigation_demo.seed_policy()
    # The test bank's only application would be the whole of its industry's portfolio (an
    # industry-concentration flag): a bank with a spread portfolio.
    type(policy).objects.filter(pk=policy.pk).update(industry_share_limit_pct=Decimal("100"))
    source_scorecard()


@pytest.fixture
def run_tasks_inline(monkeypatch):
    """The Celery tasks run when enqueued (after commit), in this process."""
    from approvals import tasks as approval_tasks
    from datasources import tasks as datasource_tasks
    from investigation import tasks as investigation_tasks

    ran = []
    for task in (
        datasource_tasks.fetch_source_answer,
        investigation_tasks.data_fast_track,
        approval_tasks.fast_track_decide,
    ):

        def run_now(args=(), kwargs=None, _task=task, **options):
            ran.append((_task.name, _task.run(*args)))

        monkeypatch.setattr(task, "apply_async", run_now)
    return ran


def _online(staff, branch, *, credit_code, data_fast_track=True, amount="200000"):
    product = ProductFactory(
        code="SME-DATA" if data_fast_track else "SME-FT",
        fast_track_eligible=True,
        data_fast_track=data_fast_track,
    )
    company = CompanyFactory(home_branch=branch, credit_code=credit_code)
    owner = make_applicant(company)
    application = ApplicationFactory(
        company=company,
        product=product,
        status="investigation",
        channel=LoanApplication.Channel.ONLINE,
        amount=Decimal(amount),
        filed_by=owner,
        relationship_manager=staff["rm"],
        investigator=staff["rm"],
    )
    investigation_open(application=application)
    consent(application, by=owner, scope=ALL)
    return application


def _query_all(application, rm, capture):
    with capture(execute=True):
        services.source_query_request(actor=rm, application_id=application.pk, sources=ALL)
    application.refresh_from_db()
    return application


def test_a_clean_company_is_approved_by_the_system_without_a_site_visit(
    setup, staff, branch, run_tasks_inline, django_capture_on_commit_callbacks
):
    application = _online(staff, branch, credit_code=CLEAN)
    started = time.monotonic()
    application = _query_all(application, staff["rm"], django_capture_on_commit_callbacks)
    assert time.monotonic() - started < 60
    assert application.status == "approved"
    assert ("investigation.data_fast_track", "sent") in run_tasks_inline
    assert application.risk_grade == "A" and application.route_recommendation == "fast_track"

    investigation = Investigation.objects.get(application=application)
    assert not SiteVisit.objects.filter(investigation=investigation).exists()
    assert investigation.site_visit_waived_at is not None
    assert "decided on external data" in investigation.site_visit_waived_reason
    waived = AuditEvent.objects.get(
        application=application, action="investigation_site_visit_waived"
    )
    assert waived.actor is None and waived.actor_role == "system"
    assert waived.data["decided_on_external_data"] is True

    sent = AuditEvent.objects.get(application=application, action="send_to_approval")
    assert sent.actor is None and sent.actor_role == "system"
    assert "decided on external data" in sent.comment
    record = ApprovalRecord.objects.get(application=application)
    assert record.decided_by_system and record.status == "approved"
    assert ["external_data", {}] in record.reason_data["parts"]
    assert "decided on external data" in record.reason
    assert not ApprovalTask.objects.filter(application=application, kind="step").exists()
    approved = AuditEvent.objects.get(application=application, action="approve")
    assert approved.actor is None and approved.actor_role == "system"
    assert approved.data["decided_on_external_data"] is True
    assert "Decided on external data." in approved.comment
    # Every call to a source is on the audit trail.
    assert (
        AuditEvent.objects.filter(application=application, action="datasource_answer").count() == 4
    )


def test_the_sampled_post_review_still_applies(
    setup, staff, branch, run_tasks_inline, django_capture_on_commit_callbacks
):
    from approvals.models import MatrixVersion

    MatrixVersion.objects.filter(number=1).update(fast_track_review_percent=100)
    application = _query_all(
        _online(staff, branch, credit_code=CLEAN), staff["rm"], django_capture_on_commit_callbacks
    )
    assert application.status == "approved"
    assert ApprovalTask.objects.get(application=application).kind == "post_review"


def test_bad_news_at_a_source_goes_the_normal_route_with_the_site_visit(
    setup, staff, branch, run_tasks_inline, django_capture_on_commit_callbacks
):
    application = _query_all(
        _online(staff, branch, credit_code=TAX_GRADE_D),
        staff["rm"],
        django_capture_on_commit_callbacks,
    )
    assert application.status == "investigation"
    assert ("investigation.data_fast_track", "normal_route") in run_tasks_inline
    investigation = Investigation.objects.get(application=application)
    assert investigation.site_visit_waived_at is None
    assert application.route_recommendation != "fast_track"
    refused = AuditEvent.objects.get(application=application, action="data_fast_track_refused")
    assert refused.actor is None
    scored = AuditEvent.objects.get(application=application, action="investigation_score")
    assert "high_source_flag" in scored.data["data_route"]
    assert not ApprovalRecord.objects.filter(application=application).exists()
    # The full checklist still applies (questionnaire, memo...): nothing was waived.
    assert len(investigation_missing(application=application)) > 1
    # The system looks once; the investigator carries on.
    assert data_fast_track_run(application_id=application.pk) == "skipped"


def test_a_product_without_the_setting_keeps_the_existing_route(
    setup, staff, branch, run_tasks_inline, django_capture_on_commit_callbacks
):
    application = _query_all(
        _online(staff, branch, credit_code=CLEAN, data_fast_track=False),
        staff["rm"],
        django_capture_on_commit_callbacks,
    )
    assert application.status == "investigation"
    assert not [
        name for name, _result in run_tasks_inline if name == "investigation.data_fast_track"
    ]
    assert data_fast_track_run(application_id=application.pk) == "skipped"
    investigation_score(application_id=application.pk, actor=staff["rm"])
    investigation = Investigation.objects.get(application=application)
    assert investigation.site_visit_waived_at is None
    application.refresh_from_db()
    # Without the site visit and the rest of the checklist, the old fast track is out of reach.
    assert application.route_recommendation != "fast_track"
    assert not AuditEvent.objects.filter(
        application=application, action="investigation_site_visit_waived"
    ).exists()


def test_a_branch_application_on_a_data_product_is_not_decided_on_data(
    setup, staff, branch, run_tasks_inline, django_capture_on_commit_callbacks
):
    application = _online(staff, branch, credit_code=CLEAN)
    LoanApplication.objects.filter(pk=application.pk).update(
        channel=LoanApplication.Channel.BRANCH, filed_by=staff["rm"]
    )
    application = _query_all(application, staff["rm"], django_capture_on_commit_callbacks)
    assert application.status == "investigation"
    scored = AuditEvent.objects.get(application=application, action="investigation_score")
    assert scored.data["data_route"] == ["not_online_by_owner"]


def test_the_sweep_decides_when_the_task_was_lost_and_looks_only_once(
    setup, staff, branch, monkeypatch, django_capture_on_commit_callbacks
):
    from approvals import tasks as approval_tasks
    from datasources import tasks as datasource_tasks
    from investigation import tasks as investigation_tasks
    from investigation.services import data_fast_track_sweep

    def broker_down(*args, **kwargs):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(investigation_tasks.data_fast_track, "apply_async", broker_down)
    monkeypatch.setattr(approval_tasks.fast_track_decide, "apply_async", broker_down)
    monkeypatch.setattr(
        datasource_tasks.fetch_source_answer,
        "apply_async",
        lambda args=(), kwargs=None, **options: datasource_tasks.fetch_source_answer.run(*args),
    )
    clean = _online(staff, branch, credit_code=CLEAN)
    bad = _online(staff, branch, credit_code=TAX_GRADE_D)
    for application in (clean, bad):
        _query_all(application, staff["rm"], django_capture_on_commit_callbacks)
        assert application.status == "investigation"
    assert data_fast_track_sweep() == 1
    assert LoanApplication.objects.get(pk=clean.pk).status == "in_approval"
    assert LoanApplication.objects.get(pk=bad.pk).status == "investigation"
    # The investigator rescoring the refused case does not bring the system back.
    investigation_score(application_id=bad.pk, actor=staff["rm"])
    assert data_fast_track_sweep() == 0
    assert AuditEvent.objects.filter(application=bad, action="data_fast_track_refused").count() == 1
