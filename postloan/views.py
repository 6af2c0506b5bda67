"""Staff pages for post-loan monitoring. Thin: one service call per POST; domain errors are
shown as messages (and the page answers with the error's status)."""

from datetime import date
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from common.errors import DomainError, Forbidden, InvalidInput, NotFound
from common.http import safe_next, stored_file_response
from org.permissions import has_role_perm
from org.second_factor import step_up_required
from org.selectors import is_staff_member
from postloan import exposure, selectors, services
from postloan.models import Classification, InspectionMethod, InspectionTask


class StaffView(LoginRequiredMixin, View):
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not is_staff_member(request.user):
            return render(
                request,
                "postloan/error.html",
                {"message": _("This page is for bank staff.")},
                status=403,
            )
        try:
            return super().dispatch(request, *args, **kwargs)
        except NotFound:
            return render(request, "postloan/error.html", {"message": _("Not found.")}, status=404)


def _error(request, exc: DomainError) -> None:
    text = str(exc.message)
    extra = []
    for value in (exc.details or {}).values():
        if isinstance(value, list | tuple):
            extra.extend(str(v) for v in value)
    if extra and extra != [text]:
        text = f"{text} " + " ".join(extra)
    messages.error(request, text)


def _int(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() else None


def _decimal(value: str | None) -> Decimal | None:
    value = (value or "").strip().replace(",", "")
    if not value:
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        raise InvalidInput(_("'%(v)s' is not a number.") % {"v": value}) from None


def _date(value: str | None) -> date:
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        raise InvalidInput(_("Enter a date as YYYY-MM-DD.")) from None


class QueueView(StaffView):
    """The risk officer's view: overdue tasks worst first, open alerts, pending decisions,
    the portfolio by classification and the NPL ratio."""

    def get(self, request):
        user = request.user
        return render(
            request,
            "postloan/queue.html",
            {
                "overdue_tasks": list(selectors.overdue_task_queue(user=user)[:200]),
                "alerts": list(selectors.alert_list(user=user)[:200]),
                "portfolio": selectors.portfolio_by_classification(user=user),
                "pending_changes": list(selectors.classification_pending(user=user)[:100]),
                "pending_write_offs": list(selectors.write_off_pending(user=user)[:100]),
                "my_tasks": list(
                    selectors.task_list(
                        user=user, filters={"mine": True, "status": InspectionTask.Status.OPEN}
                    )[:100]
                ),
                "can_decide": has_role_perm(user, "postloan.decide_classification"),
                "can_import": has_role_perm(user, "postloan.record_repayment"),
            },
        )


class TaskAttachmentView(StaffView):
    """One attachment of an inspection task, downloaded by someone who may see the task."""

    def get(self, request, pk: int, attachment_id: int):
        task = selectors.task_get(user=request.user, task_id=pk)
        attachment = task.attachments.filter(pk=attachment_id).first()
        if attachment is None:
            raise NotFound()
        return stored_file_response(attachment.file, filename=attachment.name)


class TaskView(StaffView):
    def get(self, request, pk: int):
        task = selectors.task_get(user=request.user, task_id=pk)
        return render(
            request,
            "postloan/task.html",
            {
                "task": task,
                "outcomes": InspectionTask.Outcome.choices,
                "methods": InspectionMethod.choices,
                "attachments": list(task.attachments.all()),
            },
        )

    def post(self, request, pk: int):
        task = selectors.task_get(user=request.user, task_id=pk)
        try:
            answers = {
                q.get("key"): request.POST.get(f"q_{q.get('key')}", "")
                for q in task.questions
                if q.get("key")
            }
            if request.FILES.get("attachment"):
                services.task_attachment_add(
                    task_id=pk, actor=request.user, file=request.FILES["attachment"]
                )
            services.task_complete(
                task_id=pk,
                actor=request.user,
                findings=request.POST.get("findings", ""),
                outcome=request.POST.get("outcome", ""),
                answers=answers,
                method=request.POST.get("method") or None,
                revenue_previous=_decimal(request.POST.get("revenue_previous")),
                revenue_current=_decimal(request.POST.get("revenue_current")),
            )
        except DomainError as exc:
            _error(request, exc)
            return redirect("postloan-task", pk=pk)
        messages.success(request, _("Inspection recorded."))
        return redirect(safe_next(request, reverse("postloan-queue")))


class AlertView(StaffView):
    def get(self, request, pk: int):
        alert = selectors.alert_get(user=request.user, alert_id=pk)
        return render(
            request,
            "postloan/alert.html",
            {
                "alert": alert,
                "can_triage": has_role_perm(request.user, "postloan.triage_alert"),
            },
        )

    def post(self, request, pk: int):
        action = request.POST.get("action")
        try:
            if action == "acknowledge":
                services.alert_acknowledge(
                    alert_id=pk, actor=request.user, comment=request.POST.get("comment", "")
                )
                messages.success(request, _("Alert acknowledged."))
            elif action == "plan":
                services.alert_record_plan(
                    alert_id=pk, actor=request.user, action_plan=request.POST.get("action_plan", "")
                )
                messages.success(request, _("Action plan recorded."))
            elif action == "close":
                services.alert_close(
                    alert_id=pk, actor=request.user, comment=request.POST.get("comment", "")
                )
                messages.success(request, _("Alert closed."))
                return redirect(safe_next(request, reverse("postloan-queue")))
            else:
                raise InvalidInput(_("Unknown action."))
        except DomainError as exc:
            _error(request, exc)
        return redirect("postloan-alert", pk=pk)


class LoanActionView(StaffView):
    """The application panel's forms: repayment, flags, classification proposal, write-off."""

    def post(self, request, application_id: int, action: str):
        user, post = request.user, request.POST
        try:
            if action == "repayment":
                services.repayment_record(
                    application_id=application_id,
                    actor=user,
                    amount=_decimal(post.get("amount")) or Decimal("0"),
                    value_date=_date(post.get("value_date")),
                    external_id=post.get("external_id") or None,
                )
                messages.success(request, _("Repayment recorded."))
            elif action == "flags":
                services.loan_flag(
                    application_id=application_id,
                    actor=user,
                    litigation=post.get("litigation") == "on",
                    guarantor_trouble=post.get("guarantor_trouble") == "on",
                    note=post.get("note", ""),
                )
                messages.success(request, _("Flags saved."))
            elif action == "classification":
                services.classification_propose(
                    application_id=application_id,
                    actor=user,
                    to_classification=post.get("to_classification", ""),
                    reason=post.get("reason", ""),
                )
                messages.success(request, _("Change proposed; a risk officer will review it."))
            elif action == "prepayment":
                services.prepayment_file(
                    application_id=application_id,
                    actor=user,
                    kind=post.get("kind", ""),
                    value_date=_date(post.get("value_date")),
                    principal=_decimal(post.get("principal")),
                    comment=post.get("comment", ""),
                    request_id=int(post["request_id"])
                    if post.get("request_id", "").isdigit()
                    else None,
                )
                messages.success(
                    request, _("Prepayment filed; a second person confirms it when paid.")
                )
            elif action in ("owner-request-decline", "prepayment-request-decline"):
                services.owner_request_decline(
                    application_id=application_id,
                    request_id=int(post["request_id"])
                    if post.get("request_id", "").isdigit()
                    else 0,
                    actor=user,
                    comment=post.get("comment", ""),
                )
                messages.success(request, _("The request is declined; the borrower reads why."))
            elif action == "change":
                from postloan.changes import change_file

                change = change_file(
                    actor=user,
                    application_id=application_id,
                    kind=post.get("kind", ""),
                    reason=post.get("reason", ""),
                    amount=_decimal(post.get("amount")),
                    term_months=_int(post.get("term_months")),
                    interest_rate=_decimal(post.get("interest_rate")),
                    repayment_method=post.get("repayment_method", ""),
                    extension_months=_int(post.get("extension_months")),
                    grace_months=_int(post.get("grace_months")) or 0,
                    request_id=_int(post.get("request_id")),
                )
                messages.success(request, _("Change filed; a colleague reviews it."))
                return redirect(reverse("application-detail", args=[change.pk]))
            elif action == "change-review":
                from postloan.changes import UPDATED_FIGURES, change_review_confirm

                change_review_confirm(
                    actor=user,
                    application_id=application_id,
                    opinion=post.get("opinion", ""),
                    updated={k: post[k] for k in UPDATED_FIGURES if post.get(k, "").strip()},
                )
                messages.success(request, _("Figures confirmed."))
            elif action == "change-apply":
                from postloan.changes import change_apply

                change_apply(
                    actor=user,
                    application_id=application_id,
                    agreement_reference=post.get("agreement_reference", ""),
                    signed_on=_date(post.get("signed_on")) if post.get("signed_on") else None,
                )
                messages.success(request, _("Change applied: the loan has its new schedule."))
            elif action == "write-off":
                services.write_off_propose(
                    application_id=application_id, actor=user, reason=post.get("reason", "")
                )
                messages.success(request, _("Write-off proposed."))
            else:
                raise NotFound()
        except NotFound:
            raise
        except DomainError as exc:
            _error(request, exc)
        return redirect(safe_next(request, reverse("application-detail", args=[application_id])))


class PrepaymentDecideView(StaffView):
    """Confirm (a second person, when the money is received, with a fresh second factor) or
    cancel a prepayment."""

    @step_up_required(
        when=lambda request, decision, **kwargs: decision == "confirm",
        return_to=lambda request, **kwargs: safe_next(request, reverse("postloan-queue")),
    )
    def post(self, request, pk: int, decision: str):
        if decision not in ("confirm", "cancel"):
            raise NotFound()
        decide = (
            services.prepayment_confirm if decision == "confirm" else services.prepayment_cancel
        )
        try:
            decide(prepayment_id=pk, actor=request.user, comment=request.POST.get("comment", ""))
            messages.success(request, _("Decision recorded."))
        except DomainError as exc:
            _error(request, exc)
        return redirect(safe_next(request, reverse("postloan-queue")))


class ClassificationDecideView(StaffView):
    def post(self, request, pk: int, decision: str):
        if decision not in ("approve", "reject"):
            raise NotFound()
        try:
            services.classification_decide(
                change_id=pk,
                actor=request.user,
                approve=decision == "approve",
                comment=request.POST.get("comment", ""),
            )
            messages.success(request, _("Decision recorded."))
        except (Forbidden, DomainError) as exc:
            _error(request, exc)
        return redirect(safe_next(request, reverse("postloan-queue")))


class WriteOffDecideView(StaffView):
    @step_up_required(
        when=lambda request, decision, **kwargs: decision == "approve",
        return_to=lambda request, **kwargs: safe_next(request, reverse("postloan-queue")),
    )
    def post(self, request, pk: int, decision: str):
        if decision not in ("approve", "reject"):
            raise NotFound()
        try:
            services.write_off_decide(
                write_off_id=pk,
                actor=request.user,
                approve=decision == "approve",
                comment=request.POST.get("comment", ""),
            )
            messages.success(request, _("Decision recorded."))
        except DomainError as exc:
            _error(request, exc)
        return redirect(safe_next(request, reverse("postloan-queue")))


class RepaymentImportView(StaffView):
    def get(self, request):
        return render(request, "postloan/import.html", {})

    def post(self, request):
        upload = request.FILES.get("file")
        errors: list[str] = []
        batch = None
        try:
            if upload is None:
                raise InvalidInput(_("Choose a CSV file."))
            batch = services.repayment_import(
                actor=request.user, file_name=upload.name, content=upload.read()
            )
        except DomainError as exc:
            errors = [str(e) for e in (exc.details or {}).get("rows", [])] or [str(exc.message)]
        return render(
            request,
            "postloan/import.html",
            {"batch": batch, "errors": errors},
            status=400 if errors else 200,
        )


CLASSIFICATIONS = Classification.choices


class ExposureView(StaffView):
    """/postloan/exposure/: the bank's exposure as of the latest snapshot by customer, group,
    industry or branch (`?dimension=`; risk officers and branch heads, over their branch
    scope): customers and groups largest first a page at a time (`?page=`, `?q=` finds a
    customer by name or credit code), those above the concentration limits marked;
    `?export=<dimension>` downloads all the rows of one table as CSV, streamed. POST: "Refresh
    now" (a new snapshot, taken in the background; 409 while one is being taken)."""

    def post(self, request):
        from postloan.snapshot import exposure_snapshot_request

        try:
            exposure_snapshot_request(actor=request.user)
        except Forbidden as exc:
            return render(request, "postloan/error.html", {"message": exc.message}, status=403)
        except DomainError as exc:
            _error(request, exc)
            response = self.get(request)
            response.status_code = exc.status_code
            return response
        messages.success(
            request, _("A refresh of the exposure is being taken; reload the page in a minute.")
        )
        return redirect(safe_next(request, reverse("postloan-exposure")))

    def get(self, request):
        from django.core.paginator import Paginator

        export = request.GET.get("export", "")
        dimension = export or request.GET.get("dimension", "customer")
        q = request.GET.get("q", "").strip()
        try:
            overview = exposure.exposure_overview_for(user=request.user, dimension=dimension, q=q)
        except Forbidden as exc:
            return render(request, "postloan/error.html", {"message": exc.message}, status=403)
        except DomainError:
            message = (
                _("Choose customer, group, industry or branch to export.")
                if export
                else _("Choose customer, group, industry or branch.")
            )
            return render(request, "postloan/error.html", {"message": message}, status=400)
        if export:
            return _csv_streamed(f"exposure-{export}", exposure.exposure_table(overview))
        page = Paginator(overview.rows, exposure.PAGE_SIZE).get_page(request.GET.get("page"))
        return render(
            request,
            "postloan/exposure.html",
            {
                "overview": overview,
                "page": page,
                "rows": overview.figures(page.object_list),
                "dimensions": exposure.DIMENSIONS,
            },
        )


class _Echo:
    """A file whose write returns what it is given (csv.writer for a streamed response)."""

    def write(self, value):
        return value


def _csv_streamed(name: str, rows):
    """A CSV download streamed a row at a time, with a BOM so spreadsheet programs read the
    Chinese names as UTF-8."""
    import csv
    from itertools import chain

    from django.http import StreamingHttpResponse
    from django.utils import timezone

    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        chain(["\ufeff"], (writer.writerow(row) for row in rows)),
        content_type="text/csv; charset=utf-8",
    )
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="loanflow-{name}-{stamp}.csv"'
    return response
