"""The bank's exposure as of a time (docs/adr/0018-exposure-snapshot.md).

The risk officer's view of the whole bank (postloan.exposure.exposure_overview) and the
nightly concentration flag read a dated snapshot rather than summing every loan, facility
and application on each request: `exposure_snapshot_take` writes the one definition's rows
(postloan.exposure.exposure_rows) summed per customer, branch and currency, with the
customer's group key, in one transaction that also marks the snapshot taken, so a snapshot is
seen whole or not at all. It is a record of a moment, read with its time; nothing keeps it up
to date. Every credit decision still reads one customer's exposure live
(postloan.selectors.customer_exposure, exposure_after).

Snapshots are taken by the nightly job (postloan.daily, before the flag that reads it) and,
on request, by a risk officer or a branch head ("Refresh now": `exposure_snapshot_request`,
then the Celery task after commit). One refresh runs at a time; one left requested for more
than STALE_REQUEST (a lost task, a dead worker) is marked failed by the next request.

Kept: the nightly snapshots of the last KEEP_DAYS days, the newest requested one and always
the newest of all; older ones are deleted when a new one is taken.
"""

import logging
import time
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.models import AuditEvent
from audit.services import audit_record
from common.errors import Conflict, Forbidden
from common.queue import enqueue_on_commit
from org.roles import primary_role
from postloan.exposure import SUMS, exposure_by, exposure_rows, may_see_exposure
from postloan.models import ExposureSnapshot, ExposureSnapshotRow
from postloan.tasks import exposure_snapshot_refresh

logger = logging.getLogger(__name__)

STALE_REQUEST = timedelta(minutes=15)
KEEP_DAYS = 7
BATCH = 5000
SUBJECT = "postloan.exposuresnapshot"
Status = ExposureSnapshot.Status
Trigger = ExposureSnapshot.Trigger


def exposure_snapshot_latest() -> ExposureSnapshot | None:
    """The newest snapshot taken (the one the view shows), or None before the first."""
    return (
        ExposureSnapshot.objects.filter(status=Status.TAKEN)
        .select_related("requested_by")
        .order_by("-taken_at", "-id")
        .first()
    )


def exposure_snapshot_refreshing() -> ExposureSnapshot | None:
    """The refresh being taken now (requested less than STALE_REQUEST ago), if any."""
    return (
        ExposureSnapshot.objects.filter(
            status=Status.REQUESTED,
            trigger=Trigger.REQUESTED,
            requested_at__gte=timezone.now() - STALE_REQUEST,
        )
        .select_related("requested_by")
        .first()
    )


def _rows_write(snapshot: ExposureSnapshot) -> tuple[int, int]:
    """The snapshot's rows: exposure_rows (one grouped read of the whole bank) added up per
    company, branch and currency (with the company's group key), written in batches.
    Returns (rows, customers)."""
    figures = exposure_by(
        exposure_rows(group=True), lambda row: (row["company_id"], row["branch_id"], row["group"])
    )
    ExposureSnapshotRow.objects.bulk_create(
        (
            ExposureSnapshotRow(
                snapshot=snapshot,
                company_id=company_id,
                branch_id=branch_id,
                group_key=group,
                currency=currency,
                **{name: f[name] for name in SUMS},
            )
            for ((company_id, branch_id, group), currency), f in figures.items()
        ),
        batch_size=BATCH,
    )
    return len(figures), len({company_id for (company_id, _b, _g), _c in figures})


def _taken(snapshot: ExposureSnapshot) -> ExposureSnapshot:
    """Inside the transaction: the rows written, the snapshot marked taken and audited, the
    snapshots no longer kept deleted."""
    started = time.monotonic()
    row_count, customer_count = _rows_write(snapshot)
    snapshot.take(
        row_count=row_count,
        customer_count=customer_count,
        seconds=round(time.monotonic() - started, 3),
    )
    snapshot.save()
    _transition_audited(
        snapshot,
        action="exposure_snapshot_take",
        data={
            "trigger": snapshot.trigger,
            "rows": row_count,
            "customers": customer_count,
            "seconds": snapshot.seconds,
        },
    )
    _prune(snapshot)
    return snapshot


def _prune(newest: ExposureSnapshot) -> None:
    """Delete the snapshots no longer kept (their rows go with them)."""
    since = timezone.now() - timedelta(days=KEEP_DAYS)
    taken = ExposureSnapshot.objects.filter(status=Status.TAKEN)
    keep = {newest.pk}
    keep |= set(
        taken.filter(trigger=Trigger.NIGHTLY, taken_at__gte=since).values_list("pk", flat=True)
    )
    requested = taken.filter(trigger=Trigger.REQUESTED).order_by("-taken_at", "-id").first()
    if requested is not None:
        keep.add(requested.pk)
    taken.exclude(pk__in=keep).delete()
    ExposureSnapshot.objects.filter(status=Status.FAILED, requested_at__lt=since).delete()


def exposure_snapshot_take(*, trigger: str, requested_by=None) -> ExposureSnapshot:
    """Take a snapshot of the bank's exposure now (the nightly job, the demo, the
    benchmark), in one transaction: seen by the view only once complete."""
    with transaction.atomic():
        snapshot = ExposureSnapshot.objects.create(trigger=trigger, requested_by=requested_by)
        return _taken(snapshot)


def exposure_snapshot_request(*, actor) -> ExposureSnapshot:
    """ "Refresh now": a risk officer or a branch head (403 otherwise) asks for a snapshot,
    taken by a Celery task after commit; 409 while another is being taken. A request left
    unfinished for STALE_REQUEST is marked failed first, so it blocks no one for ever."""
    if not may_see_exposure(actor):
        raise Forbidden(
            _("The bank's exposure is for risk officers and branch heads."), code="exposure_view"
        )
    with transaction.atomic():
        stale = ExposureSnapshot.objects.select_for_update(skip_locked=True).filter(
            status=Status.REQUESTED,
            trigger=Trigger.REQUESTED,
            requested_at__lt=timezone.now() - STALE_REQUEST,
        )
        for snapshot in stale:
            _failed(snapshot, error="Not taken within 15 minutes.")
        try:
            with transaction.atomic():
                snapshot = ExposureSnapshot.objects.create(
                    trigger=Trigger.REQUESTED, requested_by=actor
                )
        except IntegrityError:
            raise Conflict(
                _("A refresh of the exposure is already being taken."), code="exposure_refreshing"
            ) from None
        audit_record(
            action="exposure_snapshot_request",
            actor=actor,
            actor_role=primary_role(actor),
            kind=AuditEvent.Kind.ACTION,
            subject_type=SUBJECT,
            subject_id=snapshot.pk,
            to_state=snapshot.status,
        )
        enqueue_on_commit(exposure_snapshot_refresh, snapshot.pk)
    return snapshot


def _failed(snapshot: ExposureSnapshot, *, error: str) -> None:
    snapshot.fail(error=error)
    snapshot.save()
    _transition_audited(snapshot, action="exposure_snapshot_fail", comment=error)


def _transition_audited(snapshot: ExposureSnapshot, *, action: str, **details) -> None:
    """The audit row of the system's transition of a requested snapshot (taken, failed)."""
    audit_record(
        action=action,
        kind=AuditEvent.Kind.SYSTEM,
        subject_type=SUBJECT,
        subject_id=snapshot.pk,
        from_state=Status.REQUESTED,
        to_state=snapshot.status,
        **details,
    )


def exposure_snapshot_refresh_take(*, snapshot_id: int) -> ExposureSnapshot | None:
    """The refresh task's work: take the requested snapshot (None if it is no longer
    requested: taken by another worker, or failed as stale). On an error the snapshot is
    marked failed, so the page stops saying it is being taken, and the error raised."""
    try:
        with transaction.atomic():
            snapshot = (
                ExposureSnapshot.objects.select_for_update(skip_locked=True)
                .filter(pk=snapshot_id, status=Status.REQUESTED)
                .first()
            )
            if snapshot is None:
                return None
            return _taken(snapshot)
    except Exception as exc:
        logger.exception("The exposure snapshot %s failed.", snapshot_id)
        with transaction.atomic():
            snapshot = (
                ExposureSnapshot.objects.select_for_update()
                .filter(pk=snapshot_id, status=Status.REQUESTED)
                .first()
            )
            if snapshot is not None:
                _failed(snapshot, error=str(exc)[:500])
        raise
