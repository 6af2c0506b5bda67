"""What a transition does in the stages (applications.effects), and that it does it in the
transition's own transaction."""

import pytest

from analytics.models import StageVisit
from applications import effects
from applications.models import INTERNAL_TRANSITIONS, TRANSITION_NAMES, LoanApplication
from applications.services import application_transition
from approvals.models import ApprovalRecord
from audit.models import AuditEvent
from common.errors import Conflict
from disbursement.models import Offer
from intake.models import PrescreenResult
from notifications.models import Notification
from sla import demo as sla_demo
from sla.models import Deadline
from tests import lifecycle

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _sla_policies(db):
    sla_demo.seed()


def _clocks(pk: int) -> dict[str, str]:
    return dict(
        Deadline.objects.filter(
            subject_type="applications.loanapplication", subject_id=pk
        ).values_list("step", "status")
    )


def test_the_rules_and_gates_name_only_transitions_of_the_model():
    assert set(effects.GATES) <= set(TRANSITION_NAMES)
    assert set(effects.DUTY_RULES) <= set(TRANSITION_NAMES)
    assert INTERNAL_TRANSITIONS.issubset(TRANSITION_NAMES)


def test_the_transition_names_come_from_the_model_in_process_order():
    assert TRANSITION_NAMES == (
        "submit",
        "start_investigation",
        "send_to_approval",
        "approve",
        "approve_drawdown",
        "decline",
        "return_to_investigation",
        "request_information",
        "resume",
        "sign_contract",
        "disburse",
        "apply_change",
        "close",
        "write_off",
        "withdraw",
    )
    assert all(hasattr(getattr(LoanApplication, name), "_django_fsm") for name in TRANSITION_NAMES)


def test_submitting_prescreens_starts_the_intake_clock_tells_the_owner_and_ends_the_draft(
    api, staff, company, product, owner
):
    pk = lifecycle.file_draft(api, staff, company, product)
    lifecycle.submit(api, staff, pk)

    assert PrescreenResult.objects.filter(application_id=pk).count() == 1
    assert _clocks(pk) == {"intake_check": "pending"}
    assert (
        Notification.objects.filter(user=owner, application_id=pk, kind="status_change").count()
        == 1
    )
    assert StageVisit.objects.get(application_id=pk, stage="draft").left_at is not None


def test_approving_makes_the_offer_closes_the_route_moves_the_clocks_and_tells_the_owner(
    api, staff, company, product, owner
):
    pk = lifecycle.file_draft(api, staff, company, product)
    lifecycle.walk_to(api, staff, pk, "in_approval")
    lifecycle.approve(api, staff, pk)

    assert LoanApplication.objects.get(pk=pk).status == "approved"
    assert Offer.objects.filter(application_id=pk).exists()
    assert ApprovalRecord.objects.get(application_id=pk).status == "approved"
    assert _clocks(pk)["contract"] == "pending"
    assert _clocks(pk)["investigation"] == "stopped"
    assert Notification.objects.filter(user=owner, application_id=pk, kind="decision").exists()
    assert StageVisit.objects.get(application_id=pk, stage="in_approval").left_at is not None


def test_a_failing_later_effect_rolls_back_the_transition_and_every_earlier_effect(
    api, staff, company, product, owner, monkeypatch
):
    pk = lifecycle.file_draft(api, staff, company, product)
    lifecycle.prepare_materials(api, staff, pk)
    trail = AuditEvent.objects.filter(application_id=pk).count()

    def refuse(**kwargs):
        raise Conflict("the last effect refuses")

    monkeypatch.setattr(effects, "stage_visit_record_transition", refuse)
    with pytest.raises(Conflict):
        application_transition(application_id=pk, transition="submit", actor=staff["rm"])

    assert LoanApplication.objects.get(pk=pk).status == "draft"
    assert not PrescreenResult.objects.filter(application_id=pk).exists()
    assert _clocks(pk) == {}
    assert not Notification.objects.filter(user=owner, application_id=pk).exists()
    assert AuditEvent.objects.filter(application_id=pk).count() == trail
