# Pages of the staff sign-in's second factor (org.views).
from django.urls import path

from org import views

urlpatterns = [
    path(
        "account/two-factor/", views.SecondFactorVerifyView.as_view(), name="second-factor-verify"
    ),
    path(
        "account/two-factor/enrol/",
        views.SecondFactorEnrolView.as_view(),
        name="second-factor-enrol",
    ),
]
