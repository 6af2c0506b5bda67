"""Pure calculations: ratios, the instalment, cross-check gaps, scorecard points. No database."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal("0")
HUNDRED = Decimal("100")


def q(value: Decimal | None, places: str = "0.0001") -> Decimal | None:
    if value is None:
        return None
    return value.quantize(Decimal(places), rounding=ROUND_HALF_UP)


def ratio(numerator: Decimal | None, denominator: Decimal | None) -> Decimal | None:
    if numerator is None or denominator in (None, ZERO):
        return None
    return q(Decimal(numerator) / Decimal(denominator))


def monthly_instalment(
    *, amount: Decimal, annual_rate_pct: Decimal, term_months: int, method: str
) -> Decimal:
    """The first (largest) monthly instalment of the proposed loan.

    equal_instalments: the annuity P*r/(1-(1+r)^-n); equal_principal: P/n + P*r;
    interest_only_bullet and quarterly_interest_bullet: P*r, a month's interest (the bullet is
    refinanced or repaid from the business, so the debt-service estimate uses the interest)."""
    amount = Decimal(amount)
    r = Decimal(annual_rate_pct) / HUNDRED / Decimal(12)
    n = max(int(term_months), 1)
    if method in ("interest_only_bullet", "quarterly_interest_bullet"):
        value = amount * r
    elif method == "equal_principal":
        value = amount / n + amount * r
    elif r == ZERO:
        value = amount / n
    else:
        value = amount * r / (1 - (1 + r) ** -n)
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def gap_pct(declared: Decimal | None, observed: Decimal | None) -> Decimal | None:
    """|declared - observed| / declared, in percent, unrounded (compared with thresholds
    exactly; round only for display)."""
    if declared in (None, ZERO) or observed is None:
        return None
    return abs(Decimal(declared) - Decimal(observed)) / Decimal(declared) * HUNDRED


# --- Scorecard ----------------------------------------------------------------------------------


@dataclass
class FactorSpec:
    code: str
    label: str
    bins: list
    missing_points: int = 0

    @property
    def max_points(self) -> int:
        return max([int(b.get("points", 0)) for b in self.bins] + [self.missing_points])


def bin_points(bins: list, value, missing_points: int = 0) -> int:
    """Points for `value`: categorical bins match "value"; numeric bins have "min" (inclusive)
    and "max" (exclusive), either may be null."""
    if value is None or value == "":
        return missing_points
    for b in bins:
        if "value" in b:
            if str(b["value"]) == str(value):
                return int(b["points"])
            continue
        low, high = b.get("min"), b.get("max")
        number = Decimal(str(value))
        if low is not None and number < Decimal(str(low)):
            continue
        if high is not None and number >= Decimal(str(high)):
            continue
        return int(b["points"])
    return missing_points


def grade_for(score: int, bands: list) -> tuple[str, Decimal]:
    for band in sorted(bands, key=lambda b: -int(b["min_score"])):
        if score >= int(band["min_score"]):
            return band["grade"], Decimal(str(band["pd"]))
    last = min(bands, key=lambda b: int(b["min_score"])) if bands else {"grade": "E", "pd": "100"}
    return last["grade"], Decimal(str(last["pd"]))


def score(
    factors: list[FactorSpec],
    inputs: dict,
    bands: list,
    *,
    reasons: int = 3,
    provenance: dict | None = None,
) -> dict:
    """Points per factor, total, grade, PD and reason codes (the factors that lost the most
    points against their maximum, largest loss first; ties in factor order). `provenance`:
    per factor code, what the breakdown row also keeps (a source field's source, query and
    time, its Chinese name); a factor without a value is marked missing."""
    breakdown = []
    for factor in factors:
        value = inputs.get(factor.code)
        points = bin_points(factor.bins, value, factor.missing_points)
        row = {
            "factor": factor.code,
            "label": factor.label,
            "value": None if value is None else str(value),
            "points": points,
            "max_points": factor.max_points,
        }
        if provenance and factor.code in provenance:
            row.update(provenance[factor.code])
            row["missing"] = value is None or value == ""
        breakdown.append(row)
    total = sum(row["points"] for row in breakdown)
    grade, pd = grade_for(total, bands)
    losses = [
        (row["max_points"] - row["points"], i, row["factor"]) for i, row in enumerate(breakdown)
    ]
    losses = sorted((loss for loss in losses if loss[0] > 0), key=lambda x: (-x[0], x[1]))
    return {
        "breakdown": breakdown,
        "score": total,
        "max_score": sum(row["max_points"] for row in breakdown),
        "grade": grade,
        "pd": pd,
        "reasons": [code for _loss, _i, code in losses[:reasons]],
    }
