from decimal import Decimal

import pytest

from applications.services import application_transition
from approvals import demo
from tests.factories import ApplicationFactory, CompanyFactory


@pytest.fixture(autouse=True)
def _no_investigation_gates(monkeypatch):
    """These tests start from an investigated application; the investigation's own gates
    (questionnaire, memo...) are tested by that app and the shared lifecycle walk."""
    from applications import effects

    monkeypatch.setitem(effects.GATES, "send_to_approval", ())


@pytest.fixture(autouse=True)
def _no_shared_queue_counts():
    """Head office's queue counts are cached a few seconds: none survives from one test to
    the next."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def matrix(db):
    """Authority matrix v1 from the demo configuration (and its decline reasons)."""
    demo.seed()
    from approvals.models import MatrixVersion

    return MatrixVersion.objects.get(number=1)


@pytest.fixture
def in_approval(staff, branch, product):
    """in_approval(amount=..., grade=..., route=..., flags=...): an investigated application
    sent to approval by its RM (who also investigated it)."""

    def make(amount="800000", grade="B", route="standard", flags=0, **extra):
        extra.setdefault("company", CompanyFactory(home_branch=branch))
        extra.setdefault("product", product)
        for field in ("filed_by", "relationship_manager", "investigator"):
            extra.setdefault(field, staff["rm"])
        application = ApplicationFactory(
            status="investigation",
            amount=Decimal(amount),
            risk_grade=grade,
            route_recommendation=route,
            flag_count=flags,
            **extra,
        )
        application_transition(
            application_id=application.pk,
            transition="send_to_approval",
            actor=application.relationship_manager,
        )
        application.refresh_from_db()
        return application

    return make
