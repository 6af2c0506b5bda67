import json
import logging

from django.db import connection
from django.utils import timezone

from audit.models import AuditEvent

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
    """Append one row to the audit trail. Call inside the transaction of the change it records."""
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


# The columns audit_record_many writes, in order (the rest take their defaults).
_MANY_COLUMNS = (
    "at",
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
    arguments, with `application_id` and `actor_id` for the objects and `at` if not now. For
    the batch jobs that record thousands of events (the SLA sweep, the nightly post-loan job):
    the rows go in as one array per column (INSERT ... SELECT FROM UNNEST), one statement
    whatever their number, without building a model instance per row, which cost more than
    the insert itself (docs/adr/0002). Returns how many rows were written."""
    if not events:
        return 0
    now = timezone.now()
    defaults = {
        "at": now,
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
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {connection.ops.quote_name(AuditEvent._meta.db_table)} "
            f"({', '.join(connection.ops.quote_name(field.column) for field in fields)}) "
            f"SELECT * FROM UNNEST({', '.join(arrays)})",
            columns,
        )
        return cursor.rowcount


def audit_refusal(
    *, action: str, actor, actor_role: str, application, reason: str, code: str
) -> AuditEvent:
    """Record a refused action (segregation of duties, authority). Runs in its own transaction
    after the refused one rolled back, so the refusal is kept."""
    logger.warning("Refused %s on %s by %s: %s", action, application, actor, reason)
    return audit_record(
        action=action,
        actor=actor,
        actor_role=actor_role,
        application=application,
        kind=AuditEvent.Kind.REFUSAL,
        from_state=application.status if application else "",
        comment=str(reason),
        data={"code": code},
    )
