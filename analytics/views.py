"""The dashboard page and the CSV export of every figure."""

import csv
import json

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
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


# The dashboard's sections in the order of the page, each with its heading: the page shows a
# placeholder per section and each section is computed by its own request (FigureSectionView),
# so no request computes more than one figure (issue 32: every answer in under 2 s).
FIGURE_SECTIONS = {
    "scorecard": _l("Balanced scorecard"),
    "satisfaction": _l("Customer satisfaction"),
    "stages": _l("Time per stage"),
    "steps": _l("Approval steps"),
    "funnel": _l("Funnel of the applications submitted in the period"),
    "end-to-end": _l("End to end (calendar hours)"),
    "decline-reasons": _l("Decline reasons"),
    "data-route": _l("Fast track on external data"),
    "control-chart": _l("Control chart"),
    "before-after": _l("Before and after"),
    "staff": _l("People: stages completed per staff member"),
    "branches": _l("Branches: completed and open now"),
    "portfolio": _l("Portfolio"),
    "sla": _l("SLA deadlines by step"),
}
PERIOD_PARAMETERS = ("before_from", "before_to", "after_from", "after_to")


def _page_filters(request) -> dict:
    """The filters of the dashboard and of each figure's section, as the form shows them: bad
    values become the form's errors and the figures use the default filters (never a 400); a
    branch outside the user's scope is a 404. Reads no figure."""
    user, params = request.user, request.GET
    errors: dict = {}
    try:
        f = analytics_filters(user=user, params=params)
    except NotFound:
        raise Http404 from None
    except InvalidInput as exc:
        errors = dict(exc.details)
        f = analytics_filters(user=user, params={})
    stage = params.get("stage") or Status.INVESTIGATION
    if stage not in MEASURED_STAGES:
        stage = Status.INVESTIGATION
    periods = {k: params.get(k, "") for k in PERIOD_PARAMETERS}
    compared = None
    if any(periods.values()):
        try:
            compared = analytics_periods(params=periods)
        except InvalidInput as exc:
            errors.update(exc.details)
    return {
        "f": f,
        "errors": errors,
        "stage": stage,
        "periods": periods,
        "compared": compared,
        "query": params.urlencode(),
        # Lazy: read only where the filter form is rendered.
        "branches": analytics_branch_choices(user=user),
        "products": Product.objects.order_by("code"),
        "routes": RouteRecommendation.choices,
        "stages": [(s, Status(s).label) for s in MEASURED_STAGES],
        "percentile_error_pct": round(stats.PERCENTILE_MAX_ERROR * 100, 1),
    }


class DashboardView(AnalyticsAccessMixin, TemplateView):
    """/analytics/: the filter form and one placeholder per figure; dashboard.js fills each in
    from its section's URL, and without script each placeholder links to its figure's page."""

    template_name = "analytics/dashboard.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        page = _page_filters(self.request)
        query = page["query"]
        slots = {}
        for name, title in FIGURE_SECTIONS.items():
            if name == "before-after" and page["compared"] is None:
                continue
            url = reverse("analytics-figure-section", args=[name])
            slots[name.replace("-", "_")] = {
                "name": name,
                "title": title,
                "url": f"{url}?{query}" if query else url,
            }
        context.update(
            {
                **page,
                "slots": slots,
                "export_figures": [n for n in ALL_FIGURES if n != "before-after"]
                + (["before-after"] if page["compared"] else []),
            }
        )
        return context


class FigureSectionView(AnalyticsAccessMixin, View):
    """/analytics/figures/<name>/?<the dashboard's filters>: one figure of the dashboard,
    computed alone. Fetched by the dashboard (X-Requested-With: fetch) it answers the section's
    HTML; opened in the browser, the same section in a page of its own with the filter form."""

    def get(self, request, name: str):
        if name not in FIGURE_SECTIONS:
            raise Http404
        page = _page_filters(request)
        figure = _section_figure(name, user=request.user, page=page)
        section = render_to_string(
            f"analytics/figures/{name}.html",
            {
                "figure": figure,
                "chart": _chart_data(name, figure) if figure else None,
                "query": page["query"],
                "percentile_error_pct": page["percentile_error_pct"],
                "drill_downs": [
                    ("branch", _("By branch")),
                    ("product", _("By product")),
                    ("industry", _("By industry")),
                ],
            },
            request=request,
        )
        if request.headers.get("X-Requested-With") == "fetch":
            response = HttpResponse(section)
        else:
            response = render(
                request,
                "analytics/figure.html",
                {
                    **page,
                    "name": name,
                    "title": FIGURE_SECTIONS[name],
                    "section": section,
                    "empty": not section.strip(),
                },
            )
        # The same URL answers a section or a page: caches must keep both.
        patch_vary_headers(response, ["X-Requested-With"])
        return response


def _section_figure(name: str, *, user, page: dict) -> dict | None:
    """The one figure a section shows (None: before-after without two valid periods)."""
    f = page["f"]
    if name == "scorecard":
        return analytics_scorecard(user=user, f=f)
    if name == "control-chart":
        return analytics_control_chart(user=user, f=f, stage=page["stage"])
    if name == "before-after":
        if page["compared"] is None:
            return None
        before, after = page["compared"]
        return analytics_before_after(user=user, f=f, before=before, after=after)
    return FIGURES[name](user=user, f=f)


def _chart_data(name: str, figure: dict) -> dict | None:
    """What dashboard.js draws for a section with a chart, with the chart's labels."""
    rows = figure["rows"]
    if name == "stages":
        return {
            "labels": {"mean": _("Mean"), "median": _("Median"), "p90": _("90th pct.")},
            "categories": [r["label"] for r in rows],
            "mean": [r["business_mean_h"] for r in rows],
            "median": [r["business_median_h"] for r in rows],
            "p90": [r["business_p90_h"] for r in rows],
        }
    if name == "funnel":
        return {
            "labels": {"count": _("Count")},
            "categories": [r["label"] for r in rows],
            "counts": [r["count"] for r in rows],
        }
    if name == "control-chart":
        return {
            "labels": {
                "weekly": _("Weekly mean"),
                "centre": _("Centre"),
                "ucl": _("UCL"),
                "lcl": _("LCL"),
            },
            "categories": [r["week"] for r in rows],
            "mean": [r["mean_h"] for r in rows],
            "centre": [r["centre_h"] for r in rows],
            "ucl": [r["ucl_h"] for r in rows],
            "lcl": [r["lcl_h"] for r in rows],
            "outside": [r["outside"] for r in rows],
        }
    if name == "portfolio":
        return {
            "labels": {"balance": _("Balance")},
            "categories": [r["label"] for r in rows],
            "balance": [float(r["balance"]) for r in rows],
        }
    return None


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
