"""Every message people can see has a Vietnamese translation that keeps its placeholders."""

import re

import pytest

from registry.documents.templates import environment
from registry.i18n import speaking
from registry.web import translations

pytestmark = pytest.mark.unit
PLACEHOLDER = re.compile(r"%\(\w+\)s")


def _ids(message) -> tuple[str, ...]:
    return message.id if isinstance(message.id, tuple) else (message.id,)


def _strings(message) -> tuple[str, ...]:
    return message.string if isinstance(message.string, tuple) else (message.string,)


def test_every_message_in_code_and_templates_is_translated_to_vietnamese():
    extracted = {_ids(m)[0] for m in translations.extract() if m.id}
    vietnamese = translations.read_catalogue("vi")

    untranslated = sorted(
        msgid
        for msgid in extracted
        if vietnamese.get(msgid) is None or not all(_strings(vietnamese.get(msgid)))
    )
    assert untranslated == []


def test_translations_keep_every_placeholder():
    for language in ("vi", "en"):
        for message in translations.read_catalogue(language):
            if not message.id:
                continue
            wanted = set(PLACEHOLDER.findall(" ".join(_ids(message))))
            for text in _strings(message):
                if text:
                    assert set(PLACEHOLDER.findall(text)) == wanted, message.id


def test_the_catalogues_hold_no_message_the_code_no_longer_uses():
    extracted = {_ids(m)[0] for m in translations.extract() if m.id}
    for language in ("vi", "en"):
        stored = {_ids(m)[0] for m in translations.read_catalogue(language) if m.id}
        assert stored == extracted, language


def test_messages_raised_by_every_error_class_are_extracted():
    from registry.domain import errors

    classes = {
        name
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, errors.RegistryError)
    } - {"RegistryError", "InvalidForm"}  # InvalidForm carries other errors, not a msgid
    assert classes <= set(translations.KEYWORDS)
    extracted = {_ids(m)[0] for m in translations.extract() if m.id}
    # A StaleEdit (a subclass of Conflict) message, which the fixed keyword list missed.
    assert "This draft was changed in another window or by a colleague." in extracted


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("vi", "Tải CSV · &lt;b&gt;Hà Nội&lt;/b&gt;"),
        ("en", "Download CSV · &lt;b&gt;Hà Nội&lt;/b&gt;"),
    ],
)
def test_templates_speak_the_language_and_escape_what_fills_a_message(language, expected):
    # `_()` in templates is our own one-call gettext: it must translate as Jinja's does and
    # escape the values of placeholders, never the translation's own markup.
    page = environment().from_string('{{ _("Download CSV") }} · {{ _("%(name)s", name=place) }}')
    with speaking(language):
        assert page.render(place="<b>Hà Nội</b>") == expected


@pytest.mark.parametrize("language", ["vi", "en"])
def test_a_message_with_a_literal_percent_sign_shows_one(language):
    # Jinja's gettext formats every message, so a literal % is written %% in templates; the
    # kept form of a message without placeholders must be formatted the same way.
    page = environment().from_string(
        "{{ _(\"Own funds required (%% of the proposal's total budget)\") }}"
    )
    with speaking(language):
        for _ in range(2):  # made, then kept
            shown = page.render()
            assert "%" in shown
            assert "%%" not in shown
