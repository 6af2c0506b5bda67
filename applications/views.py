"""Staff pages for the loan record: sign-in, the role-aware home page ("my work"), the list
with filters, a simple filing form, and the application page with its timeline, the actions
the user may take now and each stage's panel.

Views only validate and delegate: every write is a call to applications.services."""

from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils import translation
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import TemplateView

from applications.filters import ApplicationFilter
from applications.labels import action_label
from applications.models import GuaranteeType, LoanApplication, Product, RepaymentMethod, Status
from applications.selectors import (
    application_get,
    application_list,
    is_portal_user,
)
from applications.services import (
    INTERNAL_TRANSITIONS,
    TRANSITION_NAMES,
    application_available_actions,
    application_create,
    application_transition,
)
from approvals import selectors as approval_selectors
from audit.selectors import application_timeline
from common.errors import Conflict, DomainError, NotFound
from customers.models import Company
from disbursement import selectors as disbursement_selectors
from notifications import selectors as notification_selectors
from notifications.models import Kind as NotificationKind
from org.audience import open_to_owners
from org.permissions import has_role_perm
from org.roles import Role, roles_of
from org.second_factor import requires_second_factor, second_factor_url
from org.selectors import branches_in_scope, is_staff_member
from postloan import selectors as postloan_selectors

PAGE_SIZE = 25

# What a relationship manager must move on: each is an action of theirs.
RM_ACTION_STATUSES = (
    Status.SUBMITTED,
    Status.INVESTIGATION,
    Status.INFO_REQUESTED,
    Status.APPROVED,
)


@open_to_owners
class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        if is_portal_user(self.request.user):
            return resolve_url("portal-home")
        return super().get_default_redirect_url()

    def get_success_url(self):
        # After the password, a role that needs a second factor enters a code (or enrols an
        # authenticator) before going where it was headed.
        url = super().get_success_url()
        user = self.request.user
        if requires_second_factor(user) and not getattr(user, "otp_device", None):
            return second_factor_url(user, next_url=url)
        return url


@open_to_owners
class LogoutView(auth_views.LogoutView):
    pass


class HomeView(LoginRequiredMixin, TemplateView):
    template_name = "home.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and is_portal_user(request.user):
            return redirect("portal-home")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        roles = roles_of(user)
        scoped = application_list(user=user)
        # One query for every status count in the user's scope.
        counts = dict(scoped.order_by().values_list("status").annotate(n=Count("id")))
        context["status_counts"] = [
            {"status": value, "label": label, "count": counts.get(value, 0)}
            for value, label in Status.choices
        ]
        context["total"] = sum(counts.values())
        context["roles"] = sorted(str(Role(r).label) for r in roles if r in Role.values)
        cards = []
        if Role.RELATIONSHIP_MANAGER in roles:
            mine = scoped.filter(relationship_manager=user)
            context["my_drafts"] = list(mine.filter(status=Status.DRAFT)[:10])
            context["my_drafts_count"] = _count_in(mine, [Status.DRAFT])
            context["needs_action"] = list(
                mine.filter(status__in=RM_ACTION_STATUSES).order_by("status_changed_at")[:15]
            )
            context["needs_action_count"] = _count_in(mine, RM_ACTION_STATUSES)
            context["is_rm"] = True
        # Each card counts what the page it links to lists for this user.
        if roles & {Role.CREDIT_REVIEWER, Role.APPROVER, Role.COMMITTEE_MEMBER}:
            queues = approval_selectors.task_queue_counts(user=user)
            cards.append(
                {
                    "title": _("Approval queue"),
                    "url": reverse("approvals-queue"),
                    "count": sum(row["total"] for row in queues),
                    "text": _("tasks open or claimed in your queues"),
                }
            )
        if Role.DISBURSEMENT_OFFICER in roles:
            cards.append(
                {
                    "title": _("Ready to disburse"),
                    "url": reverse("disbursement-queue") + "?show=record",
                    "count": disbursement_selectors.payouts_to_record(user=user).count(),
                    "text": _("contracts signed, waiting for the money"),
                }
            )
        if Role.DISBURSEMENT_CHECKER in roles:
            cards.append(
                {
                    "title": _("To confirm"),
                    "url": reverse("disbursement-queue") + "?show=confirm",
                    "count": disbursement_selectors.payouts_to_confirm(user=user).count(),
                    "text": _("waiting for your confirmation"),
                }
            )
        if Role.RISK_OFFICER in roles:
            cards.append(
                {
                    "title": _("Post-loan queue"),
                    "url": reverse("postloan-queue"),
                    "count": sum(
                        queryset.count()
                        for queryset in (
                            postloan_selectors.overdue_task_queue(user=user),
                            postloan_selectors.alert_list(user=user),
                            postloan_selectors.classification_pending(user=user),
                            postloan_selectors.write_off_pending(user=user),
                        )
                    ),
                    "text": _("overdue inspections, open alerts and proposals to decide"),
                }
            )
        if Role.BRANCH_HEAD in roles:
            cards.append(
                {
                    "title": _("Escalations"),
                    "url": reverse("notification-list") + f"?kind={NotificationKind.ESCALATION}"
                    "&unread=1",
                    "count": notification_selectors.notification_list(
                        user=user, kind=NotificationKind.ESCALATION, unread_only=True
                    ).count(),
                    "text": _("escalations to act on"),
                }
            )
        if roles & {Role.BRANCH_HEAD, Role.ADMINISTRATOR} or _is_head_office(user):
            cards.append(
                {
                    "title": _("Analytics dashboard"),
                    "url": reverse("analytics-dashboard"),
                    "count": context["total"],
                    "text": _("applications in your scope"),
                }
            )
        context["cards"] = cards
        return context


def _count_in(queryset, statuses) -> int:
    return queryset.filter(status__in=list(statuses)).count()


def _is_head_office(user) -> bool:
    profile = getattr(user, "staff_profile", None)
    return bool(profile and profile.branch.is_head_office)


class StaffRequiredMixin(LoginRequiredMixin):
    """Staff pages: an SME owner is sent to the portal, anyone else without a role gets 404."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not is_staff_member(request.user):
            if Role.APPLICANT in roles_of(request.user):
                return redirect("portal-home")
            raise Http404
        return super().dispatch(request, *args, **kwargs)


class ApplicationListView(StaffRequiredMixin, View):
    def get(self, request):
        params = request.GET
        # A bad value shows as an error above the list, which keeps the valid filters.
        filterset = ApplicationFilter(params)
        filters = filterset.selector_filters()
        qs = application_list(user=request.user, filters=filters)
        page = Paginator(qs, PAGE_SIZE).get_page(params.get("page"))
        query = params.copy()
        query.pop("page", None)
        return render(
            request,
            "applications/list.html",
            {
                "page": page,
                "applications": page.object_list,
                "filters": filters,
                "filter_form": filterset.form,
                "statuses": Status.choices,
                "products": Product.objects.order_by("code"),
                "branches": branches_in_scope(request.user),
                "querystring": query.urlencode(),
                "can_create": has_role_perm(request.user, "applications.create_application"),
            },
        )


class SimpleApplicationForm(forms.Form):
    company = forms.ModelChoiceField(label=_("Company"), queryset=Company.objects.none())
    product = forms.ModelChoiceField(
        label=_("Product"), queryset=Product.objects.filter(is_active=True)
    )
    amount = forms.DecimalField(
        label=_("Amount"), max_digits=18, decimal_places=2, min_value=Decimal("0.01")
    )
    term_months = forms.IntegerField(label=_("Term (months)"), min_value=1, max_value=600)
    interest_rate = forms.DecimalField(
        label=_("Annual interest rate (%)"), max_digits=6, decimal_places=3, min_value=Decimal("0")
    )
    repayment_method = forms.ChoiceField(
        label=_("Repayment method"), choices=RepaymentMethod.choices
    )
    guarantee_type = forms.ChoiceField(label=_("Guarantee type"), choices=GuaranteeType.choices)
    purpose = forms.CharField(
        label=_("Purpose"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    language = forms.ChoiceField(
        label=_("Language of the application"),
        choices=settings.LANGUAGES,
        initial=translation.get_language,
        help_text=_("The credit memo, offer letter and schedule are written in it."),
        required=False,
    )

    def clean_language(self) -> str:
        # Not chosen: the language the form is filled in.
        return self.cleaned_data.get("language") or translation.get_language()

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        branches = branches_in_scope(user)
        self.fields["company"].queryset = Company.objects.filter(home_branch__in=branches).order_by(
            "name"
        )


class ApplicationCreateSimpleView(StaffRequiredMixin, View):
    """One form that files a draft (the intake stage offers the full multi-step filing)."""

    template_name = "applications/create_simple.html"

    def dispatch(self, request, *args, **kwargs):
        if (
            request.user.is_authenticated
            and not has_role_perm(request.user, "applications.create_application")
            and is_staff_member(request.user)
        ):
            messages.error(request, gettext("Only relationship managers file applications."))
            return redirect("application-list")
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        form = SimpleApplicationForm(
            user=request.user,
            initial={
                "term_months": 12,
                "interest_rate": "4.350",
                "repayment_method": RepaymentMethod.EQUAL_INSTALMENTS,
                "guarantee_type": GuaranteeType.CREDIT,
            },
        )
        return render(request, self.template_name, {"form": form})

    def post(self, request):
        form = SimpleApplicationForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                application = application_create(actor=request.user, **form.cleaned_data)
            except Conflict as exc:
                url = exc.details.get("existing_url")
                if url:
                    messages.error(
                        request,
                        format_html('{} <a href="{}">{}</a>', exc.message, url, gettext("Open it")),
                    )
                else:
                    messages.error(request, exc.message)
            except DomainError as exc:
                for field, errors in (exc.details or {}).items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
                if not exc.details:
                    form.add_error(None, exc.message)
            else:
                messages.success(
                    request, gettext("Draft %(ref)s filed.") % {"ref": application.reference}
                )
                return redirect("application-detail", pk=application.pk)
        return render(request, self.template_name, {"form": form}, status=400)


def _load(user, pk) -> LoanApplication:
    try:
        return application_get(user=user, pk=pk)
    except NotFound:
        raise Http404 from None


def render_application(request, application: LoanApplication, *, status: int = 200):
    actions = application_available_actions(application=application, user=request.user)
    timeline = application_timeline(application=application, include_refusals=True)
    return render(
        request,
        "applications/detail.html",
        {
            "application": application,
            "actions": actions,
            "timeline": timeline,
            "user": request.user,
        },
        status=status,
    )


class ApplicationDetailView(StaffRequiredMixin, View):
    def get(self, request, pk: int):
        return render_application(request, _load(request.user, pk))


class ApplicationActionView(StaffRequiredMixin, View):
    """POST one transition from the application page. Refusals come back as a message on
    the page with the refusal's status code (403, 409), never a 500."""

    def post(self, request, pk: int, name: str):
        application = _load(request.user, pk)
        if name not in TRANSITION_NAMES:
            raise Http404
        if name in INTERNAL_TRANSITIONS:
            messages.error(request, gettext("This action is taken through its stage's own screen."))
            return render_application(request, application, status=403)
        comment = request.POST.get("comment", "").strip()[:4000]
        data = {}
        reasons = [r.strip() for r in request.POST.getlist("reasons") if r.strip()]
        if reasons:
            data["reasons"] = reasons[:20]
        try:
            application_transition(
                application_id=application.pk,
                transition=name,
                actor=request.user,
                comment=comment,
                data=data,
            )
        except DomainError as exc:
            text = str(exc.message)
            missing = getattr(exc, "missing", None)
            if missing:
                messages.error(
                    request,
                    format_html(
                        "{}<ul>{}</ul>",
                        text,
                        format_html_join("", "<li>{}</li>", ((item,) for item in missing)),
                    ),
                )
            else:
                messages.error(request, text)
            return render_application(request, _load(request.user, pk), status=exc.status_code)
        messages.success(request, gettext("Done: %(action)s.") % {"action": action_label(name)})
        return redirect("application-detail", pk=application.pk)
