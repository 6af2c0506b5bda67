"""The dashboard page and the CSV export of every figure."""

import csv
import json

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from analytics import stats
from analytics.models import MEASURED_STAGES
from analytics.rm import RM_FIGURES, analytics_rm_figure, analytics_rm_results, rm_choices
from analytics.selectors import (
    ALL_FIGURES,
    FIGURES,
    analytics_before_after,
    analytics_branch_choices,
    analytics_can_view,
    analytics_control_chart,
    analytics_figure,
    analytics_filters,
    analytics_periods,
    analytics_scorecard,
    analytics_user_check,
)
from analytics.vintages import default_period_start
from applications.models import Product, RouteRecommendation, Status
from common.errors import Forbidden, InvalidInput, NotFound


class AnalyticsAccessMixin(LoginRequiredMixin):
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            try:
                analytics_user_check(user=request.user)
            except Forbidden as exc:
                raise PermissionDenied(str(exc.message)) from None
        return super().dispatch(request, *args, **kwargs)


DASHBOARD_FIGURES = (
    "stages",
    "end-to-end",
    "funnel",
    "decline-reasons",
    "staff",
    "branches",
    "portfolio",
    "satisfaction",
    "scorecard",
    "sla",
    "steps",
)


class DashboardView(AnalyticsAccessMixin, TemplateView):
    template_name = "analytics/dashboard.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, params = self.request.user, self.request.GET
        errors = {}
        try:
            f = analytics_filters(user=user, params=params)
        except NotFound:
            raise Http404 from None
        except InvalidInput as exc:
            errors = exc.details
            f = analytics_filters(user=user, params={})
        computed = {
            name: FIGURES[name](user=user, f=f) for name in DASHBOARD_FIGURES if name != "scorecard"
        }
        # The scorecard reuses the figures above rather than computing them again.
        computed["scorecard"] = analytics_scorecard(user=user, f=f, computed=computed)
        figures = {name.replace("-", "_"): computed[name] for name in DASHBOARD_FIGURES}
        stage = params.get("stage") or Status.INVESTIGATION
        if stage not in MEASURED_STAGES:
            stage = Status.INVESTIGATION
        figures["control_chart"] = analytics_control_chart(user=user, f=f, stage=stage)
        before_after = None
        periods = {
            k: params.get(k, "") for k in ("before_from", "before_to", "after_from", "after_to")
        }
        if any(periods.values()):
            try:
                before, after = analytics_periods(params=periods)
                before_after = analytics_before_after(user=user, f=f, before=before, after=after)
            except InvalidInput as exc:
                errors.update(exc.details)
        figures["before_after"] = before_after
        query = params.urlencode()
        context.update(
            {
                "f": f,
                "errors": errors,
                "drill_downs": [
                    ("branch", _("By branch")),
                    ("product", _("By product")),
                    ("industry", _("By industry")),
                ],
                "figures": figures,
                "query": query,
                "branches": analytics_branch_choices(user=user),
                "products": Product.objects.order_by("code"),
                "routes": RouteRecommendation.choices,
                "stages": [(s, Status(s).label) for s in MEASURED_STAGES],
                "stage": stage,
                "periods": periods,
                "percentile_error_pct": round(stats.PERCENTILE_MAX_ERROR * 100, 1),
                "chart_data": _chart_data(figures),
                "export_figures": [n for n in ALL_FIGURES if n != "before-after"]
                + (["before-after"] if before_after else []),
            }
        )
        return context


def _chart_data(figures: dict) -> dict:
    stages = figures["stages"]["rows"]
    chart = figures["control_chart"]
    return {
        "labels": {
            "mean": _("Mean"),
            "median": _("Median"),
            "p90": _("90th pct."),
            "count": _("Count"),
            "centre": _("Centre"),
            "ucl": _("UCL"),
            "lcl": _("LCL"),
            "weekly": _("Weekly mean"),
            "balance": _("Balance"),
        },
        "stages": {
            "labels": [r["label"] for r in stages],
            "mean": [r["business_mean_h"] for r in stages],
            "median": [r["business_median_h"] for r in stages],
            "p90": [r["business_p90_h"] for r in stages],
        },
        "funnel": {
            "labels": [r["label"] for r in figures["funnel"]["rows"]],
            "counts": [r["count"] for r in figures["funnel"]["rows"]],
        },
        "control": {
            "labels": [r["week"] for r in chart["rows"]],
            "mean": [r["mean_h"] for r in chart["rows"]],
            "centre": [r["centre_h"] for r in chart["rows"]],
            "ucl": [r["ucl_h"] for r in chart["rows"]],
            "lcl": [r["lcl_h"] for r in chart["rows"]],
            "outside": [r["outside"] for r in chart["rows"]],
        },
        "portfolio": {
            "labels": [r["label"] for r in figures["portfolio"]["rows"]],
            "balance": [float(r["balance"]) for r in figures["portfolio"]["rows"]],
        },
    }


class ExportCsvView(AnalyticsAccessMixin, View):
    """/analytics/export.csv?figure=<name>&<filters>: the figure's rows as CSV."""

    def get(self, request):
        name = request.GET.get("figure", "")
        if name not in ALL_FIGURES:
            return HttpResponseBadRequest(_("Choose a figure to export."))
        try:
            figure = analytics_figure(user=request.user, name=name, params=request.GET)
        except NotFound:
            raise Http404 from None
        except InvalidInput as exc:
            return HttpResponseBadRequest(
                json.dumps(exc.details, default=str), content_type="application/json"
            )
        return _csv_response(name, figure)


def _csv_response(name: str, figure: dict) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="loanflow-{name}-{stamp}.csv"'
    # A BOM so spreadsheet programs read the Chinese labels as UTF-8.
    response.write("\ufeff")
    writer = csv.writer(response)
    columns = figure["columns"]
    writer.writerow(columns)
    for row in figure["rows"]:
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
    return response


# --- Vintage curves -------------------------------------------------------------------------


class VintagesView(AnalyticsAccessMixin, TemplateView):
    """/analytics/vintages/: the vintage curves as charts (30+ and 90+ days past due) and a
    table; the cohorts of the last three years unless a period is chosen."""

    template_name = "analytics/vintages.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        params = self.request.GET.copy()
        if not params.get("date_from"):
            params["date_from"] = default_period_start(timezone.localdate()).isoformat()
        errors = {}
        try:
            figure = analytics_figure(user=user, name="vintages", params=params)
        except NotFound:
            raise Http404 from None
        except InvalidInput as exc:
            errors = exc.details
            params = {"date_from": default_period_start(timezone.localdate()).isoformat()}
            figure = analytics_figure(user=user, name="vintages", params=params)
        curves: dict[str, dict] = {}
        for row in figure["rows"]:
            curve = curves.setdefault(row["vintage"], {"label": row["vintage"], "points": []})
            curve["points"].append([row["months_on_book"], row["dpd30_rate"], row["dpd90_rate"]])
        context.update(
            {
                "figure": figure,
                "f": figure["filters"],
                "errors": errors,
                "branches": analytics_branch_choices(user=user),
                "products": Product.objects.order_by("code"),
                "routes": RouteRecommendation.choices,
                "query": params.urlencode() if hasattr(params, "urlencode") else "",
                "chart_data": {
                    "labels": {
                        "dpd30": _("Share of the disbursed amount 30+ days past due"),
                        "dpd90": _("Share of the disbursed amount 90+ days past due"),
                        "mob": _("Months on book"),
                    },
                    "curves": list(curves.values()),
                },
            }
        )
        return context


# --- Relationship managers' results ---------------------------------------------------------


class RmResultsView(LoginRequiredMixin, TemplateView):
    """/analytics/rm/: an RM's own results; a branch head's RMs (their branch subtree), one
    of them chosen with ?rm=. Every figure beside the book's size and vintage mix."""

    template_name = "analytics/rm_results.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, params = self.request.user, self.request.GET
        errors = {}
        try:
            results = analytics_rm_results(user=user, params=params)
        except Forbidden as exc:
            raise PermissionDenied(str(exc.message)) from None
        except NotFound:
            raise Http404 from None
        except InvalidInput as exc:
            errors = exc.details
            results = analytics_rm_results(user=user, params={})
        manager = analytics_can_view(user=user)
        context.update(
            {
                "results": results,
                "f": results["filters"],
                "errors": errors,
                "manager": manager,
                "rms": rm_choices(user=user) if manager else [],
                "branches": analytics_branch_choices(user=user),
                "products": Product.objects.order_by("code"),
                "routes": RouteRecommendation.choices,
                "query": params.urlencode(),
                "rm_figures": list(RM_FIGURES),
            }
        )
        return context


class RmExportCsvView(LoginRequiredMixin, View):
    """/analytics/rm/export.csv?figure=rm-results|rm-vintages&<filters>."""

    def get(self, request):
        name = request.GET.get("figure", "")
        if name not in RM_FIGURES:
            return HttpResponseBadRequest(_("Choose a figure to export."))
        try:
            figure = analytics_rm_figure(user=request.user, name=name, params=request.GET)
        except Forbidden as exc:
            raise PermissionDenied(str(exc.message)) from None
        except NotFound:
            raise Http404 from None
        except InvalidInput as exc:
            return HttpResponseBadRequest(
                json.dumps(exc.details, default=str), content_type="application/json"
            )
        return _csv_response(name, figure)
