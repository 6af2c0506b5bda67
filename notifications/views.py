from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from common.errors import InvalidInput
from common.http import safe_next
from notifications import selectors, services
from notifications.filters import NotificationFilter
from notifications.models import UNMUTABLE_KINDS, Kind
from org.audience import open_to_owners


def _base_template(user) -> str:
    from org.selectors import is_staff_member

    return "base.html" if is_staff_member(user) else "portal/base.html"


@open_to_owners
class NotificationListView(LoginRequiredMixin, TemplateView):
    template_name = "notifications/list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        filterset = NotificationFilter(
            self.request.GET, queryset=selectors.notification_list(user=user)
        )
        page = Paginator(filterset.qs, 25).get_page(self.request.GET.get("page"))
        muted = selectors.notification_muted_kinds(user=user)
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(
            page=page,
            querystring=query.urlencode() + "&" if query else "",
            notifications=page.object_list,
            base_template=_base_template(user),
            filter_form=filterset.form,
            kinds=[
                {
                    "value": k.value,
                    "label": k.label,
                    "muted": k.value in muted,
                    "mutable": k.value not in UNMUTABLE_KINDS,
                }
                for k in Kind
            ],
        )
        return context


@open_to_owners
class NotificationReadView(LoginRequiredMixin, View):
    def post(self, request, pk: int):
        services.notification_mark_read(user=request.user, notification_id=pk)
        return redirect(safe_next(request, reverse("notification-list")))


@open_to_owners
class NotificationReadAllView(LoginRequiredMixin, View):
    def post(self, request):
        services.notification_mark_all_read(user=request.user)
        return redirect("notification-list")


@open_to_owners
class NotificationMuteView(LoginRequiredMixin, View):
    def post(self, request):
        from django.contrib import messages

        kind = request.POST.get("kind", "")
        try:
            if request.POST.get("mute") == "1":
                services.notification_mute(user=request.user, kind=kind)
            else:
                services.notification_unmute(user=request.user, kind=kind)
        except InvalidInput as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("Your notification settings were saved."))
        return redirect("notification-list")
