"""A scorecard that reads the sources: tax grade, bureau overdue count, years since
registration and the dishonest-debtor list, each from the latest arrived answer."""

from investigation.demo import GRADE_BANDS
from investigation.models import Scorecard, ScorecardFactor

SOURCE_FIELDS = [
    (
        "tax",
        "periods.-1.grade",
        "Tax credit grade (tax bureau)",
        "纳税信用等级（税务）",
        [
            {"value": "A", "points": 30},
            {"value": "B", "points": 25},
            {"value": "M", "points": 20},
            {"value": "C", "points": 5},
            {"value": "D", "points": 0},
        ],
    ),
    (
        "bureau",
        "company.overdue_count_24m",
        "Overdue loans, last 24 months (bureau)",
        "近24个月逾期笔数（征信）",
        [{"min": None, "max": 1, "points": 25}, {"min": 1, "max": None, "points": 0}],
    ),
    (
        "registry",
        "established_on.years_since",
        "Years since registration (registry)",
        "成立年限（工商）",
        [{"min": None, "max": 3, "points": 5}, {"min": 3, "max": None, "points": 25}],
    ),
    (
        "courts",
        "dishonest_debtor.count",
        "Dishonest-debtor listings (courts)",
        "失信被执行人记录（司法）",
        [{"min": None, "max": 1, "points": 20}, {"min": 1, "max": None, "points": 0}],
    ),
]


def source_scorecard(version: int = 2) -> Scorecard:
    """Scorecard `version`, the only active one, scoring on the four sources' fields."""
    Scorecard.objects.update(is_active=False)
    scorecard = Scorecard.objects.create(
        version=version, name="Data scorecard", grade_bands=GRADE_BANDS
    )
    ScorecardFactor.objects.bulk_create(
        [
            ScorecardFactor(
                scorecard=scorecard,
                kind=ScorecardFactor.Kind.SOURCE_FIELD,
                source=source,
                field_path=path,
                name=name,
                name_zh=name_zh,
                bins=bins,
                missing_points=0,
                order=i,
            )
            for i, (source, path, name, name_zh, bins) in enumerate(SOURCE_FIELDS)
        ]
    )
    return scorecard
