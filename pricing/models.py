"""The parameters of risk-based pricing, in versions like the authority matrix's: exactly one
is active; a version that has been active is never edited (copy it as a new version), so a
decision's recorded version number always means the parameters it was priced with. The
formulas are in pricing.calc and docs/architecture.md."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Case, DecimalField, Q, Value, When
from django.utils.translation import gettext_lazy as _

PCT = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]


def _pct(label, default):
    return models.DecimalField(
        label, max_digits=7, decimal_places=4, default=Decimal(default), validators=PCT
    )


class PricingVersion(models.Model):
    number = models.PositiveIntegerField(_("version"), unique=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=False)
    # Set when the version is first activated: from then on it is frozen.
    activated_at = models.DateTimeField(_("first activated"), null=True, blank=True, editable=False)
    cost_of_funds_curve = models.JSONField(
        _("cost of funds by term"),
        default=list,
        help_text=_(
            'Shortest first: [{"max_term_months": 12, "pct": "1.85"}, ...]; a term takes the '
            "first bucket that covers it, and terms beyond the last bucket take the last one."
        ),
    )
    operating_cost_pct = _pct(_("operating cost (annual %)"), "1.0")
    unsecured_lgd_pct = _pct(_("loss given default when unsecured (%)"), "45")
    guarantee_credit_pct = _pct(_("share of guaranteed amounts counted as cover (%)"), "50")
    risk_weight_pct = _pct(_("risk weight (%)"), "75")
    capital_ratio_pct = _pct(_("capital ratio (%)"), "10.5")
    target_return_pct = _pct(_("target return on capital (%)"), "12")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("pricing parameter version")
        verbose_name_plural = _("pricing parameter versions")
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="pricing_one_active"
            ),
        ]
        permissions = [
            ("approve_below_floor", "Can approve a rate below the pricing floor"),
        ]

    def __str__(self) -> str:
        return f"v{self.number} {self.name}".strip()

    @property
    def is_frozen(self) -> bool:
        return self.activated_at is not None

    def clean(self):
        curve = self.cost_of_funds_curve
        try:
            ok = (
                isinstance(curve, list)
                and curve
                and all(
                    int(b["max_term_months"]) > 0
                    and Decimal("0") <= Decimal(str(b["pct"])) < Decimal("100")
                    for b in curve
                )
                and [int(b["max_term_months"]) for b in curve]
                == sorted({int(b["max_term_months"]) for b in curve})
            )
        except (TypeError, KeyError, ValueError, ArithmeticError):
            ok = False
        if not ok:
            raise ValidationError(
                {
                    "cost_of_funds_curve": _(
                        "Give one or more buckets, shortest term first, each with "
                        "max_term_months (a positive whole number) and pct (0 to 100)."
                    )
                }
            )

    def cost_of_funds_pct(self, term_months: int) -> Decimal:
        """The curve's annual % for a term: the first bucket that covers it, else the last."""
        for bucket in self.cost_of_funds_curve:
            if term_months <= int(bucket["max_term_months"]):
                return Decimal(str(bucket["pct"]))
        return Decimal(str(self.cost_of_funds_curve[-1]["pct"]))

    def cost_of_funds_case(self, term_field: str) -> Case:
        """The same rule as cost_of_funds_pct as an expression over a term column, for sums
        over many loans (analytics.rm): built from the same curve, bucket by bucket."""
        field = DecimalField(max_digits=7, decimal_places=4)
        return Case(
            *[
                When(
                    **{f"{term_field}__lte": int(b["max_term_months"])},
                    then=Value(Decimal(str(b["pct"])), output_field=field),
                )
                for b in self.cost_of_funds_curve
            ],
            default=Value(Decimal(str(self.cost_of_funds_curve[-1]["pct"])), output_field=field),
            output_field=field,
        )
