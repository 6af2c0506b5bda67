# Pages (urlpatterns) and API routes under /api/v1/ (api_urlpatterns) of this app.
from django.urls import include, path

from analytics import api, views

urlpatterns = [
    path("analytics/", views.DashboardView.as_view(), name="analytics-dashboard"),
    path(
        "analytics/figures/<slug:name>/",
        views.FigureSectionView.as_view(),
        name="analytics-figure-section",
    ),
    path("analytics/export.csv", views.ExportCsvView.as_view(), name="analytics-export"),
    path("analytics/vintages/", views.VintagesView.as_view(), name="analytics-vintages"),
    path("analytics/rm/", views.RmResultsView.as_view(), name="analytics-rm"),
    path("analytics/rm/export.csv", views.RmExportCsvView.as_view(), name="analytics-rm-export"),
]
api_urlpatterns = [
    path("analytics/", api.AnalyticsFigureListApi.as_view(), name="api-analytics"),
    path("analytics/<slug:figure>/", api.AnalyticsFigureApi.as_view(), name="api-analytics-figure"),
]

urlpatterns += [path("api/v1/", include(api_urlpatterns))]
