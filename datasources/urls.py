# Pages (the panels' POSTs) and API routes: the owner's under /api/v1/portal/, the bank's under
# the application's own path.
from django.urls import include, path

from datasources import api, views

_app = "applications/<int:pk>/"

urlpatterns = [
    path(f"{_app}sources/", views.SectionView.as_view(), name="datasources-section"),
    path(f"{_app}sources/query/", views.QueryView.as_view(), name="datasources-query"),
    path(f"{_app}sources/consents/", views.ConsentFormView.as_view(), name="datasources-consent"),
    path(
        f"{_app}sources/consents/<int:consent_id>/revoke/",
        views.ConsentRevokeView.as_view(),
        name="datasources-consent-revoke",
    ),
    path(f"{_app}sources/facts/<int:fact_id>/", views.FactView.as_view(), name="datasources-fact"),
    path(
        f"portal/{_app}consents/",
        views.PortalConsentView.as_view(),
        name="datasources-portal-consent",
    ),
    path(
        f"portal/{_app}consents/<int:consent_id>/revoke/",
        views.PortalConsentRevokeView.as_view(),
        name="datasources-portal-consent-revoke",
    ),
]

staff_api_urlpatterns = [
    path(f"{_app}sources/", api.SourcesApi.as_view(), name="api-sources"),
    path(f"{_app}sources/queries/", api.QueryRequestApi.as_view(), name="api-sources-query"),
    path(f"{_app}sources/consents/", api.ConsentRecordApi.as_view(), name="api-sources-consent"),
    path(
        f"{_app}sources/consents/<int:consent_id>/revoke/",
        api.ConsentRevokeApi.as_view(),
        name="api-sources-consent-revoke",
    ),
    path(
        f"{_app}sources/facts/<int:fact_id>/confirm/",
        api.FactConfirmApi.as_view(),
        name="api-sources-fact-confirm",
    ),
    path(
        f"{_app}sources/facts/<int:fact_id>/mismatch/",
        api.FactMismatchApi.as_view(),
        name="api-sources-fact-mismatch",
    ),
]

portal_api_urlpatterns = [
    path(f"{_app}consents/", api.PortalConsentsApi.as_view(), name="api-portal-consents"),
    path(
        f"{_app}consents/<int:consent_id>/revoke/",
        api.PortalConsentRevokeApi.as_view(),
        name="api-portal-consent-revoke",
    ),
]

urlpatterns += [
    path("api/v1/portal/", include(portal_api_urlpatterns)),
    path("api/v1/", include(staff_api_urlpatterns)),
]
