"""The price build-up, recomputed here from its parameters by hand: cost of funds from the
curve, operating cost, expected loss (PD x LGD after cover), capital charge, floor, target,
margin over the floor and RAROC."""

from decimal import Decimal as D

import pytest

from pricing.calc import price_buildup
from pricing.models import PricingVersion

pytestmark = pytest.mark.django_db


def _params(**changes):
    values = {
        "number": 7,
        "cost_of_funds_curve": [
            {"max_term_months": 12, "pct": "1.90"},
            {"max_term_months": 36, "pct": "2.30"},
            {"max_term_months": 60, "pct": "2.55"},
        ],
        "operating_cost_pct": D("1.2"),
        "unsecured_lgd_pct": D("45"),
        "guarantee_credit_pct": D("50"),
        "risk_weight_pct": D("75"),
        "capital_ratio_pct": D("10.5"),
        "target_return_pct": D("12"),
    }
    values.update(changes)
    return PricingVersion(**values)


# amount, term, rate, PD %, lendable collateral, guaranteed, expected CoF, expected LGD %
CASES = [
    # Unsecured, one year: the whole amount is lost at the unsecured LGD.
    ("1000000", 12, "4.350", "1.0", "0", "0", "1.90", "45"),
    # Two years, half covered by collateral: LGD halves.
    ("1000000", 24, "3.800", "2.5", "500000", "0", "2.30", "22.5"),
    # Collateral 300k and a 400k guarantee counted at 50%: 500k uncovered of 1M.
    ("1000000", 36, "5.000", "4.0", "300000", "400000", "2.30", "22.5"),
    # Over-covered: no loss given default, the floor is costs only.
    ("800000", 48, "3.000", "8.0", "900000", "0", "2.55", "0"),
    # Beyond the last bucket: the last bucket's rate.
    ("500000", 84, "6.000", "12.0", "100000", "200000", "2.55", "27"),
]


@pytest.mark.parametrize("amount,term,rate,pd,lendable,guaranteed,cof,lgd", CASES)
def test_the_build_up_equals_the_formulas_applied_by_hand(
    amount, term, rate, pd, lendable, guaranteed, cof, lgd
):
    params = _params()
    got = price_buildup(
        params=params,
        amount=D(amount),
        term_months=term,
        rate_pct=D(rate),
        pd_pct=D(pd),
        lendable_collateral=D(lendable),
        guaranteed=D(guaranteed),
    )
    el = D(pd) * D(lgd) / 100
    capital = D("75") * D("10.5") / 100  # 7.875 per 100 lent
    charge = capital * D("12") / 100  # 0.945
    floor = D(cof) + D("1.2") + el
    q = D("0.0001")
    assert got.cost_of_funds_pct == D(cof)
    assert got.lgd_pct == D(lgd).quantize(q)
    assert got.expected_loss_pct == el.quantize(q)
    assert got.capital_pct == D("7.8750")
    assert got.capital_charge_pct == D("0.9450")
    assert got.floor_rate_pct == floor.quantize(q)
    assert got.target_rate_pct == (floor + charge).quantize(q)
    assert got.margin_over_floor_pct == (D(rate) - floor).quantize(q)
    assert got.raroc_pct == ((D(rate) - floor) / capital * 100).quantize(D("0.01"))
    assert got.below_floor == (D(rate) < floor)
    assert got.version == 7


def test_a_worked_example_gives_the_figures_a_banker_would_write_down():
    """1M for a year at 4.35%, grade PD 2%, 400k lendable collateral: LGD 27%, EL 0.54%,
    floor 1.90 + 1.20 + 0.54 = 3.64%, target 3.64 + 0.945 = 4.585%, RAROC 0.71 / 7.875."""
    got = price_buildup(
        params=_params(),
        amount=D("1000000"),
        term_months=12,
        rate_pct=D("4.35"),
        pd_pct=D("2"),
        lendable_collateral=D("400000"),
    )
    assert (got.lgd_pct, got.expected_loss_pct) == (D("27.0000"), D("0.5400"))
    assert (got.floor_rate_pct, got.target_rate_pct) == (D("3.6400"), D("4.5850"))
    assert got.margin_over_floor_pct == D("0.7100")
    assert got.raroc_pct == D("9.02")
    assert got.below_target and not got.below_floor


def test_the_seeded_version_is_active_with_a_curve_rising_with_the_term():
    version = PricingVersion.objects.get(is_active=True)
    rates = [version.cost_of_funds_pct(term) for term in (3, 12, 24, 60, 240)]
    assert rates == sorted(rates) and D("1.8") <= rates[0] and rates[-1] <= D("2.6")
    assert (version.risk_weight_pct, version.capital_ratio_pct) == (D("75"), D("10.5"))
    assert version.is_frozen
