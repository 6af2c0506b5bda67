from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy, ngettext
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from org.models import Branch, StaffProfile
from org.second_factor import second_factor_reset
from org.services import login_unlock


@admin.register(Branch)
class BranchAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "parent", "region"]
    list_filter = ["level", "region"]
    search_fields = ["code", "name"]


@admin.register(StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "branch", "authority_limit", "currency"]
    list_filter = ["branch"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    list_select_related = ["user", "branch"]


admin.site.unregister(get_user_model())
# django-otp's own admin of the devices shows each user's secret (as a QR code): an
# administrator could then produce anyone's codes. Devices are set up by their owner at login
# and reset with the action below, never edited here. (Their apps come before org in
# INSTALLED_APPS, so their admin is registered by now.)
admin.site.unregister([TOTPDevice, StaticDevice])


@admin.register(get_user_model())
class LoanFlowUserAdmin(UserAdmin):
    """Django's user admin, with the unlock of a login locked after wrong passwords and the
    reset of a lost second factor."""

    actions = ["unlock_login", "reset_second_factor"]

    @admin.action(description=gettext_lazy("Unlock login after failed attempts"))
    def unlock_login(self, request, queryset):
        usernames = list(queryset.values_list("username", flat=True))
        for username in usernames:
            login_unlock(username=username, by=request.user)
        count = len(usernames)
        message = ngettext("%(count)d login unlocked.", "%(count)d logins unlocked.", count)
        self.message_user(request, message % {"count": count}, messages.SUCCESS)

    @admin.action(description=gettext_lazy("Reset two-factor authentication (lost phone)"))
    def reset_second_factor(self, request, queryset):
        users = list(queryset)
        for user in users:
            second_factor_reset(user=user, by=request.user)
        count = len(users)
        message = ngettext(
            "Two-factor authentication reset for %(count)d user: they set up an authenticator "
            "again at their next login.",
            "Two-factor authentication reset for %(count)d users: they set up an authenticator "
            "again at their next login.",
            count,
        )
        self.message_user(request, message % {"count": count}, messages.SUCCESS)
