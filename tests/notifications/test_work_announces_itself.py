"""Staff hear of the work that comes to them, once, in their own language, unless they muted
that kind: a task in a queue they serve, a task given to them, a decision on an application
they manage, an accepted offer, a payout waiting for their confirmation, an early warning on a
loan they manage, a classification change or write-off waiting for their approval."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from applications.models import LoanApplication
from applications.services import application_transition
from approvals import demo
from approvals.models import ApprovalTask
from approvals.services import task_announce
from disbursement import services as disbursement_services
from notifications.models import Kind, Notification, NotificationMute
from org.models import StaffProfile
from org.roles import Role
from postloan import services as postloan_services
from tests import lifecycle
from tests.factories import (
    ApplicationFactory,
    CompanyFactory,
    make_applicant,
    make_signed_contracts,
    make_staff,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _eager_celery():
    """Tasks enqueued after commit run in-process, as a worker would."""
    from loanflow.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.fixture(autouse=True)
def _no_investigation_gates(monkeypatch):
    from applications import effects

    monkeypatch.setitem(effects.GATES, "send_to_approval", ())


def _speaks(user, language):
    StaffProfile.objects.filter(user=user).update(preferred_language=language)


def _sent_to_approval(staff, branch, product, django_capture_on_commit_callbacks, **extra):
    """An investigated application sent to approval by its RM, the commit's work done."""
    extra.setdefault("company", CompanyFactory(home_branch=branch))
    for field in ("filed_by", "relationship_manager", "investigator"):
        extra.setdefault(field, staff["rm"])
    application = ApplicationFactory(
        status="investigation",
        product=product,
        amount=Decimal(extra.pop("amount", "800000")),
        risk_grade=extra.pop("grade", "B"),
        route_recommendation="standard",
        **extra,
    )
    with django_capture_on_commit_callbacks(execute=True):
        application_transition(
            application_id=application.pk, transition="send_to_approval", actor=staff["rm"]
        )
    return application


def _of(user, kind=None):
    notes = Notification.objects.filter(user=user)
    return list(notes.filter(kind=kind) if kind else notes)


# --- A task lands in a queue --------------------------------------------------------------


def test_a_new_task_is_announced_to_the_people_of_its_branch_who_may_take_it_in_their_language(
    staff, branch, other_branch, head_office, product, django_capture_on_commit_callbacks
):
    _speaks(staff["reviewer"], "en")
    colleague = make_staff(Role.CREDIT_REVIEWER, branch, username="cora_reviewer")
    _speaks(colleague, "zh-hans")
    senior = make_staff(Role.CREDIT_REVIEWER, head_office, username="hank_reviewer_ho")
    shanghai = make_staff(Role.CREDIT_REVIEWER, other_branch, username="sue_reviewer_sh")
    application = _sent_to_approval(staff, branch, product, django_capture_on_commit_callbacks)
    task = ApprovalTask.objects.get(application=application)

    (english,) = _of(staff["reviewer"], Kind.ASSIGNMENT)
    assert english.title == f"In your queue: Credit review for {application.reference}"
    assert english.url == reverse("approvals-task", args=[task.pk])
    assert english.application_id == application.pk
    (chinese,) = _of(colleague, Kind.ASSIGNMENT)
    assert chinese.title == f"您的队列中有新任务：{application.reference} 的授信审查"
    # Head office hears of a branch's task only when nobody in the branch may take it; not
    # a queue the Shanghai reviewer serves; the approvers' step is not open yet.
    assert _of(senior) == [] and _of(shanghai) == [] and _of(staff["approver"]) == []
    task.refresh_from_db()
    assert task.announced_at is not None


def test_a_task_nobody_in_its_branch_may_take_goes_up_to_head_office(
    staff, branch, head_office, product, django_capture_on_commit_callbacks
):
    senior = make_staff(Role.CREDIT_REVIEWER, head_office, username="hank_reviewer_ho")
    staff["reviewer"].is_active = False
    staff["reviewer"].save()
    application = _sent_to_approval(staff, branch, product, django_capture_on_commit_callbacks)
    (note,) = _of(senior, Kind.ASSIGNMENT)
    assert application.reference in note.title
    assert not Notification.objects.filter(kind=Kind.ESCALATION).exists()


def test_a_task_is_announced_once_however_often_its_announcement_runs(
    staff, branch, product, django_capture_on_commit_callbacks
):
    application = _sent_to_approval(staff, branch, product, django_capture_on_commit_callbacks)
    task = ApprovalTask.objects.get(application=application)
    assert task_announce(task_id=task.pk) == 0
    assert len(_of(staff["reviewer"], Kind.ASSIGNMENT)) == 1


def test_no_one_whom_segregation_of_duties_excludes_hears_of_the_task(
    staff, branch, product, django_capture_on_commit_callbacks
):
    # The RM who filed and investigated it also reviews credit: never on his own application.
    staff["rm"].groups.add(*_groups(Role.CREDIT_REVIEWER))
    _sent_to_approval(staff, branch, product, django_capture_on_commit_callbacks)
    assert _of(staff["rm"], Kind.ASSIGNMENT) == []
    assert len(_of(staff["reviewer"], Kind.ASSIGNMENT)) == 1


def test_someone_who_muted_new_assignments_is_not_told_of_the_task(
    staff, branch, product, django_capture_on_commit_callbacks
):
    NotificationMute.objects.create(user=staff["reviewer"], kind=Kind.ASSIGNMENT)
    _sent_to_approval(staff, branch, product, django_capture_on_commit_callbacks)
    assert _of(staff["reviewer"]) == []


def test_the_next_step_is_announced_after_the_decision_that_opened_it(
    staff, branch, product, api, django_capture_on_commit_callbacks
):
    application = _sent_to_approval(staff, branch, product, django_capture_on_commit_callbacks)
    review = ApprovalTask.objects.get(application=application)
    with django_capture_on_commit_callbacks(execute=True):
        response = api(staff["reviewer"]).post(
            f"/api/v1/approvals/tasks/{review.pk}/decide/",
            {"decision": "approve", "comment": "ok"},
            format="json",
        )
    assert response.status_code == 200, response.content
    (note,) = _of(staff["approver"], Kind.ASSIGNMENT)
    assert application.reference in note.title


def test_a_lost_announcement_is_made_by_the_minute_sweep(
    staff, branch, product, django_capture_on_commit_callbacks
):
    from approvals.services import approvals_sweep

    application = _sent_to_approval(staff, branch, product, django_capture_on_commit_callbacks)
    # As if the broker had lost it three minutes ago.
    Notification.objects.all().delete()
    ApprovalTask.objects.filter(application=application).update(
        announced_at=None, created_at=ApprovalTask.objects.get().created_at - timedelta(minutes=3)
    )
    assert approvals_sweep()["announced"] == 1
    assert len(_of(staff["reviewer"], Kind.ASSIGNMENT)) == 1
    assert approvals_sweep()["announced"] == 0


# --- A task is given to someone -----------------------------------------------------------


def test_whoever_a_branch_head_gives_a_task_to_hears_of_it_in_their_language(
    staff, branch, product, api, django_capture_on_commit_callbacks
):
    application = _sent_to_approval(staff, branch, product, django_capture_on_commit_callbacks)
    task = ApprovalTask.objects.get(application=application)
    other = make_staff(Role.CREDIT_REVIEWER, branch, username="carl_reviewer")
    _speaks(other, "en")
    Notification.objects.all().delete()
    response = api(staff["head"]).post(
        f"/api/v1/approvals/tasks/{task.pk}/reassign/", {"assignee": other.pk}, format="json"
    )
    assert response.status_code == 200, response.content
    (note,) = _of(other)
    assert note.kind == Kind.ASSIGNMENT
    assert note.title == f"Given to you: Credit review for {application.reference}"
    assert _of(staff["reviewer"]) == []


# --- An application is decided; the offer is accepted ---------------------------------------


def test_the_relationship_manager_hears_of_the_decision_and_the_decider_does_not(
    staff, branch, product, api, django_capture_on_commit_callbacks
):
    _speaks(staff["rm"], "en")
    application = _sent_to_approval(staff, branch, product, django_capture_on_commit_callbacks)
    review = ApprovalTask.objects.get(application=application)
    response = api(staff["reviewer"]).post(
        f"/api/v1/approvals/tasks/{review.pk}/decide/",
        {"decision": "decline", "comment": "no", "reasons": ["high_leverage"]},
        format="json",
    )
    assert response.status_code == 200, response.content
    (note,) = _of(staff["rm"], Kind.DECISION)
    assert note.title == f"Declined: {application.reference}"
    assert note.url == reverse("application-detail", args=[application.pk])
    assert _of(staff["reviewer"], Kind.DECISION) == []


def test_a_relationship_manager_who_muted_decisions_is_not_told(
    staff, branch, product, api, django_capture_on_commit_callbacks
):
    NotificationMute.objects.create(user=staff["rm"], kind=Kind.DECISION)
    application = _sent_to_approval(staff, branch, product, django_capture_on_commit_callbacks)
    review = ApprovalTask.objects.get(application=application)
    api(staff["reviewer"]).post(
        f"/api/v1/approvals/tasks/{review.pk}/decide/",
        {"decision": "decline", "comment": "no", "reasons": ["high_leverage"]},
        format="json",
    )
    assert LoanApplication.objects.get(pk=application.pk).status == "declined"
    assert _of(staff["rm"]) == []


@pytest.fixture
def approved(staff, company, django_capture_on_commit_callbacks):
    application = ApplicationFactory(
        company=company,
        status="in_approval",
        filed_by=staff["rm"],
        amount=Decimal("120000.00"),
        interest_rate=Decimal("6.000"),
        repayment_method="equal_principal",
        language="en",
    )
    with django_capture_on_commit_callbacks(execute=True):
        application_transition(
            application_id=application.pk, transition="approve", actor=None, system=True
        )
    return LoanApplication.objects.get(pk=application.pk)


def test_an_accepted_offer_reaches_the_rm_and_the_disbursement_officers_not_the_applicant_twice(
    staff, approved, other_branch, api
):
    _speaks(staff["disburser"], "en")
    shanghai = make_staff(Role.DISBURSEMENT_OFFICER, other_branch, username="sam_disburser")
    owner = make_applicant(approved.company, username="olivia_owner")
    Notification.objects.all().delete()
    lifecycle.accept_offer(api, owner, approved.pk)  # the box ticked, the e-mailed code
    (officer,) = _of(staff["disburser"])
    assert officer.title == f"Offer accepted: {approved.reference}"
    assert officer.kind == Kind.STATUS_CHANGE
    assert len(_of(staff["rm"], Kind.STATUS_CHANGE)) == 1
    assert _of(shanghai) == []
    # The applicant hears of it once, in the applicants' plain words (the portal's link).
    (told,) = _of(owner)
    assert told.url == reverse("portal-application", args=[approved.pk])


# --- A payout waits for its checker ------------------------------------------------------------


def test_a_recorded_payout_waits_for_the_checkers_confirmation_and_says_so(
    staff, approved, branch, api
):
    _speaks(staff["checker"], "en")
    maker_and_checker = make_staff(
        [Role.DISBURSEMENT_OFFICER, Role.DISBURSEMENT_CHECKER], branch, username="max_both"
    )
    disbursement_services.contract_record(
        application_id=approved.pk,
        actor=staff["rm"],
        number="HT-1",
        signed_on=approved.created_at.date(),
    )
    make_signed_contracts(approved, prepared_by=staff["rm"], bank_signer=staff["head"])
    Notification.objects.all().delete()
    disbursement_services.disbursement_record(
        application_id=approved.pk,
        actor=maker_and_checker,
        account_number="6222020200112233",
        amount=Decimal("120000.00"),
        value_date=approved.created_at.date(),
    )
    (note,) = _of(staff["checker"])
    assert note.kind == Kind.AWAITING_YOU
    assert note.title == f"Waiting for your confirmation: the payout of {approved.reference}"
    assert note.url == reverse("disbursement-page", args=[approved.pk])
    # The maker never confirms their own payout, so is not asked to.
    assert _of(maker_and_checker) == []


# --- Post-loan: proposals wait for a risk officer; early warnings -------------------------------


@pytest.fixture
def loan(staff, company):
    from postloan import demo as postloan_demo

    postloan_demo.seed()
    application = ApplicationFactory(
        company=company, status="disbursed", amount=Decimal("6000.00"), filed_by=staff["rm"]
    )
    return postloan_services.loan_open(
        application=application,
        actor=staff["checker"],
        data={"value_date": "2026-01-05", "amount": "6000.00"},
    )


def test_a_proposed_classification_change_waits_for_another_risk_officer(staff, loan, head_office):
    _speaks(staff["risk"], "en")
    muted = make_staff(Role.RISK_OFFICER, head_office, username="mia_risk")
    NotificationMute.objects.create(user=muted, kind=Kind.AWAITING_YOU)
    postloan_services.classification_propose(
        application_id=loan.application_id,
        actor=staff["rm"],
        to_classification="special_mention",
        reason="Sales fell by half",
    )
    (note,) = _of(staff["risk"])
    assert note.kind == Kind.AWAITING_YOU
    assert note.title.startswith(f"Waiting for your approval: {loan.application.reference} to ")
    assert "Sales fell by half" in note.body
    assert _of(muted) == []


def test_a_proposed_write_off_waits_for_a_risk_officer_other_than_its_proposer(
    staff, loan, head_office
):
    _speaks(staff["risk"], "en")
    proposer = make_staff(Role.RISK_OFFICER, head_office, username="pete_risk")
    postloan_services.write_off_propose(
        application_id=loan.application_id, actor=proposer, reason="The company was dissolved"
    )
    (note,) = _of(staff["risk"], Kind.AWAITING_YOU)
    assert note.title == f"Waiting for your approval: write-off of {loan.application.reference}"
    assert _of(proposer, Kind.AWAITING_YOU) == []


def test_an_early_warning_is_its_own_kind_and_can_be_muted(staff, loan):
    from postloan.models import WarningRule

    NotificationMute.objects.create(user=staff["rm"], kind=Kind.EARLY_WARNING)
    rule = WarningRule.objects.filter(is_active=True).first()
    postloan_services.alert_raise(loan=loan, rule=rule, evidence={}, start_clock=False)
    assert {n.kind for n in Notification.objects.all()} == {Kind.EARLY_WARNING}
    assert _of(staff["risk"], Kind.EARLY_WARNING) and _of(staff["rm"]) == []


def _groups(*roles):
    from django.contrib.auth.models import Group

    return [Group.objects.get_or_create(name=role)[0] for role in roles]


@pytest.fixture(autouse=True)
def _decline_reasons(db):
    demo.seed()
