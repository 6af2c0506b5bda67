# Pages (urlpatterns) and API routes under /api/v1/ (api_urlpatterns) of this app.
from django.urls import include, path

from intake import api, views

_app = "applications/<int:pk>/"

urlpatterns = [
    path("applications/new/", views.FileCompanyView.as_view(), name="application-new"),
    path(
        "applications/new/request/", views.FileRequestView.as_view(), name="application-new-request"
    ),
    path(
        "applications/<int:pk>/file/parties/",
        views.FilePartiesView.as_view(),
        name="application-file-parties",
    ),
    path(
        "applications/<int:pk>/file/documents/",
        views.FileDocumentsView.as_view(),
        name="application-file-documents",
    ),
    path(
        "applications/<int:pk>/intake/", views.StaffActionView.as_view(), name="intake-staff-action"
    ),
    path(
        "applications/<int:pk>/documents/<int:doc_id>/download/",
        views.DocumentDownloadView.as_view(),
        name="intake-document-download",
    ),
    path("portal/products/", views.ProductListView.as_view(), name="portal-products"),
    path("portal/products/<str:code>/", views.ProductDetailView.as_view(), name="portal-product"),
    path("portal/apply/", views.OnlineApplyView.as_view(), name="portal-apply"),
    path(
        "portal/apply/<int:pk>/",
        views.OnlineApplicationView.as_view(),
        name="portal-apply-application",
    ),
]

api_urlpatterns = [
    path("products/", api.ProductListApi.as_view(), name="api-products"),
    path("products/<str:code>/", api.ProductDetailApi.as_view(), name="api-product"),
    path(
        "companies/find-or-create/",
        api.CompanyFindOrCreateApi.as_view(),
        name="api-company-find-or-create",
    ),
    path(f"{_app}guarantors/", api.GuarantorListApi.as_view(), name="api-guarantors"),
    path(
        f"{_app}guarantors/<int:item_id>/", api.GuarantorDetailApi.as_view(), name="api-guarantor"
    ),
    path(f"{_app}collateral/", api.CollateralListApi.as_view(), name="api-collateral"),
    path(
        f"{_app}collateral/<int:item_id>/",
        api.CollateralDetailApi.as_view(),
        name="api-collateral-item",
    ),
    path(f"{_app}documents/", api.DocumentListApi.as_view(), name="api-documents"),
    path(
        f"{_app}documents/<int:doc_id>/download/",
        api.DocumentDownloadApi.as_view(),
        name="api-document-download",
    ),
    path(
        f"{_app}documents/<int:doc_id>/review/",
        api.DocumentReviewApi.as_view(),
        name="api-document-review",
    ),
    path(f"{_app}checklist/", api.ChecklistApi.as_view(), name="api-checklist"),
    path(f"{_app}todo/", api.TodoApi.as_view(), name="api-todo"),
    path(f"{_app}prescreen/", api.PrescreenApi.as_view(), name="api-prescreen"),
    path(f"{_app}info-requests/", api.InfoRequestListApi.as_view(), name="api-info-requests"),
    path(
        f"{_app}info-requests/<int:request_id>/answer/",
        api.InfoRequestAnswerApi.as_view(),
        name="api-info-request-answer",
    ),
    path(
        f"{_app}info-requests/<int:request_id>/cancel/",
        api.InfoRequestCancelApi.as_view(),
        name="api-info-request-cancel",
    ),
]

urlpatterns += [path("api/v1/", include(api_urlpatterns))]
