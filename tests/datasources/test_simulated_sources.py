"""The simulated sources: the same company gets the same answer, companies differ, a share has
bad news, and the fault setting makes them fail or time out."""

import pytest

from datasources import adapters, checks
from tests.datasources.conftest import SIMULATED, subject
from tests.factories import make_uscc


@pytest.mark.parametrize("source", sorted(SIMULATED))
def test_the_same_credit_code_gets_the_same_answer(source):
    code = make_uscc()
    first = SIMULATED[source]().fetch(subject(code), timeout=1)
    again = SIMULATED[source]().fetch(subject(code), timeout=1)
    assert first == again
    assert first["simulated"] is True


@pytest.mark.parametrize("source", sorted(SIMULATED))
def test_different_companies_get_different_answers(source):
    answers = [SIMULATED[source]().fetch(subject(make_uscc()), timeout=1) for _ in range(5)]
    assert len({repr(a) for a in answers}) == 5


def test_about_one_company_in_five_has_bad_news_at_each_source():
    codes = [make_uscc() for _ in range(300)]
    for source, cls in SIMULATED.items():
        bad = [code for code in codes if cls().has_bad_news(subject(code))]
        assert 30 <= len(bad) <= 90, (source, len(bad))
        # Bad news is what the checks see as bad news.
        answer = cls().fetch(subject(bad[0]), timeout=1)
        flags = checks.flags_from(
            [{"source": source, "query_id": 1, "answered_at": "t", "answer": answer}],
            guarantee_limit=checks.Decimal("3000000"),
            today=subject(bad[0]).as_of,
        )
        assert flags, source


def test_realistic_records():
    code = make_uscc()
    tax = adapters.SimulatedTax().fetch(subject(code), timeout=1)
    assert [p["period"] for p in tax["periods"]] == ["2023", "2024", "2025"]
    assert tax["grade"] in {"A", "B", "M", "C", "D"}
    registry = adapters.SimulatedRegistry().fetch(subject(code), timeout=1)
    assert registry["credit_code"] == code
    assert registry["legal_representative"] == "王伟"
    assert sum(int(s["share_pct"]) for s in registry["shareholders"]) == 100
    bureau = adapters.SimulatedBureau().fetch(subject(code), timeout=1)
    assert set(bureau) >= {"company", "legal_representative", "report_no"}
    assert set(bureau["company"]) >= {"loans", "guarantees", "inquiries", "overdue_count_24m"}


def test_the_fault_setting_makes_the_listed_sources_fail_or_time_out(settings):
    settings.LOANFLOW_DATASOURCE_SIMULATED_FAULT = "error"
    settings.LOANFLOW_DATASOURCE_SIMULATED_FAULT_SOURCES = ["tax"]
    with pytest.raises(adapters.SourceUnavailable):
        adapters.SimulatedTax().fetch(subject(make_uscc()), timeout=1)
    assert adapters.SimulatedCourts().fetch(subject(make_uscc()), timeout=1)
    settings.LOANFLOW_DATASOURCE_SIMULATED_FAULT = "timeout"
    settings.LOANFLOW_DATASOURCE_SIMULATED_FAULT_SOURCES = []
    with pytest.raises(adapters.SourceTimeout):
        adapters.SimulatedCourts().fetch(subject(make_uscc()), timeout=1)


def test_adapters_are_chosen_by_settings(settings):
    assert isinstance(adapters.adapter_for("bureau"), adapters.SimulatedBureau)
    settings.LOANFLOW_DATASOURCE_ADAPTERS = {
        **settings.LOANFLOW_DATASOURCE_ADAPTERS,
        "bureau": "datasources.adapters.HttpBureau",
    }
    assert isinstance(adapters.adapter_for("bureau"), adapters.HttpBureau)
    # Unconfigured, the production adapter refuses without calling anything.
    settings.LOANFLOW_DATASOURCE_ENDPOINTS = {
        **settings.LOANFLOW_DATASOURCE_ENDPOINTS,
        "bureau": {"url": "", "token": "", "cert": ""},
    }
    with pytest.raises(adapters.SourceUnavailable, match="LOANFLOW_DATASOURCE_BUREAU_URL"):
        adapters.adapter_for("bureau").fetch(subject(make_uscc()), timeout=1)
