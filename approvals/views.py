"""Pages: the approver's queue and the decision page of a task. Each POST calls one service."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from applications.models import Product
from approvals import selectors, services
from approvals.api import QueuePaginator
from approvals.filters import TaskQueueFilter
from approvals.models import ApprovalTask, CommitteeVote, DeclineReason
from common.errors import DomainError, InvalidInput
from org.roles import Role, has_role
from org.second_factor import step_up_required
from org.selectors import branches_in_scope, user_sees_branch


@login_required
def queue_page(request):
    now = timezone.now()
    counts = selectors.task_queue_counts(user=request.user, now=now)
    tasks = TaskQueueFilter(
        request.GET, queryset=selectors.task_queue(user=request.user), request=request
    )
    # The whole queue is sized from its counts; a filtered one is counted.
    filtered = any(request.GET.get(name) for name in TaskQueueFilter.base_filters)
    size = None if filtered else selectors.task_queue_size(counts=counts)
    page = QueuePaginator(tasks.qs, 25, size=size).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "approvals/queue.html",
        {
            "page": page,
            "counts": counts,
            "filters": tasks.data,
            "now": now,
            "querystring": query.urlencode(),
            "grades": ["A", "B", "C", "D", "E"],
            "products": Product.objects.order_by("code"),
            "branches": branches_in_scope(request.user),
            "role_labels": dict(Role.choices),
        },
    )


@login_required
def task_page(request, pk: int):
    return _task_page(request, pk)


def _task_page(request, pk: int, *, decision_form: dict | None = None, errors=None, status=200):
    """The approver's workbench: the task, the credit case it decides on and the decision
    form (after a refused decision: what was entered, with each field's message, 400)."""
    try:
        task = selectors.task_get(user=request.user, pk=pk)
    except DomainError:
        from django.http import Http404

        raise Http404 from None
    refusal = None
    reassign = None
    if task.status in ("open", "claimed"):
        found = services.step_refusal(task=task, actor=request.user)
        refusal = found[1] if found else None
        if has_role(request.user, Role.BRANCH_HEAD) and user_sees_branch(request.user, task.branch):
            # The branch head may give the task to anyone who may take it (or say why
            # nobody may), claimed or not.
            takers, nobody = services.task_takers(task=task)
            reassign = {
                "takers": [u for u in takers if u.pk != task.claimed_by_id],
                "nobody": nobody,
            }
    votes = list(task.votes.select_related("member"))
    workbench = selectors.task_workbench(task=task)
    entered = decision_form or {}
    errors = errors or {}
    mitigation_errors = (
        errors.get("mitigations") if isinstance(errors.get("mitigations"), dict) else {}
    )
    mitigation_fields = [
        {
            "flag": flag,
            "name": f"mitigation-{flag.pk}",
            "value": entered.get("mitigations", {}).get(str(flag.pk), ""),
            "errors": mitigation_errors.get(str(flag.pk), []),
        }
        for flag in workbench["case"]["high_flags"]
    ]
    return render(
        request,
        "approvals/task.html",
        {
            "task": task,
            "application": task.application,
            "record": task.record,
            "terms": selectors.terms_in_approval(
                application=task.application, changed=task.record.terms
            ),
            "refusal": refusal,
            "votes": votes,
            "tally": selectors.committee_tally(task=task) if task.is_committee else None,
            "decisions": _decisions(task),
            "vote_choices": CommitteeVote.Vote.choices,
            "decline_reasons": DeclineReason.objects.filter(is_active=True),
            "is_mine": task.claimed_by_id == request.user.pk,
            "is_head": has_role(request.user, Role.BRANCH_HEAD),
            "reassign": reassign,
            "now": timezone.now(),
            **workbench,
            "entered": entered,
            "errors": errors,
            "mitigation_fields": mitigation_fields,
        },
        status=status,
    )


def _assignee(value: str):
    """The person a branch head gives a task to ("" for back to the queue)."""
    from django.contrib.auth import get_user_model

    if not value:
        return None
    user = get_user_model().objects.filter(pk=int(value)).first() if value.isdigit() else None
    if user is None:
        raise InvalidInput(details={"assignee": [_("Choose someone from the list.")]})
    return user


def _form_again(request, pk: int, entered: dict, exc: InvalidInput, summary: str):
    """The task page again with the form as entered and each field's message (400)."""
    messages.error(request, summary if exc.details else str(exc.message))
    return _task_page(request, pk, decision_form=entered, errors=exc.details, status=400)


def _mitigations_posted(post) -> dict:
    """What the form says of each open High flag (its `mitigation-<flag id>` fields)."""
    return {
        key.removeprefix("mitigation-"): value
        for key, value in post.items()
        if key.startswith("mitigation-")
    }


def _decisions(task):
    D = ApprovalTask.Decision
    if task.kind == ApprovalTask.Kind.POST_REVIEW:
        wanted = [D.CONFIRM, D.CONCERN]
    else:
        wanted = [D.APPROVE, D.APPROVE_WITH_CONDITIONS, D.DECLINE, D.RETURN, D.REQUEST_INFORMATION]
    return [(d.value, d.label) for d in wanted]


@login_required
@require_POST
@step_up_required(
    when=lambda request, action, **kwargs: action in ("decide", "close-vote"),
    return_to=lambda request, pk, **kwargs: reverse("approvals-task", args=[pk]),
)
def task_action(request, pk: int, action: str):
    post = request.POST
    comment = post.get("comment", "")
    back = post.get("next") or ""
    try:
        if action == "claim":
            services.task_claim(task_id=pk, actor=request.user)
            messages.success(request, _("The task is yours."))
            back = back or "task"
        elif action == "release":
            services.task_release(task_id=pk, actor=request.user, comment=comment)
            messages.success(request, _("The task is back in the queue."))
        elif action == "decide":
            entered = {
                "decision": post.get("decision", ""),
                "comment": comment,
                "conditions": post.get("conditions", ""),
                "reasons": post.getlist("reasons"),
                "mitigations": _mitigations_posted(post),
                "below_floor_reason": post.get("below_floor_reason", ""),
                **{key: post.get(key, "").strip() for key in services.TERMS},
            }
            try:
                services.task_decide(
                    task_id=pk,
                    actor=request.user,
                    decision=entered["decision"],
                    comment=comment,
                    conditions=entered["conditions"].splitlines(),
                    reasons=entered["reasons"],
                    mitigations=entered["mitigations"],
                    below_floor_reason=entered["below_floor_reason"],
                    terms={key: entered[key] for key in services.TERMS},
                )
            except InvalidInput as exc:
                return _form_again(
                    request,
                    pk,
                    entered,
                    exc,
                    _("The decision was not recorded: see the messages by the fields."),
                )
            messages.success(request, _("Decision recorded."))
            back = "queue"
        elif action == "vote":
            entered = {
                "vote": post.get("vote", ""),
                "comment": comment,
                "mitigations": _mitigations_posted(post),
            }
            try:
                services.committee_vote(
                    task_id=pk,
                    actor=request.user,
                    vote=entered["vote"],
                    comment=comment,
                    mitigations=entered["mitigations"],
                )
            except InvalidInput as exc:
                return _form_again(
                    request,
                    pk,
                    entered,
                    exc,
                    _("The vote was not recorded: see the messages by the fields."),
                )
            messages.success(request, _("Your vote is recorded."))
            back = "task"
        elif action == "reassign":
            assignee = _assignee(post.get("assignee", ""))
            services.task_reassign(
                task_id=pk, actor=request.user, assignee=assignee, comment=comment
            )
            messages.success(
                request,
                _("The task is given to %(user)s.") % {"user": assignee.username}
                if assignee
                else _("The task is back in the queue."),
            )
            back = "task"
        elif action == "close-vote":
            entered = {
                "close_comment": comment,
                **{key: post.get(key, "").strip() for key in services.TERMS},
            }
            try:
                services.committee_close(
                    task_id=pk,
                    actor=request.user,
                    comment=comment,
                    terms={key: entered[key] for key in services.TERMS},
                )
            except InvalidInput as exc:
                return _form_again(
                    request,
                    pk,
                    entered,
                    exc,
                    _("The vote was not closed: see the messages by the fields."),
                )
            messages.success(request, _("The vote is closed."))
            back = "queue"
        else:
            from django.http import Http404

            raise Http404
    except DomainError as exc:
        details = "; ".join(
            f"{k}: {', '.join(map(str, v))}" for k, v in exc.details.items() if isinstance(v, list)
        )
        messages.error(request, f"{exc.message} {details}".strip())
        return (
            redirect("approvals-task", pk=pk) if action != "claim" else redirect("approvals-queue")
        )
    if back == "task":
        return redirect("approvals-task", pk=pk)
    return redirect("approvals-queue")


@login_required
@require_POST
def concern_clear(request, pk: int):
    """A branch head or a credit reviewer clears a post-reviewer's concern, saying why."""
    from approvals.models import PostReviewConcern

    application_id = (
        PostReviewConcern.objects.filter(pk=pk).values_list("application_id", flat=True).first()
    )
    try:
        services.post_review_concern_clear(
            concern_id=pk, actor=request.user, reason=request.POST.get("reason", "")
        )
        messages.success(request, _("The concern is cleared."))
    except DomainError as exc:
        details = "; ".join(
            f"{', '.join(map(str, v))}" for v in exc.details.values() if isinstance(v, list)
        )
        messages.error(request, f"{exc.message} {details}".strip())
    if application_id is None:
        return redirect("approvals-queue")
    return redirect("application-detail", pk=application_id)
