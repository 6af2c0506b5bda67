import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.urls import reverse
from django.utils import translation
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy

from audit.models import AuditEvent
from audit.selectors import ChainBreak, audit_trail_first_break
from notifications.models import Kind as NotificationKind
from notifications.services import Message, notify_many
from org.roles import Role, primary_role

logger = logging.getLogger("loanflow.audit")


def audit_record(
    *,
    action: str,
    actor=None,
    actor_role: str = "",
    application=None,
    kind: str = AuditEvent.Kind.TRANSITION,
    from_state: str = "",
    to_state: str = "",
    comment: str = "",
    data: dict | None = None,
    subject_type: str = "",
    subject_id: int | None = None,
) -> AuditEvent:
    """Append one row to the audit trail. Call inside the transaction of the change it records.
    The database sets its time and links it into its chain (AuditEvent)."""
    return AuditEvent.objects.create(
        action=action,
        actor=actor,
        actor_role=actor_role or ("system" if actor is None else ""),
        application=application,
        kind=kind,
        from_state=from_state,
        to_state=to_state,
        comment=comment or "",
        data=data or {},
        subject_type=subject_type,
        subject_id=subject_id,
    )


def audit_account(*, action: str, account, actor, data: dict) -> AuditEvent:
    """Record an action on a user account (its sign-in factors, its lock-outs): the account is
    the subject; `actor` did it, in their primary role (None: the system, the command line)."""
    return audit_record(
        action=action,
        actor=actor,
        actor_role=primary_role(actor),
        kind=AuditEvent.Kind.ACTION,
        subject_type="auth.user",
        subject_id=account.pk,
        data=data,
    )


# The columns audit_record_many writes, in order (the rest are the database's: the time and
# the chain).
_MANY_COLUMNS = (
    "kind",
    "application_id",
    "subject_type",
    "subject_id",
    "actor_id",
    "actor_role",
    "action",
    "from_state",
    "to_state",
    "comment",
    "data",
)


def audit_record_many(events: list[dict]) -> int:
    """Append many rows to the audit trail in one statement: each a dict of audit_record's
    arguments, with `application_id` and `actor_id` for the objects. For the batch jobs that
    record thousands of events (the SLA sweep, the nightly post-loan job): the rows go in as
    one array per column (INSERT ... SELECT FROM UNNEST), one statement whatever their number,
    without building a model instance per row, which cost more than the insert itself
    (docs/adr/0002). The rows are inserted grouped by the columns that choose their chain, in
    the given order within each, so two batches lock the chains they share in the same order
    and cannot deadlock (docs/adr/0013). Returns how many rows were written."""
    if not events:
        return 0
    if any("at" in event for event in events):
        raise ValueError("The database sets an audit event's time; `at` cannot be given.")
    defaults = {
        "kind": AuditEvent.Kind.TRANSITION,
        "application_id": None,
        "subject_type": "",
        "subject_id": None,
        "actor_id": None,
        "from_state": "",
        "to_state": "",
        "comment": "",
        "data": {},
    }
    rows = []
    for event in events:
        row = {**defaults, **event}
        row["actor_role"] = row.get("actor_role") or ("system" if row["actor_id"] is None else "")
        rows.append(row)
    fields = [AuditEvent._meta.get_field(name) for name in _MANY_COLUMNS]
    # Each array typed as its column, without a length (a longer value fails at the column
    # rather than being cut by the cast).
    types = [
        (field.target_field if field.is_relation else field).db_type(connection) for field in fields
    ]
    arrays = [f"%s::{db_type.split('(')[0]}[]" for db_type in types]
    columns = [
        list(column)
        for column in zip(
            *(
                [row[name] if name != "data" else json.dumps(row["data"]) for name in _MANY_COLUMNS]
                for row in rows
            ),
            strict=True,
        )
    ]
    names = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {connection.ops.quote_name(AuditEvent._meta.db_table)} ({names}) "
            f"SELECT {names} FROM UNNEST({', '.join(arrays)}) WITH ORDINALITY "
            f"AS given({names}, position) "
            "ORDER BY subject_type, subject_id, application_id, position",
            columns,
        )
        return cursor.rowcount


@contextmanager
def audit_history_import() -> Iterator[None]:
    """Keep the `at` given to the rows inserted inside: for loading past events (the demo's
    history, the benchmark's bank). Only a login that owns the audit table (or a superuser)
    gets this; for anyone else, the application's role included, the database still stamps
    its own time. The rows are chained as always, in the order they are inserted."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('loanflow.audit_import', 'on', true)")
        yield
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('loanflow.audit_import', '', true)")


def audit_refusal(
    *, action: str, actor, actor_role: str, application, reason: str, code: str
) -> AuditEvent:
    """Record a refused action (segregation of duties, authority). Runs in its own transaction
    after the refused one rolled back, so the refusal is kept. The reason is kept as the
    refused person read it, with the language they read it in and its code: a reader of
    another language reads the code's words (applications.labels.event_comment)."""
    logger.warning("Refused %s on %s by %s: %s", action, application, actor, reason)
    return audit_record(
        action=action,
        actor=actor,
        actor_role=actor_role,
        application=application,
        kind=AuditEvent.Kind.REFUSAL,
        from_state=application.status if application else "",
        comment=str(reason),
        data={"code": code, "language": translation.get_language() or settings.LANGUAGE_CODE},
    )


def audit_trail_verify() -> ChainBreak | None:
    """The nightly check of the audit trail's hash chains (beat; `manage.py audit_verify` by
    hand): on a break, an ERROR in the log and a notice to every administrator, in their
    language, naming the first broken link. Returns the break, or None."""
    found = audit_trail_first_break()
    if found is None:
        logger.info("Audit trail verified: every chain holds")
        return None
    logger.error("Audit trail tampered with: %s", found.describe())
    admins = get_user_model().objects.filter(is_active=True, groups__name=Role.ADMINISTRATOR)
    notify_many(
        Message(
            user=admin,
            kind=NotificationKind.SYSTEM,
            title=gettext_lazy("The audit trail has been tampered with"),
            body=lazy(found.describe, str)(),
            url=reverse("admin:audit_auditevent_changelist"),
        )
        for admin in admins.distinct()
    )
    return found
