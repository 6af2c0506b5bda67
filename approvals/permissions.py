"""Who may act at one approval task, as django-rules predicates `(user, task)`.

`may_act_at_the_step` is the rule: the step's role, 审贷分离 on the task's application, one step
per person, the limit at the grade. `approvals.services.step_refusal` tests the same
predicates one by one to say which refuses.
"""

from decimal import Decimal

import rules

from applications.permissions import filed_it, investigated_it, manages_it
from approvals.models import ApprovalTask
from approvals.selectors import acted_steps, approver_limit
from org.roles import roles_of


def read_once(task: ApprovalTask, key, read):
    """What a check reads about `task`, read once per task instance. A decision reads its
    task locked (with its application); the task's service checks the decider, then the
    application's transition checks the same decider at the same task again (its duty rule):
    the second check reuses these reads, taken under the same locks in the same
    transaction."""
    memo = task.__dict__.setdefault("_check_reads", {})
    if key not in memo:
        memo[key] = read()
    return memo[key]


@rules.predicate
def holds_the_steps_role(user, task: ApprovalTask) -> bool:
    return task is not None and task.role in roles_of(user)


@rules.predicate
def filed_or_manages_its_application(user, task: ApprovalTask) -> bool:
    return task is not None and (
        filed_it(user, task.application) or manages_it(user, task.application)
    )


@rules.predicate
def investigated_its_application(user, task: ApprovalTask) -> bool:
    return task is not None and investigated_it(user, task.application)


def other_steps_acted_at(user, task: ApprovalTask) -> set[str]:
    """The other steps of the task's application at which `user` acted (one query)."""
    if task is None or task.kind != ApprovalTask.Kind.STEP:
        return set()
    acted = read_once(
        task, "acted_steps", lambda: acted_steps(application_id=task.application_id)
    ).get(user.pk, set())
    return acted - {task.step}


@rules.predicate
def acted_at_another_step(user, task: ApprovalTask) -> bool:
    """One person acts at one step of an application only."""
    return bool(other_steps_acted_at(user, task))


def step_checks_limit(task: ApprovalTask) -> bool:
    if task is None or task.kind != ApprovalTask.Kind.STEP:
        return False
    route = task.record.route
    return task.step_index < len(route) and bool(route[task.step_index].get("checks_limit"))


def limit_at_grade(user, task: ApprovalTask):
    application = task.application
    return read_once(
        task,
        ("limit", user.pk, application.risk_grade, application.currency),
        lambda: approver_limit(
            user=user, grade=application.risk_grade, currency=application.currency
        ),
    )


def limit_basis(task: ApprovalTask) -> Decimal:
    """What an approver's limit must cover: the group's exposure after this application, as
    fixed with the route, or its amount when that is larger (or no exposure was recorded)."""
    exposure = task.record.exposure_after
    amount = task.application.amount
    return exposure if exposure is not None and exposure > amount else amount


@rules.predicate
def within_limit(user, task: ApprovalTask) -> bool:
    """The user's limit at the application's grade covers the exposure after it (at least
    its amount), where the step checks limits (a step that does not is within anyone's
    limit)."""
    if task is None:
        return False
    if not step_checks_limit(task):
        return True
    return limit_at_grade(user, task) >= limit_basis(task)


may_act_at_the_step = (
    holds_the_steps_role
    & ~filed_or_manages_its_application
    & ~investigated_its_application
    & ~acted_at_another_step
    & within_limit
)
