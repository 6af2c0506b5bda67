"""Staff pages of the core: login, home, application list and page. Stage apps add theirs."""

from django.urls import path

from loanflow import views

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
]
