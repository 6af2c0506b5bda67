# Pages (the forms' POSTs) and API routes: the owner's under /api/v1/portal/, the bank's under
# the application's own path.
from django.urls import include, path

from messaging import api, views

_app = "applications/<int:pk>/"

urlpatterns = [
    path(
        f"portal/{_app}messages/",
        views.PortalMessagePostView.as_view(),
        name="messaging-portal-post",
    ),
    path(f"portal/{_app}survey/", views.PortalSurveyView.as_view(), name="messaging-portal-survey"),
    path(f"{_app}messages/", views.MessagePostView.as_view(), name="messaging-staff-post"),
]

portal_api_urlpatterns = [
    path(f"{_app}messages/", api.PortalMessageListApi.as_view(), name="api-portal-messages"),
    path(
        f"{_app}messages/<int:message_id>/attachment/",
        api.PortalMessageAttachmentApi.as_view(),
        name="api-portal-message-attachment",
    ),
    path(f"{_app}survey/", api.PortalSurveyApi.as_view(), name="api-portal-survey"),
]

staff_api_urlpatterns = [
    path(f"{_app}messages/", api.MessageListApi.as_view(), name="api-messages"),
    path(
        f"{_app}messages/<int:message_id>/attachment/",
        api.MessageAttachmentApi.as_view(),
        name="api-message-attachment",
    ),
]

urlpatterns += [
    path("api/v1/portal/", include(portal_api_urlpatterns)),
    path("api/v1/", include(staff_api_urlpatterns)),
]
