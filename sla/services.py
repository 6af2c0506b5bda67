"""SLA clocks: start, stop, pause and resume deadlines; the sweep that fires reminders and
escalations exactly once.

Deadlines live in the database and are written in the caller's transaction: nothing about a
deadline is held in Redis, and no Celery ETA timers are used. The sweep finds due rows through
a partial index on next_fire_at and claims them with FOR UPDATE SKIP LOCKED.
"""

import logging
import os
import time
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from audit.services import audit_record
from sla.calendar import add_business_seconds, business_seconds_between, get_calendar
from sla.models import Deadline, SlaEvent, SlaPolicy

logger = logging.getLogger(__name__)

OPEN = (Deadline.Status.PENDING, Deadline.Status.PAUSED)
# Used when no SlaPolicy row exists for a step: 3 business days, reminder at 75%.
FALLBACK_TARGET_DAYS = 3
FALLBACK_REMINDER_PERCENT = 75
FALLBACK_ESCALATION2_HOURS = 8


def sla_policy_for(*, step: str, product=None) -> SlaPolicy | None:
    policies = {p.product_id: p for p in SlaPolicy.objects.filter(
        step=step, is_active=True, product_id__in=[product.pk] if product else [])}
    default = SlaPolicy.objects.filter(step=step, is_active=True, product__isnull=True).first()
    return policies.get(product.pk if product else None) or default


def _region_of(branch) -> str:
    return (getattr(branch, "region", "") or "CN") if branch is not None else "CN"


def clock_start(*, subject_type: str, subject_id: int, step: str, application=None,
                owner=None, role: str = "", branch=None, started_at=None) -> Deadline:
    """Start the clock of `step` for a subject (idempotent: returns the open deadline if
    there is one). Call inside the transaction of the change that starts the step."""
    existing = Deadline.objects.filter(subject_type=subject_type, subject_id=subject_id,
                                       step=step, status__in=OPEN).first()
    if existing is not None:
        return existing
    if branch is None and application is not None:
        branch = application.branch
    region = _region_of(branch)
    cal = get_calendar(region)
    started_at = started_at or timezone.now()
    policy = sla_policy_for(step=step, product=getattr(application, "product", None))
    if policy is not None:
        target = policy.target_business_seconds(hours_per_day=cal.seconds_per_day)
        reminder_percent = policy.reminder_percent
        esc2_hours = policy.escalation2_after_hours
    else:
        target = FALLBACK_TARGET_DAYS * cal.seconds_per_day
        reminder_percent, esc2_hours = FALLBACK_REMINDER_PERCENT, FALLBACK_ESCALATION2_HOURS
    due_at = add_business_seconds(started_at, target, calendar=cal)
    deadline = Deadline(
        subject_type=subject_type, subject_id=subject_id, step=step, application=application,
        policy=policy, owner=owner, role=role, branch=branch, region=region,
        target_business_seconds=target, started_at=started_at, due_at=due_at,
        reminder_at=(add_business_seconds(started_at, target * reminder_percent / 100,
                                          calendar=cal) if reminder_percent else None),
        escalation2_at=(add_business_seconds(due_at, esc2_hours * 3600, calendar=cal)
                        if esc2_hours else None),
    )
    deadline.next_fire_at = deadline.compute_next_fire_at()
    try:
        with transaction.atomic():
            deadline.save()
    except IntegrityError:
        # Someone started the same clock concurrently: theirs stands.
        return Deadline.objects.get(subject_type=subject_type, subject_id=subject_id,
                                    step=step, status__in=OPEN)
    return deadline


def clock_stop(*, subject_type: str, subject_id: int, step: str | None = None,
               stopped_at=None) -> int:
    """Stop the subject's open clocks (only `step` if given). Returns how many stopped."""
    qs = Deadline.objects.filter(subject_type=subject_type, subject_id=subject_id,
                                 status__in=OPEN)
    if step:
        qs = qs.filter(step=step)
    return _stop(qs, stopped_at or timezone.now())


def clock_stop_application(*, application, stopped_at=None) -> int:
    """Stop every open clock of an application (it was declined, withdrawn, closed...)."""
    return _stop(Deadline.objects.filter(application=application, status__in=OPEN),
                 stopped_at or timezone.now())


def _stop(qs, stopped_at: datetime) -> int:
    count = 0
    for deadline in qs.select_for_update(of=("self",)):
        if deadline.status == Deadline.Status.PAUSED:
            # Keep the frozen remaining time meaningful: due moves to stop + remaining.
            deadline.due_at = add_business_seconds(
                stopped_at, deadline.paused_remaining_seconds or 0, region=deadline.region)
        deadline.status = Deadline.Status.STOPPED
        deadline.stopped_at = stopped_at
        deadline.next_fire_at = None
        deadline.save(update_fields=["status", "stopped_at", "next_fire_at", "due_at"])
        count += 1
    return count


def clock_pause_application(*, application, paused_at=None) -> int:
    """Freeze every running clock of the application (it waits on the applicant)."""
    now = paused_at or timezone.now()
    count = 0
    for deadline in Deadline.objects.select_for_update(of=("self",)).filter(
            application=application, status=Deadline.Status.PENDING):
        cal = get_calendar(deadline.region)
        deadline.paused_remaining_seconds = business_seconds_between(now, deadline.due_at,
                                                                     calendar=cal)
        deadline.paused_reminder_seconds = (
            business_seconds_between(now, deadline.reminder_at, calendar=cal)
            if deadline.reminder_at and not deadline.reminder_fired_at else None)
        deadline.status = Deadline.Status.PAUSED
        deadline.paused_at = now
        deadline.next_fire_at = None
        deadline.save(update_fields=["paused_remaining_seconds", "paused_reminder_seconds",
                                     "status", "paused_at", "next_fire_at"])
        count += 1
    return count


def clock_resume_application(*, application, resumed_at=None) -> int:
    """Restart the application's paused clocks with the business time they had left."""
    now = resumed_at or timezone.now()
    count = 0
    for deadline in Deadline.objects.select_for_update(of=("self",)).filter(
            application=application, status=Deadline.Status.PAUSED):
        cal = get_calendar(deadline.region)
        esc2_delay = (business_seconds_between(deadline.due_at, deadline.escalation2_at,
                                               calendar=cal)
                      if deadline.escalation2_at else None)
        deadline.due_at = add_business_seconds(now, deadline.paused_remaining_seconds or 0,
                                               calendar=cal)
        if deadline.paused_reminder_seconds is not None:
            deadline.reminder_at = add_business_seconds(now, deadline.paused_reminder_seconds,
                                                        calendar=cal)
        if esc2_delay is not None:
            deadline.escalation2_at = add_business_seconds(deadline.due_at, esc2_delay,
                                                           calendar=cal)
        deadline.status = Deadline.Status.PENDING
        deadline.paused_at = None
        deadline.paused_remaining_seconds = None
        deadline.paused_reminder_seconds = None
        deadline.next_fire_at = deadline.compute_next_fire_at()
        deadline.save()
        count += 1
    return count


# --- Who hears about it --------------------------------------------------------------------

def _users_with_role(role: str, branch):
    User = get_user_model()
    return list(User.objects.filter(is_active=True, groups__name=role,
                                    staff_profile__branch=branch).order_by("pk").distinct())


def _heads_from(branch) -> tuple[list, object]:
    """Branch heads of `branch`, else of the nearest ancestor that has one."""
    from org.roles import Role

    while branch is not None:
        heads = _users_with_role(Role.BRANCH_HEAD, branch)
        if heads:
            return heads, branch
        branch = branch.parent
    return [], None


def sla_recipients(*, deadline: Deadline, kind: str, level: int) -> list:
    from org.models import Branch

    if kind == SlaEvent.Kind.REMINDER:
        if deadline.owner_id and deadline.owner.is_active:
            return [deadline.owner]
        return _users_with_role(deadline.role, deadline.branch) if deadline.role else []
    branch = deadline.branch
    if branch is None:
        branch = Branch.objects.filter(level=Branch.Level.HEAD_OFFICE).first()
    heads, found_at = _heads_from(branch)
    if level >= 2 and found_at is not None:
        upper, _at = _heads_from(found_at.parent)
        if upper:
            return upper
    return heads


# --- The sweep -------------------------------------------------------------------------------

def _due_events(deadline: Deadline, now: datetime) -> list[tuple[str, int]]:
    events = []
    if (deadline.reminder_at and not deadline.reminder_fired_at
            and deadline.reminder_at <= now and deadline.reminder_at < deadline.due_at):
        events.append((SlaEvent.Kind.REMINDER, 0))
    if deadline.escalation_level < 1 and deadline.due_at <= now:
        events.append((SlaEvent.Kind.ESCALATION, 1))
    if (deadline.escalation_level < 2 and deadline.escalation2_at
            and deadline.escalation2_at <= now):
        events.append((SlaEvent.Kind.ESCALATION, 2))
    return events


def _step_label(step: str) -> str:
    from sla.models import Step

    try:
        return str(Step(step).label)
    except ValueError:
        return step.replace("_", " ")


def _subject_label(deadline: Deadline) -> str:
    if deadline.application_id:
        return deadline.application.reference
    return f"{deadline.subject_type} #{deadline.subject_id}"


def _fire(deadline: Deadline, kind: str, level: int, now: datetime) -> bool:
    from notifications.services import notify, user_language

    recipients = sla_recipients(deadline=deadline, kind=kind, level=level)
    try:
        with transaction.atomic():
            event = SlaEvent.objects.create(deadline=deadline, kind=kind, level=level,
                                            fired_at=now, recipients=[u.pk for u in recipients])
    except IntegrityError:
        logger.info("SLA %s %s of deadline %s already fired", kind, level, deadline.pk)
        return False
    audit_record(
        action=f"sla_{kind}" + (f"_{level}" if kind == SlaEvent.Kind.ESCALATION else ""),
        actor=None, actor_role="system", application=deadline.application, kind="sla",
        subject_type="sla.deadline", subject_id=deadline.pk,
        comment=f"{deadline.step} due {deadline.due_at.isoformat()}",
        data={"step": deadline.step, "kind": kind, "level": level, "event": event.pk,
              "subject_type": deadline.subject_type, "subject_id": deadline.subject_id,
              "due_at": deadline.due_at.isoformat(),
              "recipients": [u.pk for u in recipients]},
    )
    url = (f"/applications/{deadline.application_id}/" if deadline.application_id else "")
    for user in recipients:
        with translation.override(user_language(user)):
            params = {"step": _step_label(deadline.step), "subject": _subject_label(deadline),
                      "due": date_format(timezone.localtime(deadline.due_at),
                                         "DATETIME_FORMAT")}
            if kind == SlaEvent.Kind.REMINDER:
                title = _("Reminder: %(step)s for %(subject)s is due %(due)s") % params
                body = _("Most of the time allowed for this step has passed.")
            else:
                params["level"] = level
                title = _("Escalation (level %(level)d): %(step)s for %(subject)s was due "
                          "%(due)s") % params
                body = _("This step has run past its time limit. Please see that it is "
                         "completed or reassigned.")
        notify(user=user, kind=("reminder" if kind == SlaEvent.Kind.REMINDER else "escalation"),
               title=title, body=body, url=url, application=deadline.application)
    return True


def _sweep_pause_for_tests() -> None:
    # Fault tests kill a worker in the middle of a sweep; this widens the window. Unset in
    # production.
    delay = float(os.environ.get("LOANFLOW_SLA_SWEEP_PAUSE", "0") or 0)
    if delay:
        time.sleep(delay)


def sla_sweep(*, now: datetime | None = None, batch_size: int = 500) -> int:
    """Fire every due reminder and escalation once. Safe to run concurrently and after any
    outage (it catches up on everything due). Returns how many events fired."""
    fired = 0
    seen: set[int] = set()
    # Nothing due is the common case (every minute): one probe of the partial index, no
    # transaction, no row locks.
    if not Deadline.objects.filter(status=Deadline.Status.PENDING,
                                   next_fire_at__lte=now or timezone.now()).exists():
        return 0
    while True:
        moment = now or timezone.now()
        with transaction.atomic():
            batch = list(
                Deadline.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("application", "owner", "branch")
                .filter(status=Deadline.Status.PENDING, next_fire_at__lte=moment)
                .exclude(pk__in=seen)
                .order_by("next_fire_at")[:batch_size]
            )
            if not batch:
                return fired
            for deadline in batch:
                seen.add(deadline.pk)
                try:
                    with transaction.atomic():
                        for kind, level in _due_events(deadline, moment):
                            if _fire(deadline, kind, level, moment):
                                fired += 1
                            if kind == SlaEvent.Kind.REMINDER:
                                deadline.reminder_fired_at = moment
                            else:
                                deadline.escalation_level = max(deadline.escalation_level,
                                                                level)
                        deadline.next_fire_at = deadline.compute_next_fire_at()
                        deadline.save(update_fields=["reminder_fired_at", "escalation_level",
                                                     "next_fire_at"])
                except Exception:
                    logger.exception("SLA sweep failed on deadline %s; will retry", deadline.pk)
            _sweep_pause_for_tests()
