# Pages (urlpatterns) and API routes under /api/v1/ (api_urlpatterns) of this app.
from django.urls import include, path

from applications import api, views
from applications.services import TRANSITION_NAMES

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("applications/", views.ApplicationListView.as_view(), name="application-list"),
    path(
        "applications/new/simple/",
        views.ApplicationCreateSimpleView.as_view(),
        name="application-create-simple",
    ),
    path(
        "applications/<int:pk>/", views.ApplicationDetailView.as_view(), name="application-detail"
    ),
    path(
        "applications/<int:pk>/act/<slug:name>/",
        views.ApplicationActionView.as_view(),
        name="application-action",
    ),
]

api_urlpatterns = [
    path("me/", api.MeApi.as_view(), name="api-me"),
    path("applications/", api.ApplicationListApi.as_view(), name="api-applications"),
    path("applications/<int:pk>/", api.ApplicationDetailApi.as_view(), name="api-application"),
    path(
        "applications/<int:pk>/timeline/",
        api.ApplicationTimelineApi.as_view(),
        name="api-application-timeline",
    ),
] + [
    path(
        f"applications/<int:pk>/{name.replace('_', '-')}/",
        api.transition_view(name),
        name=f"api-application-{name.replace('_', '-')}",
    )
    for name in TRANSITION_NAMES
]

urlpatterns += [path("api/v1/", include(api_urlpatterns))]
