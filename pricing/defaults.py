"""The first pricing parameters: a Chinese commercial bank's SME book. The cost of funds sits
near the one-year deposit and interbank rates and rises with the term; 75% is the
standardised approach's risk weight for SME retail exposures; 10.5% is the 8% minimum plus
the conservation buffer; 12% is the hurdle on capital. Plain data: the data migration that
seeds version 1 reads it too."""

DEFAULT_VERSION = {
    "number": 1,
    "name": "SME 2026",
    "cost_of_funds_curve": [
        {"max_term_months": 6, "pct": "1.80"},
        {"max_term_months": 12, "pct": "1.95"},
        {"max_term_months": 36, "pct": "2.25"},
        {"max_term_months": 60, "pct": "2.45"},
        {"max_term_months": 120, "pct": "2.60"},
    ],
    "operating_cost_pct": "1.0",
    "unsecured_lgd_pct": "45",
    "guarantee_credit_pct": "50",
    "risk_weight_pct": "75",
    "capital_ratio_pct": "10.5",
    "target_return_pct": "12",
}
