from decimal import Decimal

import pytest

from applications.models import LoanApplication
from applications.services import application_transition
from approvals.models import ApprovalCondition
from contracts.services import contract_template_defaults_ensure
from intake.models import Guarantor
from tests.factories import ApplicationFactory, make_resident_id


@pytest.fixture(autouse=True)
def _templates(db):
    contract_template_defaults_ensure()


@pytest.fixture
def approved(staff, company, django_capture_on_commit_callbacks):
    """An application with a guarantor, approved by the system (fast track): the offer is
    made in the approval's transaction."""
    application = ApplicationFactory(
        company=company,
        status="in_approval",
        filed_by=staff["rm"],
        amount=Decimal("120000.00"),
        interest_rate=Decimal("6.000"),
        repayment_method="equal_principal",
        guarantee_type="guarantee",
        language="en",
    )
    Guarantor.objects.create(
        application=application,
        name="Zhang Wei",
        id_number=make_resident_id(777),
        guaranteed_amount=Decimal("120000.00"),
    )
    ApprovalCondition.objects.create(
        application=application, text="Pledge of receivables", created_by=staff["approver"]
    )
    application_transition(
        application_id=application.pk, transition="approve", actor=None, system=True
    )
    return LoanApplication.objects.get(pk=application.pk)
