"""The data-driven fast track in figures: of the applications submitted in the period (the
funnel's cohort), how many took the data-driven route (datasources.DataRoute) and what came of
it: approved by the system on external data, sent to approval but decided by people, fallen
back to the normal route (with each reason's count), taken over by a person, still waiting;
the post-reviewers' concerns about the automatic approvals (approvals.ApprovalTask, the
after-the-fact review's "concern" decision); and the loans it approved against the cohort's
other loans: overdue (an active loan past due) and non-performing (classified substandard,
doubtful or loss, or written off), counted per loan.

"Decided on the data-driven route" is approved by the system on it: the route never declines,
what fails falls back to people, so its share is of the cohort's decided applications
(approved or declined)."""

from django.db.models import CharField, Count, Exists, Func, OuterRef, Q
from django.utils.translation import gettext as _

from approvals.models import ApprovalRecord, ApprovalTask
from approvals.selectors import fast_track_concerns
from datasources.models import DataRoute
from datasources.texts import DATA_ROUTE_REASONS
from postloan.models import NON_PERFORMING, Loan

COLUMNS = ["outcome", "label", "count", "share"]


def _approved_by_the_system(ref: str) -> Exists:
    return Exists(
        ApprovalRecord.objects.filter(
            application=OuterRef(ref),
            decided_by_system=True,
            status=ApprovalRecord.Status.APPROVED,
        )
    )


def _post_review(ref: str, **decision) -> Exists:
    return Exists(
        ApprovalTask.objects.filter(
            application=OuterRef(ref),
            kind=ApprovalTask.Kind.POST_REVIEW,
            status=ApprovalTask.Status.DONE,
            **decision,
        )
    )


def _rate(part, whole) -> float | None:
    return round(part / whole, 4) if whole else None


def data_route_figure(*, user, f, applications) -> dict:
    """The figure (analytics.selectors.FIGURES["data-route"]); `applications`: the cohort,
    narrowed by the filters and the user's scope."""
    sent = Q(data_route__status=DataRoute.Status.SENT)
    on_data = sent & Q(_approved_by_the_system("pk"))
    agg = applications.aggregate(
        submitted=Count("id"),
        decided=Count("id", filter=Q(decided_at__isnull=False)),
        took_route=Count("id", filter=Q(data_route__isnull=False)),
        sent=Count("id", filter=sent),
        approved_automatically=Count("id", filter=on_data),
        # Sent, then decided by people (the matrix gave it a human route).
        decided_by_people=Count("id", filter=sent & Q(decided_at__isnull=False) & ~on_data),
        fallen_back=Count("id", filter=Q(data_route__status=DataRoute.Status.FALLEN_BACK)),
        taken_over=Count("id", filter=Q(data_route__status=DataRoute.Status.TAKEN_OVER)),
        waiting=Count("id", filter=Q(data_route__status=DataRoute.Status.WAITING)),
        post_reviewed=Count("id", filter=on_data & Q(_post_review("pk"))),
        concerns=Count(
            "id",
            filter=on_data & Q(_post_review("pk", decision=ApprovalTask.Decision.CONCERN)),
        ),
    )
    reasons = list(
        DataRoute.objects.filter(
            application__in=applications.values("pk"), status=DataRoute.Status.FALLEN_BACK
        )
        .annotate(
            reason=Func("reasons", function="jsonb_array_elements_text", output_field=CharField())
        )
        .values("reason")
        .annotate(n=Count("*"))
        .order_by("-n", "reason")
        .values_list("reason", "n")
    )
    loans = Loan.objects.filter(application__in=applications.values("pk"))
    route_loan = Q(application__data_route__status=DataRoute.Status.SENT) & Q(
        _approved_by_the_system("application")
    )
    overdue = Q(status=Loan.Status.ACTIVE, days_past_due__gt=0)
    npl = Q(classification__in=NON_PERFORMING) | Q(status=Loan.Status.WRITTEN_OFF)
    loan_agg = loans.aggregate(
        route=Count("id", filter=route_loan),
        route_overdue=Count("id", filter=route_loan & overdue),
        route_npl=Count("id", filter=route_loan & npl),
        others=Count("id", filter=~route_loan),
        others_overdue=Count("id", filter=~route_loan & overdue),
        others_npl=Count("id", filter=~route_loan & npl),
    )

    took = agg["took_route"]
    outcomes = [
        ("approved_automatically", _("Approved by the system on external data")),
        ("decided_by_people", _("Sent to approval, decided by people")),
        ("fallen_back", _("Fell back to the normal route")),
        ("taken_over", _("Taken over by a person")),
        ("waiting", _("Waiting for the sources")),
    ]
    rows = [
        {"outcome": key, "label": str(label), "count": agg[key], "share": _rate(agg[key], took)}
        for key, label in outcomes
    ]
    rows += [
        {
            "outcome": f"fallen_back:{code}",
            "label": str(DATA_ROUTE_REASONS.get(code, code)),
            "count": n,
            "share": _rate(n, agg["fallen_back"]),
        }
        for code, n in reasons
    ]
    summary = {
        "submitted": agg["submitted"],
        "decided": agg["decided"],
        "took_route": took,
        "sent": agg["sent"],
        "approved_automatically": agg["approved_automatically"],
        "share_of_decided": _rate(agg["approved_automatically"], agg["decided"]),
        "fallen_back": agg["fallen_back"],
        "post_reviewed": agg["post_reviewed"],
        "concerns": agg["concerns"],
        "concern_rate": _rate(agg["concerns"], agg["post_reviewed"]),
    }
    loan_rows = [
        {
            "group": group,
            "label": str(label),
            "loans": loan_agg[group],
            "overdue": loan_agg[f"{group}_overdue"],
            "overdue_rate": _rate(loan_agg[f"{group}_overdue"], loan_agg[group]),
            "npl": loan_agg[f"{group}_npl"],
            "npl_rate": _rate(loan_agg[f"{group}_npl"], loan_agg[group]),
        }
        for group, label in (
            ("route", _("Approved on external data")),
            ("others", _("Other loans")),
        )
    ]
    return {
        "figure": "data_route",
        "filters": f.as_dict(),
        "columns": COLUMNS,
        "rows": rows,
        "summary": summary,
        "reasons": dict(reasons),
        "loans": loan_rows,
        "by_rule": fast_track_concerns(applications=applications),
    }
