# Pages of the applicant portal, and its API under /api/v1/portal/ (portal/api.py).
from django.urls import include, path

from portal import api, views

_app = "applications/<int:pk>/"

urlpatterns = [
    path("portal/", views.PortalHomeView.as_view(), name="portal-home"),
    path("portal/login/", views.PortalLoginView.as_view(), name="portal-login"),
    path("portal/logout/", views.PortalLogoutView.as_view(), name="portal-logout"),
    path("portal/sign-up/", views.PortalSignUpView.as_view(), name="portal-sign-up"),
    path(
        "portal/sign-up/verify/",
        views.PortalSignUpVerifyView.as_view(),
        name="portal-sign-up-verify",
    ),
    path("portal/companies/", views.PortalCompaniesView.as_view(), name="portal-companies"),
    path(
        "portal/companies/choose/",
        views.PortalCompanyChooseView.as_view(),
        name="portal-company-choose",
    ),
    path(
        "portal/applications/<int:pk>/",
        views.PortalApplicationView.as_view(),
        name="portal-application",
    ),
    path(
        "portal/applications/<int:pk>/offer/code/",
        views.PortalOfferCodeView.as_view(),
        name="portal-offer-code",
    ),
    path(
        "portal/applications/<int:pk>/offer/accept/",
        views.PortalOfferAcceptView.as_view(),
        name="portal-offer-accept",
    ),
    path(
        "portal/applications/<int:pk>/requests/",
        views.PortalOwnerRequestView.as_view(),
        name="portal-owner-request",
    ),
    path(
        "portal/applications/<int:pk>/requests/<int:request_id>/withdraw/",
        views.PortalOwnerRequestWithdrawView.as_view(),
        name="portal-owner-request-withdraw",
    ),
    # The pages' routes before the owner's prepayment and change requests were one.
    path(
        "portal/applications/<int:pk>/prepayment/",
        views.PortalOwnerRequestView.as_view(),
        name="portal-prepayment-request",
    ),
    path(
        "portal/applications/<int:pk>/prepayment/<int:request_id>/withdraw/",
        views.PortalOwnerRequestWithdrawView.as_view(),
        name="portal-prepayment-withdraw",
    ),
    path(
        "portal/applications/<int:pk>/change-request/",
        views.PortalOwnerRequestView.as_view(),
        name="portal-change-request",
    ),
    path("portal/eligibility/", views.PortalEligibilityView.as_view(), name="portal-eligibility"),
]

api_urlpatterns = [
    path("eligibility/", api.PortalEligibilityApi.as_view(), name="api-portal-eligibility"),
    path("applications/", api.PortalApplicationListApi.as_view(), name="api-online-application"),
    path(_app, api.PortalApplicationApi.as_view(), name="api-portal-application"),
    path(f"{_app}submit/", api.PortalSubmitApi.as_view(), name="api-portal-submit"),
    path(f"{_app}documents/", api.PortalDocumentUploadApi.as_view(), name="api-portal-documents"),
    path(
        f"{_app}documents/<int:doc_id>/download/",
        api.PortalDocumentDownloadApi.as_view(),
        name="api-portal-document-download",
    ),
    path(
        f"{_app}info-requests/<int:request_id>/answer/",
        api.PortalInfoRequestAnswerApi.as_view(),
        name="api-portal-info-request-answer",
    ),
    path(f"{_app}offer/code/", api.PortalOfferCodeApi.as_view(), name="api-portal-offer-code"),
    path(
        f"{_app}offer/accept/", api.PortalOfferAcceptApi.as_view(), name="api-portal-offer-accept"
    ),
    path(f"{_app}offer/pdf/", api.PortalOfferPdfApi.as_view(), name="api-portal-offer-pdf"),
    path(
        f"{_app}schedule/pdf/", api.PortalSchedulePdfApi.as_view(), name="api-portal-schedule-pdf"
    ),
    path(
        f"{_app}payoff-quote/", api.PortalPayoffQuoteApi.as_view(), name="api-portal-payoff-quote"
    ),
    path(
        f"{_app}owner-requests/",
        api.PortalOwnerRequestApi.as_view(),
        name="api-portal-owner-requests",
    ),
    path(
        f"{_app}owner-requests/<int:owner_request_id>/withdraw/",
        api.PortalOwnerRequestWithdrawApi.as_view(),
        name="api-portal-owner-request-withdraw",
    ),
    # The routes before the owner's prepayment and change requests were one (kept working).
    path(
        f"{_app}change-requests/",
        api.PortalChangeRequestApi.as_view(),
        name="api-portal-change-requests",
    ),
    path(
        f"{_app}prepayment-requests/",
        api.PortalPrepaymentRequestApi.as_view(),
        name="api-portal-prepayment-requests",
    ),
    path(
        f"{_app}prepayment-requests/<int:prepayment_request_id>/withdraw/",
        api.PortalPrepaymentWithdrawApi.as_view(),
        name="api-portal-prepayment-withdraw",
    ),
]

urlpatterns += [path("api/v1/portal/", include(api_urlpatterns))]
