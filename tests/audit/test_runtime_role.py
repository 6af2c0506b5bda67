"""The role the application runs as (created here with `manage.py db_roles`, as compose's
migrate service does) can add to the trail and read it, and nothing else: no TRUNCATE,
DELETE or UPDATE, no disabling or dropping a trigger, no replica mode, no time of its own."""

import os
from datetime import datetime

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection

from audit.models import AuditEvent
from audit.services import audit_record

ROLE = f"lf_test_runtime_{os.getpid()}"
PASSWORD = "runtime-secret"

INSERT = (
    "INSERT INTO audit_auditevent (at, kind, subject_type, actor_role, action, from_state,"
    " to_state, comment, data, chain, seq, hash)"
    " VALUES ('2001-01-01', 'system', '', 'system', 'note', '', '', '', '{}', 'mine', 7, 'x')"
    " RETURNING at, chain, seq, hash"
)


@pytest.fixture
def runtime(transactional_db, monkeypatch):
    """A psycopg connection as the runtime role, to the test database."""
    monkeypatch.setenv("LF_TEST_RUNTIME_PASSWORD", PASSWORD)
    call_command("db_roles", runtime_role=ROLE, password_env="LF_TEST_RUNTIME_PASSWORD")
    call_command("db_roles", runtime_role=ROLE)  # idempotent
    settings = connection.settings_dict
    conn = psycopg.connect(
        dbname=settings["NAME"],
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        user=ROLE,
        password=PASSWORD,
        autocommit=True,
    )
    yield conn
    conn.close()
    with connection.cursor() as cursor:
        cursor.execute(f'DROP OWNED BY "{ROLE}"')
        cursor.execute(f'DROP ROLE "{ROLE}"')


@pytest.fixture
def event(company):
    from tests.factories import ApplicationFactory

    return audit_record(action="submit", application=ApplicationFactory(company=company))


@pytest.mark.parametrize(
    ("statement", "refusal"),
    [
        ("TRUNCATE audit_auditevent", "permission denied"),
        ("DELETE FROM audit_auditevent", "permission denied"),
        ("UPDATE audit_auditevent SET comment = 'rewritten'", "permission denied"),
        ("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_link", "must be owner"),
        ("ALTER TABLE audit_auditevent DISABLE TRIGGER ALL", "must be owner"),
        ("DROP TRIGGER pgtrigger_append_only_00dfa ON audit_auditevent", "must be owner"),
        ("DROP TRIGGER audit_event_link ON audit_auditevent", "must be owner"),
        ("SET session_replication_role = replica", "permission denied"),
        ("UPDATE audit_auditchainhead SET seq = 0", "permission denied"),
        ("DELETE FROM audit_auditchainhead", "permission denied"),
        ("INSERT INTO audit_auditchainhead VALUES ('x', 1, 'y')", "permission denied"),
        ("SELECT audit_event_link()", "permission denied"),
        ("DROP TABLE audit_auditevent", "must be owner"),
        ("CREATE TABLE squat (id int)", "permission denied"),
    ],
)
def test_the_runtime_role_cannot_rewrite_the_trail(runtime, event, statement, refusal):
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match=refusal):
        runtime.execute(statement)
    assert AuditEvent.objects.filter(pk=event.pk, comment="").exists()


def test_skipping_the_append_only_trigger_by_name_does_not_help_either(runtime, event):
    runtime.execute("SET pgtrigger.ignore = '{pgtrigger_append_only_00dfa}'")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        runtime.execute("DELETE FROM audit_auditevent")


def test_the_runtime_role_adds_rows_with_the_databases_time_and_chain_whatever_it_sends(
    runtime,
):
    # Even asking for a history import: that is for the owner only.
    runtime.execute("SET loanflow.audit_import = 'on'")
    at, chain, seq, digest = runtime.execute(INSERT).fetchone()
    now = runtime.execute("SELECT now()").fetchone()[0]
    assert at.year == now.year and at > datetime.fromisoformat("2001-01-02T00:00:00+00:00")
    assert (chain, seq) == ("system", 1) and len(digest) == 64
    assert runtime.execute("SELECT count(*) FROM audit_auditevent").fetchone()[0] == 1


def test_the_runtime_role_works_the_other_tables_as_usual(runtime, company):
    runtime.execute("UPDATE customers_company SET name = 'Renamed Co.' WHERE id = %s", [company.pk])
    company.refresh_from_db()
    assert company.name == "Renamed Co."
    owned = runtime.execute(
        "SELECT count(*) FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles"
        " WHERE rolname = current_user)"
    ).fetchone()[0]
    assert owned == 0


@pytest.mark.django_db
def test_db_roles_refuses_to_make_the_owner_the_runtime_role():
    from django.core.management import CommandError

    owner = connection.settings_dict["USER"] or "postgres"
    with pytest.raises(CommandError, match="must not be the owner"):
        call_command("db_roles", runtime_role=owner)


@pytest.mark.django_db
def test_db_roles_refuses_an_empty_password(monkeypatch):
    from django.core.management import CommandError

    monkeypatch.setenv("LF_TEST_EMPTY_PASSWORD", "")
    with pytest.raises(CommandError, match="LF_TEST_EMPTY_PASSWORD is not set"):
        call_command("db_roles", runtime_role=ROLE, password_env="LF_TEST_EMPTY_PASSWORD")
