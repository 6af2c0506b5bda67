"""Text in the reader's language: configuration written in both languages, and generated
texts kept as a code and its parameters, put into words when they are shown.

Configuration rows (products, checklists, questions, decline reasons, matrix steps, rules)
carry a `<field>_zh` beside the English `<field>`; `in_language` picks one, falling back to
the English when the Chinese was not filled in. Texts the system writes (a flag, a route's
reason) are stored as a code and parameters and rendered by `coded_text` in the active
language, so a Chinese and an English reader each read their own; rows stored before that
keep their stored text."""

from collections.abc import Mapping

from django.utils import translation


def is_chinese(language: str | None = None) -> bool:
    """Whether `language` (default: the active language) is a Chinese one."""
    return (language or translation.get_language() or "").lower().startswith("zh")


def in_language(english: str, chinese: str, language: str | None = None) -> str:
    """The Chinese text for a Chinese reader when there is one, else the English."""
    if chinese and is_chinese(language):
        return chinese
    return english


class Bilingual:
    """For models whose text fields have a Chinese twin named `<field>_zh`."""

    def localized(self, field: str, language: str | None = None) -> str:
        return in_language(getattr(self, field), getattr(self, f"{field}_zh", ""), language)


def coded_text(catalog: Mapping, code: str, params: Mapping | None, fallback: str = "") -> str:
    """The catalogue's message for `code` (a lazy gettext string) formatted with `params`, in
    the active language; a parameter with a `<name>_zh` twin (a rule's name) is given in the
    reader's language too. `fallback` (the text stored before codes were kept) when the code
    is unknown or its parameters do not fit."""
    message = catalog.get(code)
    if message is None or params is None:
        return fallback
    values = {
        key: in_language(value, params.get(f"{key}_zh", "")) if isinstance(value, str) else value
        for key, value in params.items()
    }
    try:
        return str(message) % values
    except (KeyError, TypeError, ValueError):
        return fallback
