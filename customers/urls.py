# The branch's page of company bindings (customers.views).
from django.urls import path

from customers import views

urlpatterns = [
    path("companies/bindings/", views.CompanyBindingListView.as_view(), name="company-bindings"),
    path(
        "companies/bindings/<int:pk>/<str:decision>/",
        views.CompanyBindingDecideView.as_view(),
        name="company-binding-decide",
    ),
]
