# Pages (urlpatterns) and API routes under /api/v1/ (api_urlpatterns) of this app.
from django.urls import include, path

from disbursement import api, views

urlpatterns: list = [
    path("disbursement/", views.DisbursementQueueView.as_view(), name="disbursement-queue"),
    path("disbursement/<int:pk>/", views.DisbursementPageView.as_view(), name="disbursement-page"),
    path(
        "disbursement/<int:pk>/contract/",
        views.ContractRecordView.as_view(),
        name="disbursement-contract",
    ),
    path(
        "disbursement/<int:pk>/conditions/<int:condition_id>/satisfy/",
        views.ConditionSatisfyView.as_view(),
        name="disbursement-condition-satisfy",
    ),
    path(
        "disbursement/<int:pk>/record/",
        views.DisbursementRecordView.as_view(),
        name="disbursement-record",
    ),
    path(
        "disbursement/<int:pk>/confirm/",
        views.DisbursementConfirmView.as_view(),
        name="disbursement-confirm",
    ),
    path(
        "disbursement/<int:pk>/value-date/",
        views.DisbursementValueDateView.as_view(),
        name="disbursement-value-date",
    ),
    path(
        "disbursement/<int:pk>/offer/retry/",
        views.OfferRetryView.as_view(),
        name="disbursement-offer-retry",
    ),
    path(
        "disbursement/<int:pk>/offer.pdf",
        views.OfferPdfView.as_view(),
        name="disbursement-offer-pdf",
    ),
    path(
        "disbursement/<int:pk>/schedule.pdf",
        views.SchedulePdfView.as_view(),
        name="disbursement-schedule-pdf",
    ),
]

api_urlpatterns: list = [
    path("disbursement/queue/", api.QueueApi.as_view(), name="api-disbursement-queue"),
    path("disbursement/<int:pk>/", api.OverviewApi.as_view(), name="api-disbursement"),
    path(
        "disbursement/<int:pk>/offer/pdf/",
        api.OfferPdfApi.as_view(),
        name="api-disbursement-offer-pdf",
    ),
    path(
        "disbursement/<int:pk>/offer/retry/",
        api.OfferRetryApi.as_view(),
        name="api-disbursement-offer-retry",
    ),
    path(
        "disbursement/<int:pk>/contract/",
        api.ContractRecordApi.as_view(),
        name="api-disbursement-contract",
    ),
    path(
        "disbursement/<int:pk>/conditions/",
        api.ConditionListApi.as_view(),
        name="api-disbursement-conditions",
    ),
    path(
        "disbursement/<int:pk>/conditions/<int:condition_id>/satisfy/",
        api.ConditionSatisfyApi.as_view(),
        name="api-disbursement-condition-satisfy",
    ),
    path(
        "disbursement/<int:pk>/record/",
        api.DisbursementRecordApi.as_view(),
        name="api-disbursement-record",
    ),
    path(
        "disbursement/<int:pk>/confirm/",
        api.DisbursementConfirmApi.as_view(),
        name="api-disbursement-confirm",
    ),
    path(
        "disbursement/<int:pk>/value-date/",
        api.DisbursementValueDateApi.as_view(),
        name="api-disbursement-value-date",
    ),
    path(
        "disbursement/<int:pk>/schedule/",
        api.ScheduleApi.as_view(),
        name="api-disbursement-schedule",
    ),
    path(
        "disbursement/<int:pk>/schedule/pdf/",
        api.SchedulePdfApi.as_view(),
        name="api-disbursement-schedule-pdf",
    ),
]

urlpatterns += [path("api/v1/", include(api_urlpatterns))]
