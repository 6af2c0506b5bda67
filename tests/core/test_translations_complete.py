"""Every Chinese translation catalogue in the repository is complete: no empty msgstr and no
fuzzy entry (an untranslated string would show English in the middle of a Chinese page)."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SKIP = {".venv", "var", "node_modules", ".git", "staticfiles"}


def catalogues() -> list[Path]:
    found = []
    for path in ROOT.rglob("locale/zh_Hans/LC_MESSAGES/django.po"):
        if not SKIP & set(path.relative_to(ROOT).parts):
            found.append(path)
    return sorted(found)


def _unquote(lines: list[str]) -> str:
    return "".join(
        re.match(r'^(?:msg\w+(?:\[\d+\])?\s+)?"(.*)"\s*$', line).group(1) for line in lines
    )


def problems_in(path: Path) -> list[str]:
    """Parse a .po file into entries and list the untranslated and fuzzy ones."""
    problems = []
    text = path.read_text(encoding="utf-8")
    # Chinese has one plural form (nplurals=1): msgstr[1] and beyond are never used.
    nplurals = int((re.search(r"nplurals=(\d+)", text) or [None, 2])[1])
    for block in re.split(r"\n\s*\n", text):
        lines = [line for line in block.strip().splitlines() if line.strip()]
        if not lines:
            continue
        flags = " ".join(line for line in lines if line.startswith("#,"))
        live = [line for line in lines if not line.startswith("#")]
        if not live:
            continue  # an obsolete (#~) entry
        fields: dict[str, list[str]] = {}
        current = None
        for line in live:
            key = re.match(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s", line)
            if key:
                current = key.group(1)
                fields[current] = [line]
            elif current:
                fields[current].append(line)
        msgid = _unquote(fields.get("msgid", ['""']))
        if msgid == "":
            continue  # the header
        msgstrs = [
            _unquote(v)
            for k, v in fields.items()
            if k == "msgstr" or k.startswith("msgstr[") and int(k[7:-1]) < nplurals
        ]
        if "fuzzy" in flags:
            problems.append(f"{path.relative_to(ROOT)}: fuzzy: {msgid!r}")
        elif not msgstrs or any(text == "" for text in msgstrs):
            problems.append(f"{path.relative_to(ROOT)}: untranslated: {msgid!r}")
    return problems


def test_there_is_a_chinese_catalogue_for_the_project():
    assert ROOT / "locale/zh_Hans/LC_MESSAGES/django.po" in catalogues()


@pytest.mark.parametrize("path", catalogues(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_entry_is_translated_and_none_is_fuzzy(path):
    problems = problems_in(path)
    assert not problems, f"{len(problems)} incomplete entries:\n" + "\n".join(problems[:50])


def test_the_checker_notices_an_empty_and_a_fuzzy_entry(tmp_path):
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Plural-Forms: nplurals=1; plural=0;\\n"\n\n'
        'msgid "Hello"\nmsgstr ""\n\n'
        '#, fuzzy\nmsgid "Bye"\nmsgstr "再见"\n\n'
        'msgid "Ok"\nmsgstr ""\n"好"\n\n'
        'msgid "one"\nmsgid_plural "many"\nmsgstr[0] ""\n\n'
        'msgid "a day"\nmsgid_plural "%d days"\nmsgstr[0] "%d 天"\nmsgstr[1] ""\n',
        encoding="utf-8",
    )
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        problems = problems_in(po)
    finally:
        ROOT = saved
    assert problems == [
        "django.po: untranslated: 'Hello'",
        "django.po: fuzzy: 'Bye'",
        "django.po: untranslated: 'one'",
    ]


@pytest.mark.parametrize("path", catalogues(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_catalogue_passes_gettexts_own_check(path):
    """msgfmt --check: among others, no entry with more plural forms than the header declares
    (Chinese has one), and format strings that match their msgid."""
    import subprocess

    result = subprocess.run(
        ["msgfmt", "--check", "-o", "/dev/null", str(path)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
