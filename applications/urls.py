from django.urls import path

from applications import api
from applications.services import TRANSITION_NAMES

api_urlpatterns = [
    path("me/", api.MeApi.as_view(), name="api-me"),
    path("applications/", api.ApplicationListApi.as_view(), name="api-applications"),
    path("applications/<int:pk>/", api.ApplicationDetailApi.as_view(),
         name="api-application"),
    path("applications/<int:pk>/timeline/", api.ApplicationTimelineApi.as_view(),
         name="api-application-timeline"),
] + [
    path(f"applications/<int:pk>/{name.replace('_', '-')}/", api.transition_view(name),
         name=f"api-application-{name.replace('_', '-')}")
    for name in TRANSITION_NAMES
]
