"""`application_transitioned` is sent inside the transition's transaction, after the save and
the audit row: receivers write what must commit with the transition (deadlines, tasks) and use
transaction.on_commit for side effects (mail, Celery tasks, PDFs).

Keyword arguments: application, transition, from_state, to_state, actor, event (the AuditEvent),
data (the validated input of the transition).
"""

from django.dispatch import Signal

application_transitioned = Signal()
