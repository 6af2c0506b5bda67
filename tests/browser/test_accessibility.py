"""The browser tests' accessibility check fails on a page with a serious WCAG 2.1 AA violation
and says what and where; the base pages' skip link and focus ring work from the keyboard."""

import pytest

from tests.browser.accessibility import assert_accessible

pytestmark = pytest.mark.browser


def test_the_check_fails_on_an_image_without_text_and_a_field_without_a_label(page):
    page.set_content(
        '<!doctype html><html lang="en"><head><title>Broken</title></head><body><main>'
        '<h1>Broken</h1><img src="chart.png"><form><input name="q"></form></main></body></html>'
    )
    with pytest.raises(AssertionError) as failure:
        assert_accessible(page)
    report = str(failure.value)
    assert "image-alt (critical)" in report and '<img src="chart.png">' in report
    assert "label (critical)" in report and '<input name="q">' in report


def test_the_check_passes_a_page_with_a_language_alt_text_and_labels(page):
    page.set_content(
        '<!doctype html><html lang="en"><head><title>Fine</title></head><body><main>'
        '<h1>Fine</h1><img src="chart.png" alt="Applications by month">'
        '<form><label>Search <input name="q"></label></form></main></body></html>'
    )
    assert_accessible(page)


@pytest.mark.django_db(transaction=True)
def test_the_first_tab_offers_a_skip_link_to_the_content_with_a_visible_focus(
    page, live_server, login, staff
):
    login(page, staff["rm"])
    page.keyboard.press("Tab")
    link = page.locator(".skip-link")
    assert link.evaluate("el => el === document.activeElement")
    assert link.is_visible() and link.inner_text() == "Skip to the content"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    page.keyboard.press("Enter")
    # The browser follows the link after the key press returns: wait for it (fails after 5 s).
    page.wait_for_url("**#content", timeout=5000)
    assert page.url.endswith("#content")
    assert page.evaluate("document.activeElement.id") == "content"
