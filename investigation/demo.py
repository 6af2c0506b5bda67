"""Default investigation configuration: a questionnaire per demo product, scorecard v1 and the
policy. Idempotent (get_or_create)."""

from decimal import Decimal

DEMO_PRODUCTS = {
    "SME-WC": {
        "name": "SME working capital loan",
        "name_zh": "小微企业流动资金贷款",
        "min_amount": Decimal("50000"),
        "max_amount": Decimal("5000000"),
        "min_term_months": 3,
        "max_term_months": 36,
        "min_rate": Decimal("3.450"),
        "max_rate": Decimal("9.000"),
        "repayment_methods": ["equal_instalments", "equal_principal", "interest_only_bullet"],
        "guarantee_types": ["credit", "guarantee", "mortgage", "pledge"],
        "fast_track_eligible": True,
    },
    "SME-EQ": {
        "name": "SME equipment loan",
        "name_zh": "小微企业设备贷款",
        "min_amount": Decimal("100000"),
        "max_amount": Decimal("10000000"),
        "min_term_months": 12,
        "max_term_months": 60,
        "min_rate": Decimal("3.650"),
        "max_rate": Decimal("8.500"),
        "repayment_methods": ["equal_instalments", "equal_principal"],
        "guarantee_types": ["guarantee", "mortgage", "pledge"],
        "fast_track_eligible": False,
    },
    "SME-FT": {
        "name": "SME fast-track credit loan",
        "name_zh": "小微企业快贷",
        "min_amount": Decimal("10000"),
        "max_amount": Decimal("1000000"),
        "min_term_months": 3,
        "max_term_months": 12,
        "min_rate": Decimal("3.850"),
        "max_rate": Decimal("12.000"),
        "repayment_methods": ["equal_instalments", "interest_only_bullet"],
        "guarantee_types": ["credit", "guarantee"],
        "fast_track_eligible": True,
    },
}

# (code, text, Chinese text, answer type, choices, Chinese choices, required)
QUESTIONS = [
    (
        "main_business",
        "What is the company's main business and its main products?",
        "企业的主营业务和主要产品是什么？",
        "text",
        [],
        [],
        True,
    ),
    (
        "top_customers",
        "Who are the top three customers and their share of sales?",
        "前三大客户及其销售占比是多少？",
        "text",
        [],
        [],
        True,
    ),
    (
        "premises",
        "Are the business premises owned or rented?",
        "经营场所是自有还是租赁？",
        "choice",
        ["owned", "rented"],
        ["自有", "租赁"],
        True,
    ),
    (
        "other_bank_loans",
        "Does the company have loans at other banks?",
        "企业在其他银行是否有贷款？",
        "yes_no",
        [],
        [],
        True,
    ),
    (
        "use_of_funds",
        "How exactly will the loan be used?",
        "贷款的具体用途是什么？",
        "text",
        [],
        [],
        True,
    ),
    (
        "employees_on_site",
        "How many employees were seen on site?",
        "现场看到的员工人数是多少？",
        "number",
        [],
        [],
        False,
    ),
]


def _numeric(*edges_points, missing=0):
    """[(min, max, points), ...] -> bins."""
    return [{"min": low, "max": high, "points": points} for low, high, points in edges_points]


def _categorical(**points):
    return [{"value": value, "points": p} for value, p in points.items()]


SCORECARD_V1 = [
    ("years_in_business", _numeric((None, 2, 0), (2, 5, 8), (5, 10, 12), (10, None, 15)), 0),
    (
        "revenue",
        _numeric(
            (None, 1000000, 2), (1000000, 5000000, 8), (5000000, 20000000, 12), (20000000, None, 15)
        ),
        0,
    ),
    (
        "debt_ratio",
        _numeric((None, "0.4", 15), ("0.4", "0.6", 10), ("0.6", "0.8", 4), ("0.8", None, 0)),
        0,
    ),
    ("repayment_record", _categorical(good=15, none=8, minor_late=5, serious_late=0), 0),
    ("tax_grade", _categorical(A=10, B=7, M=5, C=2, D=0), 0),
    (
        "collateral_coverage",
        _numeric((None, "0.3", 0), ("0.3", "0.8", 5), ("0.8", "1.2", 10), ("1.2", None, 15)),
        0,
    ),
    ("industry_risk", _categorical(low=15, medium=8, high=0), 0),
]
GRADE_BANDS = [
    {"grade": "A", "min_score": 80, "pd": "0.5"},
    {"grade": "B", "min_score": 65, "pd": "1.5"},
    {"grade": "C", "min_score": 50, "pd": "4"},
    {"grade": "D", "min_score": 35, "pd": "10"},
    {"grade": "E", "min_score": 0, "pd": "25"},
]


def seed_scorecard():
    from investigation.models import Scorecard, ScorecardFactor

    scorecard, created = Scorecard.objects.get_or_create(
        version=1, defaults={"name": "SME scorecard", "grade_bands": GRADE_BANDS}
    )
    if created:
        ScorecardFactor.objects.bulk_create(
            [
                ScorecardFactor(
                    scorecard=scorecard, code=code, bins=bins, missing_points=missing, order=i
                )
                for i, (code, bins, missing) in enumerate(SCORECARD_V1)
            ]
        )
    return scorecard


def seed_policy():
    from investigation.models import InvestigationPolicy

    policy, _created = InvestigationPolicy.objects.get_or_create(
        version=1, defaults={"fast_track_grades": ["A", "B"], "enhanced_grades": ["D", "E"]}
    )
    return policy


def seed_questionnaire(product):
    from investigation.models import Question, Questionnaire

    questionnaire, created = Questionnaire.objects.get_or_create(product=product, version=1)
    if created:
        Question.objects.bulk_create(
            [
                Question(
                    questionnaire=questionnaire,
                    code=code,
                    text=text,
                    text_zh=text_zh,
                    answer_type=kind,
                    choices=choices,
                    choices_zh=choices_zh,
                    required=required,
                    order=i,
                )
                for i, (code, text, text_zh, kind, choices, choices_zh, required) in enumerate(
                    QUESTIONS
                )
            ]
        )
    return questionnaire


def seed() -> None:
    from applications.models import Product

    for code, terms in DEMO_PRODUCTS.items():
        product, _created = Product.objects.get_or_create(code=code, defaults=terms)
        seed_questionnaire(product)
    seed_scorecard()
    seed_policy()


def seed_history(applications) -> None:
    """Scores for demo applications already past investigation (no PDFs: rendering is slow)."""
    from investigation.models import ScoreResult

    scorecard = seed_scorecard()
    grades = ["A", "B", "B", "C", "C", "D"]
    for i, application in enumerate(applications):
        if application.status in ("draft", "submitted", "investigation", "withdrawn"):
            continue
        if ScoreResult.objects.filter(application=application).exists():
            continue
        score_for_demo(application, grade=grades[i % len(grades)], scorecard=scorecard)


def score_for_demo(application, *, grade: str, scorecard=None) -> None:
    """A demo application's investigation and current score of `grade` (its PD from the
    grade's band), as an investigator's scoring leaves them; the price build-up reads it."""
    from applications.models import LoanApplication
    from investigation.models import ScoreResult
    from investigation.services import investigation_open

    scorecard = scorecard or seed_scorecard()
    investigation = investigation_open(application=application)
    points = {"A": 84, "B": 70, "C": 56, "D": 40}[grade]
    route = "fast_track" if grade == "A" else "enhanced" if grade == "D" else "standard"
    ScoreResult.objects.create(
        investigation=investigation,
        application=application,
        scorecard=scorecard,
        scorecard_version=scorecard.version,
        score=points,
        max_score=100,
        grade=grade,
        pd_pct=next(b["pd"] for b in GRADE_BANDS if b["grade"] == grade),
        breakdown=[],
        reasons=[],
        route=route,
    )
    LoanApplication.objects.filter(pk=application.pk).update(
        risk_grade=grade, risk_score=points, route_recommendation=route
    )
    application.risk_grade, application.risk_score = grade, points
    application.route_recommendation = route
