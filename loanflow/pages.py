"""Staff pages of the core: login, home, application list and page. Stage apps add theirs."""

from django.urls import path

from applications import views as application_views
from loanflow import views

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("applications/", application_views.ApplicationListView.as_view(),
         name="application-list"),
    path("applications/new/simple/", application_views.ApplicationCreateSimpleView.as_view(),
         name="application-create-simple"),
    path("applications/<int:pk>/", application_views.ApplicationDetailView.as_view(),
         name="application-detail"),
    path("applications/<int:pk>/act/<slug:name>/",
         application_views.ApplicationActionView.as_view(), name="application-action"),
]
