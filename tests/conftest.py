import os
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from org.models import Branch
from org.roles import Role
from tests.factories import (
    BranchFactory,
    CompanyFactory,
    ProductFactory,
    make_applicant,
    make_staff,
)

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session", autouse=True)
def _flush_passes_the_audit_trails_truncate_trigger():
    """A transactional test ends with Django's flush, one TRUNCATE of every table, which the
    audit trail's TRUNCATE trigger refuses. The test runner is the owner, who may pass it."""
    import pgtrigger
    from django.core.management.commands.flush import Command

    handle = Command.handle

    def handle_past_the_trigger(self, *args, **options):
        with pgtrigger.ignore("audit.AuditEvent:no_truncate", databases=[options["database"]]):
            return handle(self, *args, **options)

    Command.handle = handle_past_the_trigger
    yield
    Command.handle = handle


@pytest.fixture(autouse=True)
def _test_settings(settings):
    # Login rate limiting has its own test; elsewhere many logins from one test client is normal.
    settings.AXES_ENABLED = False
    # Real password hashing costs ~0.5 s a user; tests create dozens.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Tests back-date loans to make them overdue, on fixed dates that age with the clock; the
    # value-date window has its own tests (tests/disbursement/test_value_date_window.py).
    settings.LOANFLOW_VALUE_DATE_MAX_PAST_DAYS = 3660
    settings.LOANFLOW_VALUE_DATE_MAX_FUTURE_DAYS = 3660


@pytest.fixture(autouse=True)
def file_stores(settings, tmp_path):
    """Each test's stores in its own folders: {"default": path, "documents": path}."""
    from django.utils.functional import empty

    from common.storage import documents_storage
    from tests.stores import use_file_stores

    yield use_file_stores(settings, tmp_path / "stores")
    documents_storage._wrapped = empty


@pytest.fixture(autouse=True)
def _fresh_calendar():
    # Rolled-back test transactions send no post_delete, and the calendar is cached (in this
    # process and in Django's cache): never reuse a calendar across tests.
    from sla.calendar import calendar_changed

    calendar_changed()
    yield
    calendar_changed()


@pytest.fixture
def head_office(db) -> Branch:
    return BranchFactory(code="HO", name="Head office", level=Branch.Level.HEAD_OFFICE)


@pytest.fixture
def branch(head_office) -> Branch:
    return BranchFactory(code="BJ", name="Beijing branch", parent=head_office)


@pytest.fixture
def other_branch(head_office) -> Branch:
    return BranchFactory(code="SH", name="Shanghai branch", parent=head_office)


@pytest.fixture
def product(db):
    return ProductFactory(code="SME-WC", min_amount=Decimal("50000"), max_amount=Decimal("5000000"))


@pytest.fixture
def company(branch):
    return CompanyFactory(home_branch=branch, name="Beijing Acme Trading Co., Ltd.")


@pytest.fixture
def staff(branch, head_office):
    """One named person per role in the Beijing branch (risk officer at head office)."""
    return {
        "rm": make_staff(Role.RELATIONSHIP_MANAGER, branch, username="alice_rm"),
        "rm2": make_staff(Role.RELATIONSHIP_MANAGER, branch, username="bob_rm"),
        "reviewer": make_staff(Role.CREDIT_REVIEWER, branch, username="carol_reviewer"),
        "approver": make_staff(Role.APPROVER, branch, username="dave_approver"),
        "committee": make_staff(Role.COMMITTEE_MEMBER, branch, username="erin_committee"),
        "disburser": make_staff(Role.DISBURSEMENT_OFFICER, branch, username="frank_disburser"),
        "checker": make_staff(Role.DISBURSEMENT_CHECKER, branch, username="grace_checker"),
        "risk": make_staff(Role.RISK_OFFICER, head_office, username="heidi_risk"),
        "head": make_staff(Role.BRANCH_HEAD, branch, username="ivan_head"),
        "admin": make_staff(
            Role.ADMINISTRATOR, head_office, username="judy_admin", is_superuser=True, is_staff=True
        ),
    }


@pytest.fixture
def owner(company):
    return make_applicant(company, username="olivia_owner")


@pytest.fixture(autouse=True)
def _staff_past_second_factor(monkeypatch):
    """`client.force_login(user)` logs in a user whose role needs a second factor as past it,
    with a fresh code (step-up); `force_login(user, second_factor=False)` stops after the
    password, for the tests of the second factor itself."""
    from django.test import Client

    from org.second_factor import requires_second_factor
    from tests.second_factor import mark_verified

    password_only = Client.force_login

    def force_login(self, user, backend=None, *, second_factor=True):
        password_only(self, user, backend)
        # Its roles as they are now, not as cached on the instance by earlier calls.
        if second_factor and requires_second_factor(type(user)._default_manager.get(pk=user.pk)):
            mark_verified(self, user)

    monkeypatch.setattr(Client, "force_login", force_login)


def api_for(user, *, second_factor: bool = True) -> APIClient:
    """An API client authenticated as `user`; for a role that needs a second factor, with a
    token that gave a code just now (second_factor=False: one that never did)."""
    from org.second_factor import requires_second_factor
    from tests.second_factor import fresh_token

    client = APIClient()
    if second_factor and requires_second_factor(user):
        client.force_authenticate(user, token=fresh_token(user))
    else:
        client.force_authenticate(user)
    return client


@pytest.fixture
def api():
    return api_for


@pytest.fixture
def live_celery_worker(settings):
    """A real Celery worker (solo pool, in a thread of this process) consuming the suite's
    REDIS_URL, for tests with @pytest.mark.django_db(transaction=True): tasks enqueued after
    commit run against the test database. Skips when REDIS_URL is not set."""
    from celery.contrib.testing.worker import start_worker

    from loanflow.celery import app

    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL")
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    # Messages left in the suite's queue by earlier tests (no worker then) point at rows
    # that no longer exist, or at reused ids: start from an empty queue.
    app.control.purge()
    with start_worker(
        app, perform_ping_check=False, pool="solo", loglevel="WARNING", shutdown_timeout=10.0
    ) as worker:
        yield worker
    app.conf.task_always_eager = previous
