from decimal import Decimal

from django.db.models import Subquery, Sum

from pricing.calc import PriceBuildup, price_buildup
from pricing.models import PricingVersion


def pricing_version_active() -> PricingVersion | None:
    return PricingVersion.objects.filter(is_active=True).first()


def application_price_buildup(
    *,
    application,
    pd_pct: Decimal | None = None,
    collateral: list | None = None,
    guarantors: list | None = None,
    version: PricingVersion | None = None,
    terms=None,
) -> PriceBuildup | None:
    """The application's price build-up under the active parameters, from its amount, term,
    proposed rate, its current score's PD, and its valued collateral and assessed guarantees.
    Pass what the caller has already read (the case summary has all of it); what is not
    passed is read here. `terms`: other amount, term and rate to price (an approval on other
    terms; approvals.selectors.Terms), by default the application's. None before the
    application is scored or without an active version."""
    terms = terms or application
    from intake.models import Collateral
    from investigation.models import ScoreResult

    version = version or pricing_version_active()
    if version is None:
        return None
    if pd_pct is None:
        pd_pct = (
            ScoreResult.objects.filter(application_id=application.pk, is_current=True)
            .values_list("pd_pct", flat=True)
            .first()
        )
        if pd_pct is None:
            return None
    if collateral is None:
        collateral = list(
            Collateral.objects.filter(application_id=application.pk).only(
                "valuation", "haircut_pct"
            )
        )
    if guarantors is None:
        guaranteed = application.guarantors.aggregate(s=Sum("guaranteed_amount"))["s"]
    else:
        guaranteed = sum((g.guaranteed_amount or Decimal("0") for g in guarantors), Decimal("0"))
    return price_buildup(
        params=version,
        amount=terms.amount,
        term_months=terms.term_months,
        rate_pct=terms.interest_rate,
        pd_pct=pd_pct,
        lendable_collateral=sum(
            (c.lendable_value for c in collateral if c.lendable_value is not None), Decimal("0")
        ),
        guaranteed=guaranteed or Decimal("0"),
    )


def decision_pricing(
    *, application, terms=None
) -> tuple[PricingVersion | None, PriceBuildup | None]:
    """For an approval: the active version (None without one) and, when the proposed rate may
    be below the floor, the full build-up. One statement reads the version with the
    application's current PD; the floor can be no higher than with no cover at all
    (CoF + OPEX + PD x unsecured LGD), so a rate at or above that needs no more reading. Below
    it, the collateral and guarantees are read to price the loan exactly. The build-up is None
    at or above the floor and for an application not scored. `terms`: as for
    application_price_buildup."""
    from investigation.models import ScoreResult

    terms = terms or application
    version = (
        PricingVersion.objects.filter(is_active=True)
        .annotate(
            application_pd=Subquery(
                ScoreResult.objects.filter(application_id=application.pk, is_current=True).values(
                    "pd_pct"
                )[:1]
            )
        )
        .first()
    )
    if version is None or version.application_pd is None:
        return version, None
    ceiling = (
        version.cost_of_funds_pct(terms.term_months)
        + version.operating_cost_pct
        + version.application_pd * version.unsecured_lgd_pct / Decimal("100")
    )
    if terms.interest_rate >= ceiling:
        return version, None
    buildup = application_price_buildup(
        application=application, pd_pct=version.application_pd, version=version, terms=terms
    )
    return version, (buildup if buildup is not None and buildup.below_floor else None)
