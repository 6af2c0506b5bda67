"""Reads: which route the matrix gives, approver limits, the role queues and the panel."""

import functools
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import connection
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from approvals.models import (
    DEFAULT_ROUTE,
    ApprovalCondition,
    ApprovalRecord,
    ApprovalTask,
    ApproverLimit,
    CommitteeVote,
    MatrixRule,
    MatrixVersion,
)
from loanflow.lookups import InLiteral
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
    version: MatrixVersion | None = None
    rule: MatrixRule | None = None
    fast_track: bool = False
    matched: list[str] = field(default_factory=list)


def matrix_active() -> MatrixVersion | None:
    return MatrixVersion.objects.filter(is_active=True).first()


def fast_track_eligible(application) -> bool:
    return bool(application.product.fast_track_eligible
                and application.route_recommendation == "fast_track"
                and application.risk_grade in FAST_TRACK_GRADES
                and application.flag_count == 0)


def _rule_matches(rule: MatrixRule, application) -> list[str] | None:
    """The reasons this rule matches (None when it does not)."""
    amount = application.amount
    parts: list[str] = []
    if rule.product_id and rule.product_id != application.product_id:
        return None
    if rule.product_id:
        parts.append(_("product %(p)s") % {"p": application.product.code})
    if rule.currency and rule.currency != application.currency:
        return None
    if rule.amount_above is not None and not amount > rule.amount_above:
        return None
    if rule.amount_up_to is not None and not amount <= rule.amount_up_to:
        return None
    if rule.amount_above is not None and rule.amount_up_to is not None:
        parts.append(_("amount %(a)s above %(lo)s and up to %(hi)s")
                     % {"a": short_amount(amount), "lo": short_amount(rule.amount_above),
                        "hi": short_amount(rule.amount_up_to)})
    elif rule.amount_above is not None:
        parts.append(_("amount %(a)s above %(lo)s") % {"a": short_amount(amount),
                                                       "lo": short_amount(rule.amount_above)})
    elif rule.amount_up_to is not None:
        parts.append(_("amount %(a)s up to %(hi)s") % {"a": short_amount(amount),
                                                       "hi": short_amount(rule.amount_up_to)})
    if rule.grades:
        if application.risk_grade not in rule.grades:
            return None
        parts.append(_("grade %(g)s") % {"g": application.risk_grade})
    if rule.routes:
        if application.route_recommendation not in rule.routes:
            return None
        parts.append(_("recommended route %(r)s") % {"r": application.route_recommendation})
    if rule.min_flags is not None:
        if application.flag_count < rule.min_flags:
            return None
        parts.append(_("%(n)d open flags") % {"n": application.flag_count})
    if rule.max_flags is not None and application.flag_count > rule.max_flags:
        return None
    if rule.fast_track:
        if not fast_track_eligible(application):
            return None
        parts.append(_("fast-track eligible"))
    return parts


def route_compute(*, application, version: MatrixVersion | None = None) -> Route:
    """The route the matrix gives this application (the default route without a matrix)."""
    version = version if version is not None else matrix_active()
    if version is None:
        return Route(steps=[dict(s) for s in DEFAULT_ROUTE],
                     reason=_("No authority matrix is active: default route."))
    steps = {step.code: step for step in version.steps.all()}
    for rule in version.rules.select_related("product").order_by("priority", "id"):
        parts = _rule_matches(rule, application)
        if parts is None:
            continue
        route_steps = [steps[code].as_route_step() for code in rule.steps if code in steps]
        detail = "; ".join(parts) if parts else _("any application")
        reason = _("%(rule)s (matrix v%(v)d): %(detail)s.") % {
            "rule": rule.name, "v": version.number, "detail": detail}
        return Route(steps=route_steps, reason=reason, version=version, rule=rule,
                     fast_track=rule.fast_track, matched=parts)
    return Route(steps=[dict(s) for s in DEFAULT_ROUTE], version=version,
                 reason=_("No rule of matrix v%(v)d matches: default route.")
                 % {"v": version.number})


def approver_limit(*, user, grade: str, currency: str) -> Decimal:
    """The user's personal limit at this grade (falls back to the staff profile's limit)."""
    limit = _personal_limit(user_id=user.pk, grade=grade, currency=currency) if grade else None
    if limit is not None:
        return limit
    profile = getattr(user, "staff_profile", None)
    if profile is None or profile.currency != currency:
        return Decimal("0")
    return profile.authority_limit


def _personal_limit(*, user_id: int, grade: str, currency: str) -> Decimal | None:
    """The user's ApproverLimit at this grade and currency, in plain SQL (every claim and
    decision reads it)."""
    sql, columns = _personal_limit_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, [user_id, grade, currency])
        row = cursor.fetchone()
    return None if row is None else columns.convert(row)[0]


@functools.cache
def _personal_limit_sql() -> tuple:
    from loanflow.rawsql import Columns, quote, table

    columns = Columns([("l", ApproverLimit._meta.get_field("max_amount"))])
    return (f"SELECT {columns.sql} FROM {table(ApproverLimit)} l "
            f"WHERE l.{quote('user_id')} = %s AND l.{quote('grade')} = %s "
            f"AND l.{quote('currency')} = %s ORDER BY l.{quote('id')} LIMIT 1"), columns


def record_current(*, application) -> ApprovalRecord | None:
    return application.approval_records.select_related("matrix_version").first()


# --- Queues ------------------------------------------------------------------------------

def task_scope_q(user) -> Q:
    """Tasks the user may see in a queue: their roles, their branch scope."""
    roles = roles_of(user)
    return Q(role__in=sorted(roles)) & branch_scope_q(user, field="branch")


def _int(value):
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _decimal(value):
    try:
        return Decimal(str(value)) if value not in (None, "") else None
    except ArithmeticError:
        return None


# What a queue row shows (the page and the API): the task and a few columns of its application,
# company, product, branch and holder; not the application's other fifty columns.
QUEUE_ROW_FIELDS = (
    "id", "application", "record_id", "kind", "step_index", "step", "step_name", "role",
    "branch", "status", "claimed_by", "claimed_at", "due_at", "decided_by", "decided_at",
    "decision", "comment", "application__reference", "application__status",
    "application__amount", "application__currency", "application__risk_grade",
    "application__company__name", "application__product__code", "branch__name",
    "claimed_by__username",
)


_YES = ("1", "true", "on", "yes")


def queue_filters(filters: dict) -> dict:
    """The queue filters that were given, parsed (a number that does not parse is ignored)."""
    parsed = {}
    if filters.get("role"):
        parsed["role"] = str(filters["role"])
    for name in ("product", "branch"):
        if _int(filters.get(name)):
            parsed[name] = _int(filters[name])
    for name in ("amount_min", "amount_max"):
        if _decimal(filters.get(name)) is not None:
            parsed[name] = _decimal(filters[name])
    if filters.get("grade"):
        parsed["grade"] = str(filters["grade"]).upper()
    for name in ("overdue", "mine"):
        if str(filters.get(name, "")).lower() in _YES:
            parsed[name] = True
    term = str(filters.get("q") or "").strip()
    if term:
        parsed["q"] = term
    return parsed


# Each filter through the ORM (the queue page) and as SQL (the queue API, task_queue_rows):
# a test checks that both keep the same tasks.
_FILTER_Q = {
    "role": lambda value, user, now: Q(role=value),
    "product": lambda value, user, now: Q(application__product_id=value),
    "branch": lambda value, user, now: Q(branch_id=value),
    "amount_min": lambda value, user, now: Q(application__amount__gte=value),
    "amount_max": lambda value, user, now: Q(application__amount__lte=value),
    "grade": lambda value, user, now: Q(application__risk_grade=value),
    "overdue": lambda value, user, now: Q(due_at__lt=now),
    "mine": lambda value, user, now: Q(claimed_by=user),
    "q": lambda value, user, now: (Q(application__reference__iexact=value)
                                   | Q(application__company__name__icontains=value)),
}


def task_queue(*, user, filters: dict | None = None, now: datetime | None = None
               ) -> QuerySet[ApprovalTask]:
    """Open and claimed tasks the user may take, oldest due first."""
    now = now or timezone.now()
    # The states written into the SQL (InLiteral), so that the prepared statement's generic
    # plan can use the queue's partial indexes.
    qs = ApprovalTask.objects.filter(task_scope_q(user),
                                     InLiteral(F("status"), ApprovalTask.OPEN_STATES))
    for name, value in queue_filters(filters or {}).items():
        qs = qs.filter(_FILTER_Q[name](value, user, now))
    return (qs.select_related("application", "application__company", "application__product",
                              "branch", "claimed_by")
            .only(*QUEUE_ROW_FIELDS)
            .order_by("due_at", "id"))


_COUNTS_SQL = """
SELECT role, status, SUM(n) FROM approvals_queuecount WHERE {scope} GROUP BY role, status
UNION ALL
SELECT role, 'overdue', COUNT(*) FROM approvals_approvaltask
WHERE status IN ('open', 'claimed') AND {scope} AND due_at < %s GROUP BY role
UNION ALL
SELECT role, 'mine', COUNT(*) FROM approvals_approvaltask
WHERE status = 'claimed' AND claimed_by_id = %s AND {scope} GROUP BY role
"""


def _task_scope_sql(user, *, alias: str = "") -> tuple[str, list] | None:
    """task_scope_q as SQL: the user's roles and branch scope on the task table (`alias`
    prefixes the columns), with its parameters; None when the user has no queue at all."""
    roles, branches = sorted(roles_of(user)), branch_scope_ids(user)
    if not roles or branches == []:
        return None
    sql = f"{alias}role IN ({', '.join(['%s'] * len(roles))})"
    params: list = list(roles)
    if branches is not None:
        sql += f" AND {alias}branch_id IN ({', '.join(['%s'] * len(branches))})"
        params += branches
    return sql, params


def task_queue_counts(*, user, now: datetime | None = None) -> list[dict]:
    """Per queue (role): total, open, claimed, mine and overdue, in one query whatever the
    queue's size. Open and claimed come from the trigger-kept QueueCount rows; overdue and
    mine count only the overdue and the user's own tasks, through their indexes. (Plain SQL:
    the page asks for it on every load, and composing it through the ORM cost more than
    running it.)"""
    now = now or timezone.now()
    scoped = _task_scope_sql(user)
    if scoped is None:
        return []
    scope, params = scoped
    counts: dict[str, dict] = {}
    with connection.cursor() as cursor:
        cursor.execute(_COUNTS_SQL.format(scope=scope),
                       params + params + [connection.ops.adapt_datetimefield_value(now)]
                       + [user.pk] + params)
        for role, kind, n in cursor.fetchall():
            row = counts.setdefault(role, {"role": role, "total": 0, "open": 0, "claimed": 0,
                                           "mine": 0, "overdue": 0})
            row[kind] += int(n or 0)
    rows = []
    for role in sorted(counts):
        row = counts[role]
        row["total"] = row["open"] + row["claimed"]
        if row["total"]:
            rows.append(row)
    return rows


def task_queue_page_source(*, user, filters: dict, now: datetime, counts: list[dict]):
    """What the queue page pages through: the filtered queue; the whole queue sized from its
    kept counts (task_queue_counts), so that paging it never counts its rows."""
    from loanflow.paging import CountedQuerySet

    qs = task_queue(user=user, filters=filters, now=now)
    if queue_filters(filters):
        return qs
    return CountedQuerySet(qs, sum(row["total"] for row in counts))


# The queue API's rows as plain SQL. The API answers an approver's every refresh, and
# composing this six-table join through the ORM cost 2.5 ms of CPU per request against 1 ms
# for running it. The same tasks as task_queue() (a test compares them for every filter).
_QUEUE_FROM = """approvals_approvaltask t
JOIN applications_loanapplication a ON a.id = t.application_id
JOIN customers_company c ON c.id = a.company_id
JOIN applications_product p ON p.id = a.product_id
JOIN org_branch b ON b.id = t.branch_id
LEFT JOIN auth_user u ON u.id = t.claimed_by_id"""
# The alias of each relation a row's ORM path goes through.
_QUEUE_ALIASES = {(): "t", ("application",): "a", ("application", "company"): "c",
                  ("application", "product"): "p", ("branch",): "b", ("claimed_by",): "u"}
_FILTER_SQL = {
    "role": "t.role = %s", "product": "a.product_id = %s", "branch": "t.branch_id = %s",
    "amount_min": "a.amount >= %s", "amount_max": "a.amount <= %s",
    "grade": "a.risk_grade = %s", "overdue": "t.due_at < %s", "mine": "t.claimed_by_id = %s",
    "q": "(UPPER(a.reference) = UPPER(%s) OR UPPER(c.name) LIKE UPPER(%s) ESCAPE '\\')",
}


@functools.cache
def _queue_columns(paths: tuple[str, ...]):
    """The SELECT list for rows keyed by ORM path (`application__company__name`...)."""
    from loanflow.rawsql import Columns

    pairs = []
    for path in paths:
        *relations, name = path.split("__")
        model = ApprovalTask
        for relation in relations:
            model = model._meta.get_field(relation).related_model
        pairs.append((_QUEUE_ALIASES[tuple(relations)], model._meta.get_field(name)))
    return Columns(pairs)


def _filter_params(name: str, value, *, user, now) -> list:
    if name == "overdue":
        return [connection.ops.adapt_datetimefield_value(now)]
    if name == "mine":
        return [user.pk]
    if name == "q":
        escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return [value, f"%{escaped}%"]
    if name in ("amount_min", "amount_max"):
        return [connection.ops.adapt_decimalfield_value(value)]
    return [value]


class QueueRows:
    """The queue API's rows for a paginator: sliced, each slice one query (ordered by due
    time, then id); counted from the kept counts when unfiltered, else by one COUNT."""

    ordered = True

    def __init__(self, *, where: str, params: list, paths: tuple[str, ...],
                 count: int | None):
        self.where, self.params, self.paths, self._count = where, params, paths, count

    def count(self) -> int:
        if self._count is None:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT COUNT(*) FROM {_QUEUE_FROM} WHERE {self.where}",
                               self.params)
                self._count = cursor.fetchone()[0]
        return self._count

    def __len__(self) -> int:
        return self.count()

    def page_sql(self, start: int, stop: int) -> str:
        # The page's bounds are written into the SQL (integers), as the ORM writes them.
        return (f"SELECT {_queue_columns(self.paths).sql} FROM {_QUEUE_FROM} "
                f"WHERE {self.where} ORDER BY t.due_at, t.id "
                f"LIMIT {int(stop) - int(start)} OFFSET {int(start)}")

    def __getitem__(self, key: slice) -> list[dict]:
        columns = _queue_columns(self.paths)
        with connection.cursor() as cursor:
            cursor.execute(self.page_sql(key.start or 0, key.stop), self.params)
            return [dict(zip(self.paths, columns.convert(row), strict=True))
                    for row in cursor.fetchall()]


def task_queue_rows(*, user, filters: dict, now: datetime, counts: list[dict],
                    paths: tuple[str, ...]) -> QueueRows:
    """task_queue() for the API: rows as dicts keyed by the ORM paths asked for."""
    parsed = queue_filters(filters)
    scoped = _task_scope_sql(user, alias="t.")
    scope, params = scoped if scoped is not None else ("1 = 0", [])
    # The open states written into the SQL: the queue's partial indexes match them.
    where = ["t.status IN ('open', 'claimed')", scope]
    for name, value in parsed.items():
        where.append(_FILTER_SQL[name])
        params += _filter_params(name, value, user=user, now=now)
    return QueueRows(where=" AND ".join(where), params=params, paths=paths,
                     count=None if parsed else sum(row["total"] for row in counts))


# What a task page shows with the task, and the little a queue action reads (the checks, the
# route, the branches). Composing the page's ten-table join costs 4 ms of CPU; composing the
# action's five-table join cost 2 ms, so a queue action reads it by plain SQL (_action_read),
# loading what these relations would.
_TASK_PAGE_RELATED = ("application", "application__company", "application__product",
                      "application__branch", "record", "record__matrix_version", "branch",
                      "claimed_by", "decided_by")
_TASK_ACTION_RELATED = ("application", "application__branch", "record", "branch")


def task_get(*, user, pk, for_action: bool = False, for_update: bool = False) -> ApprovalTask:
    """A task of an application the user may see (404 otherwise), in one query; with
    `for_action`, joined only to what claiming, deciding or voting reads (its application
    and that application's branch, its record, its branch), read by plain SQL (it comes
    first in every queue action); with `for_update` too, its application, the task and its
    record locked, in that order (FOR UPDATE OF a, t, r), the order in which any transition
    of the application locks it and then its tasks, so that the two wait on each other
    rather than deadlock; a decision that moves the application passes it on to the
    transition locked, which then need not read it again."""
    from applications.selectors import application_scope_q
    from loanflow.errors import NotFound

    if for_action:
        task = _task_for_action(user=user, pk=_int(pk), for_update=for_update)
    else:
        task = (ApprovalTask.objects.select_related(*_TASK_PAGE_RELATED)
                .filter(application_scope_q(user, prefix="application__"), pk=_int(pk))
                .first())
    if task is None:
        raise NotFound()
    return task


@functools.cache
def _action_read() -> tuple:
    """The SELECT of a task with what a queue action reads (the relations of
    _TASK_ACTION_RELATED), up to its WHERE; its columns, and the models they fill with their
    aliases."""
    from applications.models import LoanApplication
    from loanflow.rawsql import Columns, model_columns, quote, table
    from org.models import Branch

    read = ((ApprovalTask, "t"), (LoanApplication, "a"), (Branch, "ab"), (ApprovalRecord, "r"),
            (Branch, "tb"))
    columns = Columns(pair for model, alias in read for pair in model_columns(model, alias))
    id_ = quote("id")
    sql = (f"SELECT {columns.sql} FROM {table(ApprovalTask)} t "
           f"JOIN {table(LoanApplication)} a ON a.{id_} = t.{quote('application_id')} "
           f"JOIN {table(Branch)} ab ON ab.{id_} = a.{quote('branch_id')} "
           f"JOIN {table(ApprovalRecord)} r ON r.{id_} = t.{quote('record_id')} "
           f"JOIN {table(Branch)} tb ON tb.{id_} = t.{quote('branch_id')} "
           f"WHERE t.{id_} = %s")
    return sql, columns, read


def _task_for_action(*, user, pk: int | None, for_update: bool) -> ApprovalTask | None:
    from django.db import transaction

    from applications.models import LoanApplication
    from applications.selectors import application_scope_sql
    from loanflow.rawsql import fetch_instances

    scope = application_scope_sql(user, alias="a")
    if pk is None or scope is None:
        return None
    if for_update and connection.get_autocommit():
        raise transaction.TransactionManagementError(
            "A task is read for update inside a transaction only.")
    select, columns, read = _action_read()
    sql = f"{select} AND {scope[0]}"
    if for_update and connection.features.has_select_for_update_of:
        sql += " FOR UPDATE OF a, t, r"
    loaded = fetch_instances(sql, [pk, *scope[1]], columns, read)
    if loaded is None:
        return None
    task, application = loaded["t"], loaded["a"]
    LoanApplication.branch.field.set_cached_value(application, loaded["ab"])
    ApprovalTask.application.field.set_cached_value(task, application)
    ApprovalTask.record.field.set_cached_value(task, loaded["r"])
    ApprovalTask.branch.field.set_cached_value(task, loaded["tb"])
    return task


def task_row_values(*, pk: int, paths: tuple[str, ...]) -> dict:
    """One task's queue row as it is now (values keyed by the ORM paths asked for, as
    task_queue_rows gives them): what a queue action answers with."""
    from loanflow.errors import NotFound

    rows = QueueRows(where="t.id = %s", params=[pk], paths=paths, count=None)[0:1]
    if not rows:
        raise NotFound()
    return rows[0]


def acted_steps(*, application_id: int) -> dict[int, set[str]]:
    """Who acted at which step of the application (step decisions and committee votes), in
    one query, in plain SQL (every decision reads it, and composing the union through the ORM
    cost more than running it)."""
    acted: dict[int, set[str]] = {}
    with connection.cursor() as cursor:
        cursor.execute(_acted_steps_sql(), [application_id, ApprovalTask.Kind.STEP,
                                            application_id])
        for user_id, step in cursor.fetchall():
            acted.setdefault(user_id, set()).add(step)
    return acted


@functools.cache
def _acted_steps_sql() -> str:
    from loanflow.rawsql import quote, table

    id_, step, application = quote("id"), quote("step"), quote("application_id")
    return (f"SELECT t.{quote('decided_by_id')}, t.{step} FROM {table(ApprovalTask)} t "
            f"WHERE t.{application} = %s AND t.{quote('kind')} = %s "
            f"AND t.{quote('decided_by_id')} IS NOT NULL "
            f"UNION ALL "
            f"SELECT v.{quote('member_id')}, t.{step} FROM {table(CommitteeVote)} v "
            f"JOIN {table(ApprovalTask)} t ON t.{id_} = v.{quote('task_id')} "
            f"WHERE t.{application} = %s")


# --- Panel -------------------------------------------------------------------------------

def approval_panel(*, application) -> dict:
    """Route, reason, steps with who and when, conditions and votes (a few queries)."""
    record = record_current(application=application)
    if record is None:
        return {"record": None, "steps": [], "conditions": [], "post_reviews": []}
    tasks = list(record.tasks.select_related("claimed_by", "decided_by")
                 .prefetch_related("votes__member").order_by("step_index", "id"))
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
        steps.append({"index": index, "step": step, "tasks": step_tasks,
                      "is_current": record.status == "in_progress"
                      and index == record.current_step})
    conditions = list(ApprovalCondition.objects.filter(application=application)
                      .select_related("created_by", "satisfied_by"))
    return {"record": record, "steps": steps, "conditions": conditions,
            "post_reviews": post_reviews}


def committee_tally(*, task: ApprovalTask) -> dict:
    votes = list(task.votes.all())
    approve = sum(1 for v in votes if v.vote == "approve")
    decline = sum(1 for v in votes if v.vote == "decline")
    abstain = sum(1 for v in votes if v.vote == "abstain")
    return {"approve": approve, "decline": decline, "abstain": abstain, "cast": len(votes)}
