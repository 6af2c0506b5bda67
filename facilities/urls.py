# The staff's pages under /facilities/; the API under /api/v1/facilities/ (staff) and
# /api/v1/portal/facilities/ (owners).
from django.urls import include, path

from facilities import api, views

urlpatterns = [
    path("facilities/", views.FacilityListView.as_view(), name="facility-list"),
    path("facilities/drawdowns/", views.DrawdownQueueView.as_view(), name="drawdown-queue"),
    path(
        "facilities/drawdowns/<int:pk>/decide/",
        views.DrawdownDecideView.as_view(),
        name="drawdown-decide",
    ),
    path("facilities/<int:pk>/", views.FacilityDetailView.as_view(), name="facility-detail"),
    path(
        "facilities/<int:pk>/<str:action>/",
        views.FacilityTransitionView.as_view(),
        name="facility-transition",
    ),
    path("portal/facilities/", views.PortalFacilityListView.as_view(), name="portal-facilities"),
]

staff_api_urlpatterns = [
    path("facilities/", api.FacilityListApi.as_view(), name="api-facilities"),
    path("facilities/<int:pk>/", api.FacilityApi.as_view(), name="api-facility"),
    path(
        "facilities/<int:pk>/freeze/", api.FacilityFreezeApi.as_view(), name="api-facility-freeze"
    ),
    path(
        "facilities/<int:pk>/unfreeze/",
        api.FacilityUnfreezeApi.as_view(),
        name="api-facility-unfreeze",
    ),
    path("facilities/<int:pk>/close/", api.FacilityCloseApi.as_view(), name="api-facility-close"),
    path(
        "facilities/<int:pk>/drawdowns/",
        api.FacilityDrawdownListApi.as_view(),
        name="api-facility-drawdowns",
    ),
    path("facilities/drawdowns/", api.DrawdownQueueApi.as_view(), name="api-drawdown-queue"),
    path(
        "facilities/drawdowns/<int:pk>/decide/",
        api.DrawdownDecideApi.as_view(),
        name="api-drawdown-decide",
    ),
]

portal_api_urlpatterns = [
    path("facilities/", api.PortalFacilityListApi.as_view(), name="api-portal-facilities"),
    path("facilities/<int:pk>/", api.PortalFacilityApi.as_view(), name="api-portal-facility"),
    path(
        "facilities/<int:pk>/drawdowns/",
        api.PortalDrawdownApi.as_view(),
        name="api-portal-facility-drawdowns",
    ),
]

urlpatterns += [
    path("api/v1/portal/", include(portal_api_urlpatterns)),
    path("api/v1/", include(staff_api_urlpatterns)),
]
