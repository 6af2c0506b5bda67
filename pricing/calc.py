"""The price build-up of a loan, from its figures and a pricing parameter version. Pure:
no database, Decimal throughout, every rate an annual % of the amount.

  cost of funds  CoF   = the curve's rate for the term
  operating cost OPEX  = the version's operating cost
  cover                = lendable collateral + guaranteed amounts x guarantee credit %
  LGD %                = max(0, amount - cover) / amount x unsecured LGD %
  expected loss  EL %  = PD % x LGD % / 100
  capital %            = risk weight % x capital ratio % / 100   (capital held per 100 lent)
  capital charge %     = capital % x target return % / 100
  floor rate           = CoF + OPEX + EL           (covers costs and expected loss, no return)
  target rate          = floor + capital charge    (earns the target return on capital)
  margin over floor    = proposed rate - floor
  RAROC %              = (proposed rate - CoF - OPEX - EL) / capital % x 100
"""

from dataclasses import asdict, dataclass
from decimal import Decimal

HUNDRED = Decimal("100")
RATE = Decimal("0.0001")


@dataclass(frozen=True)
class PriceBuildup:
    version: int
    amount: Decimal
    term_months: int
    proposed_rate_pct: Decimal
    pd_pct: Decimal
    cover: Decimal
    lgd_pct: Decimal
    cost_of_funds_pct: Decimal
    operating_cost_pct: Decimal
    expected_loss_pct: Decimal
    capital_pct: Decimal
    capital_charge_pct: Decimal
    floor_rate_pct: Decimal
    target_rate_pct: Decimal
    margin_over_floor_pct: Decimal
    raroc_pct: Decimal | None

    @property
    def below_floor(self) -> bool:
        return self.proposed_rate_pct < self.floor_rate_pct

    @property
    def below_target(self) -> bool:
        return self.proposed_rate_pct < self.target_rate_pct

    def as_record(self) -> dict:
        """The figures as strings, for an audit row."""
        return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in asdict(self).items()}


def price_buildup(
    *,
    params,
    amount: Decimal,
    term_months: int,
    rate_pct: Decimal,
    pd_pct: Decimal,
    lendable_collateral: Decimal = Decimal("0"),
    guaranteed: Decimal = Decimal("0"),
) -> PriceBuildup:
    cover = lendable_collateral + guaranteed * params.guarantee_credit_pct / HUNDRED
    uncovered = max(Decimal("0"), amount - cover)
    lgd = (uncovered / amount * params.unsecured_lgd_pct) if amount > 0 else Decimal("0")
    cof = params.cost_of_funds_pct(term_months)
    opex = params.operating_cost_pct
    el = pd_pct * lgd / HUNDRED
    capital = params.risk_weight_pct * params.capital_ratio_pct / HUNDRED
    charge = capital * params.target_return_pct / HUNDRED
    floor = cof + opex + el
    return PriceBuildup(
        version=params.number,
        amount=amount,
        term_months=term_months,
        proposed_rate_pct=rate_pct,
        pd_pct=pd_pct,
        cover=cover.quantize(Decimal("0.01")),
        lgd_pct=lgd.quantize(RATE),
        cost_of_funds_pct=cof.quantize(RATE),
        operating_cost_pct=opex.quantize(RATE),
        expected_loss_pct=el.quantize(RATE),
        capital_pct=capital.quantize(RATE),
        capital_charge_pct=charge.quantize(RATE),
        floor_rate_pct=floor.quantize(RATE),
        target_rate_pct=(floor + charge).quantize(RATE),
        margin_over_floor_pct=(rate_pct - floor).quantize(RATE),
        raroc_pct=((rate_pct - floor) / capital * HUNDRED).quantize(Decimal("0.01"))
        if capital > 0
        else None,
    )
