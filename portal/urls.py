# Pages (urlpatterns) and API routes under /api/v1/ (api_urlpatterns) of this app.
from django.urls import path

from portal import views

urlpatterns: list = [
    path("portal/", views.PortalHomeView.as_view(), name="portal-home"),
    path("portal/login/", views.PortalLoginView.as_view(), name="portal-login"),
    path("portal/logout/", views.PortalLogoutView.as_view(), name="portal-logout"),
    path("portal/applications/<int:pk>/", views.PortalApplicationView.as_view(),
         name="portal-application"),
]
api_urlpatterns: list = []
