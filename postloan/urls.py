# Pages (urlpatterns) and API routes under /api/v1/ (api_urlpatterns) of this app.
from django.urls import include, path

from postloan import api, views

urlpatterns: list = [
    path("postloan/", views.QueueView.as_view(), name="postloan-queue"),
    path("postloan/tasks/<int:pk>/", views.TaskView.as_view(), name="postloan-task"),
    path(
        "postloan/tasks/<int:pk>/attachments/<int:attachment_id>/",
        views.TaskAttachmentView.as_view(),
        name="postloan-task-attachment",
    ),
    path("postloan/alerts/<int:pk>/", views.AlertView.as_view(), name="postloan-alert"),
    path(
        "postloan/loans/<int:application_id>/<str:action>/",
        views.LoanActionView.as_view(),
        name="postloan-loan-action",
    ),
    path(
        "postloan/classification/<int:pk>/<str:decision>/",
        views.ClassificationDecideView.as_view(),
        name="postloan-classification-decide",
    ),
    path(
        "postloan/prepayments/<int:pk>/<str:decision>/",
        views.PrepaymentDecideView.as_view(),
        name="postloan-prepayment-decide",
    ),
    path(
        "postloan/write-offs/<int:pk>/<str:decision>/",
        views.WriteOffDecideView.as_view(),
        name="postloan-write-off-decide",
    ),
    path("postloan/import/", views.RepaymentImportView.as_view(), name="postloan-import"),
    path("postloan/exposure/", views.ExposureView.as_view(), name="postloan-exposure"),
]

P = "postloan/"
api_urlpatterns: list = [
    path(f"{P}queue/", api.QueueApi.as_view(), name="api-postloan-queue"),
    path(f"{P}portfolio/", api.PortfolioApi.as_view(), name="api-postloan-portfolio"),
    path(f"{P}exposure/", api.ExposureApi.as_view(), name="api-postloan-exposure"),
    path(
        f"{P}exposure/refresh/",
        api.ExposureRefreshApi.as_view(),
        name="api-postloan-exposure-refresh",
    ),
    path(f"{P}daily-job/", api.DailyJobApi.as_view(), name="api-postloan-daily-job"),
    path(f"{P}loans/", api.LoanListApi.as_view(), name="api-postloan-loans"),
    path(f"{P}loans/<int:application_id>/", api.LoanDetailApi.as_view(), name="api-postloan-loan"),
    path(
        f"{P}loans/<int:application_id>/repayments/",
        api.RepaymentApi.as_view(),
        name="api-postloan-repayments",
    ),
    path(
        f"{P}loans/<int:application_id>/flags/",
        api.LoanFlagApi.as_view(),
        name="api-postloan-flags",
    ),
    path(
        f"{P}loans/<int:application_id>/classification/",
        api.ClassificationProposeApi.as_view(),
        name="api-postloan-classification-propose",
    ),
    path(
        f"{P}loans/<int:application_id>/write-off/",
        api.WriteOffProposeApi.as_view(),
        name="api-postloan-write-off-propose",
    ),
    path(
        f"{P}loans/<int:application_id>/payoff-quote/",
        api.PayoffQuoteApi.as_view(),
        name="api-postloan-payoff-quote",
    ),
    path(
        f"{P}loans/<int:application_id>/prepayments/",
        api.PrepaymentApi.as_view(),
        name="api-postloan-prepayments",
    ),
    path(
        f"{P}loans/<int:application_id>/owner-requests/",
        api.OwnerRequestListApi.as_view(),
        name="api-postloan-owner-requests",
    ),
    path(
        f"{P}owner-requests/<int:owner_request_id>/decline/",
        api.OwnerRequestDeclineApi.as_view(),
        name="api-postloan-owner-request-decline",
    ),
    # The routes before the owner's prepayment and change requests were one (kept working).
    path(
        f"{P}loans/<int:application_id>/prepayment-requests/",
        api.PrepaymentRequestListApi.as_view(),
        name="api-postloan-prepayment-requests",
    ),
    path(
        f"{P}loans/<int:application_id>/prepayment-requests/<int:prepayment_request_id>/decline/",
        api.PrepaymentRequestDeclineApi.as_view(),
        name="api-postloan-prepayment-request-decline",
    ),
    path(
        f"{P}loans/<int:application_id>/changes/",
        api.LoanChangesApi.as_view(),
        name="api-postloan-changes",
    ),
    path(
        f"{P}change-requests/<int:pk>/decline/",
        api.ChangeRequestDeclineApi.as_view(),
        name="api-postloan-change-request-decline",
    ),
    path(
        f"{P}changes/<int:pk>/review/",
        api.LoanChangeReviewApi.as_view(),
        name="api-postloan-change-review",
    ),
    path(
        f"{P}changes/<int:pk>/apply/",
        api.LoanChangeApplyApi.as_view(),
        name="api-postloan-change-apply",
    ),
    path(
        f"{P}prepayments/<int:pk>/confirm/",
        api.PrepaymentConfirmApi.as_view(),
        name="api-postloan-prepayment-confirm",
    ),
    path(
        f"{P}prepayments/<int:pk>/cancel/",
        api.PrepaymentCancelApi.as_view(),
        name="api-postloan-prepayment-cancel",
    ),
    path(
        f"{P}repayments/import/",
        api.RepaymentImportApi.as_view(),
        name="api-postloan-repayment-import",
    ),
    path(
        f"{P}classification-changes/",
        api.ClassificationPendingApi.as_view(),
        name="api-postloan-classification-pending",
    ),
    path(
        f"{P}classification-changes/<int:pk>/approve/",
        api.ClassificationApproveApi.as_view(),
        name="api-postloan-classification-approve",
    ),
    path(
        f"{P}classification-changes/<int:pk>/reject/",
        api.ClassificationRejectApi.as_view(),
        name="api-postloan-classification-reject",
    ),
    path(f"{P}write-offs/", api.WriteOffPendingApi.as_view(), name="api-postloan-write-offs"),
    path(
        f"{P}write-offs/<int:pk>/approve/",
        api.WriteOffApproveApi.as_view(),
        name="api-postloan-write-off-approve",
    ),
    path(
        f"{P}write-offs/<int:pk>/reject/",
        api.WriteOffRejectApi.as_view(),
        name="api-postloan-write-off-reject",
    ),
    path(f"{P}tasks/", api.TaskListApi.as_view(), name="api-postloan-tasks"),
    path(f"{P}tasks/<int:pk>/", api.TaskDetailApi.as_view(), name="api-postloan-task"),
    path(
        f"{P}tasks/<int:pk>/complete/",
        api.TaskCompleteApi.as_view(),
        name="api-postloan-task-complete",
    ),
    path(
        f"{P}tasks/<int:pk>/attachments/",
        api.TaskAttachmentApi.as_view(),
        name="api-postloan-task-attachments",
    ),
    path(f"{P}alerts/", api.AlertListApi.as_view(), name="api-postloan-alerts"),
    path(
        f"{P}alerts/<int:pk>/acknowledge/",
        api.AlertAcknowledgeApi.as_view(),
        name="api-postloan-alert-acknowledge",
    ),
    path(
        f"{P}alerts/<int:pk>/action-plan/",
        api.AlertPlanApi.as_view(),
        name="api-postloan-alert-plan",
    ),
    path(
        f"{P}alerts/<int:pk>/close/", api.AlertCloseApi.as_view(), name="api-postloan-alert-close"
    ),
]

urlpatterns += [path("api/v1/", include(api_urlpatterns))]
