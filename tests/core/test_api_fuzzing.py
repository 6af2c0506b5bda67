"""Fuzzing: schemathesis sends every operation of the OpenAPI schema valid and invalid data as a
relationship manager, an approver, a risk officer and an SME owner, in-process through the
WSGI application on the test database. Whatever it sends, the answer is never a 5xx.

Kept small enough for the suite (a few examples per operation); raise FUZZ_EXAMPLES to fuzz
harder by hand."""

import os
from contextlib import contextmanager

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.config import SchemathesisConfig

from loanflow.wsgi import application
from org.roles import Role
from tests import lifecycle
from tests.conftest import api_for
from tests.factories import make_applicant, make_staff

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))


# Loaded when the module is collected: the schema view reads no database.
# The coverage phase (every boundary of every parameter, about 70 cases an operation) would
# take the suite several minutes on two cores; random cases within the budget instead.
schema = schemathesis.openapi.from_wsgi(
    "/api/schema/?format=json",
    application,
    config=SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": False}}}),
)


@contextmanager
def keeping_the_test_connection():
    """As Django's test client does around each request (it connects them again after): the
    request must not close the connection that holds the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(db, staff, company, product, head_office):
    owner = make_applicant(company, username="olivia_owner")
    # An application of the owner's company: the ids the fuzzer tries are made real ones.
    draft = lifecycle.file_draft(api_for, staff, company, product)
    users = {
        "rm": staff["rm"],
        "approver": staff["approver"],
        "risk": make_staff(Role.RISK_OFFICER, head_office, username="rita_risk"),
        "owner": owner,
    }
    return draft, {role: Token.objects.create(user=user).key for role, user in users.items()}


def with_a_nul(case):
    """The case again with a NUL in its text: at the end of every text query parameter the
    operation declares (generated or not), of every text path parameter and of the strings of
    a JSON object body. Random text rarely holds one, and PostgreSQL refuses it."""
    query = dict(case.query or {})
    for parameter in case.operation.query:
        if parameter.definition.get("schema", {}).get("type") == "string":
            query[parameter.name] = f"{query.get(parameter.name, '')}\x00"
    case.query = query
    for name, value in list((case.path_parameters or {}).items()):
        if not str(value).isdigit():
            case.path_parameters[name] = f"{value}\x00"
    if isinstance(case.body, dict):
        case.body = {
            key: f"{value}\x00" if isinstance(value, str) else value
            for key, value in case.body.items()
        }
    return case


def assert_no_server_error(case, keys):
    for role, key in keys.items():
        with keeping_the_test_connection():
            response = case.call(headers={"Authorization": f"Token {key}"})
        assert response.status_code < 500, (
            f"{role}: {case.method} {case.formatted_path} -> {response.status_code}\n"
            f"{case.as_curl_command()}\n{response.text[:2000]}"
        )


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    suppress_health_check=list(HealthCheck),
    deadline=None,
    derandomize=True,
    database=None,
)
def test_no_operation_answers_a_server_error_to_any_role(case, tokens):
    draft, keys = tokens
    # A generated id is almost never a real one; an application's id reaches the code behind
    # the 404 (its scope, its state, its related rows).
    for name in ("id", "application_id"):
        if str(case.path_parameters.get(name, "")).isdigit():
            case.path_parameters[name] = draft
    assert_no_server_error(case, keys)
    assert_no_server_error(with_a_nul(case), keys)
