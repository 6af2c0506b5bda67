"""Writes of the approval stage: fixing the route, fast track, claiming and deciding tasks,
committee votes, stale-claim release. Every refusal (role, segregation of duties, limit)
answers 403 and is logged in the audit trail. A task's status moves only through its
transitions (ApprovalTask), saved inside the action's transaction; a state that changed under
an action answers 409. A queue action returns the task as the action left it (its application
as loaded before); the API reads the task's row again to answer."""

import functools
import logging
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import ConcurrentTransition, can_proceed

from applications.models import LoanApplication
from applications.selectors import application_get
from applications.services import application_transition
from approvals.models import (
    ApprovalCondition,
    ApprovalRecord,
    ApprovalTask,
    CommitteeVote,
    DeclineReason,
    FlagMitigation,
    PostReviewConcern,
)
from approvals.permissions import (
    acted_at_another_step,
    filed_or_manages_its_application,
    holds_the_steps_role,
    investigated_its_application,
    limit_at_grade,
    limit_basis,
    other_steps_acted_at,
    within_limit,
)
from approvals.selectors import (
    committee_tally,
    fast_track_eligible,
    route_compute,
    short_amount,
    task_get,
    terms_in_approval,
)
from audit.services import audit_record, audit_refusal
from common.errors import Conflict, Forbidden, InvalidInput, NotFound, SegregationOfDuties
from common.queue import enqueue_on_commit
from investigation.selectors import flags_high
from notifications.models import Kind as NotificationKind
from notifications.services import Message, notify_many, with_notification_preferences
from org.permissions import has_role_perm
from org.roles import Role, has_role, primary_role, role_grants_load
from org.selectors import branch_heads_over, staff_serving, user_sees_branch
from postloan.selectors import exposure_after
from pricing.selectors import decision_pricing, pricing_version_active
from sla import services as sla_services
from sla.calendar import add_business_seconds
from sla.models import step_label

logger = logging.getLogger(__name__)

TASK = "approvals.task"
POST_REVIEW_HOURS = 5 * 24


def claim_timeout() -> timedelta:
    return timedelta(minutes=getattr(settings, "APPROVALS_CLAIM_TIMEOUT_MINUTES", 120))


# --- Helpers -----------------------------------------------------------------------------


def _refuse(exc_class, reason: str, *, application, code: str):
    exc = exc_class(reason, code=code)
    exc.refused_application = application
    return exc


def logs_refusals(action: str):
    """Log a 403 raised by the wrapped service (after its transaction rolled back)."""

    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except Forbidden as exc:
                application = getattr(exc, "refused_application", None)
                if application is not None:
                    actor = kwargs.get("actor")
                    audit_refusal(
                        action=action,
                        actor=actor,
                        actor_role=primary_role(actor) if actor else "",
                        application=application,
                        reason=str(exc.message),
                        code=exc.code,
                    )
                raise

        return wrapper

    return decorate


def _computed_due(start: datetime, hours: int, branch) -> datetime:
    return add_business_seconds(start, hours * 3600, region=getattr(branch, "region", "CN"))


def _task_create(*, record: ApprovalRecord, index: int, application) -> ApprovalTask:
    step = record.route[index]
    now = timezone.now()
    task = ApprovalTask.objects.create(
        application=application,
        record=record,
        kind=ApprovalTask.Kind.STEP,
        step_index=index,
        step=step["code"],
        step_name=step.get("name", step["code"]),
        step_name_zh=step.get("name_zh", ""),
        role=step["role"],
        branch=application.branch,
        due_at=_computed_due(now, step.get("sla_hours", 24), application.branch),
    )
    deadline = sla_services.clock_start(
        subject_type=TASK,
        subject_id=task.pk,
        step=task.step,
        application=application,
        role=task.role,
        branch=task.branch,
        started_at=now,
    )
    due = deadline.due_at
    if due != task.due_at:
        task.due_at = due
        task.save(update_fields=["due_at"])
    _announce_on_commit(task)
    return task


def _announce_on_commit(task: ApprovalTask) -> None:
    """Its queue hears of the new task after the commit (task_announce): no statement is
    added to the decision that opened it. A lost enqueue is caught by the minute sweep."""
    from approvals.tasks import announce_task

    enqueue_on_commit(announce_task, task.pk)


def _audit_task(task: ApprovalTask, action: str, actor, comment: str = "", data=None) -> None:
    audit_record(
        action=action,
        actor=actor,
        actor_role=primary_role(actor, among={task.role}) if actor else "system",
        application=task.application,
        kind="action",
        subject_type=TASK,
        subject_id=task.pk,
        comment=comment,
        data=data or {},
    )


def step_refusal(*, task: ApprovalTask, actor, application=None) -> tuple[type, str, str] | None:
    """Why `actor` may not act at this task (None when they may): the first predicate of
    approvals.permissions.may_act_at_the_step that refuses, with its message. `application`:
    the task's application as the caller holds it (locked in its transaction)."""
    if application is not None:
        task.application = application
    if not holds_the_steps_role(actor, task):
        return (
            Forbidden,
            _("This step is for the role '%(role)s', which you do not hold.")
            % {"role": Role(task.role).label},
            "role",
        )
    if filed_or_manages_its_application(actor, task):
        return (
            SegregationOfDuties,
            _("You filed or manage this application, so you may not take an approval step on it."),
            "segregation_of_duties",
        )
    if investigated_its_application(actor, task):
        return (
            SegregationOfDuties,
            _("You investigated this application, so you may not take an approval step on it."),
            "segregation_of_duties",
        )
    if acted_at_another_step(actor, task):
        return (
            SegregationOfDuties,
            _(
                "You already acted at the step '%(step)s' of this application; one person "
                "acts at one step only."
            )
            % {"step": ", ".join(sorted(other_steps_acted_at(actor, task)))},
            "segregation_of_duties",
        )
    if not within_limit(actor, task):
        application = task.application
        params = {
            "limit": short_amount(limit_at_grade(actor, task)),
            "cur": application.currency,
            "grade": application.risk_grade or "-",
            "amount": short_amount(application.amount),
        }
        basis = limit_basis(task)
        if basis > application.amount:
            reason = _(
                "Your limit of %(limit)s %(cur)s at grade %(grade)s does not cover the "
                "exposure of %(exposure)s after this application (its amount %(amount)s)."
            ) % {**params, "exposure": short_amount(basis)}
        else:
            reason = (
                _(
                    "Your limit of %(limit)s %(cur)s at grade %(grade)s does not cover "
                    "the amount of %(amount)s."
                )
                % params
            )
        return (SegregationOfDuties, reason, "authority_limit")
    return None


def _check(task: ApprovalTask, actor) -> None:
    refusal = step_refusal(task=task, actor=actor)
    if refusal:
        exc_class, reason, code = refusal
        raise _refuse(exc_class, reason, application=task.application, code=code)


def approval_decision_refusal(*, application, actor, task) -> str | None:
    """The segregation-of-duties rule of an approval decision (approve, decline, return to
    investigation) on `application`: a person's decision is taken at a task of its route
    (`task`: the task, or its id) by someone allowed to act there (role, 审贷分离, one step per
    person, limit at the grade). Why not, or None. System decisions, and declines outside
    approval (the pre-screen's), are not the route's to check.

    A decision passes the task as task_decide read it, locked: the checks then reuse what they
    read about it there (approvals.permissions.read_once), so the rule costs no query."""
    if actor is None or application.status != "in_approval":
        return None
    if task is not None and not isinstance(task, ApprovalTask):
        task = ApprovalTask.objects.select_related("record").filter(pk=task).first()
    if task is None or task.application_id != application.pk:
        return _("Approval decisions are taken at a step of the approval route.")
    refusal = step_refusal(task=task, actor=actor, application=application)
    return refusal[1] if refusal else None


# --- Entering approval -------------------------------------------------------------------


def record_open(*, application: LoanApplication, actor=None) -> ApprovalRecord:
    """Fix the route when the application enters approval (inside the transition's
    transaction), and create the first task or schedule the fast-track decision."""
    # Locks the customer's group: its applications enter approval one after the other.
    exposure = exposure_after(application=application, for_update=True)
    route = route_compute(application=application, exposure=exposure)
    version = route.version
    record = ApprovalRecord.objects.create(
        application=application,
        exposure_after=exposure.group,
        exposure={
            **exposure.as_record(),
            "above_limits": [code for code, _params in route.above_limits],
        },
        matrix_version=version,
        rule=route.rule,
        rule_name=route.rule.name if route.rule else "",
        route=route.steps,
        reason=route.reason,
        reason_data=route.reason_data,
        fast_track=route.fast_track,
        status=(
            ApprovalRecord.Status.PENDING_AUTO
            if route.fast_track
            else ApprovalRecord.Status.IN_PROGRESS
        ),
        committee_quorum=version.committee_quorum if version else 3,
        committee_majority_percent=version.committee_majority_percent if version else 50,
    )
    audit_record(
        action="route_fixed",
        actor=actor,
        actor_role="system",
        application=application,
        kind="action",
        subject_type="approvals.record",
        subject_id=record.pk,
        comment=record.reason,
        data={
            "reason": record.reason_data,
            "route": [s["code"] for s in record.route],
            "matrix_version": version.number if version else None,
            "fast_track": record.fast_track,
        },
    )
    if record.fast_track:
        from approvals.tasks import fast_track_decide

        enqueue_on_commit(fast_track_decide, application.pk)
    else:
        _task_create(record=record, index=0, application=application)
    return record


def approval_fast_track_decide(*, application_id: int) -> bool:
    """The system approves a fast-track application (idempotent: only once, only while it
    waits in approval). Returns True when it approved it now."""
    with transaction.atomic():
        record = (
            ApprovalRecord.objects.select_for_update(of=("self",))
            .filter(application_id=application_id, status="pending_auto")
            .select_related("matrix_version")
            .first()
        )
        if record is None:
            return False
        application = LoanApplication.objects.select_related("product", "branch").get(
            pk=application_id
        )
        if application.status != "in_approval":
            return False
        if not fast_track_eligible(application):
            # Something changed since routing: give it to people on the default route.
            record.status = ApprovalRecord.Status.IN_PROGRESS
            record.fast_track = False
            if not record.route:
                from approvals.models import DEFAULT_ROUTE

                record.route = [dict(s) for s in DEFAULT_ROUTE]
            record.save(update_fields=["status", "fast_track", "route"])
            _task_create(record=record, index=0, application=application)
            return False
        version = record.matrix_version
        label = f"v{version.number}" if version else "default"
        record.decided_by_system = True
        record.save(update_fields=["decided_by_system"])
        on_data = ["external_data", {}] in (record.reason_data or {}).get("parts", [])
        comment = _(
            "Approved automatically (fast track) by rule '%(rule)s' of authority matrix %(v)s."
        ) % {"rule": record.rule_name, "v": label}
        if on_data:
            comment = "{} {}".format(comment, _("Decided on external data."))
        application_transition(
            application_id=application_id,
            transition="approve",
            actor=None,
            system=True,
            comment=comment,
            data={
                "matrix_version": version.number if version else None,
                "rule": record.rule_name,
                "fast_track": True,
                "decided_on_external_data": on_data,
                # The comment, worded for each reader of the timeline (applications.labels).
                "note": "fast_track_approved",
                "note_params": {
                    "rule": record.rule_name,
                    "rule_zh": (record.reason_data or {}).get("rule_zh", ""),
                    "v": label,
                },
            },
        )
        if _selected_for_post_review(record):
            task = ApprovalTask.objects.create(
                application=application,
                record=record,
                kind=ApprovalTask.Kind.POST_REVIEW,
                step_index=len(record.route),
                step="post_review",
                step_name=str(_("Review of an automatic approval")),
                role=Role.APPROVER,
                branch=application.branch,
                due_at=timezone.now() + timedelta(hours=POST_REVIEW_HOURS),
            )
            _audit_task(
                task,
                "post_review_queued",
                None,
                data={"matrix_version": version.number if version else None},
            )
            _announce_on_commit(task)
    return True


def _selected_for_post_review(record: ApprovalRecord) -> bool:
    """Exactly the configured share: the n-th automatic approval of a version is reviewed when
    floor(n * p / 100) steps up."""
    percent = record.matrix_version.fast_track_review_percent if record.matrix_version else 0
    if percent <= 0:
        return False
    n = ApprovalRecord.objects.filter(
        matrix_version=record.matrix_version, decided_by_system=True
    ).count()
    return (n * percent) // 100 > ((n - 1) * percent) // 100


def approval_fast_track_sweep(*, older_than: timedelta = timedelta(0)) -> int:
    """Decide fast-track routes whose task never ran (broker down, worker restart)."""
    cutoff = timezone.now() - older_than
    ids = list(
        ApprovalRecord.objects.filter(status="pending_auto", created_at__lte=cutoff)
        .order_by("created_at")
        .values_list("application_id", flat=True)[:500]
    )
    done = 0
    for application_id in ids:
        try:
            done += approval_fast_track_decide(application_id=application_id)
        except Exception:
            logger.exception("Fast-track decision failed for application %s", application_id)
    return done


# --- Reacting to transitions -------------------------------------------------------------


def on_application_transitioned(
    *, application, transition: str, from_state: str, to_state: str, actor, decided_at=None
) -> None:
    """The route follows the application. `decided_at`: the task at which a step decision
    moved the application (approve, decline, return), if one did."""
    open_states = ("in_approval", "info_requested")
    if to_state == "in_approval" and from_state == "investigation":
        record_open(application=application, actor=actor)
        return
    now = timezone.now()
    if from_state in open_states and to_state not in open_states:
        _route_close(
            application=application, to_state=to_state, now=now, decided=decided_at is not None
        )
        return
    record = application.approval_records.first()
    if record is None:
        return
    # The application is locked by its transition: its tasks are locked after it.
    if from_state == "in_approval" and to_state == "info_requested":
        for task in ApprovalTask.objects.select_for_update().filter(
            record=record, kind=ApprovalTask.Kind.STEP, status__in=ApprovalTask.OPEN_STATES
        ):
            task.wait_for_applicant(at=now)
            task.save(update_fields=["status", "last_activity_at"])
        return
    if from_state == "info_requested" and to_state == "in_approval":
        for task in ApprovalTask.objects.select_for_update().filter(
            record=record, status=ApprovalTask.Status.WAITING
        ):
            task.resume(at=now)
            task.save(update_fields=["status", "last_activity_at"])


def _route_close(*, application, to_state: str, now: datetime, decided: bool) -> None:
    """The application left approval: the steps still open on its route are cancelled (their
    clocks stopped) and its route (the one record still in progress) takes the outcome.
    Earlier routes of the application were closed when it left approval before. A route
    opens its steps one at a time (_advance), so when a step's decision moved the application
    (`decided`), that step, now done, was the only one open: none is left to cancel."""
    final = {
        "approved": ApprovalRecord.Status.APPROVED,
        "declined": ApprovalRecord.Status.DECLINED,
        "investigation": ApprovalRecord.Status.RETURNED,
    }.get(to_state, ApprovalRecord.Status.CANCELLED)
    if not decided:
        # The application is locked by its transition: its tasks are locked after it.
        for task in ApprovalTask.objects.select_for_update().filter(
            application=application,
            kind=ApprovalTask.Kind.STEP,
            status__in=(*ApprovalTask.OPEN_STATES, ApprovalTask.Status.WAITING),
        ):
            task.cancel()
            task.save(update_fields=["status"])
            sla_services.clock_stop(subject_type=TASK, subject_id=task.pk, stopped_at=now)
    ApprovalRecord.objects.filter(
        application=application,
        status__in=(ApprovalRecord.Status.IN_PROGRESS, ApprovalRecord.Status.PENDING_AUTO),
    ).update(status=final, decided_at=now)


# --- Announcing work ----------------------------------------------------------------------

_lazy_step_label = lazy(step_label, str)

_QUEUED_TITLE = gettext_lazy("In your queue: {step} for {reference}")
_QUEUED_BODY = gettext_lazy("{company}: {amount} {currency} at grade {grade}.")
_REASSIGNED_TITLE = gettext_lazy("Given to you: {step} for {reference}")
_REASSIGNED_BODY = gettext_lazy("{head} gave you this task: it is claimed in your name.")
_NOBODY_TITLE = gettext_lazy("Nobody may take {step} for {reference}")
_NOBODY_HOLDS_THE_ROLE = gettext_lazy(
    "Nobody holds the role {role} at {branch} or at a branch above it."
)
_NOBODY_HAS_THE_LIMIT = gettext_lazy(
    "No {role} serving {branch} has an authority limit that covers {amount} {currency} at "
    "grade {grade}."
)
_EVERYONE_IS_EXCLUDED = gettext_lazy(
    "Every {role} serving {branch} filed, manages or investigated this application, or "
    "acted at another step of it (segregation of duties)."
)
_LIMIT_OR_EXCLUDED = gettext_lazy(
    "No {role} serving {branch} may take it: the others' authority limits do not cover "
    "{amount} {currency} at grade {grade}, and segregation of duties excludes {excluded} of "
    "them."
)
_NOBODY_ACTION = gettext_lazy(
    "{reason} Reassign it to someone who may take it, or have it decided above this branch."
)


def task_takers(*, task: ApprovalTask) -> tuple[list, object]:
    """Who may take the task: the people holding its role whose scope covers its branch
    (org.selectors.staff_serving, one query), each checked by step_refusal (role, 审贷分离,
    one step per person, the limit at the grade). Returns (those who may, nearest branch
    first; why nobody may: a lazy text, None when someone may)."""
    candidates = list(
        with_notification_preferences(staff_serving(branch=task.branch, role=task.role))
    )
    role_grants_load(candidates)
    refused: dict[str, int] = {}
    takers = []
    for user in candidates:
        refusal = step_refusal(task=task, actor=user)
        if refusal is None:
            takers.append(user)
        else:
            refused[refusal[2]] = refused.get(refusal[2], 0) + 1
    if takers:
        return takers, None
    application = task.application
    params = {
        "role": Role(task.role).label,
        "branch": task.branch.name,
        "amount": short_amount(application.amount),
        "currency": application.currency,
        "grade": application.risk_grade or "-",
    }
    excluded = sum(n for code, n in refused.items() if code != "authority_limit")
    if not candidates:
        reason = format_lazy(_NOBODY_HOLDS_THE_ROLE, **params)
    elif not excluded:
        reason = format_lazy(_NOBODY_HAS_THE_LIMIT, **params)
    elif excluded == len(candidates):
        reason = format_lazy(_EVERYONE_IS_EXCLUDED, **params)
    else:
        reason = format_lazy(_LIMIT_OR_EXCLUDED, excluded=excluded, **params)
    return takers, reason


def task_announce(*, task_id: int) -> int:
    """Tell the people who may take a newly opened task that it is in their queue (those of
    the nearest branch that has any: a task goes up only when nobody below may take it); when
    none of them may (no limit covers it, or segregation of duties excludes them all), tell the
    branch head, with the reason, as an escalation (which cannot be muted). Once per task:
    the announcement is claimed with a conditional update, and acted on only if it was won.
    Returns how many notifications were made."""
    with transaction.atomic():
        won = ApprovalTask.objects.filter(
            pk=task_id, announced_at__isnull=True, status=ApprovalTask.Status.OPEN
        ).update(announced_at=timezone.now())
        if won != 1:
            return 0  # announced already (a task delivered twice, or the sweep was first)
        task = ApprovalTask.objects.select_related(
            "application", "application__company", "record", "branch"
        ).get(pk=task_id)
        application = task.application
        takers, reason = task_takers(task=task)
        params = {"step": _lazy_step_label(task.step), "reference": application.reference}
        url = reverse("approvals-task", args=[task.pk])
        if takers:
            # The nearest branch that has someone who may take it: head office hears of a
            # branch's task only when nobody below may take it (routed up).
            nearest = takers[0].staff_profile.branch.path
            takers = [u for u in takers if u.staff_profile.branch.path == nearest]
            title = format_lazy(_QUEUED_TITLE, **params)
            body = format_lazy(
                _QUEUED_BODY,
                company=application.company.name,
                amount=short_amount(application.amount),
                currency=application.currency,
                grade=application.risk_grade or "-",
            )
            kind, recipients = NotificationKind.ASSIGNMENT, takers
        else:
            title = format_lazy(_NOBODY_TITLE, **params)
            body = format_lazy(_NOBODY_ACTION, reason=reason)
            kind, recipients = NotificationKind.ESCALATION, branch_heads_over(task.branch)
            _audit_task(
                task,
                "task_unassignable",
                None,
                str(reason),
                data={"branch_heads": [head.pk for head in recipients]},
            )
        return len(
            notify_many(
                Message(
                    user=user, kind=kind, title=title, body=body, url=url, application=application
                )
                for user in recipients
            )
        )


# Announcements not made this long after the task opened were lost with the broker.
ANNOUNCE_AFTER = timedelta(minutes=2)


def tasks_announce_missed(*, now: datetime | None = None, limit: int = 200) -> int:
    """Announce the open tasks whose announcement never ran (broker down, worker restart)."""
    cutoff = (now or timezone.now()) - ANNOUNCE_AFTER
    ids = list(
        ApprovalTask.objects.filter(
            announced_at__isnull=True, status=ApprovalTask.Status.OPEN, created_at__lte=cutoff
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    done = 0
    for task_id in ids:
        try:
            done += bool(task_announce(task_id=task_id))
        except Exception:
            logger.exception("Announcing approval task %s failed", task_id)
    return done


# --- Queue actions -----------------------------------------------------------------------


def _saved(task: ApprovalTask, *fields: str) -> None:
    """Save a transition of the task (its status and `fields`); a status changed since the
    task was read answers 409."""
    try:
        task.save(update_fields=["status", *fields])
    except ConcurrentTransition:
        raise Conflict(
            _("This task was changed by someone else; reload and retry."), code="concurrent_change"
        ) from None


def _not_open(task: ApprovalTask) -> Conflict:
    if task.status == ApprovalTask.Status.CLAIMED:
        return Conflict(
            _("%(user)s has claimed this task.") % {"user": task.claimed_by.username},
            code="already_claimed",
        )
    return Conflict(_("This task is no longer open."), code="not_open")


@logs_refusals("claim")
def task_claim(*, task_id: int, actor) -> ApprovalTask:
    """Claim an open task. Race-free: the task is locked; the loser gets 409 at once (who
    holds it)."""
    with transaction.atomic():
        task = task_get(user=actor, pk=task_id, for_action=True, for_update=True)
        _check(task, actor)
        if not can_proceed(task.claim):
            raise _not_open(task)
        task.claim(by=actor, at=timezone.now())
        _saved(task, "claimed_by", "claimed_at", "last_activity_at")
        _audit_task(task, "claim", actor)
    return task


@logs_refusals("release")
def task_release(*, task_id: int, actor, comment: str = "") -> ApprovalTask:
    with transaction.atomic():
        task = task_get(user=actor, pk=task_id, for_action=True, for_update=True)
        is_head = has_role(actor, Role.BRANCH_HEAD) and user_sees_branch(actor, task.branch)
        if task.claimed_by_id != actor.pk and not is_head:
            raise _refuse(
                Forbidden,
                _("Only the person who claimed this task or a branch head may release it."),
                application=task.application,
                code="not_claimer",
            )
        if not can_proceed(task.release):
            raise Conflict(_("This task is not claimed."), code="not_claimed")
        task.release(at=timezone.now())
        _saved(task, "claimed_by", "claimed_at", "last_activity_at")
        _audit_task(task, "release", actor, comment)
    return task


@logs_refusals("reassign")
def task_reassign(*, task_id: int, actor, assignee, comment: str = "") -> ApprovalTask:
    """A branch head gives a task to someone (None: back to the queue)."""
    with transaction.atomic():
        task = task_get(user=actor, pk=task_id, for_action=True, for_update=True)
        if not (has_role(actor, Role.BRANCH_HEAD) and user_sees_branch(actor, task.branch)):
            raise _refuse(
                Forbidden,
                _("Only a branch head over this task's branch may reassign it."),
                application=task.application,
                code="not_branch_head",
            )
        if assignee is not None:
            _check(task, assignee)
        if not can_proceed(task.reassign):
            raise Conflict(_("This task is no longer open."), code="not_open")
        previous = task.claimed_by_id
        task.reassign(to=assignee, at=timezone.now())
        _saved(task, "claimed_by", "claimed_at", "last_activity_at")
        _audit_task(
            task,
            "reassign",
            actor,
            comment,
            data={"from": previous, "to": assignee.pk if assignee else None},
        )
        if assignee is not None and assignee.pk != previous:
            notify_many(
                [
                    Message(
                        user=assignee,
                        kind=NotificationKind.ASSIGNMENT,
                        title=format_lazy(
                            _REASSIGNED_TITLE,
                            step=_lazy_step_label(task.step),
                            reference=task.application.reference,
                        ),
                        body=format_lazy(
                            _REASSIGNED_BODY, head=actor.get_full_name() or actor.username
                        ),
                        url=reverse("approvals-task", args=[task.pk]),
                        application=task.application,
                    )
                ]
            )
    return task


def _take(task: ApprovalTask, actor) -> ApprovalTask:
    """The locked task, the actor's: theirs if claimed by them, claimed now if open (409
    otherwise)."""
    if can_proceed(task.claim):
        task.claim(by=actor, at=timezone.now())
    elif task.status != ApprovalTask.Status.CLAIMED or task.claimed_by_id != actor.pk:
        raise _not_open(task)
    else:
        task.claimed_by = actor  # (the same user: what the answer shows needs no query)
    return task


def _advance(task: ApprovalTask, actor, comment: str, *, locked=None) -> None:
    """The step is passed: open the next step or approve the application (`locked`: the
    application, if the caller locked it with the task)."""
    record = task.record  # locked with the task (task_get for_update)
    next_index = task.step_index + 1
    if next_index < len(record.route):
        record.current_step = next_index
        record.save(update_fields=["current_step"])
        _task_create(record=record, index=next_index, application=task.application)
        return
    application_transition(
        application_id=task.application_id,
        transition="approve",
        actor=actor,
        comment=comment,
        data={"approval_task": task, "terms": record.terms or {}},
        locked=locked,
    )


def _finish(task: ApprovalTask, actor, decision: str, comment: str) -> None:
    now = timezone.now()
    task.complete(decision=decision, by=actor, comment=comment, at=now)
    _saved(
        task,
        "decision",
        "decided_by",
        "decided_at",
        "last_activity_at",
        "comment",
        "claimed_by",
        "claimed_at",
    )
    sla_services.clock_stop(subject_type=TASK, subject_id=task.pk, stopped_at=now)


@logs_refusals("decide")
def task_decide(
    *,
    task_id: int,
    actor,
    decision: str,
    comment: str = "",
    conditions: list[str] | None = None,
    reasons: list[str] | None = None,
    mitigations: dict | None = None,
    below_floor_reason: str = "",
    terms: dict | None = None,
) -> ApprovalTask:
    """Decide a step: approve (next step, or approve the application at the last), approve
    with conditions, decline with reason codes, return to the investigator, or request
    information from the applicant. An approval of an application with open High flags says
    how each is mitigated (`mitigations`: flag id -> text); an approval of a proposed rate
    below the pricing floor needs the authority for it (pricing.approve_below_floor, else
    403) and says why (`below_floor_reason`); the page and the API share these rules, which
    answer 400 with a message for the field. An approval records the pricing version.

    An approval may be on other terms (`terms`: amount, term_months, interest_rate, each
    optional): a lower amount, another term or rate within the product's ranges, said why in
    the comment. Later steps decide on them, the pricing floor is checked on them, and the
    application and its offer take them when the route approves it."""
    conditions = [c.strip() for c in (conditions or []) if c and c.strip()]
    reasons = list(reasons or [])
    with transaction.atomic():
        task = task_get(user=actor, pk=task_id, for_action=True, for_update=True)
        mitigated = _validate_decision(
            task,
            decision=decision,
            comment=comment,
            conditions=conditions,
            reasons=reasons,
            mitigations=mitigations or {},
        )
        changed = _terms_changed(task, decision=decision, terms=terms or {}, comment=comment)
        # Checked with the task locked: no other decision on this application's route can
        # land between the check and this one.
        _check(task, actor)
        _check_concentration(task, decision)
        pricing = _approval_pricing(task, actor, decision, below_floor_reason.strip(), changed)
        task = _take(task, actor)
        _decide(
            task,
            actor,
            decision=decision,
            comment=comment,
            conditions=conditions,
            reasons=reasons,
            mitigated=mitigated,
            pricing=pricing,
            terms=changed,
        )
    return task


# The terms an approval may change (task_decide's and committee_close's `terms`).
TERMS = ("amount", "term_months", "interest_rate")


def _terms_changed(task: ApprovalTask, *, decision: str, terms: dict, comment: str) -> dict:
    """The terms an approval changes (as strings, only those that differ from the terms in
    approval), checked against the product's ranges when the application was filed: the
    amount at most the one in approval, term and rate within the ranges (400 per field), and
    a comment saying why."""
    D = ApprovalTask.Decision
    given = {key: value for key, value in terms.items() if value not in (None, "")}
    if not given:
        return {}
    if decision not in (D.APPROVE, D.APPROVE_WITH_CONDITIONS):
        raise InvalidInput(details={"terms": [_("Only an approval can be on other terms.")]})
    application = task.application
    if application.changes_in_place:
        # Its terms are the loan's new schedule, applied as filed (postloan.changes).
        raise InvalidInput(
            details={
                "terms": [
                    _(
                        "An extension or a restructuring is approved as filed: return it to "
                        "the investigation to change its terms."
                    )
                ]
            }
        )
    current = terms_in_approval(application=application, changed=task.record.terms)
    # The product's ranges when the application was filed (today's for what that snapshot
    # did not keep).
    product = {**application.product.snapshot(), **(application.product_snapshot or {})}
    try:
        amount = Decimal(str(given.get("amount", current.amount)))
        term = int(given.get("term_months", current.term_months))
        rate = Decimal(str(given.get("interest_rate", current.interest_rate)))
        if not (amount.is_finite() and rate.is_finite()):
            raise ValueError
    except (ValueError, TypeError, ArithmeticError):
        raise InvalidInput(
            details={"terms": [_("Enter the amount, term and rate as numbers.")]}
        ) from None
    errors: dict[str, list[str]] = {}
    changed: dict = {}
    if amount != current.amount:
        least = Decimal(str(product["min_amount"]))
        if amount > current.amount:
            errors["amount"] = [
                _("An approval may lower the amount, not raise it (in approval: %(amount)s).")
                % {"amount": f"{current.amount:,.2f}"}
            ]
        elif amount < least:
            errors["amount"] = [
                _("The product lends at least %(amount)s.") % {"amount": f"{least:,.2f}"}
            ]
        else:
            changed["amount"] = str(amount.quantize(Decimal("0.01")))
    if term != current.term_months:
        if not product["min_term_months"] <= term <= product["max_term_months"]:
            errors["term_months"] = [
                _("The product's terms run from %(low)s to %(high)s months.")
                % {"low": product["min_term_months"], "high": product["max_term_months"]}
            ]
        else:
            changed["term_months"] = term
    if rate != current.interest_rate:
        low, high = Decimal(str(product["min_rate"])), Decimal(str(product["max_rate"]))
        if not low <= rate <= high:
            errors["interest_rate"] = [
                _("The product's annual rates run from %(low)s to %(high)s.")
                % {"low": low.normalize(), "high": high.normalize()}
            ]
        else:
            changed["interest_rate"] = str(rate.quantize(Decimal("0.001")))
    if changed and not comment.strip():
        errors["comment"] = [_("Say why the terms differ from those asked for.")]
    if errors:
        raise InvalidInput(_("The terms are not valid."), details=errors)
    return changed


def _check_concentration(task: ApprovalTask, decision: str) -> None:
    """An application whose exposure after it is above a concentration limit is approved by
    the credit committee only (its route ends there when the matrix has one): 403 for anyone
    else's approval."""
    above = task.record.exposure.get("above_limits") if task.record.exposure else None
    approving = (ApprovalTask.Decision.APPROVE, ApprovalTask.Decision.APPROVE_WITH_CONDITIONS)
    if not above or task.is_committee or decision not in approving:
        return
    if task.step_index + 1 < len(task.record.route):
        return  # an earlier step recommends
    raise Forbidden(
        _(
            "The exposure after this application is above the bank's concentration limit: "
            "only the credit committee may approve it."
        ),
        code="concentration_limit",
    )


def _approval_pricing(
    task: ApprovalTask, actor, decision: str, reason: str, changed: dict
) -> dict | None:
    """What an approval records of the pricing (the version, and below the floor the figures
    and the reason), after checking that a rate below the floor is approved, at the route's
    last step, by someone with the authority for it (403) who says why (400). None for any
    other decision. The terms priced are those in approval with `changed` applied."""
    D = ApprovalTask.Decision
    if task.kind == ApprovalTask.Kind.POST_REVIEW or decision not in (
        D.APPROVE,
        D.APPROVE_WITH_CONDITIONS,
    ):
        return None
    # The authority is needed by whoever approves the application: the route's last step.
    if task.step_index + 1 < len(task.record.route):
        version, below = pricing_version_active(), None
    else:
        terms = terms_in_approval(
            application=task.application, changed={**(task.record.terms or {}), **changed}
        )
        version, below = decision_pricing(application=task.application, terms=terms)
    if version is None:
        return None
    if below is None:
        return {"version": version.number}
    if not has_role_perm(actor, "pricing.approve_below_floor"):
        raise Forbidden(
            _(
                "The proposed rate %(rate)s%% is below the pricing floor %(floor)s%%: approving "
                "it needs the authority to price below the floor."
            )
            % {"rate": below.proposed_rate_pct, "floor": below.floor_rate_pct},
            code="below_pricing_floor",
        )
    if not reason:
        raise InvalidInput(
            details={
                "below_floor_reason": [
                    _("The proposed rate is below the pricing floor: say why it is approved.")
                ]
            }
        )
    return {
        "version": version.number,
        "below_floor": True,
        "reason": reason,
        "figures": below.as_record(),
    }


def _validate_decision(
    task: ApprovalTask,
    *,
    decision: str,
    comment: str,
    conditions: list[str],
    reasons: list[str],
    mitigations: dict,
) -> list[tuple]:
    """Refuses a decision the rules do not allow (400, per field); the open High flags with
    how the approver says each is mitigated, for an approval."""
    D = ApprovalTask.Decision
    if not decision:
        raise InvalidInput(details={"decision": [_("Choose a decision.")]})
    if task.kind == ApprovalTask.Kind.POST_REVIEW:
        allowed = {D.CONFIRM, D.CONCERN}
    elif task.is_committee:
        raise Conflict(
            _("A committee step is decided by the members' votes; the chair closes the vote."),
            code="committee_step",
        )
    else:
        allowed = {D.APPROVE, D.APPROVE_WITH_CONDITIONS, D.DECLINE, D.RETURN, D.REQUEST_INFORMATION}
    if decision not in allowed:
        raise InvalidInput(details={"decision": [_("Not a decision for this task.")]})
    if decision != D.APPROVE and decision != D.CONFIRM and not comment.strip():
        raise InvalidInput(details={"comment": [_("Say why: this comment is on the record.")]})
    if decision == D.APPROVE_WITH_CONDITIONS and not conditions:
        raise InvalidInput(details={"conditions": [_("List at least one condition.")]})
    if decision == D.DECLINE:
        known = set(
            DeclineReason.objects.filter(code__in=reasons, is_active=True).values_list(
                "code", flat=True
            )
        )
        if not reasons or set(reasons) - known:
            raise InvalidInput(
                details={"reasons": [_("Choose one or more decline reasons from the list.")]}
            )
    if decision not in (D.APPROVE, D.APPROVE_WITH_CONDITIONS):
        return []
    return _high_flags_mitigated(task, mitigations)


def _high_flags_mitigated(task: ApprovalTask, mitigations: dict) -> list[tuple]:
    """The application's open High flags, each with how the approver (or the committee member
    voting to approve) says it is mitigated; 400 naming each flag without one."""
    texts = {str(key): str(text or "").strip() for key, text in mitigations.items()}
    # The application counts the flags its last analysis raised (flag_count, which the route
    # reads too): with none, none is High, and nothing needs reading.
    high = flags_high(application_id=task.application_id) if task.application.flag_count else []
    missing = [flag for flag in high if not texts.get(str(flag.pk))]
    if missing:
        raise InvalidInput(
            _("Say how each open High flag is mitigated."),
            details={
                "mitigations": {
                    str(flag.pk): [_("Say how this High flag is mitigated.")] for flag in missing
                }
            },
        )
    return [(flag, texts[str(flag.pk)]) for flag in high]


def _decide(
    task: ApprovalTask,
    actor,
    *,
    decision: str,
    comment: str,
    conditions: list[str],
    reasons: list[str],
    mitigated: list[tuple],
    pricing: dict | None = None,
    terms: dict | None = None,
) -> None:
    """`task` as task_get read it for update: with its application, locked too, which the
    application's transition takes as it is."""
    D = ApprovalTask.Decision
    if task.application.status != "in_approval" and task.kind == "step":
        raise Conflict(_("The application is not in approval."), code="not_in_approval")
    if decision != D.REQUEST_INFORMATION:
        _finish(task, actor, decision, comment)
    if task.kind == ApprovalTask.Kind.POST_REVIEW:
        _audit_task(task, f"post_review_{decision}", actor, comment)
        if decision == D.CONCERN:
            _concern_raise(task, actor, comment)
    elif decision in (D.APPROVE, D.APPROVE_WITH_CONDITIONS):
        for text in conditions:
            ApprovalCondition.objects.create(
                application=task.application, task=task, text=text, created_by=actor
            )
        data = {
            "step": task.step,
            "conditions": conditions,
            **_mitigations_record(task, actor, mitigated),
        }
        if pricing:
            data["pricing"] = pricing
        if terms:
            # The route's record is locked with the task (task_get for_update).
            task.record.terms = {**(task.record.terms or {}), **terms}
            task.record.save(update_fields=["terms"])
            data["terms"] = terms
        _audit_task(task, f"step_{decision}", actor, comment, data=data)
        _advance(task, actor, comment, locked=task.application)
    elif decision == D.DECLINE:
        application_transition(
            application_id=task.application_id,
            transition="decline",
            actor=actor,
            comment=comment,
            data={"reasons": reasons, "approval_task": task},
            locked=task.application,
        )
    elif decision == D.RETURN:
        application_transition(
            application_id=task.application_id,
            transition="return_to_investigation",
            actor=actor,
            comment=comment,
            data={"approval_task": task},
            locked=task.application,
        )
    else:
        # The step waits (still held by the actor) until the applicant answers: the
        # application's transition parks it (on_application_transitioned).
        task.last_activity_at = timezone.now()
        _saved(task, "claimed_by", "claimed_at", "last_activity_at")
        _audit_task(task, "step_request_information", actor, comment)
        application_transition(
            application_id=task.application_id,
            transition="request_information",
            actor=actor,
            comment=comment,
            data={"approval_task": task},
            locked=task.application,
        )


def _mitigations_record(task: ApprovalTask, actor, mitigated: list[tuple]) -> dict:
    """Keep what `actor` says of each open High flag at `task` (FlagMitigation); the audit
    row's part of it (empty when nothing was said)."""
    if not mitigated:
        return {}
    FlagMitigation.objects.bulk_create(
        FlagMitigation(
            task=task,
            flag=flag,
            flag_code=flag.code,
            flag_message=flag.message,
            text=text,
            created_by=actor,
        )
        for flag, text in mitigated
    )
    return {
        "mitigations": [
            {"flag_id": flag.pk, "flag": flag.code, "text": text} for flag, text in mitigated
        ]
    }


# --- Committee ---------------------------------------------------------------------------


def _committee_task(task: ApprovalTask) -> None:
    if not task.is_committee:
        raise Conflict(_("This step is not a committee vote."), code="not_committee")
    if task.status not in ApprovalTask.OPEN_STATES:
        raise Conflict(_("This vote is closed."), code="not_open")


@logs_refusals("committee_vote")
def committee_vote(
    *, task_id: int, actor, vote: str, comment: str = "", mitigations: dict | None = None
) -> CommitteeVote:
    """A member's vote (a later vote replaces their earlier one). A vote to approve an
    application with open High flags says how each is mitigated (`mitigations`: flag id ->
    text, 400 per flag without one), as an approver's approval does."""
    task = task_get(user=actor, pk=task_id, for_action=True)
    _committee_task(task)
    if vote not in CommitteeVote.Vote.values:
        raise InvalidInput(details={"vote": [_("Vote approve, decline or abstain.")]})
    mitigated = (
        _high_flags_mitigated(task, mitigations or {}) if vote == CommitteeVote.Vote.APPROVE else []
    )
    _check(task, actor)
    with transaction.atomic():
        locked = ApprovalTask.objects.select_for_update().get(pk=task.pk)
        if locked.status not in ApprovalTask.OPEN_STATES:
            raise Conflict(_("This vote is closed."), code="not_open")
        row, _created = CommitteeVote.objects.update_or_create(
            task=locked, member=actor, defaults={"vote": vote, "comment": comment}
        )
        locked.last_activity_at = timezone.now()
        locked.save(update_fields=["last_activity_at"])
        # What the member said of the flags with an earlier vote goes with it.
        FlagMitigation.objects.filter(task=locked, created_by=actor).delete()
        data = {"vote": vote, **_mitigations_record(locked, actor, mitigated)}
        _audit_task(task, "committee_vote", actor, comment, data=data)
    return row


def committee_outcome(
    *, approve: int, decline: int, abstain: int, quorum: int, majority_percent: int
) -> str:
    """'approve' or 'decline'; Conflict when the vote cannot close yet."""
    cast = approve + decline + abstain
    if cast < quorum:
        raise Conflict(
            _("The quorum is not reached: %(cast)d of %(quorum)d votes cast.")
            % {"cast": cast, "quorum": quorum},
            code="no_quorum",
        )
    if approve + decline == 0:
        raise Conflict(_("Every member abstained: there is no decision."), code="no_majority")
    if approve * 100 > majority_percent * (approve + decline):
        return "approve"
    return "decline"


@logs_refusals("committee_close")
def committee_close(
    *, task_id: int, actor, comment: str = "", terms: dict | None = None
) -> ApprovalTask:
    """The chair (the member holding the committee task) closes the vote. A vote that
    approves may approve on other terms (`terms`, as task_decide's and checked by the same
    rule, _terms_changed): the committee's deliberation in the close's comment says why; on
    a vote that declines, terms are refused (400)."""
    task = task_get(user=actor, pk=task_id, for_action=True)
    _committee_task(task)
    _check(task, actor)
    if task.status == "claimed" and task.claimed_by_id != actor.pk:
        raise _refuse(
            Forbidden,
            _("Only the chair (%(user)s) closes this vote.") % {"user": task.claimed_by.username},
            application=task.application,
            code="not_chair",
        )
    with transaction.atomic():
        task = _take(task_get(user=actor, pk=task_id, for_action=True, for_update=True), actor)
        tally = committee_tally(task=task)
        record = task.record
        outcome = committee_outcome(
            approve=tally["approve"],
            decline=tally["decline"],
            abstain=tally["abstain"],
            quorum=record.committee_quorum,
            majority_percent=record.committee_majority_percent,
        )
        dissent = [
            v.member.username
            for v in task.votes.select_related("member")
            if v.vote not in (outcome, "abstain")
        ]
        summary = _("Committee: %(a)d approve, %(d)d decline, %(x)d abstain.") % {
            "a": tally["approve"],
            "d": tally["decline"],
            "x": tally["abstain"],
        }
        full_comment = f"{summary} {comment}".strip()
        decision = (
            ApprovalTask.Decision.APPROVE if outcome == "approve" else ApprovalTask.Decision.DECLINE
        )
        changed = _terms_changed(task, decision=decision, terms=terms or {}, comment=comment)
        _finish(task, actor, decision, full_comment)
        data = {**tally, "outcome": outcome, "dissent": dissent}
        if changed:
            # The route's record is locked with the task (task_get for_update).
            task.record.terms = {**(task.record.terms or {}), **changed}
            task.record.save(update_fields=["terms"])
            data["terms"] = changed
        if outcome == "approve":
            # The committee is the matrix's authority to price below the floor; its
            # deliberation (the close's comment) is the reason on the record.
            version, below = decision_pricing(
                application=task.application,
                terms=terms_in_approval(application=task.application, changed=task.record.terms),
            )
            if version is not None:
                data["pricing"] = {"version": version.number}
            if below is not None:
                data["pricing"].update(
                    below_floor=True, reason=full_comment, figures=below.as_record()
                )
        _audit_task(task, "committee_close", actor, full_comment, data=data)
        if outcome == "approve":
            _advance(task, actor, full_comment, locked=task.application)
        else:
            reasons = list(
                DeclineReason.objects.filter(code="committee_decline").values_list(
                    "code", flat=True
                )
            )
            application_transition(
                application_id=task.application_id,
                transition="decline",
                actor=actor,
                comment=full_comment,
                data={"reasons": reasons, "approval_task": task},
                locked=task.application,
            )
    return task


# --- Sweeps ------------------------------------------------------------------------------


def claims_release_stale(*, now: datetime | None = None, timeout: timedelta | None = None) -> int:
    """Return claimed tasks untouched for longer than the claim timeout to their queue."""
    now = now or timezone.now()
    cutoff = now - (timeout or claim_timeout())
    released = 0
    with transaction.atomic():
        stale = list(
            ApprovalTask.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status="claimed", last_activity_at__lt=cutoff)
            .select_related("application")[:1000]
        )
        for task in stale:
            was = task.claimed_by_id
            task.release(at=now)
            task.save(update_fields=["status", "claimed_by", "claimed_at", "last_activity_at"])
            _audit_task(task, "claim_expired", None, data={"was": was})
            released += 1
    return released


def approvals_sweep() -> dict:
    """The minute job: stale claims back to the queue; fast-track decisions not yet taken;
    new tasks whose announcement was lost."""
    return {
        "released": claims_release_stale(),
        "fast_tracked": approval_fast_track_sweep(older_than=timedelta(seconds=5)),
        "announced": tasks_announce_missed(),
    }


# --- A post-reviewer's concern ---------------------------------------------------------------

CONCERN = "approvals.postreviewconcern"


def _concern_audit(concern: PostReviewConcern, action: str, actor, comment: str, **data) -> None:
    audit_record(
        action=action,
        actor=actor,
        actor_role=primary_role(actor) if actor else "system",
        application=concern.application,
        kind="action",
        subject_type=CONCERN,
        subject_id=concern.pk,
        comment=comment,
        data=data,
    )


def _concern_raise(task: ApprovalTask, actor, comment: str) -> PostReviewConcern:
    """A concern at a post-review (inside the decision's transaction): recorded on the case,
    where it blocks a payout not yet made until it is cleared; a loan already paid out gets an
    early-warning alert (rule kind post_review_concern) with the reviewer's comment as its
    evidence, audited and notified like every alert."""
    from postloan.models import Loan, WarningRule
    from postloan.services import alert_raise_on_event

    concern = PostReviewConcern.objects.create(
        application=task.application, task=task, comment=comment, raised_by=actor
    )
    record = task.record
    loan = Loan.objects.filter(application_id=task.application_id).first()
    alert = None
    if loan is not None:
        alert = alert_raise_on_event(
            loan=loan,
            kind=WarningRule.Kind.POST_REVIEW_CONCERN,
            evidence={
                "concern": concern.pk,
                "review_task": task.pk,
                "reviewer": actor.username,
                "comment": comment,
                "matrix_version": record.matrix_version.number if record.matrix_version else None,
                "rule": record.rule_name,
            },
            action="post_review_concern_alert",
            actor=actor,
            comment=comment,
        )
        if alert is not None:
            concern.alert = alert
            concern.save(update_fields=["alert"])
    _concern_audit(
        concern,
        "post_review_concern_raised",
        actor,
        comment,
        review_task=task.pk,
        alert=alert.pk if alert else None,
        blocks_payout=loan is None,
    )
    return concern


@logs_refusals("clear_post_review_concern")
def post_review_concern_clear(*, concern_id: int, actor, reason: str) -> PostReviewConcern:
    """A branch head or a credit reviewer who did not raise it clears a concern, saying why
    (400 without a reason, 403 for another role or the reviewer who raised it, 409 when it is
    no longer open); a payout it held back may then be made."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(details={"reason": [_("Say why the concern is cleared.")]})
    with transaction.atomic():
        concern = (
            PostReviewConcern.objects.select_for_update()
            .select_related("application")
            .filter(pk=concern_id)
            .first()
        )
        if concern is None:
            raise NotFound()
        application = application_get(user=actor, pk=concern.application_id)
        if not has_role_perm(actor, "approvals.clear_concern"):
            raise _refuse(
                Forbidden,
                _("Only a branch head or a credit reviewer clears a post-reviewer's concern."),
                application=application,
                code="role",
            )
        if concern.raised_by_id == actor.pk:
            raise _refuse(
                SegregationOfDuties,
                _("You raised this concern, so another person must clear it."),
                application=application,
                code="segregation_of_duties",
            )
        if concern.status != PostReviewConcern.Status.OPEN:
            raise Conflict(_("This concern is already cleared."), code="already_cleared")
        concern.clear(by=actor, reason=reason)
        concern.save()
        _concern_audit(
            concern,
            "post_review_concern_cleared",
            actor,
            reason,
            review_task=concern.task_id,
        )
    return concern
