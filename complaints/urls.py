# The staff's pages under /complaints/, the owner's under /portal/complaints/; the API's
# under /api/v1/complaints/ (staff) and /api/v1/portal/complaints/ (owners).
from django.urls import include, path

from complaints import api, views

urlpatterns = [
    path("complaints/", views.ComplaintListView.as_view(), name="complaint-list"),
    path("complaints/record/", views.ComplaintRecordView.as_view(), name="complaint-record"),
    path("complaints/<int:pk>/", views.ComplaintDetailView.as_view(), name="complaint-detail"),
    path(
        "complaints/<int:pk>/<str:action>/",
        views.ComplaintTransitionView.as_view(),
        name="complaint-transition",
    ),
    path("portal/complaints/", views.PortalComplaintListView.as_view(), name="portal-complaints"),
    path(
        "portal/complaints/<int:pk>/",
        views.PortalComplaintView.as_view(),
        name="portal-complaint",
    ),
]

portal_api_urlpatterns = [
    path(
        "complaints/categories/",
        api.PortalComplaintCategoryListApi.as_view(),
        name="api-portal-complaint-categories",
    ),
    path("complaints/", api.PortalComplaintListApi.as_view(), name="api-portal-complaints"),
    path("complaints/<int:pk>/", api.PortalComplaintApi.as_view(), name="api-portal-complaint"),
]

staff_api_urlpatterns = [
    path(
        "complaints/categories/",
        api.ComplaintCategoryListApi.as_view(),
        name="api-complaint-categories",
    ),
    path("complaints/", api.ComplaintListApi.as_view(), name="api-complaints"),
    path("complaints/<int:pk>/", api.ComplaintApi.as_view(), name="api-complaint"),
    path(
        "complaints/<int:pk>/acknowledge/",
        api.ComplaintAcknowledgeApi.as_view(),
        name="api-complaint-acknowledge",
    ),
    path(
        "complaints/<int:pk>/resolve/",
        api.ComplaintResolveApi.as_view(),
        name="api-complaint-resolve",
    ),
    path(
        "complaints/<int:pk>/reject/",
        api.ComplaintRejectApi.as_view(),
        name="api-complaint-reject",
    ),
]

urlpatterns += [
    path("api/v1/portal/", include(portal_api_urlpatterns)),
    path("api/v1/", include(staff_api_urlpatterns)),
]
