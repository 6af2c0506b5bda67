"""Settings docs/configuration.md documents are read from the environment. Settings are read
once, at start-up, so each case runs in a fresh process with its own environment."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def setting_in_fresh_process(name: str, **environ: str | None) -> str:
    """The setting's value in a new Python process; a None value unsets that variable."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "loanflow.settings"}
    for key, value in environ.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    result = subprocess.run(
        [sys.executable, "-c", f"from django.conf import settings; print(settings.{name})"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


def test_the_documents_root_is_read_from_the_environment(tmp_path):
    documents = tmp_path / "bank-documents"
    value = setting_in_fresh_process(
        "LOANFLOW_DOCUMENTS_ROOT", LOANFLOW_DOCUMENTS_ROOT=str(documents)
    )
    assert value == str(documents)


def test_the_documents_root_defaults_to_documents_under_the_var_directory(tmp_path):
    value = setting_in_fresh_process(
        "LOANFLOW_DOCUMENTS_ROOT", LOANFLOW_DOCUMENTS_ROOT=None, LOANFLOW_VAR_DIR=str(tmp_path)
    )
    assert value == str(tmp_path / "documents")


def test_the_claim_timeout_is_read_from_the_environment():
    value = setting_in_fresh_process(
        "APPROVALS_CLAIM_TIMEOUT_MINUTES", APPROVALS_CLAIM_TIMEOUT_MINUTES="45"
    )
    assert value == "45"


def test_the_claim_timeout_defaults_to_two_hours():
    value = setting_in_fresh_process(
        "APPROVALS_CLAIM_TIMEOUT_MINUTES", APPROVALS_CLAIM_TIMEOUT_MINUTES=None
    )
    assert value == "120"


def test_trusted_proxies_are_off_unless_set():
    assert (
        setting_in_fresh_process("LOANFLOW_TRUSTED_PROXIES", LOANFLOW_TRUSTED_PROXIES=None) == "0"
    )
    assert setting_in_fresh_process("LOANFLOW_TRUSTED_PROXIES", LOANFLOW_TRUSTED_PROXIES="1") == "1"


def test_the_token_rate_is_read_from_the_environment_and_a_bad_one_stops_start_up():
    assert setting_in_fresh_process("LOANFLOW_TOKEN_RATE", LOANFLOW_TOKEN_RATE="5/hour") == "5/hour"
    with pytest.raises(subprocess.CalledProcessError) as failed:
        setting_in_fresh_process("LOANFLOW_TOKEN_RATE", LOANFLOW_TOKEN_RATE="often")
    assert "LOANFLOW_TOKEN_RATE" in failed.value.stderr
