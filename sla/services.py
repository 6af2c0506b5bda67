"""SLA clocks: start, stop, pause and resume deadlines; the sweep that fires reminders and
escalations exactly once.

Deadlines live in the database and are written in the caller's transaction: nothing about a
deadline is held in Redis, and no Celery ETA timers are used. The sweep finds due rows through
a partial index on next_fire_at and works a batch at a time: it claims the batch
(FOR UPDATE SKIP LOCKED), marks what fires by the model's rule (Deadline.mark_due) and writes
the marks back in one set-based statement (docs/adr/0002), then its events, audit rows and
notifications are written in bulk and one email task is queued after commit.
"""

import logging
import os
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.functional import lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from applications.models import FINAL_STATUSES, Status
from audit.models import AuditEvent
from audit.services import audit_record_many
from notifications.models import Kind as NotificationKind
from notifications.services import Message, notify_many
from org.models import Branch
from org.roles import Role
from sla.calendar import add_business_seconds, business_seconds_between, get_calendar
from sla.checks import calendar_missing_hint, calendar_missing_message
from sla.models import Deadline, SlaEvent, SlaPolicy, step_label
from sla.selectors import calendar_years_missing

logger = logging.getLogger(__name__)

OPEN = (Deadline.Status.PENDING, Deadline.Status.PAUSED)
# Used when no SlaPolicy row exists for a step: 3 business days, reminder at 75%.
FALLBACK_TARGET_DAYS = 3
FALLBACK_REMINDER_PERCENT = 75
FALLBACK_ESCALATION2_HOURS = 8

# Application-level clocks follow the application's status.
APPLICATION = "applications.loanapplication"
# The step whose clock runs while the application is in a status, and who owns it.
STEP_FOR_STATUS = {
    Status.SUBMITTED: ("intake_check", Role.RELATIONSHIP_MANAGER),
    Status.INVESTIGATION: ("investigation", Role.RELATIONSHIP_MANAGER),
    Status.APPROVED: ("contract", Role.RELATIONSHIP_MANAGER),
    Status.CONTRACT_SIGNED: ("disbursement", Role.DISBURSEMENT_OFFICER),
}
# A change to a live loan (postloan.changes) has its own steps where its work differs: the
# light review instead of the investigation, and for an extension or restructuring the
# supplementary agreement instead of the contract.
CHANGE_STEP_FOR_STATUS = {
    Status.INVESTIGATION: ("change_review", Role.RELATIONSHIP_MANAGER),
}
IN_PLACE_CHANGE_STEP_FOR_STATUS = {
    **CHANGE_STEP_FOR_STATUS,
    Status.APPROVED: ("change_agreement", Role.RELATIONSHIP_MANAGER),
}
APPLICATION_STEPS = {
    step
    for steps in (STEP_FOR_STATUS, IN_PLACE_CHANGE_STEP_FOR_STATUS)
    for step, _role in steps.values()
}


def step_for_status(application, status: str) -> tuple[str, str] | None:
    """The step (and the role that owns it) of an application in `status`."""
    if application.change_kind:
        own = (
            IN_PLACE_CHANGE_STEP_FOR_STATUS
            if application.changes_in_place
            else CHANGE_STEP_FOR_STATUS
        )
        if status in own:
            return own[status]
    return STEP_FOR_STATUS.get(status)


def sla_policy_for(*, step: str, product=None, product_id: int | None = None) -> SlaPolicy | None:
    """The active policy of a step: the product's own, else the step's default."""
    product_id = product.pk if product is not None else product_id
    wanted = Q(product__isnull=True)
    if product_id is not None:
        wanted |= Q(product_id=product_id)
    return (
        SlaPolicy.objects.filter(wanted, step=step, is_active=True)
        .order_by(F("product_id").asc(nulls_last=True), "id")
        .first()
    )


def _region_of(branch) -> str:
    return (getattr(branch, "region", "") or "CN") if branch is not None else "CN"


def clock_start(
    *,
    subject_type: str,
    subject_id: int,
    step: str,
    application=None,
    owner=None,
    owner_id: int | None = None,
    role: str = "",
    branch=None,
    started_at=None,
) -> Deadline:
    """Start the clock of `step` for a subject (idempotent: returns the open deadline if
    there is one). Call inside the transaction of the change that starts the step."""
    if branch is None and application is not None:
        branch = application.branch
    region = _region_of(branch)
    cal = get_calendar(region)
    started_at = started_at or timezone.now()
    policy = sla_policy_for(step=step, product_id=getattr(application, "product_id", None))
    if policy is not None:
        target = policy.target_business_seconds(hours_per_day=cal.seconds_per_day)
        reminder_percent = policy.reminder_percent
        esc2_hours = policy.escalation2_after_hours
    else:
        target = FALLBACK_TARGET_DAYS * cal.seconds_per_day
        reminder_percent, esc2_hours = FALLBACK_REMINDER_PERCENT, FALLBACK_ESCALATION2_HOURS
    due_at = add_business_seconds(started_at, target, calendar=cal)
    deadline = Deadline(
        subject_type=subject_type,
        subject_id=subject_id,
        step=step,
        application=application,
        policy=policy,
        owner=owner,
        role=role,
        branch=branch,
        region=region,
        target_business_seconds=target,
        started_at=started_at,
        due_at=due_at,
        reminder_at=(
            add_business_seconds(started_at, target * reminder_percent / 100, calendar=cal)
            if reminder_percent
            else None
        ),
        escalation2_at=(
            add_business_seconds(due_at, esc2_hours * 3600, calendar=cal) if esc2_hours else None
        ),
    )
    if owner is None and owner_id is not None:
        deadline.owner_id = owner_id
    deadline.next_fire_at = deadline.compute_next_fire_at()
    # The constraint sla_deadline_one_open refuses a second open clock. If the subject already
    # has one, started before or concurrently by another transaction that has committed it,
    # that one stands.
    try:
        with transaction.atomic():
            deadline.save(force_insert=True)
    except IntegrityError as exc:
        if "sla_deadline_one_open" not in str(exc):
            raise
        return Deadline.objects.get(
            subject_type=subject_type, subject_id=subject_id, step=step, status__in=OPEN
        )
    return deadline


def clock_stop(
    *, subject_type: str, subject_id: int, step: str | None = None, steps=None, stopped_at=None
) -> int:
    """Stop the subject's open clocks (only `step`, or only those of `steps`, if given).
    Returns how many stopped."""
    deadlines = Deadline.objects.filter(subject_type=subject_type, subject_id=subject_id)
    if step:
        deadlines = deadlines.filter(step=step)
    if steps is not None:
        if not steps:
            return 0
        deadlines = deadlines.filter(step__in=sorted(steps))
    return _stop(deadlines, stopped_at or timezone.now())


def clock_stop_application(*, application, stopped_at=None) -> int:
    """Stop every open clock of an application (it was declined, withdrawn, closed...)."""
    return _stop(Deadline.objects.filter(application=application), stopped_at or timezone.now())


def _stop(deadlines: QuerySet, stopped_at: datetime) -> int:
    """Stop the open deadlines among `deadlines`. A stopped paused clock keeps its frozen
    remaining time meaningful: its due time moves to the stop plus what remained (a paused
    clock keeps paused_at until it resumes)."""
    open_ = deadlines.filter(status__in=OPEN)
    paused = list(
        open_.filter(paused_at__isnull=False)
        .select_for_update()
        .values_list("pk", "paused_remaining_seconds", "region")
    )
    count = open_.update(status=Deadline.Status.STOPPED, stopped_at=stopped_at, next_fire_at=None)
    for pk, remaining, region in paused:
        Deadline.objects.filter(pk=pk).update(
            due_at=add_business_seconds(stopped_at, remaining or 0, region=region)
        )
    return count


def clock_pause_application(*, application, paused_at=None) -> int:
    """Freeze every running clock of the application (it waits on the applicant)."""
    now = paused_at or timezone.now()
    count = 0
    for deadline in Deadline.objects.select_for_update(of=("self",)).filter(
        application=application, status=Deadline.Status.PENDING
    ):
        cal = get_calendar(deadline.region)
        deadline.paused_remaining_seconds = business_seconds_between(
            now, deadline.due_at, calendar=cal
        )
        deadline.paused_reminder_seconds = (
            business_seconds_between(now, deadline.reminder_at, calendar=cal)
            if deadline.reminder_at and not deadline.reminder_fired_at
            else None
        )
        deadline.status = Deadline.Status.PAUSED
        deadline.paused_at = now
        deadline.next_fire_at = None
        deadline.save(
            update_fields=[
                "paused_remaining_seconds",
                "paused_reminder_seconds",
                "status",
                "paused_at",
                "next_fire_at",
            ]
        )
        count += 1
    return count


def clock_resume_application(*, application, resumed_at=None) -> int:
    """Restart the application's paused clocks with the business time they had left."""
    now = resumed_at or timezone.now()
    count = 0
    for deadline in Deadline.objects.select_for_update(of=("self",)).filter(
        application=application, status=Deadline.Status.PAUSED
    ):
        cal = get_calendar(deadline.region)
        esc2_delay = (
            business_seconds_between(deadline.due_at, deadline.escalation2_at, calendar=cal)
            if deadline.escalation2_at
            else None
        )
        deadline.due_at = add_business_seconds(
            now, deadline.paused_remaining_seconds or 0, calendar=cal
        )
        if deadline.paused_reminder_seconds is not None:
            deadline.reminder_at = add_business_seconds(
                now, deadline.paused_reminder_seconds, calendar=cal
            )
        if esc2_delay is not None:
            deadline.escalation2_at = add_business_seconds(
                deadline.due_at, esc2_delay, calendar=cal
            )
        deadline.status = Deadline.Status.PENDING
        deadline.paused_at = None
        deadline.paused_remaining_seconds = None
        deadline.paused_reminder_seconds = None
        deadline.next_fire_at = deadline.compute_next_fire_at()
        deadline.save()
        count += 1
    return count


def clock_follow_application(*, application, from_state: str, to_state: str) -> None:
    """The application's clocks after it moved from `from_state` to `to_state` (call in the
    transition's transaction): paused while it waits on the applicant, stopped when it ends,
    and otherwise the clock of the new status's step running and the other steps' stopped."""
    if to_state == Status.INFO_REQUESTED:
        clock_pause_application(application=application)
        return
    if from_state == Status.INFO_REQUESTED:
        clock_resume_application(application=application)
    if to_state in FINAL_STATUSES or to_state == Status.DISBURSED:
        clock_stop_application(application=application)
        return
    if to_state == Status.CONTRACT_SIGNED and application.is_facility_application:
        # Its signed contract activates the facility: nothing is paid out on it, so no
        # disbursement clock runs (its drawdowns' loans have theirs).
        clock_stop_application(application=application)
        return
    wanted = step_for_status(application, to_state)
    # The other steps' clocks stop (one statement); the status's own clock starts.
    clock_stop(
        subject_type=APPLICATION,
        subject_id=application.pk,
        steps=APPLICATION_STEPS - ({wanted[0]} if wanted else set()),
    )
    if wanted:
        step, role = wanted
        owner_id = None
        if step in ("investigation", "change_review"):
            owner_id = application.investigator_id or application.relationship_manager_id
        elif role == Role.RELATIONSHIP_MANAGER:
            owner_id = application.relationship_manager_id
        clock_start(
            subject_type=APPLICATION,
            subject_id=application.pk,
            step=step,
            application=application,
            owner_id=owner_id,
            role=role,
            branch=application.branch,
        )


# --- Who hears about it --------------------------------------------------------------------


@dataclass(slots=True)
class _Due:
    """A claimed deadline: the columns the sweep needs, what fires, its owner and its
    application."""

    id: int
    step: str
    subject_type: str
    subject_id: int
    application_id: int | None
    owner_id: int | None
    role: str
    branch_id: int | None
    branch_path: str | None
    due_at: datetime
    events: list[tuple[str, int]]
    owner: Any = None
    application: Any = None
    label: str = ""


class _Recipients:
    """Who hears about the events of a batch of deadlines: a reminder reaches the owner,
    else whoever holds the deadline's role in its branch; an escalation reaches the branch
    head, climbing to the nearest branch that has one (level 2 goes one level further up).
    The branches with their ancestors and the people holding the roles concerned are loaded
    up front, in two queries however many deadlines there are."""

    def __init__(self, dues: list[_Due]):
        self.roles = {Role.BRANCH_HEAD} | {d.role for d in dues if d.role}
        self.users: dict[tuple[str, int | None], list] = defaultdict(list)
        self.loaded: set[int | None] = set()
        # Ancestors by their materialised path ("HO/BJ/" -> "HO/", "HO/BJ/").
        prefixes = set()
        for path in {d.branch_path for d in dues if d.branch_path}:
            parts = path.split("/")[:-1]
            prefixes.update("/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1))
        wanted = Q(path__in=prefixes)
        if any(d.branch_id is None for d in dues):
            wanted |= Q(level=Branch.Level.HEAD_OFFICE)
        self.branches: dict[int, Branch] = {
            b.pk: b for b in Branch.objects.filter(wanted).only("parent_id", "level", "path")
        }
        offices = sorted(
            (b for b in self.branches.values() if b.level == Branch.Level.HEAD_OFFICE),
            key=lambda b: b.path,
        )
        self.head_office = offices[0] if offices else None
        self._load_users(
            set(self.branches) | {d.branch_id for d in dues if d.branch_id is None and d.role}
        )

    def _load_users(self, branch_ids: set) -> None:
        branch_ids = branch_ids - self.loaded
        if not branch_ids:
            return
        User = get_user_model()
        at = Q(user__staff_profile__branch_id__in=[pk for pk in branch_ids if pk is not None])
        if None in branch_ids:
            # A role without a branch: the holders who have no staff profile (as filtering
            # staff_profile__branch=None always meant).
            at |= Q(user__staff_profile__isnull=True)
        memberships = (
            User.groups.through.objects.filter(at, group__name__in=self.roles, user__is_active=True)
            .annotate(at_branch=F("user__staff_profile__branch_id"))
            .select_related("user", "group")
            .order_by("user_id")
        )
        for membership in memberships:
            self.users[(membership.group.name, membership.at_branch)].append(membership.user)
        self.loaded |= branch_ids

    def _parent_of(self, branch_id: int) -> int | None:
        branch = self.branches.get(branch_id)
        if branch is None:  # a path out of step with the parents: load it as it comes
            branch = self.branches[branch_id] = Branch.objects.get(pk=branch_id)
        return branch.parent_id

    def _with_role(self, role: str, branch_id: int | None) -> list:
        self._load_users({branch_id})
        return self.users.get((role, branch_id), [])

    def _heads_from(self, branch_id: int | None) -> tuple[list, int | None]:
        """Branch heads of the branch, else of the nearest ancestor that has one."""
        while branch_id is not None:
            heads = self._with_role(Role.BRANCH_HEAD, branch_id)
            if heads:
                return heads, branch_id
            branch_id = self._parent_of(branch_id)
        return [], None

    def of(self, due: _Due, kind: str, level: int) -> list:
        if kind == SlaEvent.Kind.REMINDER:
            if due.owner is not None and due.owner.is_active:
                return [due.owner]
            return self._with_role(due.role, due.branch_id) if due.role else []
        branch_id = due.branch_id
        if branch_id is None and self.head_office is not None:
            branch_id = self.head_office.pk
        heads, found_at = self._heads_from(branch_id)
        if level >= 2 and found_at is not None:
            upper, _at = self._heads_from(self._parent_of(found_at))
            if upper:
                return upper
        return heads


# --- The sweep -------------------------------------------------------------------------------

_REMINDER_TITLE = gettext_noop("Reminder: %(step)s for %(subject)s is due %(due)s")
_ESCALATION_TITLE = gettext_noop(
    "Escalation (level %(level)d): %(step)s for %(subject)s was due %(due)s"
)
_REMINDER_BODY = gettext_lazy("Most of the time allowed for this step has passed.")
_ESCALATION_BODY = gettext_lazy(
    "This step has run past its time limit. Please see that it is completed or reassigned."
)
# An approval task's escalation says where it is stuck: in the queue, or with someone.
_UNTAKEN_BODY = gettext_lazy(
    "This step has run past its time limit and nobody has taken the task from the queue. "
    "Give it to someone who may take it on the task's page, or see that the queue is staffed."
)
_HELD_BODY = gettext_lazy(
    "This step has run past its time limit. {user} holds the task and has not decided it: "
    "ask them, or give it to someone else on the task's page."
)


def _task_holders(dues: list[_Due]) -> dict[int, str | None]:
    """Who holds each approval task escalated in a batch (None: nobody has taken it from the
    queue), in one query."""
    ids = [
        due.subject_id
        for due in dues
        if due.subject_type == "approvals.task"
        and any(kind == SlaEvent.Kind.ESCALATION for kind, _level in due.events)
    ]
    if not ids:
        return {}
    task = apps.get_model("approvals", "ApprovalTask")
    return dict(task.objects.filter(pk__in=ids).values_list("pk", "claimed_by__username"))


def _escalation_body(due: _Due, holders: dict[int, str | None]):
    if due.subject_type != "approvals.task" or due.subject_id not in holders:
        return _ESCALATION_BODY
    holder = holders[due.subject_id]
    return format_lazy(_HELD_BODY, user=holder) if holder else _UNTAKEN_BODY


def _label_complaints(dues: list[_Due]) -> None:
    """Each complaint's reference as its deadline's label, in one query (a complaint's clock
    has no application to name it)."""
    ids = [due.subject_id for due in dues if due.subject_type == COMPLAINT]
    if not ids:
        return
    complaint = apps.get_model("complaints", "Complaint")
    references = dict(complaint.objects.filter(pk__in=ids).values_list("pk", "reference"))
    for due in dues:
        if due.subject_type == COMPLAINT:
            due.label = references.get(due.subject_id, "")


# A complaint's clock (complaints.services): its subject type.
COMPLAINT = "complaints.complaint"


def _link(due: _Due) -> str:
    """Where a reminder or escalation leads: an approval task's own page (where the branch
    head may give it to someone who may take it), a complaint's page, else the
    application's."""
    if due.subject_type == "approvals.task":
        return reverse("approvals-task", args=[due.subject_id])
    if due.subject_type == COMPLAINT:
        return reverse("complaint-detail", args=[due.subject_id])
    return reverse("application-detail", args=[due.application_id]) if due.application_id else ""


def _subject_label(due: _Due) -> str:
    if due.label:
        return due.label
    if due.application is not None:
        return due.application.reference
    return f"{due.subject_type} #{due.subject_id}"


class _EventTitle:
    """The notification title of one event, rendered in the active language (notify_many
    activates each recipient's), once per language. `shared` caches, per language, what
    the events of a batch have in common: the title formats, step labels and due times."""

    def __init__(self, due: _Due, kind: str, level: int, shared: dict):
        self.due, self.kind, self.level, self.shared = due, kind, level, shared
        self.texts: dict[str, str] = {}

    def _once(self, key, make):
        if key not in self.shared:
            self.shared[key] = make()
        return self.shared[key]

    def __str__(self) -> str:
        language = translation.get_language()
        if language not in self.texts:
            due = self.due
            params = {
                "step": self._once(("step", language, due.step), lambda: step_label(due.step)),
                "subject": _subject_label(due),
                "due": self._once(
                    ("due", language, due.due_at),
                    lambda: date_format(timezone.localtime(due.due_at), "DATETIME_FORMAT"),
                ),
                "level": self.level,
            }
            message = _REMINDER_TITLE if self.kind == SlaEvent.Kind.REMINDER else _ESCALATION_TITLE
            self.texts[language] = (
                self._once(("title", language, message), lambda: _(message)) % params
            )
        return self.texts[language]


def _sweep_pause_for_tests() -> None:
    # Fault tests kill a worker in the middle of a sweep; this widens the window. Unset in
    # production.
    delay = float(os.environ.get("LOANFLOW_SLA_SWEEP_PAUSE", "0") or 0)
    if delay:
        time.sleep(delay)


def _claim(*, moment: datetime, limit: int, skip: list[int], only: int | None) -> list[_Due]:
    """Claim up to `limit` due deadlines (rows another sweeper holds are skipped) and mark
    what fires on them by the model's rule, Deadline.mark_due: the marks go back in a handful
    of statements. Call inside a transaction."""
    due = (
        Deadline.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(status=Deadline.Status.PENDING, next_fire_at__lte=moment)
        .select_related("branch", "application")
        .only(*_CLAIMED, "owner_id", "branch__path", "application__reference")
    )
    if only is not None:
        due = due.filter(pk=only)
    if skip:
        due = due.exclude(pk__in=skip)
    deadlines = sorted(due.order_by("next_fire_at")[:limit], key=lambda d: d.pk)
    events = {deadline.pk: deadline.mark_due(moment) for deadline in deadlines}
    _write_marks(deadlines, moment)
    # Owners hear of reminders only; most sweeps fire escalations.
    owner_ids = {
        d.owner_id for d in deadlines if d.owner_id and (SlaEvent.Kind.REMINDER, 0) in events[d.pk]
    }
    owners = get_user_model().objects.in_bulk(owner_ids) if owner_ids else {}
    return [
        _Due(
            d.pk,
            d.step,
            d.subject_type,
            d.subject_id,
            d.application_id,
            d.owner_id,
            d.role,
            d.branch_id,
            d.branch.path if d.branch_id else None,
            d.due_at,
            events=events[d.pk],
            owner=owners.get(d.owner_id),
            application=d.application,
        )
        for d in deadlines
    ]


# What the claim reads of a deadline: what mark_due needs, and what the events need.
_CLAIMED = (
    "step",
    "subject_type",
    "subject_id",
    "role",
    "status",
    "reminder_at",
    "reminder_fired_at",
    "due_at",
    "escalation2_at",
    "escalation_level",
    "next_fire_at",
)


def _write_marks(deadlines: list[Deadline], moment: datetime) -> None:
    """Write the marks of a claimed batch: one UPDATE per kind of outcome (reminder sent or
    not, escalation level reached, which moment fires next), a handful per batch however
    many deadlines it holds. The next moment is one of the row's own columns, so no value
    goes over per row."""
    outcomes: dict[tuple, list[int]] = defaultdict(list)
    for deadline in deadlines:
        outcome = (
            deadline.reminder_fired_at == moment,
            deadline.escalation_level,
            deadline.next_fire_field(),
        )
        outcomes[outcome].append(deadline.pk)
    for (reminded, level, next_field), ids in outcomes.items():
        Deadline.objects.filter(pk__in=ids).update(
            reminder_fired_at=moment if reminded else F("reminder_fired_at"),
            escalation_level=level,
            next_fire_at=F(next_field) if next_field else None,
        )


def _sweep_batch(
    *, moment: datetime, limit: int, claimed: list[int], skip: list[int], only: int | None = None
) -> int:
    """Claim up to `limit` due deadlines (or just `only`; never those in `skip`), mark them
    and fire their events: a fixed number of statements per batch. Call inside a
    transaction. The claimed ids are appended to `claimed` as soon as they are known.
    Returns how many events fired."""
    dues = _claim(moment=moment, limit=limit, skip=skip, only=only)
    claimed.extend(due.id for due in dues)
    dues = [due for due in dues if due.events]
    if not dues:
        return 0
    recipients = _Recipients(dues)
    fired = [
        (due, kind, level, recipients.of(due, kind, level))
        for due in dues
        for kind, level in due.events
    ]
    recorded = _record_events(moment, fired)
    holders = _task_holders(dues)
    _label_complaints(dues)
    audit_rows, messages, shared = [], [], {}
    for due, kind, level, users in fired:
        event_id = recorded.get((due.id, kind, level))
        if event_id is None:
            logger.info("SLA %s %s of deadline %s already fired", kind, level, due.id)
            continue
        due_at = due.due_at.isoformat()
        user_ids = [u.pk for u in users]
        audit_rows.append(
            {
                "action": f"sla_{kind}" + (f"_{level}" if kind == SlaEvent.Kind.ESCALATION else ""),
                "actor_role": "system",
                "application_id": due.application_id,
                "kind": AuditEvent.Kind.SLA,
                "subject_type": "sla.deadline",
                "subject_id": due.id,
                "comment": f"{due.step} due {due_at}",
                "data": {
                    "step": due.step,
                    "kind": kind,
                    "level": level,
                    "event": event_id,
                    "subject_type": due.subject_type,
                    "subject_id": due.subject_id,
                    "due_at": due_at,
                    "recipients": user_ids,
                },
            }
        )
        title = _EventTitle(due, kind, level, shared)
        is_reminder = kind == SlaEvent.Kind.REMINDER
        url = _link(due)
        messages.extend(
            Message(
                user=user,
                kind=NotificationKind.REMINDER if is_reminder else NotificationKind.ESCALATION,
                title=title,
                body=_REMINDER_BODY if is_reminder else _escalation_body(due, holders),
                url=url,
                application=due.application,
            )
            for user in users
        )
    audit_record_many(audit_rows)
    notify_many(messages)
    return len(audit_rows)


def _record_events(moment: datetime, fired: list) -> dict[tuple[int, str, int], int]:
    """Record the (due, kind, level, recipients) events that are not recorded yet; the ids of
    those recorded now, by (deadline, kind, level). The claim holds the deadlines' rows, so
    no other sweeper records theirs meanwhile; the unique constraint sla_event_once still
    refuses a second copy, whatever happens."""
    recorded = set(
        SlaEvent.objects.filter(deadline_id__in={due.id for due, *_ in fired}).values_list(
            "deadline_id", "kind", "level"
        )
    )
    events = SlaEvent.objects.bulk_create(
        SlaEvent(
            deadline_id=due.id,
            kind=kind,
            level=level,
            fired_at=moment,
            recipients=[u.pk for u in users],
        )
        for due, kind, level, users in fired
        if (due.id, kind, level) not in recorded
    )
    return {(event.deadline_id, event.kind, event.level): event.pk for event in events}


def _anything_due(moment: datetime) -> bool:
    # Ordered by next_fire_at, the plan is a probe of the partial index whatever the
    # statistics say: an unordered EXISTS (which QuerySet.exists() would send, dropping any
    # ordering) seq-scans the table when the statistics still expect 1% of rows to be due.
    return (
        Deadline.objects.filter(status=Deadline.Status.PENDING, next_fire_at__lte=moment)
        .order_by("next_fire_at")
        .values_list("pk", flat=True)
        .first()
    ) is not None


def sla_sweep(*, now: datetime | None = None, batch_size: int = 1000) -> int:
    """Fire every due reminder and escalation once. Safe to run concurrently and after any
    outage (it catches up on everything due). Returns how many events fired.

    Each batch is one transaction with a fixed number of statements, and one email task
    queued after its commit. A batch that fails is retried one deadline at a time, so one bad
    deadline (logged, retried by the next sweep) does not hold up the others."""
    # Nothing due is the common case (every minute): one probe of the partial index, no
    # transaction, no row locks.
    if not _anything_due(now or timezone.now()):
        return 0
    fired = 0
    skip: list[int] = []  # deadlines that failed in this run; the next sweep retries them
    while True:
        moment = now or timezone.now()
        claimed: list[int] = []
        try:
            with transaction.atomic():
                fired += _sweep_batch(moment=moment, limit=batch_size, claimed=claimed, skip=skip)
                _sweep_pause_for_tests()
        except Exception:
            if not claimed:
                raise
            logger.exception(
                "SLA sweep failed on a batch of %d deadlines; retrying them one by one",
                len(claimed),
            )
            fired += _sweep_one_by_one(moment=moment, ids=claimed, skip=skip)
            continue
        if len(claimed) < batch_size:
            # A short batch: nothing else was due (rows another sweeper holds are its own).
            return fired


def _sweep_one_by_one(*, moment: datetime, ids: list[int], skip: list[int]) -> int:
    fired = 0
    for pk in ids:
        try:
            with transaction.atomic():
                fired += _sweep_batch(moment=moment, limit=1, claimed=[], skip=[], only=pk)
        except Exception:
            logger.exception("SLA sweep failed on deadline %s; will retry", pk)
            skip.append(pk)
    return fired


# --- Calendar coverage ---------------------------------------------------------------------


def calendar_coverage_warn() -> list[tuple[str, int]]:
    """The daily check (beat) that the holiday calendar covers this year and the next: for
    each region and year without holiday data, a WARNING in the log and a notice to the
    administrators (in their language, linking to the calendar in the admin). Returns what
    is missing."""
    missing = calendar_years_missing()
    if not missing:
        return []
    for region, year in missing:
        logger.warning(
            "No holiday data for calendar region %s in %s: business time counts Monday to "
            "Friday only. %s",
            region,
            year,
            calendar_missing_hint(),
        )
    admins = get_user_model().objects.filter(is_active=True, groups__name=Role.ADMINISTRATOR)
    url = reverse("admin:sla_calendarday_changelist")
    notify_many(
        Message(
            user=admin,
            kind=NotificationKind.SYSTEM,
            title=lazy(calendar_missing_message, str)(region, year),
            body=lazy(calendar_missing_hint, str)(),
            url=url,
        )
        for admin in admins.distinct()
        for region, year in missing
    )
    return missing
