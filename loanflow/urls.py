"""The project's URLs: each app's pages and its API routes come in through `include()`; the
project itself serves only the admin, i18n, authentication tokens, the schema, health and metrics."""

from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from loanflow.health import HealthApi
from loanflow.metrics import metrics_view
from org.api import AuthTokenApi
from org.views import language_choose


class FaviconView(RedirectView):
    """Browsers ask for /favicon.ico whatever the pages' <link rel="icon"> says; owners too
    (org.audience). The URL is resolved at the first request: the static files' manifest
    may not be there at import."""

    permanent = True
    open_to_owners = True
    url = lazy(static, str)("loanflow/favicon.svg")


# Each app's urls.py serves its pages and, under api/v1/, its API routes.
APPS = [
    "org",
    "customers",
    "applications",
    "intake",
    "investigation",
    "approvals",
    "disbursement",
    "contracts",
    "postloan",
    "notifications",
    "analytics",
    "portal",
    "messaging",
    "complaints",
    "datasources",
    "facilities",
]

urlpatterns = [
    path("admin/", admin.site.urls),
    # Browsers ask for it whatever the pages' <link rel="icon"> says.
    path("favicon.ico", FaviconView.as_view(), name="favicon"),
    # Django's set_language, which also keeps the choice as the person's preferred language.
    path("i18n/setlang/", language_choose, name="set_language"),
    path("api/v1/health/", HealthApi.as_view(), name="api-health"),
    path("metrics", metrics_view, name="metrics"),
    path("api/v1/auth/token/", AuthTokenApi.as_view(), name="api-token"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's init script as a file (?script), not inline: the
    # Content-Security-Policy allows no inline script.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="api_docs.html"),
        name="api-docs",
    ),
    *[path("", include(f"{app}.urls")) for app in APPS],
]
# The database or Redis gone answers 503 (JSON under /api/), not a 500 page.
handler500 = "common.unavailable.server_error"
