"""Staff shell: login, logout and the role-aware home page ("my work")."""

from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import Count
from django.shortcuts import redirect, resolve_url
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from applications.models import Status
from applications.selectors import applicant_company_id, application_list
from org.roles import Role, roles_of
from org.selectors import is_staff_member

# What a relationship manager must move on: each is an action of theirs.
RM_ACTION_STATUSES = (Status.SUBMITTED, Status.INVESTIGATION, Status.INFO_REQUESTED,
                      Status.APPROVED)


def is_portal_user(user) -> bool:
    """An SME owner with no staff role: the portal is their whole product."""
    return applicant_company_id(user) is not None and not is_staff_member(user)


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        if is_portal_user(self.request.user):
            return resolve_url("portal-home")
        return super().get_default_redirect_url()


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
            context["my_drafts_count"] = counts_for(mine, [Status.DRAFT])
            context["needs_action"] = list(
                mine.filter(status__in=RM_ACTION_STATUSES).order_by("status_changed_at")[:15])
            context["needs_action_count"] = counts_for(mine, RM_ACTION_STATUSES)
            context["is_rm"] = True
        if roles & {Role.CREDIT_REVIEWER, Role.APPROVER, Role.COMMITTEE_MEMBER}:
            cards.append({"title": _("Approval queue"), "url": "/approvals/queue/",
                          "count": counts.get(Status.IN_APPROVAL, 0),
                          "text": _("applications in approval in your scope")})
        if roles & {Role.DISBURSEMENT_OFFICER, Role.DISBURSEMENT_CHECKER}:
            cards.append({"title": _("Ready to disburse"),
                          "url": _page("disbursement-queue",
                                       f"/applications/?status={Status.CONTRACT_SIGNED}"),
                          "count": counts.get(Status.CONTRACT_SIGNED, 0),
                          "text": _("contracts signed, waiting for the money")})
        if Role.RISK_OFFICER in roles:
            cards.append({"title": _("Post-loan queue"), "url": "/postloan/",
                          "count": counts.get(Status.DISBURSED, 0),
                          "text": _("loans running in your scope")})
        if roles & {Role.BRANCH_HEAD, Role.ADMINISTRATOR} or _is_head_office(user):
            cards.append({"title": _("Analytics dashboard"), "url": "/analytics/",
                          "count": context["total"],
                          "text": _("applications in your scope")})
        context["cards"] = cards
        return context


def _page(name: str, fallback: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:
        return fallback


def counts_for(queryset, statuses) -> int:
    return queryset.filter(status__in=list(statuses)).count()


def _is_head_office(user) -> bool:
    profile = getattr(user, "staff_profile", None)
    return bool(profile and profile.branch.is_head_office)
