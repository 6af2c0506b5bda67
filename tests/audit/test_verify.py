"""audit_verify finds a row changed, deleted or inserted behind the triggers' backs, names the
first broken link, exits non-zero, and the nightly job tells the administrators."""

import pytest
from django.core.management import CommandError, call_command

from audit.models import AuditEvent
from audit.selectors import audit_trail_first_break
from audit.services import audit_record
from audit.tasks import verify_trail
from notifications.models import Notification
from tests.audit.helpers import behind_the_triggers
from tests.factories import ApplicationFactory

pytestmark = pytest.mark.django_db

INSERT = (
    "INSERT INTO audit_auditevent (at, kind, application_id, subject_type, actor_role, action,"
    " from_state, to_state, comment, data, chain, seq, prev_hash, hash)"
    " VALUES (now() - interval '30 days', 'transition', %s, '', 'approver', 'approve', '', '',"
    " 'backdated', '{}', %s, %s, %s, %s) RETURNING id"
)


@pytest.fixture
def trail(company, staff):
    """Two applications with four events each."""
    first, second = ApplicationFactory(company=company), ApplicationFactory(company=company)
    events = {first: [], second: []}
    for n in range(4):
        for application in (first, second):
            events[application].append(
                audit_record(action=f"step_{n}", application=application, actor=staff["rm"])
            )
    return events[first]


def test_an_untouched_trail_holds(trail, capsys):
    assert audit_trail_first_break() is None
    call_command("audit_verify")
    assert "intact" in capsys.readouterr().out


def test_a_row_changed_behind_the_triggers_is_named(trail):
    behind_the_triggers(
        "UPDATE audit_auditevent SET comment = 'rewritten' WHERE id = %s", [trail[1].pk]
    )
    found = audit_trail_first_break()
    assert (found.event_id, found.seq, found.problem) == (trail[1].pk, 2, "altered")
    with pytest.raises(CommandError, match=f"event {trail[1].pk}"):
        call_command("audit_verify")


def test_a_changed_time_is_a_changed_row(trail):
    behind_the_triggers(
        "UPDATE audit_auditevent SET at = at - interval '1 day' WHERE id = %s", [trail[2].pk]
    )
    assert audit_trail_first_break().event_id == trail[2].pk


def test_a_row_deleted_from_the_middle_leaves_a_gap_at_the_next(trail):
    behind_the_triggers("DELETE FROM audit_auditevent WHERE id = %s", [trail[1].pk])
    found = audit_trail_first_break()
    assert (found.event_id, found.seq, found.problem) == (trail[2].pk, 3, "gap")


def test_a_row_deleted_from_the_end_no_longer_matches_the_chains_head(trail):
    behind_the_triggers("DELETE FROM audit_auditevent WHERE id = %s", [trail[-1].pk])
    found = audit_trail_first_break()
    assert (found.chain, found.seq, found.problem) == (trail[0].chain, 4, "tail")


def test_a_row_deleted_from_the_end_is_still_noticed_after_the_chain_goes_on(trail):
    behind_the_triggers("DELETE FROM audit_auditevent WHERE id = %s", [trail[-1].pk])
    later = audit_record(action="later", application=trail[0].application)
    assert (later.seq, later.prev_hash) == (5, trail[-1].hash)
    found = audit_trail_first_break()
    assert (found.event_id, found.seq, found.problem) == (later.pk, 5, "gap")


def test_a_whole_chain_deleted_is_noticed(trail):
    behind_the_triggers("DELETE FROM audit_auditevent WHERE chain = %s", [trail[0].chain])
    assert audit_trail_first_break().problem == "tail"


def test_a_row_inserted_behind_the_triggers_is_named(trail):
    with_no_link = ("", 0, "", "")
    behind_the_triggers(INSERT, [trail[0].application_id, *with_no_link])
    found = audit_trail_first_break()
    assert found.problem == "altered" and found.event_id > trail[-1].pk


def test_a_row_forged_onto_the_end_of_a_chain_with_a_valid_hash_is_named(trail):
    """The forger knows the hashing and links the row to the last one, but cannot move the
    chain's head without also rewriting the table only the trigger writes."""
    from django.db import connection

    last = trail[-1]
    behind_the_triggers(INSERT, [last.application_id, last.chain, last.seq + 1, last.hash, "x"])
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(
            "UPDATE audit_auditevent e SET hash = audit_event_digest(e) "
            "WHERE chain = %s AND seq = %s",
            [last.chain, last.seq + 1],
        )
        cursor.execute("SET LOCAL session_replication_role = origin")
    assert audit_trail_first_break().problem == "tail"


def test_a_row_slipped_into_the_middle_breaks_the_link_after_it(trail):
    """Moving the later rows up to make room, and forging the slipped row's hash: the row
    after it still names the old hash."""
    from django.db import connection

    chain = trail[0].chain
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(
            "UPDATE audit_auditevent SET seq = seq + 100 WHERE chain = %s AND seq >= 3", [chain]
        )
        cursor.execute(
            "UPDATE audit_auditevent SET seq = seq - 99 WHERE chain = %s AND seq > 100", [chain]
        )
        cursor.execute(INSERT, [trail[0].application_id, chain, 3, trail[1].hash, ""])
        slipped = cursor.fetchone()[0]
        cursor.execute(
            "UPDATE audit_auditevent e SET hash = audit_event_digest(e) WHERE id = %s", [slipped]
        )
        cursor.execute("SET LOCAL session_replication_role = origin")
    found = audit_trail_first_break()
    assert (found.event_id, found.problem) == (trail[2].pk, "altered")


def test_the_nightly_job_tells_each_administrator_of_a_break(trail, staff):
    assert verify_trail() is True
    assert not Notification.objects.filter(kind="system").exists()
    admin = staff["admin"]
    admin.staff_profile.preferred_language = "zh-hans"
    admin.staff_profile.save()
    behind_the_triggers("DELETE FROM audit_auditevent WHERE id = %s", [trail[1].pk])
    assert verify_trail() is False
    notice = Notification.objects.get(kind="system")
    assert notice.user == admin
    assert "审计" in notice.title and str(trail[2].pk) in notice.body
    assert notice.url == "/admin/audit/auditevent/"
    assert AuditEvent.objects.count() == 7
