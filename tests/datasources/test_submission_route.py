"""The data-driven route from the owner's online submission: the system asks the sources the
consent covers, and once they answer starts the investigation, scores the case and, if it
passes the fast-track rule, sends it to approval where the fast track approves it and the
offer is made, with no person taking a step. Anything else falls back to the normal route
with its reasons; a failing source leaves the case usable and the route continues when it
answers, unless a person took the case over; without a consent nothing is asked."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from applications.models import LoanApplication
from approvals import demo as approvals_demo
from approvals.models import ApprovalRecord
from audit.models import AuditEvent
from datasources import services
from datasources.models import Consent, DataRoute, SourceQuery
from disbursement.models import Offer
from investigation import demo as investigation_demo
from investigation.models import ScoreResult
from tests.datasources.scorecards import source_scorecard
from tests.factories import CompanyFactory, ProductFactory, make_applicant

CLEAN = "91310000000900004F"  # every simulated source answers without a flag
TAX_GRADE_D = "913100000009000117"  # the tax bureau grades it D: a high flag
ALL = ["bureau", "courts", "registry", "tax"]


@pytest.fixture
def setup(db):
    seed_bank()


def seed_bank() -> None:
    """The approval matrix, the policy and a scorecard that reads the sources."""
    approvals_demo.seed()
    policy = investigation_demo.seed_policy()
    # The test bank's only application would be the whole of its industry's portfolio (an
    # industry-concentration flag): a bank with a spread portfolio.
    type(policy).objects.filter(pk=policy.pk).update(industry_share_limit_pct=Decimal("100"))
    source_scorecard()


def _owner_of(branch, credit_code: str, *, data_fast_track: bool = True):
    ProductFactory(code="SME-DATA", fast_track_eligible=True, data_fast_track=data_fast_track)
    company = CompanyFactory(home_branch=branch, credit_code=credit_code)
    return make_applicant(company)


def _apply(client, *, amount: str = "200000") -> int:
    response = client.post(
        reverse("api-online-application"),
        {
            "product": "SME-DATA",
            "amount": amount,
            "term_months": 12,
            "repayment_method": "equal_instalments",
            "guarantee_type": "credit",
            "purpose": "Working capital",
        },
        format="json",
    )
    assert response.status_code == 201, response.data
    return response.data["id"]


def _submit(client, pk: int, **body):
    response = client.post(reverse("api-portal-submit", args=[pk]), body, format="json")
    assert response.status_code == 200, response.data
    assert response.data["status"] == "submitted"
    return response


@pytest.fixture
def run_tasks_inline(monkeypatch):
    """The Celery tasks run when enqueued (after commit), in this process; `ran` lists them."""
    from approvals import tasks as approval_tasks
    from datasources import tasks as datasource_tasks
    from investigation import tasks as investigation_tasks

    ran = []
    for task in (
        datasource_tasks.fetch_source_answer,
        datasource_tasks.advance_data_route,
        investigation_tasks.data_fast_track,
        approval_tasks.fast_track_decide,
    ):

        def run_now(args=(), kwargs=None, _task=task, **options):
            ran.append((_task.name, _task.run(*args)))

        monkeypatch.setattr(task, "apply_async", run_now)
    return ran


def _human_steps_after(application, event) -> list[tuple[str, str]]:
    return list(
        AuditEvent.objects.filter(application=application, id__gt=event.id)
        .exclude(actor__isnull=True)
        .values_list("action", "actor__username")
    )


def test_bad_news_falls_back_to_the_normal_route_with_the_reason_for_the_rm(
    setup, staff, branch, api, client, run_tasks_inline, django_capture_on_commit_callbacks
):
    browser = client
    owner = _owner_of(branch, TAX_GRADE_D)
    client = api(owner)
    pk = _apply(client)
    with django_capture_on_commit_callbacks(execute=True):
        _submit(client, pk, consent=ALL)
    application = LoanApplication.objects.get(pk=pk)
    assert ("datasources.advance_data_route", "normal_route") in run_tasks_inline
    # Started by the system for its relationship manager, who carries on from here.
    assert application.status == "investigation"
    assert application.investigator == staff["rm"]
    route = DataRoute.objects.get(application=application)
    assert route.status == "fallen_back"
    assert route.reasons == ["high_source_flag", "flags"]
    refused = AuditEvent.objects.get(application=application, action="data_fast_track_refused")
    assert refused.actor is None and refused.data["reasons"] == route.reasons
    assert "A source reported bad news" in refused.comment
    assert not ApprovalRecord.objects.filter(application=application).exists()
    # The relationship manager reads the reasons with the external data.
    sources = api(staff["rm"]).get(reverse("api-sources", args=[pk])).data
    assert sources["data_route"]["status"] == "fallen_back"
    assert sources["data_route"]["reasons"] == route.reasons
    assert "A source reported bad news" in sources["data_route"]["reasons_text"]
    browser.force_login(staff["rm"])
    with translation.override("en"):
        page = browser.get(reverse("investigation-workspace", args=[pk])).content.decode()
    assert 'id="data-route"' in page and "A source reported bad news" in page
    assert "The system, at the online submission" in page


def test_without_consent_nothing_is_asked_and_the_refusal_is_recorded(
    setup, staff, branch, api, run_tasks_inline, django_capture_on_commit_callbacks
):
    owner = _owner_of(branch, CLEAN)
    client = api(owner)
    pk = _apply(client)
    with django_capture_on_commit_callbacks(execute=True):
        _submit(client, pk)
    application = LoanApplication.objects.get(pk=pk)
    assert application.status == "submitted"
    assert not SourceQuery.objects.filter(application=application).exists()
    assert run_tasks_inline == []
    route = DataRoute.objects.get(application=application)
    assert route.status == "fallen_back" and route.reasons == ["no_consent"]
    refused = AuditEvent.objects.get(application=application, action="data_fast_track_refused")
    assert "has not consented" in " ".join(refused.data["refusals"])
    # The case officer asking the sources is refused as clearly.
    rm_query = api(staff["rm"]).post(
        reverse("api-sources-query", args=[pk]), {"sources": ALL}, format="json"
    )
    assert rm_query.status_code == 409 and rm_query.data["code"] == "no_consent"


def test_a_product_without_the_route_asks_nothing_at_submission(
    setup, staff, branch, api, run_tasks_inline, django_capture_on_commit_callbacks
):
    owner = _owner_of(branch, CLEAN, data_fast_track=False)
    client = api(owner)
    pk = _apply(client)
    with django_capture_on_commit_callbacks(execute=True):
        _submit(client, pk, consent=ALL)
    # The consent is given, but the product is decided by people: nothing is asked.
    assert Consent.objects.filter(application=pk, status="granted").exists()
    assert not SourceQuery.objects.filter(application=pk).exists()
    assert not DataRoute.objects.filter(application=pk).exists()
    assert LoanApplication.objects.get(pk=pk).status == "submitted"


@pytest.fixture
def courts_failing(settings):
    settings.LOANFLOW_DATASOURCE_SIMULATED_FAULT = "error"
    settings.LOANFLOW_DATASOURCE_SIMULATED_FAULT_SOURCES = ["courts"]
    settings.LOANFLOW_DATASOURCE_MAX_ATTEMPTS = 4
    settings.LOANFLOW_DATASOURCE_BACKOFF_SECONDS = 30
    settings.LOANFLOW_DATASOURCE_BREAKER_FAILURES = 10
    return settings


def _retry_now(application):
    """The courts' retry falls due (its backoff over) and the worker runs it."""
    from django.utils import timezone

    from datasources.tasks import fetch_source_answer

    courts = SourceQuery.objects.get(application=application, source="courts")
    SourceQuery.objects.filter(pk=courts.pk).update(next_attempt_at=timezone.now())
    fetch_source_answer.apply_async(args=(courts.pk,))


def test_a_failing_source_leaves_the_case_usable_and_the_route_continues_when_it_answers(
    setup,
    staff,
    branch,
    api,
    courts_failing,
    run_tasks_inline,
    django_capture_on_commit_callbacks,
):
    owner = _owner_of(branch, CLEAN)
    client = api(owner)
    pk = _apply(client)
    with django_capture_on_commit_callbacks(execute=True):
        _submit(client, pk, consent=ALL)
    application = LoanApplication.objects.get(pk=pk)
    courts = SourceQuery.objects.get(application=application, source="courts")
    assert ("datasources.fetch_source_answer", "retry") in run_tasks_inline
    assert courts.status == "pending" and courts.attempts == 1 and courts.error
    assert application.status == "submitted"
    assert DataRoute.objects.get(application=application).status == "waiting"
    # The case is usable meanwhile: the relationship manager sees it and its answers.
    sources = api(staff["rm"]).get(reverse("api-sources", args=[pk]))
    assert sources.status_code == 200
    assert sources.data["data_route"]["status"] == "waiting"

    courts_failing.LOANFLOW_DATASOURCE_SIMULATED_FAULT = ""
    with django_capture_on_commit_callbacks(execute=True):
        _retry_now(application)
    application.refresh_from_db()
    assert application.status == "approved"
    assert DataRoute.objects.get(application=application).status == "sent"
    assert Offer.objects.filter(application=application).exists()
    submitted = AuditEvent.objects.get(application=application, action="submit")
    assert _human_steps_after(application, submitted) == []


def test_a_person_who_took_the_case_over_is_never_overridden_when_the_answer_comes(
    setup,
    staff,
    branch,
    api,
    courts_failing,
    run_tasks_inline,
    django_capture_on_commit_callbacks,
):
    owner = _owner_of(branch, CLEAN)
    client = api(owner)
    pk = _apply(client)
    with django_capture_on_commit_callbacks(execute=True):
        _submit(client, pk, consent=ALL)
    # While the courts are retried, the relationship manager starts the investigation.
    started = api(staff["rm"]).post(
        reverse("api-application-start-investigation", args=[pk]),
        {},
        format="json",
    )
    assert started.status_code == 200, started.data
    route = DataRoute.objects.get(application=pk)
    assert route.status == "taken_over"
    taken = AuditEvent.objects.get(application=pk, action="data_route_taken_over")
    assert taken.actor == staff["rm"] and taken.data["transition"] == "start_investigation"

    courts_failing.LOANFLOW_DATASOURCE_SIMULATED_FAULT = ""
    with django_capture_on_commit_callbacks(execute=True):
        _retry_now(LoanApplication.objects.get(pk=pk))
    application = LoanApplication.objects.get(pk=pk)
    assert SourceQuery.objects.get(application=pk, source="courts").status == "arrived"
    assert ("investigation.data_fast_track", "skipped") in run_tasks_inline
    assert application.status == "investigation"
    assert application.investigator == staff["rm"]
    assert not ScoreResult.objects.filter(application=pk).exists()


def test_a_source_that_fails_for_good_falls_back_and_the_rm_proceeds(
    setup,
    staff,
    branch,
    api,
    courts_failing,
    run_tasks_inline,
    django_capture_on_commit_callbacks,
):
    courts_failing.LOANFLOW_DATASOURCE_MAX_ATTEMPTS = 1
    owner = _owner_of(branch, CLEAN)
    client = api(owner)
    pk = _apply(client)
    with django_capture_on_commit_callbacks(execute=True):
        _submit(client, pk, consent=ALL)
    assert ("datasources.fetch_source_answer", "failed") in run_tasks_inline
    route = DataRoute.objects.get(application=pk)
    assert route.status == "fallen_back" and route.reasons == ["source_failed"]
    assert LoanApplication.objects.get(pk=pk).status == "submitted"
    # The relationship manager takes the normal route.
    started = api(staff["rm"]).post(
        reverse("api-application-start-investigation", args=[pk]),
        {},
        format="json",
    )
    assert started.status_code == 200, started.data


def test_the_sweep_continues_a_route_whose_task_was_lost(
    setup, staff, branch, api, monkeypatch, django_capture_on_commit_callbacks
):
    from approvals import tasks as approval_tasks
    from datasources import tasks as datasource_tasks

    def broker_down(*args, **kwargs):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(datasource_tasks.advance_data_route, "apply_async", broker_down)
    monkeypatch.setattr(approval_tasks.fast_track_decide, "apply_async", broker_down)
    monkeypatch.setattr(
        datasource_tasks.fetch_source_answer,
        "apply_async",
        lambda args=(), kwargs=None, **options: datasource_tasks.fetch_source_answer.run(*args),
    )
    owner = _owner_of(branch, CLEAN)
    client = api(owner)
    pk = _apply(client)
    with django_capture_on_commit_callbacks(execute=True):
        _submit(client, pk, consent=ALL)
    assert LoanApplication.objects.get(pk=pk).status == "submitted"
    assert services.data_routes_advance_due() == 1
    assert LoanApplication.objects.get(pk=pk).status == "in_approval"
    assert services.data_routes_advance_due() == 0


def test_the_portal_page_offers_the_consent_with_the_submit_button(
    setup, staff, branch, api, client, run_tasks_inline, django_capture_on_commit_callbacks
):
    owner = _owner_of(branch, CLEAN)
    pk = _apply(api(owner))
    client.force_login(owner)
    page = reverse("portal-apply-application", args=[pk])
    with translation.override("en"):
        body = client.get(page).content.decode()
    assert 'id="consent-with-submit"' in body and 'name="consent" value="courts"' in body
    with django_capture_on_commit_callbacks(execute=True):
        client.post(page, {"submit": "1", "consent": ALL})
    application = LoanApplication.objects.get(pk=pk)
    consent = Consent.objects.get(application=application)
    assert sorted(consent.scope) == ALL and consent.granted_by == owner
    assert application.status == "approved"


def test_an_unknown_source_in_the_consent_is_a_400_and_nothing_is_submitted(
    setup, staff, branch, api
):
    owner = _owner_of(branch, CLEAN)
    client = api(owner)
    pk = _apply(client)
    response = client.post(
        reverse("api-portal-submit", args=[pk]), {"consent": ["bureau", "horoscope"]}, format="json"
    )
    assert response.status_code == 400 and "consent" in response.data
    assert LoanApplication.objects.get(pk=pk).status == "draft"
    assert not Consent.objects.filter(application=pk).exists()


def test_a_party_the_approval_needs_assessed_falls_back_instead_of_failing(
    setup, staff, branch, api, run_tasks_inline, django_capture_on_commit_callbacks
):
    from intake.models import Guarantor

    owner = _owner_of(branch, CLEAN)
    client = api(owner)
    pk = _apply(client)
    Guarantor.objects.create(
        application_id=pk, name="张伟", id_number="110101196001010011", relationship="Partner"
    )
    with django_capture_on_commit_callbacks(execute=True):
        _submit(client, pk, consent=ALL)
    application = LoanApplication.objects.get(pk=pk)
    route = DataRoute.objects.get(application=application)
    assert (route.status, route.reasons) == ("fallen_back", ["incomplete"]), route.reasons
    refused = AuditEvent.objects.get(application=application, action="data_fast_track_refused")
    assert refused.data["missing"] == ["Guarantor 张伟 has not been assessed."]
    # The investigation started by the system stays with the relationship manager.
    assert application.status == "investigation" and application.investigator == staff["rm"]
    assert ("datasources.advance_data_route", "normal_route") in run_tasks_inline
