"""Reads: which route the matrix gives, approver limits, the role queues and the panel."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.core.cache import cache
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from approvals.models import (
    DEFAULT_ROUTE,
    ApprovalCondition,
    ApprovalRecord,
    ApprovalTask,
    ApproverLimit,
    CommitteeVote,
    DeclineReason,
    FlagMitigation,
    MatrixRule,
    MatrixVersion,
    PostReviewConcern,
    route_reason_text,
    route_step_name,
)
from org.roles import roles_of
from org.selectors import branch_scope_ids, branch_scope_q

FAST_TRACK_GRADES = ("A", "B")


def short_amount(value: Decimal) -> str:
    """3200000 -> '3.2M', 300000 -> '300K' (for route reasons)."""
    value = Decimal(value)
    for size, suffix in ((Decimal(1_000_000), "M"), (Decimal(1_000), "K")):
        if abs(value) >= size:
            number = (value / size).quantize(Decimal("0.01")).normalize()
            return f"{number:f}{suffix}"
    return f"{value.normalize():f}"


@dataclass
class Route:
    steps: list[dict]
    reason: str
    reason_data: dict = field(default_factory=dict)
    version: MatrixVersion | None = None
    rule: MatrixRule | None = None
    fast_track: bool = False
    matched: list[str] = field(default_factory=list)
    # The concentration limits passed, as reason parts (concentration_limits_passed).
    above_limits: list[list] = field(default_factory=list)


@dataclass(frozen=True)
class Terms:
    """The terms an approval decides on: the application's, as the route's earlier steps
    changed them (ApprovalRecord.terms)."""

    amount: Decimal
    term_months: int
    interest_rate: Decimal


def terms_in_approval(*, application, changed: dict | None) -> Terms:
    """The application's terms with those `changed` on its route (ApprovalRecord.terms)."""
    changed = changed or {}
    return Terms(
        amount=Decimal(str(changed.get("amount", application.amount))),
        term_months=int(changed.get("term_months", application.term_months)),
        interest_rate=Decimal(str(changed.get("interest_rate", application.interest_rate))),
    )


def matrix_active() -> MatrixVersion | None:
    return MatrixVersion.objects.filter(is_active=True).first()


def fast_track_eligible(application) -> bool:
    return bool(
        application.product.fast_track_eligible
        and application.route_recommendation == "fast_track"
        and application.risk_grade in FAST_TRACK_GRADES
        and application.flag_count == 0
    )


def _rule_matches(rule: MatrixRule, application, exposure=None) -> list[list] | None:
    """The reasons this rule matches, as [code, params] (None when it does not). The amount
    bands apply to the group's exposure after this application (`exposure`, when larger than
    its amount: other loans and applications count)."""
    amount = application.amount
    basis, kind = amount, "amount"
    if exposure is not None and exposure > amount:
        basis, kind = exposure, "exposure"
    m = short_amount(amount)
    parts: list[list] = []
    if rule.product_id and rule.product_id != application.product_id:
        return None
    if rule.product_id:
        parts.append(["product", {"p": application.product.code}])
    if rule.currency and rule.currency != application.currency:
        return None
    if rule.amount_above is not None and not basis > rule.amount_above:
        return None
    if rule.amount_up_to is not None and not basis <= rule.amount_up_to:
        return None
    a = short_amount(basis)
    if rule.amount_above is not None and rule.amount_up_to is not None:
        lo, hi = short_amount(rule.amount_above), short_amount(rule.amount_up_to)
        parts.append([f"{kind}_between", {"a": a, "m": m, "lo": lo, "hi": hi}])
    elif rule.amount_above is not None:
        parts.append([f"{kind}_above", {"a": a, "m": m, "lo": short_amount(rule.amount_above)}])
    elif rule.amount_up_to is not None:
        parts.append([f"{kind}_up_to", {"a": a, "m": m, "hi": short_amount(rule.amount_up_to)}])
    if rule.grades:
        if application.risk_grade not in rule.grades:
            return None
        parts.append(["grade", {"g": application.risk_grade}])
    if rule.routes:
        if application.route_recommendation not in rule.routes:
            return None
        parts.append(["route", {"r": application.route_recommendation}])
    if rule.min_flags is not None:
        if application.flag_count < rule.min_flags:
            return None
        parts.append(["flags", {"n": application.flag_count}])
    if rule.max_flags is not None and application.flag_count > rule.max_flags:
        return None
    if rule.fast_track:
        if not fast_track_eligible(application):
            return None
        parts.append(["fast_track", {}])
        from investigation.selectors import decided_on_external_data

        if decided_on_external_data(application=application):
            parts.append(["external_data", {}])
    return parts


def _route(**kwargs) -> Route:
    kwargs["reason"] = route_reason_text(kwargs["reason_data"])
    return Route(**kwargs)


def route_compute(*, application, version: MatrixVersion | None = None, exposure=None) -> Route:
    """The route the matrix gives this application (the default route without a matrix).
    `exposure` (postloan.selectors.exposure_after): its amount bands apply to the group's
    exposure after this application when that is larger than the amount, and above the
    version's single-customer or group limit the route ends at the credit committee."""
    version = version if version is not None else matrix_active()
    if version is None:
        return _route(steps=[dict(s) for s in DEFAULT_ROUTE], reason_data={"code": "no_matrix"})
    steps = {step.code: step for step in version.steps.all()}
    above = concentration_limits_passed(version, exposure)
    for rule in version.rules.select_related("product").order_by("priority", "id"):
        parts = _rule_matches(rule, application, exposure.group if exposure else None)
        if parts is None:
            continue
        route_steps = _escalated(
            [steps[code].as_route_step() for code in rule.steps if code in steps], above, steps
        )
        return _route(
            steps=route_steps,
            reason_data={
                "code": "rule",
                "rule": rule.name,
                "rule_zh": rule.name_zh,
                "v": version.number,
                "parts": parts + above,
            },
            version=version,
            rule=rule,
            fast_track=rule.fast_track and not above,
            matched=parts,
            above_limits=above,
        )
    if above:
        return _route(
            steps=_escalated([dict(s) for s in DEFAULT_ROUTE], above, steps),
            version=version,
            reason_data={"code": "concentration", "v": version.number, "parts": above},
            above_limits=above,
        )
    return _route(
        steps=[dict(s) for s in DEFAULT_ROUTE],
        version=version,
        reason_data={"code": "no_rule", "v": version.number},
    )


def concentration_limits_passed(version: MatrixVersion, exposure) -> list[list]:
    """The version's concentration limits the exposure after this application goes above, as
    reason parts ([code, params]). The limits are in CNY: other currencies are not checked."""
    if exposure is None or exposure.currency != "CNY":
        return []
    above = []
    for code, limit, figure in (
        ("above_single_customer_limit", version.single_customer_limit_binding, exposure.customer),
        ("above_group_limit", version.group_limit_binding, exposure.group),
    ):
        if limit is not None and figure > limit:
            above.append([code, {"a": short_amount(figure), "limit": short_amount(limit)}])
    return above


def _escalated(route_steps: list[dict], above: list, steps: dict) -> list[dict]:
    """The route's steps, ending at the credit committee when a concentration limit is
    passed (`above`) and the version has a committee step. On a route that ends at the
    committee, its vote decides: the steps before it review and recommend, and a personal
    limit (the authority to decide alone) does not bind them. Otherwise a grade-E or 10M+
    case waits for ever for an approver whose limit covers it."""
    committee = next((step for step in steps.values() if step.is_committee), None)
    if above and committee is not None and not (route_steps and route_steps[-1]["is_committee"]):
        route_steps = [s for s in route_steps if s["code"] != committee.code]
        route_steps.append(committee.as_route_step())
    if route_steps and route_steps[-1]["is_committee"]:
        for step in route_steps[:-1]:
            step["checks_limit"] = False
    return route_steps


def decline_reason_labels(codes) -> dict[str, str]:
    """{code: the staff label in the active language} of these decline reasons (one query);
    a code without a reason (a pre-screen's sentence) is its own label."""
    codes = [str(code) for code in codes or []]
    found = {r.code: r.display_label for r in DeclineReason.objects.filter(code__in=codes)}
    return {code: found.get(code, code) for code in codes}


def approver_limit(*, user, grade: str, currency: str) -> Decimal:
    """The user's personal limit at this grade (falls back to the staff profile's limit)."""
    limit = (
        (
            ApproverLimit.objects.filter(user_id=user.pk, grade=grade, currency=currency)
            .order_by("id")
            .values_list("max_amount", flat=True)
            .first()
        )
        if grade
        else None
    )
    if limit is not None:
        return limit
    profile = getattr(user, "staff_profile", None)
    if profile is None or profile.currency != currency:
        return Decimal("0")
    return profile.authority_limit


def record_current(*, application) -> ApprovalRecord | None:
    return application.approval_records.select_related("matrix_version").first()


# --- Queues ------------------------------------------------------------------------------


def task_scope_q(user) -> Q:
    """Tasks the user may see in a queue: their roles, their branch scope."""
    roles = roles_of(user)
    return Q(role__in=sorted(roles)) & branch_scope_q(user, field="branch")


# What a queue row shows (the page and the API): the task and a few columns of its application,
# company, product, branch and holder; not the application's other fifty columns.
QUEUE_ROW_FIELDS = (
    "id",
    "application",
    "record_id",
    "kind",
    "step_index",
    "step",
    "step_name",
    "step_name_zh",
    "role",
    "branch",
    "status",
    "claimed_by",
    "claimed_at",
    "due_at",
    "decided_by",
    "decided_at",
    "decision",
    "comment",
    "application__reference",
    "application__status",
    "application__amount",
    "application__currency",
    "application__risk_grade",
    "application__company__name",
    "application__product__code",
    "branch__name",
    "claimed_by__username",
)


def _open_tasks(user) -> QuerySet[ApprovalTask]:
    return ApprovalTask.objects.filter(task_scope_q(user), status__in=ApprovalTask.OPEN_STATES)


_QUEUE_ROW_RELATED = (
    "application",
    "application__company",
    "application__product",
    "branch",
    "claimed_by",
)


def task_queue(*, user) -> QuerySet[ApprovalTask]:
    """Open and claimed tasks the user may take, oldest due first, with the columns a queue
    row shows (approvals.filters.TaskQueueFilter narrows it)."""
    return (
        _open_tasks(user)
        .select_related(*_QUEUE_ROW_RELATED)
        .only(*QUEUE_ROW_FIELDS)
        .order_by("due_at", "id")
    )


# Head office's queues span the whole bank (100,000 open tasks at scale 1): counting them
# took 100-200 ms a page (measured), so their counts are shared for this long, the "mine"
# count excepted. A branch's queues are counted on every page (a few thousand index entries).
HEAD_OFFICE_COUNTS_SECONDS = 15


def task_queue_counts(*, user, now: datetime | None = None) -> list[dict]:
    """Per queue (role): total, open, claimed, mine and overdue, in one aggregate read from
    the queue's partial index alone (appr_task_queue_branch); head office's from a cache
    HEAD_OFFICE_COUNTS_SECONDS old at most, with the user's own claims counted now."""
    now = now or timezone.now()
    counts = {
        "total": Count("id"),
        "open": Count("id", filter=Q(status="open")),
        "claimed": Count("id", filter=Q(status="claimed")),
        "overdue": Count("id", filter=Q(due_at__lt=now)),
    }
    if branch_scope_ids(user) is not None:
        rows = (
            _open_tasks(user)
            .order_by()
            .values("role")
            .annotate(**counts, mine=Count("id", filter=Q(status="claimed", claimed_by_id=user.pk)))
            .order_by("role")
        )
        return [_count_row(row, mine=row["mine"]) for row in rows]
    roles = sorted(roles_of(user))
    shared = cache.get_or_set(
        f"approvals:queue-counts:{','.join(roles)}",
        lambda: [
            dict(row)
            for row in _open_tasks(user)
            .order_by()
            .values("role")
            .annotate(**counts)
            .order_by("role")
        ],
        HEAD_OFFICE_COUNTS_SECONDS,
    )
    mine = dict(
        ApprovalTask.objects.filter(task_scope_q(user), status="claimed", claimed_by_id=user.pk)
        .order_by()
        .values_list("role")
        .annotate(n=Count("id"))
    )
    return [_count_row(row, mine=mine.get(row["role"], 0)) for row in shared]


def _count_row(row: dict, *, mine: int) -> dict:
    return {
        "role": row["role"],
        "total": row["total"],
        "open": row["open"],
        "claimed": row["claimed"],
        "mine": mine,
        "overdue": row["overdue"],
    }


def task_queue_size(*, counts: list[dict]) -> int:
    """How many tasks the whole (unfiltered) queue holds, from its counts."""
    return sum(row["total"] for row in counts)


# What a task page shows with the task, and what a queue action reads (the checks, the route,
# the branches).
_TASK_PAGE_RELATED = (
    "application",
    "application__company",
    "application__product",
    "application__branch",
    "record",
    "record__matrix_version",
    "branch",
    "claimed_by",
    "decided_by",
)
# With the application's company and product, so that an action answers with the task it
# holds (approvals.api) rather than reading it again.
_TASK_ACTION_RELATED = (
    "application",
    "application__branch",
    "application__company",
    "application__product",
    "record",
    "branch",
)


def task_get(*, user, pk, for_action: bool = False, for_update: bool = False) -> ApprovalTask:
    """A task of an application the user may see (404 otherwise), in one query; with
    `for_action`, joined only to what claiming, deciding or voting reads (its application
    and that application's branch, its record, its branch); with `for_update` too, its
    application, the task and its record locked, in that order (FOR UPDATE OF application,
    task, record), the order in which any transition of the application locks it and then
    its tasks, so that the two wait on each other rather than deadlock; a decision that moves
    the application passes it on to the transition locked."""
    from applications.selectors import application_scope_q
    from common.errors import NotFound

    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound() from None
    qs = ApprovalTask.objects.filter(application_scope_q(user, prefix="application__"), pk=pk)
    if for_action:
        qs = qs.select_related(*_TASK_ACTION_RELATED)
        if for_update:
            qs = qs.select_for_update(of=("application", "self", "record"))
    else:
        qs = qs.select_related(*_TASK_PAGE_RELATED)
    task = qs.first()
    if task is None:
        raise NotFound()
    return task


def acted_steps(*, application_id: int) -> dict[int, set[str]]:
    """Who acted at which step of the application (step decisions and committee votes), in
    one query."""
    decided = ApprovalTask.objects.filter(
        application_id=application_id, kind=ApprovalTask.Kind.STEP, decided_by__isnull=False
    ).values_list("decided_by_id", "step")
    voted = CommitteeVote.objects.filter(task__application_id=application_id).values_list(
        "member_id", "task__step"
    )
    acted: dict[int, set[str]] = {}
    for user_id, step in decided.union(voted, all=True):
        acted.setdefault(user_id, set()).add(step)
    return acted


# --- Panel -------------------------------------------------------------------------------


def approval_panel(*, application) -> dict:
    """Route, reason, steps with who and when, conditions and votes (a few queries)."""
    record = record_current(application=application)
    if record is None:
        return {
            "record": None,
            "steps": [],
            "conditions": [],
            "post_reviews": [],
            "concerns": [],
        }
    tasks = list(
        record.tasks.select_related("claimed_by", "decided_by")
        .prefetch_related("votes__member", "mitigations__created_by")
        .order_by("step_index", "id")
    )
    by_index: dict[int, list] = {}
    post_reviews = []
    for task in tasks:
        if task.kind == ApprovalTask.Kind.POST_REVIEW:
            post_reviews.append(task)
        else:
            by_index.setdefault(task.step_index, []).append(task)
    steps = []
    for index, step in enumerate(record.route):
        step_tasks = by_index.get(index, [])
        steps.append(
            {
                "index": index,
                "step": {**step, "name": route_step_name(step)},
                "tasks": step_tasks,
                "is_current": record.status == "in_progress" and index == record.current_step,
            }
        )
    conditions = list(
        ApprovalCondition.objects.filter(application=application).select_related(
            "created_by", "satisfied_by"
        )
    )
    return {
        "record": record,
        "steps": steps,
        "conditions": conditions,
        "post_reviews": post_reviews,
        "concerns": concerns_of(application=application) if post_reviews else [],
    }


def committee_tally(*, task: ApprovalTask) -> dict:
    votes = list(task.votes.all())
    approve = sum(1 for v in votes if v.vote == "approve")
    decline = sum(1 for v in votes if v.vote == "decline")
    abstain = sum(1 for v in votes if v.vote == "abstain")
    return {"approve": approve, "decline": decline, "abstain": abstain, "cast": len(votes)}


def task_workbench(*, task: ApprovalTask) -> dict:
    """What the approver decides on, beside the task (its application as task_get read it for
    the page): the credit case (score, flags with evidence, ratios, guarantors, collateral,
    opinion, memo), the documents, the customer's total exposure, and on each flag how the
    earlier steps of this route said it is mitigated. A fixed number of queries, whatever the
    number of flags, documents or steps."""
    from intake.selectors import document_list
    from investigation.selectors import case_summary
    from postloan.selectors import customer_exposure

    application = task.application
    case = case_summary(application=application)
    earlier = list(
        FlagMitigation.objects.filter(task__record_id=task.record_id, flag__isnull=False)
        .exclude(task_id=task.pk)
        .select_related("task", "created_by")
    )
    for flag in case["flags"]:
        flag.earlier_mitigations = [m for m in earlier if m.flag_id == flag.pk]
    return {
        "case": case,
        "documents": list(document_list(application=application)),
        "exposure": customer_exposure(company=application.company),
        "exposure_after": task.record.exposure or None,
    }


# --- Post-review concerns --------------------------------------------------------------------


def concerns_open(*, application) -> list[PostReviewConcern]:
    """The application's open post-review concerns (the payout gate, the case's panel)."""
    return list(
        PostReviewConcern.objects.filter(
            application=application, status=PostReviewConcern.Status.OPEN
        )
        .select_related("raised_by")
        .order_by("raised_at", "id")
    )


def concerns_of(*, application) -> list[PostReviewConcern]:
    """Every post-review concern on the application, open first (the case's panel)."""
    return list(
        PostReviewConcern.objects.filter(application=application)
        .select_related("raised_by", "cleared_by", "alert")
        .order_by("-status", "raised_at", "id")
    )


def fast_track_concerns(*, applications) -> list[dict]:
    """The automatic approvals of `applications` (a queryset: the analytics' cohort, already in
    the reader's scope) and what their post-reviews found, per fast-track rule version and
    product: decided (automatic approvals), reviewed (post-reviews decided), concerns
    (post-reviews that raised one) and still open (concerns not cleared). The analytics'
    figure of the fast track counts each concern against the rule that approved the case."""
    concern = Q(tasks__kind=ApprovalTask.Kind.POST_REVIEW, tasks__decision="concern")
    rows = (
        ApprovalRecord.objects.filter(
            decided_by_system=True, application__in=applications.values("pk")
        )
        .values(
            "matrix_version__number",
            "rule_name",
            "application__product__code",
        )
        .annotate(
            decided=Count("id", distinct=True),
            reviewed=Count(
                "tasks",
                filter=Q(tasks__kind=ApprovalTask.Kind.POST_REVIEW, tasks__status="done"),
                distinct=True,
            ),
            concerns=Count("tasks", filter=concern, distinct=True),
            concerns_open=Count(
                "tasks",
                filter=concern & Q(tasks__concern__status=PostReviewConcern.Status.OPEN),
                distinct=True,
            ),
        )
        .order_by("matrix_version__number", "rule_name", "application__product__code")
    )
    return [
        {
            "matrix_version": row["matrix_version__number"],
            "rule": row["rule_name"],
            "product": row["application__product__code"],
            "decided": row["decided"],
            "reviewed": row["reviewed"],
            "concerns": row["concerns"],
            "concerns_open": row["concerns_open"],
        }
        for row in rows
    ]
