"""Template helpers of the staff UI and the portal: optional includes (a stage's panel, the
notification bell) that render nothing while the stage has not written its template, the
role-aware navigation, and labels."""

from django import template
from django.template import TemplateDoesNotExist
from django.template.defaultfilters import floatformat
from django.template.loader import select_template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from applications import labels
from org.roles import Role, roles_granting, roles_of

register = template.Library()

# Stages whose `<app>/application_panel.html` the application page shows, in process order.
PANEL_APPS = [
    "intake",
    "investigation",
    "approvals",
    "disbursement",
    "postloan",
    "sla",
    "analytics",
    "messaging",
    "complaints",
]


def _render_optional(context, names) -> SafeString:
    try:
        tpl = select_template(list(names))
    except TemplateDoesNotExist:
        return SafeString("")
    # Rendered outside the try: a missing template *inside* an existing panel is a real bug.
    return tpl.render(context.flatten(), request=context.get("request"))


@register.simple_tag(takes_context=True)
def stage_panels(context, filename="application_panel.html", *apps):
    """Each stage's `<app>/<filename>` that exists, in process order, one <section> each."""
    out = SafeString("")
    for app in apps or PANEL_APPS:
        html = _render_optional(context, [f"{app}/{filename}"])
        if html.strip():
            # `html` is the SafeString a template renders, so format_html keeps it as markup.
            out += format_html('<section class="stage-panel" id="panel-{}">{}</section>', app, html)
    return out


APPROVER_ROLES = {Role.CREDIT_REVIEWER, Role.APPROVER, Role.COMMITTEE_MEMBER}
POSTLOAN_ROLES = {Role.RISK_OFFICER, Role.RELATIONSHIP_MANAGER, Role.BRANCH_HEAD}
DISBURSEMENT_ROLES = {Role.DISBURSEMENT_OFFICER, Role.DISBURSEMENT_CHECKER}
ANALYTICS_ROLES = {Role.BRANCH_HEAD, Role.ADMINISTRATOR, Role.RISK_OFFICER}


@register.simple_tag(takes_context=True)
def staff_nav(context):
    """The navigation links the signed-in staff member needs, marked active by path."""
    request = context.get("request")
    user = getattr(request, "user", None)
    roles = roles_of(user)
    path = request.path if request else ""
    items = [
        (_("My work"), reverse("home"), True),
        (_("Applications"), reverse("application-list"), True),
        (_("Investigation"), reverse("investigation-queue"), Role.RELATIONSHIP_MANAGER in roles),
        (_("Approval queue"), reverse("approvals-queue"), bool(roles & APPROVER_ROLES)),
        (_("Disbursement"), reverse("disbursement-queue"), bool(roles & DISBURSEMENT_ROLES)),
        (_("Post-loan"), reverse("postloan-queue"), bool(roles & POSTLOAN_ROLES)),
        (_("Analytics"), reverse("analytics-dashboard"), bool(roles & ANALYTICS_ROLES)),
        (
            _("My results"),
            reverse("analytics-rm"),
            Role.RELATIONSHIP_MANAGER in roles and not roles & ANALYTICS_ROLES,
        ),
        (
            _("Company bindings"),
            reverse("company-bindings"),
            bool(roles & {Role.RELATIONSHIP_MANAGER, Role.BRANCH_HEAD}),
        ),
        (
            _("Complaints"),
            reverse("complaint-list"),
            bool(roles & {Role.RELATIONSHIP_MANAGER, Role.BRANCH_HEAD}),
        ),
        (
            _("Credit facilities"),
            reverse("facility-list"),
            bool(
                roles
                & {Role.RELATIONSHIP_MANAGER, Role.APPROVER, Role.RISK_OFFICER, Role.BRANCH_HEAD}
            ),
        ),
        (
            _("Drawdowns to approve"),
            reverse("drawdown-queue"),
            bool(roles_granting(user, "facilities.approve_drawdown")),
        ),
        (
            _("The bank's exposure"),
            reverse("postloan-exposure"),
            bool(roles & {Role.RISK_OFFICER, Role.BRANCH_HEAD}),
        ),
    ]
    nav = []
    for label, url, shown in items:
        if not shown:
            continue
        active = path == url if url == "/" else path.startswith(url)
        nav.append({"label": label, "url": url, "active": active})
    return nav


@register.simple_tag(takes_context=True)
def is_admin_user(context) -> bool:
    user = getattr(context.get("request"), "user", None)
    return bool(
        user
        and user.is_authenticated
        and user.is_staff
        and (user.is_superuser or Role.ADMINISTRATOR in roles_of(user))
    )


@register.filter
def action_label(name: str) -> str:
    return labels.action_label(name)


@register.filter
def event_comment(event) -> str:
    return labels.event_comment(event)


@register.filter
def decline_reason_labels(codes) -> str:
    """An application's decline reasons in words, in the reader's language."""
    from approvals.selectors import decline_reason_labels as reason_labels

    return "; ".join(reason_labels(codes).values())


@register.filter
def is_danger_action(name: str) -> bool:
    return name in labels.DANGER_ACTIONS


@register.filter
def role_label(value: str) -> str:
    return labels.role_label(value)


@register.filter
def status_label(value: str) -> str:
    return labels.status_label(value)


@register.filter
def portal_status_text(value: str) -> str:
    return str(labels.PORTAL_STATUS_TEXT.get(value, labels.status_label(value)))


@register.filter
def person(user) -> str:
    if user is None:
        return _("System")
    return user.get_full_name() or user.username


@register.simple_tag(takes_context=True)
def step_up_field(context) -> SafeString:
    """On the form of an action that needs a fresh second factor: a field for the code when
    the user's last one is too old (org.second_factor.step_up_required reads it), else
    nothing."""
    from org.second_factor import requires_second_factor, step_up_fresh

    request = context.get("request")
    if request is None or not requires_second_factor(request.user) or step_up_fresh(request):
        return SafeString("")
    return format_html(
        '<label class="step-up">{} <input name="otp" inputmode="numeric" '
        'autocomplete="one-time-code" maxlength="32" required></label>',
        _("Code from your authenticator app"),
    )


@register.filter
def money(amount, currency: str = "") -> str:
    """An amount as every page and PDF shows money: digits grouped as the active language
    groups them, two decimals, then the currency ("3,200,000.00 CNY")."""
    if amount is None or amount == "":
        return "—"
    return f"{floatformat(amount, '2g')} {currency}".strip()
