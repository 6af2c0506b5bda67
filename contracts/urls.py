# Pages (urlpatterns) and API routes: staff under /api/v1/contracts/, the owner's under
# /api/v1/portal/applications/<pk>/contracts/.
from django.urls import include, path

from contracts import api, views

_one = "<int:pk>/<int:contract_id>/"

urlpatterns: list = [
    path("contracts/<int:pk>/", views.ContractsPageView.as_view(), name="contracts-page"),
    path(
        "contracts/<int:pk>/prepare/",
        views.ContractsPrepareView.as_view(),
        name="contracts-prepare",
    ),
    path(f"contracts/{_one}code/", views.ContractCodeView.as_view(), name="contracts-code"),
    path(f"contracts/{_one}sign/", views.ContractSignView.as_view(), name="contracts-sign"),
    path(f"contracts/{_one}contract.pdf", views.ContractPdfView.as_view(), name="contracts-pdf"),
    path(
        f"contracts/{_one}signed.pdf",
        views.ContractPdfView.as_view(signed=True),
        name="contracts-signed-pdf",
    ),
    path(
        "contracts/<int:pk>/loan-file.zip",
        views.LoanFileZipView.as_view(),
        name="contracts-loan-file-zip",
    ),
    path(
        "contracts/<int:pk>/loan-file/record/",
        views.LoanFileRecordView.as_view(),
        name="contracts-loan-file-record",
    ),
    path(
        "contracts/<int:pk>/loan-file/verify/",
        views.LoanFileVerifyView.as_view(),
        name="contracts-loan-file-verify",
    ),
    path(
        "portal/applications/<int:pk>/contracts/",
        views.PortalContractsView.as_view(),
        name="portal-contracts",
    ),
    path(
        "portal/applications/<int:pk>/contracts/<int:contract_id>/code/",
        views.PortalContractCodeView.as_view(),
        name="portal-contract-code",
    ),
    path(
        "portal/applications/<int:pk>/contracts/<int:contract_id>/sign/",
        views.PortalContractSignView.as_view(),
        name="portal-contract-sign",
    ),
    path(
        "portal/applications/<int:pk>/contracts/<int:contract_id>/contract.pdf",
        views.PortalContractPdfView.as_view(),
        name="portal-contract-pdf",
    ),
]

api_urlpatterns: list = [
    path("contracts/<int:pk>/", api.ContractsApi.as_view(), name="api-contracts"),
    path(
        "contracts/<int:pk>/prepare/",
        api.ContractsPrepareApi.as_view(),
        name="api-contracts-prepare",
    ),
    path(f"contracts/{_one}pdf/", api.ContractPdfApi.as_view(), name="api-contracts-pdf"),
    path(
        f"contracts/{_one}signed-pdf/",
        api.SignedContractPdfApi.as_view(),
        name="api-contracts-signed-pdf",
    ),
    path(f"contracts/{_one}code/", api.ContractCodeApi.as_view(), name="api-contracts-code"),
    path(f"contracts/{_one}sign/", api.ContractSignApi.as_view(), name="api-contracts-sign"),
    path("contracts/<int:pk>/loan-file/", api.LoanFileApi.as_view(), name="api-loan-file"),
    path(
        "contracts/<int:pk>/loan-file/zip/",
        api.LoanFileZipApi.as_view(),
        name="api-loan-file-zip",
    ),
    path(
        "contracts/<int:pk>/loan-file/verify/",
        api.LoanFileVerifyApi.as_view(),
        name="api-loan-file-verify",
    ),
    path(
        "portal/applications/<int:pk>/contracts/",
        api.PortalContractsApi.as_view(),
        name="api-portal-contracts",
    ),
    path(
        "portal/applications/<int:pk>/contracts/<int:contract_id>/code/",
        api.PortalContractCodeApi.as_view(),
        name="api-portal-contract-code",
    ),
    path(
        "portal/applications/<int:pk>/contracts/<int:contract_id>/sign/",
        api.PortalContractSignApi.as_view(),
        name="api-portal-contract-sign",
    ),
    path(
        "portal/applications/<int:pk>/contracts/<int:contract_id>/pdf/",
        api.PortalContractPdfApi.as_view(),
        name="api-portal-contract-pdf",
    ),
]

urlpatterns += [path("api/v1/", include(api_urlpatterns))]
