# Pages (urlpatterns) and API routes under /api/v1/ (api_urlpatterns) of this app.
from django.urls import include, path

from investigation import api, views

P = "investigation/<int:pk>/"

urlpatterns = [
    path("investigation/", views.my_investigations, name="investigation-queue"),
    path(P, views.workspace, name="investigation-workspace"),
    path(P + "answers/", views.answers, name="investigation-answers"),
    path(P + "site-visits/", views.site_visit, name="investigation-site-visit"),
    path(P + "site-visits/<int:visit_id>/photos/", views.photo, name="investigation-photo"),
    path(P + "financials/", views.financials, name="investigation-financials"),
    path(P + "guarantors/", views.guarantor, name="investigation-guarantor"),
    path(
        P + "guarantors/<int:item_id>/assess/",
        views.guarantor_assess,
        name="investigation-guarantor-assess",
    ),
    path(
        P + "guarantors/<int:item_id>/remove/",
        views.guarantor_remove,
        name="investigation-guarantor-remove",
    ),
    path(P + "collateral/", views.collateral, name="investigation-collateral"),
    path(
        P + "collateral/<int:item_id>/value/",
        views.collateral_value,
        name="investigation-collateral-value",
    ),
    path(
        P + "collateral/<int:item_id>/remove/",
        views.collateral_remove,
        name="investigation-collateral-remove",
    ),
    path(P + "verification/", views.verification_all, name="investigation-verification-all"),
    path(P + "verification/<slug:fact>/", views.verification, name="investigation-verification"),
    path(P + "assessment/", views.assessment, name="investigation-assessment"),
    path(P + "score/", views.score, name="investigation-score"),
    path(P + "memos/", views.memo, name="investigation-memo"),
    path(P + "memos/rows/", views.memo_rows, name="investigation-memo-rows"),
    path(P + "memos/<int:memo_id>/retry/", views.memo_retry, name="investigation-memo-retry"),
    path(
        P + "memos/<int:memo_id>/download/", views.memo_download, name="investigation-memo-download"
    ),
    path(P + "send-to-approval/", views.send_to_approval, name="investigation-send"),
]

api_urlpatterns = [
    path(P, api.WorkspaceApi.as_view(), name="api-investigation"),
    path(P + "answers/", api.AnswersApi.as_view(), name="api-investigation-answers"),
    path(P + "site-visits/", api.SiteVisitsApi.as_view(), name="api-investigation-site-visits"),
    path(
        P + "site-visits/<int:visit_id>/photos/",
        api.SiteVisitPhotoApi.as_view(),
        name="api-investigation-photos",
    ),
    path(
        P + "financials/<slug:period>/",
        api.FinancialsApi.as_view(),
        name="api-investigation-financials",
    ),
    path(P + "guarantors/", api.GuarantorsApi.as_view(), name="api-investigation-guarantors"),
    path(
        P + "guarantors/<int:item_id>/",
        api.GuarantorDetailApi.as_view(),
        name="api-investigation-guarantor",
    ),
    path(P + "collateral/", api.CollateralApi.as_view(), name="api-investigation-collateral"),
    path(
        P + "collateral/<int:item_id>/",
        api.CollateralDetailApi.as_view(),
        name="api-investigation-collateral-item",
    ),
    path(
        P + "verifications/<slug:fact>/",
        api.VerificationApi.as_view(),
        name="api-investigation-verification",
    ),
    path(P + "assessment/", api.AssessmentApi.as_view(), name="api-investigation-assessment"),
    path(P + "score/", api.ScoreApi.as_view(), name="api-investigation-score"),
    path(P + "flags/", api.FlagsApi.as_view(), name="api-investigation-flags"),
    path(P + "memos/", api.MemosApi.as_view(), name="api-investigation-memos"),
    path(
        P + "memos/<int:memo_id>/retry/",
        api.MemoRetryApi.as_view(),
        name="api-investigation-memo-retry",
    ),
    path(
        P + "memos/<int:memo_id>/download/",
        api.MemoDownloadApi.as_view(),
        name="api-investigation-memo-download",
    ),
]

urlpatterns += [path("api/v1/", include(api_urlpatterns))]
