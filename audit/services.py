import logging

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


def audit_refusal(*, action: str, actor, actor_role: str, application, reason: str,
                  code: str) -> AuditEvent:
    """Record a refused action (segregation of duties, authority). Runs in its own transaction
    after the refused one rolled back, so the refusal is kept."""
    logger.warning("Refused %s on %s by %s: %s", action, application, actor, reason)
    return audit_record(
        action=action, actor=actor, actor_role=actor_role, application=application,
        kind=AuditEvent.Kind.REFUSAL, from_state=application.status if application else "",
        comment=str(reason), data={"code": code},
    )
