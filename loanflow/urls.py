from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token

from applications.urls import api_urlpatterns as applications_api
from loanflow.health import HealthApi

STAGE_APPS = ["intake", "investigation", "approvals", "disbursement", "postloan", "sla",
              "notifications", "analytics", "portal"]


def _api(app: str):
    return __import__(f"{app}.urls", fromlist=["api_urlpatterns"]).api_urlpatterns


api_v1 = [path("health/", HealthApi.as_view(), name="api-health"), *applications_api]
for _app in STAGE_APPS:
    api_v1 += _api(_app)

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include(api_v1)),
    path("api/v1/auth/token/", obtain_auth_token, name="api-token"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("loanflow.pages")),
    *[path("", include(f"{app}.urls")) for app in STAGE_APPS],
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
