from django.urls import include, path

from approvals import api, views

# Pages (urlpatterns) and API routes under /api/v1/ (api_urlpatterns) of this app.
urlpatterns = [
    path("approvals/queue/", views.queue_page, name="approvals-queue"),
    path("approvals/tasks/<int:pk>/", views.task_page, name="approvals-task"),
    path("approvals/tasks/<int:pk>/<str:action>/", views.task_action, name="approvals-task-action"),
    path(
        "approvals/concerns/<int:pk>/clear/",
        views.concern_clear,
        name="approvals-concern-clear",
    ),
]

api_urlpatterns = [
    path("approvals/queue/", api.QueueApi.as_view(), name="api-approvals-queue"),
    path(
        "approvals/concerns/<int:pk>/clear/",
        api.ConcernClearApi.as_view(),
        name="api-approvals-concern-clear",
    ),
    path(
        "approvals/decline-reasons/",
        api.DeclineReasonListApi.as_view(),
        name="api-approvals-decline-reasons",
    ),
    path(
        "approvals/applications/<int:pk>/",
        api.ApplicationApprovalApi.as_view(),
        name="api-approvals-application",
    ),
    path("approvals/tasks/<int:pk>/", api.TaskDetailApi.as_view(), name="api-approvals-task"),
    path("approvals/tasks/<int:pk>/claim/", api.TaskClaimApi.as_view(), name="api-approvals-claim"),
    path(
        "approvals/tasks/<int:pk>/release/",
        api.TaskReleaseApi.as_view(),
        name="api-approvals-release",
    ),
    path(
        "approvals/tasks/<int:pk>/reassign/",
        api.TaskReassignApi.as_view(),
        name="api-approvals-reassign",
    ),
    path(
        "approvals/tasks/<int:pk>/decide/", api.TaskDecideApi.as_view(), name="api-approvals-decide"
    ),
    path(
        "approvals/tasks/<int:pk>/vote/", api.CommitteeVoteApi.as_view(), name="api-approvals-vote"
    ),
    path(
        "approvals/tasks/<int:pk>/close-vote/",
        api.CommitteeCloseApi.as_view(),
        name="api-approvals-close-vote",
    ),
]

urlpatterns += [path("api/v1/", include(api_urlpatterns))]
