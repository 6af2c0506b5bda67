# Pages of the applicant portal (its API is the intake app's, under /api/v1/portal/).
from django.urls import path

from portal import views

urlpatterns = [
    path("portal/", views.PortalHomeView.as_view(), name="portal-home"),
    path("portal/login/", views.PortalLoginView.as_view(), name="portal-login"),
    path("portal/logout/", views.PortalLogoutView.as_view(), name="portal-logout"),
    path(
        "portal/applications/<int:pk>/",
        views.PortalApplicationView.as_view(),
        name="portal-application",
    ),
]
