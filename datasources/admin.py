"""Read-only views of the external data: consents, calls with their answers, facts. They change
only through the services (transitions, audited)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from common.admin import ReadOnlyAdmin
from datasources.models import (
    Consent,
    LoanRequery,
    RequeryInterval,
    SourceFact,
    SourceQuery,
)


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdmin):
    list_display = ["application", "scope", "status", "channel", "valid_until", "granted_at"]
    list_filter = ["status", "channel"]


@admin.register(SourceQuery)
class SourceQueryAdmin(ReadOnlyAdmin):
    list_display = [
        "application",
        "source",
        "status",
        "purpose",
        "requested_by",
        "requested_at",
        "answered_at",
        "attempts",
    ]
    list_filter = ["source", "status", "purpose"]
    search_fields = ["credit_code"]


@admin.register(SourceFact)
class SourceFactAdmin(ReadOnlyAdmin):
    list_display = ["application", "source", "key", "value", "observed_at", "status"]
    list_filter = ["source", "key", "status"]


@admin.register(RequeryInterval)
class RequeryIntervalAdmin(admin.ModelAdmin):
    """How often the nightly run asks the sources again about an active loan, per class."""

    list_display = ["classification", "every_days"]
    list_editable = ["every_days"]


class NeedsConsentFilter(admin.SimpleListFilter):
    title = _("consent")
    parameter_name = "needs_consent"

    def lookups(self, request, model_admin):
        return [("yes", _("Needs a renewed consent"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(consent_missing_since__isnull=False)
        return queryset


@admin.register(LoanRequery)
class LoanRequeryAdmin(ReadOnlyAdmin):
    """The loans' re-queries; filter on those that need a renewed consent."""

    list_display = ["loan", "source", "last_asked_on", "last_query", "consent_missing_since"]
    list_filter = [NeedsConsentFilter, "source"]
    list_select_related = ["loan__application", "last_query"]
