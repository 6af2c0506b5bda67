"""Every analytics figure through the API: GET /api/v1/analytics/<figure>/ with the dashboard's
filters (date_from, date_to, branch, product, route, industry, basis; before-after also takes
before_from, before_to, after_from, after_to; control-chart takes stage; scorecard takes the
comparison period date_from2, date_to2; scorecard-drilldown takes metric and by)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.rm import RM_FIGURES, analytics_rm_figure
from analytics.selectors import ALL_FIGURES, analytics_figure, analytics_user_check

FILTER_PARAMETERS = [
    OpenApiParameter("date_from", OpenApiTypes.DATE, description="Period start (inclusive)."),
    OpenApiParameter("date_to", OpenApiTypes.DATE, description="Period end (inclusive)."),
    OpenApiParameter("branch", OpenApiTypes.INT, description="A branch and the branches below."),
    OpenApiParameter("product", OpenApiTypes.INT),
    OpenApiParameter("route", OpenApiTypes.STR, enum=["fast_track", "standard", "enhanced"]),
    OpenApiParameter(
        "industry",
        OpenApiTypes.STR,
        description="A GB/T 4754 industry code or its prefix (C: manufacturing; C13).",
    ),
    OpenApiParameter("basis", OpenApiTypes.STR, enum=["business", "calendar"]),
    OpenApiParameter("stage", OpenApiTypes.STR, description="control-chart only."),
    OpenApiParameter(
        "rm", OpenApiTypes.INT, description="rm-results and rm-vintages: one relationship manager."
    ),
    OpenApiParameter(
        "date_from2",
        OpenApiTypes.DATE,
        description="scorecard: comparison period start (default: the period just before).",
    ),
    OpenApiParameter(
        "date_to2", OpenApiTypes.DATE, description="scorecard: comparison period end."
    ),
    OpenApiParameter(
        "metric", OpenApiTypes.STR, description="scorecard-drilldown: a scorecard metric's code."
    ),
    OpenApiParameter(
        "by",
        OpenApiTypes.STR,
        enum=["branch", "product", "industry"],
        description="scorecard-drilldown: what to break the metric down by.",
    ),
    OpenApiParameter("before_from", OpenApiTypes.DATE, description="before-after only."),
    OpenApiParameter("before_to", OpenApiTypes.DATE, description="before-after only."),
    OpenApiParameter("after_from", OpenApiTypes.DATE, description="before-after only."),
    OpenApiParameter("after_to", OpenApiTypes.DATE, description="before-after only."),
]


class AnalyticsFigureListApi(APIView):
    """The figures this API serves."""

    class OutputSerializer(serializers.Serializer):
        figures = serializers.ListField(child=serializers.CharField())

        class Meta:
            ref_name = "AnalyticsFigureList"

    @extend_schema(operation_id="analytics_figures_list", responses=OutputSerializer)
    def get(self, request):
        analytics_user_check(user=request.user)
        return Response(self.OutputSerializer({"figures": [*ALL_FIGURES, *RM_FIGURES]}).data)


class AnalyticsFigureApi(APIView):
    """One figure: {"figure", "filters", "columns", "rows", ...}; numbers of hours end in _h.

    Counts, means and standard deviations are exact. The medians and 90th percentiles of the
    time spent in a stage in the stages and staff figures are read from log-scale buckets of
    the durations: exact while few visits share a bucket, otherwise within the figure's
    percentile_max_error (0.0219: 2.2%) of the exact value. rm-results and rm-vintages (a
    relationship manager's results, analytics.rm) are open to relationship managers for
    their own figures. Every figure of before-after is
    exact (medians, 90th percentiles, Welch's and Levene's tests computed from the periods'
    durations: the numbers scipy.stats gives)."""

    @extend_schema(
        operation_id="analytics_figure_retrieve",
        parameters=FILTER_PARAMETERS,
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request, figure: str):
        if figure in RM_FIGURES:
            # Relationship managers see their own results (analytics.rm), not the rest.
            return Response(
                analytics_rm_figure(user=request.user, name=figure, params=request.query_params)
            )
        return Response(
            analytics_figure(user=request.user, name=figure, params=request.query_params)
        )
