"""Scorecard factors read from the sources: a source field scores from the latest arrived
answer of its source, with the value, the source and the time in the breakdown; without an
answer it scores as missing (shown); copying the scorecard as a new version copies them."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from datasources import checks, services
from datasources.models import SourceQuery
from investigation.models import Scorecard, ScorecardFactor, ScoreResult
from investigation.selectors import score_reason_labels, score_rows
from investigation.services import investigation_score
from tests.datasources.conftest import consent
from tests.datasources.scorecards import source_scorecard
from tests.factories import CompanyFactory

pytestmark = pytest.mark.django_db

CLEAN = "91310000000900004F"  # the simulated sources answer cleanly (tax grade A)


@pytest.fixture
def clean_case(investigating, branch):
    company = CompanyFactory(home_branch=branch, credit_code=CLEAN)
    investigating.company = company
    investigating.save(update_fields=["company"])
    return investigating


def _ask_and_answer(application, rm, owner, sources):
    consent(application, by=owner, scope=sources)
    queries = services.source_query_request(
        actor=rm, application_id=application.pk, sources=list(sources)
    )
    for query in queries:
        assert services.source_answer_fetch(query_id=query.pk) == "arrived"
    return {q.source: SourceQuery.objects.get(pk=q.pk) for q in queries}


def test_answer_field_reads_paths_counts_and_years():
    answer = {
        "periods": [{"grade": "B"}, {"grade": "A"}],
        "company": {"overdue_count_24m": 0},
        "established_on": "2016-12-06",
        "dishonest_debtor": [{"case_no": "1"}, {"case_no": "2"}],
    }
    today = datetime.date(2026, 12, 6)
    assert checks.answer_field(answer, "periods.-1.grade", today=today) == "A"
    assert checks.answer_field(answer, "periods.0.grade", today=today) == "B"
    assert checks.answer_field(answer, "company.overdue_count_24m", today=today) == 0
    assert checks.answer_field(answer, "established_on.years_since", today=today) == Decimal(
        "10.00"
    )
    assert checks.answer_field(answer, "dishonest_debtor.count", today=today) == 2
    assert checks.answer_field(answer, "periods.7.grade", today=today) is None
    assert checks.answer_field(answer, "company.nothing", today=today) is None
    assert checks.answer_field(answer, "company", today=today) is None
    assert checks.answer_field(None, "company.overdue_count_24m", today=today) is None


def test_a_source_field_scores_from_the_arrived_answer_with_its_source_and_time(
    clean_case, staff, owner
):
    scorecard = source_scorecard()
    queries = _ask_and_answer(
        clean_case, staff["rm"], owner, ("bureau", "tax", "registry", "courts")
    )
    score = investigation_score(application_id=clean_case.pk, actor=staff["rm"])
    assert score.scorecard == scorecard and score.scorecard_version == 2
    rows = {row["factor"]: row for row in score.breakdown}
    tax = rows["tax:periods.-1.grade"]
    grade = queries["tax"].answer["periods"][-1]["grade"]
    assert grade == "A"
    assert tax["value"] == "A" and tax["points"] == 30 and tax["missing"] is False
    assert tax["query_id"] == queries["tax"].pk
    assert tax["answered_at"] == queries["tax"].answered_at.isoformat()
    assert rows["bureau:company.overdue_count_24m"]["value"] == "0"
    assert rows["bureau:company.overdue_count_24m"]["points"] == 25
    years = checks.answer_field(
        queries["registry"].answer, "established_on.years_since", today=timezone.localdate()
    )
    assert years >= 3
    assert rows["registry:established_on.years_since"]["value"] == str(years)
    assert rows["courts:dishonest_debtor.count"]["value"] == "0"
    assert score.score == 100 and score.grade == "A"
    with translation.override("en"):
        shown = {row["factor"]: row for row in score_rows(score)}
        assert shown["tax:periods.-1.grade"]["label"] == "Tax credit grade (tax bureau)"
        assert shown["tax:periods.-1.grade"]["provenance"].startswith("Tax bureau, answer of ")
    with translation.override("zh-hans"):
        shown = {row["factor"]: row for row in score_rows(score)}
        assert shown["tax:periods.-1.grade"]["label"] == "纳税信用等级（税务）"


def test_without_an_answer_the_source_field_scores_as_missing_and_says_so(clean_case, staff, owner):
    source_scorecard()
    _ask_and_answer(clean_case, staff["rm"], owner, ("tax",))
    # A query still pending does not count: only arrived answers do.
    consent(clean_case, by=owner, scope=("courts",))
    services.source_query_request(
        actor=staff["rm"], application_id=clean_case.pk, sources=["courts"]
    )
    score = investigation_score(application_id=clean_case.pk, actor=staff["rm"])
    rows = {row["factor"]: row for row in score.breakdown}
    for key in (
        "bureau:company.overdue_count_24m",
        "registry:established_on.years_since",
        "courts:dishonest_debtor.count",
    ):
        assert rows[key]["value"] is None and rows[key]["missing"] is True
        assert rows[key]["points"] == 0 and rows[key]["query_id"] is None
    assert rows["tax:periods.-1.grade"]["points"] == 30
    assert score.score == 30 and score.grade == "E"
    with translation.override("en"):
        shown = {row["factor"]: row for row in score_rows(score)}
        assert shown["bureau:company.overdue_count_24m"]["value"] == "missing"
        assert shown["bureau:company.overdue_count_24m"]["provenance"] == (
            "Credit bureau: no answer"
        )
        assert "Overdue loans, last 24 months (bureau)" in score_reason_labels(score)


def test_copying_a_used_scorecard_copies_its_source_fields_into_a_new_version(
    clean_case, staff, owner, client
):
    old = source_scorecard()
    _ask_and_answer(clean_case, staff["rm"], owner, ("tax",))
    used = investigation_score(application_id=clean_case.pk, actor=staff["rm"])
    client.force_login(staff["admin"])
    # A version in use is frozen: its page may not change it.
    page = client.get(reverse("admin:investigation_scorecard_change", args=[old.pk]))
    assert b'name="factors-0-field_path"' not in page.content
    response = client.post(
        reverse("admin:investigation_scorecard_changelist"),
        {"action": "copy_as_new_version", "_selected_action": [old.pk]},
    )
    assert response.status_code == 302
    new = Scorecard.objects.get(version=3)
    assert new.is_active and not Scorecard.objects.get(pk=old.pk).is_active

    def fields(scorecard):
        return [
            (f.kind, f.code, f.source, f.field_path, f.name, f.name_zh, f.bins, f.order)
            for f in scorecard.factors.order_by("order")
        ]

    assert fields(new) == fields(old)
    assert all(f.kind == ScorecardFactor.Kind.SOURCE_FIELD for f in new.factors.all())
    used.refresh_from_db()
    assert used.scorecard_id == old.pk and used.scorecard_version == 2
    assert ScoreResult.objects.filter(scorecard=new).count() == 0


def test_a_source_field_without_its_source_or_path_is_refused():
    from django.core.exceptions import ValidationError

    scorecard = Scorecard.objects.create(version=9, name="x", grade_bands=[])
    factor = ScorecardFactor(
        scorecard=scorecard, kind=ScorecardFactor.Kind.SOURCE_FIELD, name="Tax grade"
    )
    with pytest.raises(ValidationError) as raised:
        factor.full_clean()
    assert {"source", "field_path"} <= set(raised.value.message_dict)
