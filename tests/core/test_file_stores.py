"""Stored files go through Django's storage API, configured from the environment: a file one
web process stores, another reads; an S3-compatible store is chosen by settings; no URL serves
a store around the views' scope checks, in any mode."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _in_fresh_process(code: str, **environ: str) -> str:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "loanflow.settings", **environ}
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup()\n{code}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip()


def test_a_document_one_process_stores_another_process_reads(tmp_path):
    shared = {
        "LOANFLOW_DOCUMENTS_ROOT": str(tmp_path / "documents"),
        "LOANFLOW_MEDIA_ROOT": str(tmp_path / "media"),
    }
    name = _in_fresh_process(
        "from django.core.files.base import ContentFile\n"
        "from common.storage import documents_storage\n"
        "print(documents_storage.save('7/licence.pdf', ContentFile(b'%PDF-1.4 stored once')))",
        **shared,
    )
    read = _in_fresh_process(
        "from common.storage import documents_storage\n"
        f"print(documents_storage.open({name!r}).read().decode())",
        **shared,
    )
    assert read == "%PDF-1.4 stored once"
    assert (tmp_path / "documents" / name).is_file()


def test_an_s3_compatible_store_is_chosen_by_settings():
    described = _in_fresh_process(
        "from django.core.files.storage import storages\n"
        "for alias in ('default', 'documents'):\n"
        "    s = storages[alias]\n"
        "    print(type(s).__name__, s.bucket_name, s.location, s.endpoint_url, s.default_acl)",
        LOANFLOW_STORAGE="s3",
        LOANFLOW_S3_BUCKET="bank-files",
        LOANFLOW_S3_ENDPOINT_URL="https://oss.example.cn",
    )
    assert described.splitlines() == [
        "S3Storage bank-files media https://oss.example.cn private",
        "S3Storage bank-files documents https://oss.example.cn private",
    ]


def test_no_url_serves_a_store_even_with_debug_on(tmp_path):
    found = _in_fresh_process(
        "from django.urls import Resolver404, resolve\n"
        "for path in ('/media/postloan/tasks/1/a.pdf', '/documents/1/a.pdf'):\n"
        "    try:\n"
        "        resolve(path)\n"
        "        print('served', path)\n"
        "    except Resolver404:\n"
        "        pass\n"
        "print('done')",
        DJANGO_DEBUG="true",
    )
    assert found == "done"
