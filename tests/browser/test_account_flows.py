"""The account flows in a real browser: register, confirm the address from the outbox, sign in,
turn on the second factor, sign out, sign in again with a code; and a bad registration form."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import pyotp
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.select import Select

from tests.factories import element, fill, follow, path_of, submit, wait_for_path

pytestmark = [pytest.mark.browser]

PASSWORD = "mười hai ký tự trở lên 2026"


def language(driver: WebDriver) -> str:
    return element(driver, "html").get_attribute("lang")


def sign_in(driver: WebDriver, base_url: str, email: str) -> None:
    driver.get(f"{base_url}/login")
    fill(driver, {"email": email, "password": PASSWORD})
    submit(driver, "form[action='/login']")


def sign_out(driver: WebDriver) -> None:
    submit(driver, "header form[action='/logout']")
    wait_for_path(driver, "/")
    element(driver, "header a[href='/login']")  # the header offers signing in again


def test_register_verify_sign_in_enrol_and_sign_out(
    browser: WebDriver, live_server: str, outbox_url: str
):
    email = f"trinh.{secrets.token_hex(4)}@vast.vn"
    name = "Trịnh Thị Hồng Đào"

    # Register, in Vietnamese: the browser asks for it and it is the default anyway.
    browser.get(f"{live_server}/register")
    assert language(browser) == "vi"
    fill(browser, {"email": email, "display_name": name, "password": PASSWORD})
    organisations = Select(element(browser, "#f-organisation"))
    assert len(organisations.options) > 1  # "none" and the reference organisations
    organisations.select_by_index(1)
    submit(browser, "form[action='/register']")
    assert not browser.find_elements(By.CSS_SELECTOR, ".error")
    assert email in element(browser, "main").text

    # The message is in the development outbox (at the address the server printed); its link
    # opens a page with a button.
    browser.get(outbox_url)
    element(browser, "main h1")
    messages = [
        article
        for article in browser.find_elements(By.CSS_SELECTOR, "article.mail")
        if email in article.text
    ]
    assert messages, f"no mail to {email} in the outbox"
    message = messages[0]  # newest first
    link = message.find_element(By.CSS_SELECTOR, "a[href*='/verify-email?token=']")
    assert link.get_attribute("href").startswith(f"{live_server}/verify-email?token=")
    follow(browser, link)
    wait_for_path(browser, "/verify-email")
    submit(browser, "form[action='/verify-email']")
    assert not browser.find_elements(By.CSS_SELECTOR, ".error")
    assert not browser.find_elements(By.CSS_SELECTOR, "form[action='/verify-email']")
    element(browser, "main a[href='/login']")

    # Sign in: an applicant needs no second factor yet, so the account page opens.
    sign_in(browser, live_server, email)
    wait_for_path(browser, "/account")
    assert element(browser, "#f-display_name").get_attribute("value") == name
    assert name in element(browser, "header").text

    # Turn on the second factor with the key the page shows (as an authenticator app would).
    follow(browser, element(browser, "main a[href='/account/second-factor']"))
    wait_for_path(browser, "/account/second-factor")
    secret = element(browser, "#totp-secret").text.strip()
    assert element(browser, "main img").get_attribute("src").startswith("data:image/svg+xml")
    totp = pyotp.TOTP(secret)
    step = totp.timecode(datetime.now(UTC))
    fill(browser, {"code": totp.generate_otp(step)})
    submit(browser, "form[action='/account/second-factor']")
    codes = [
        item.text.strip()
        for item in element(browser, "#recovery-codes").find_elements(By.TAG_NAME, "li")
    ]
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert all(codes)

    # Sign out from the header: the account page now sends us to sign in.
    sign_out(browser)
    browser.get(f"{live_server}/account")
    wait_for_path(browser, "/login")
    element(browser, "form[action='/login'] #f-password")

    # Password, then a code. Each code works once, so use the next 30-second step's code:
    # the app accepts one step of drift either way, and it is newer than the one used above.
    sign_in(browser, live_server, email)
    wait_for_path(browser, "/login/code")
    fresh_code = totp.generate_otp(step + 1)
    fill(browser, {"code": fresh_code})
    submit(browser, "form[action='/login/code']")
    wait_for_path(browser, "/account")
    assert element(browser, "#f-display_name").get_attribute("value") == name

    # Once more: the code just used is refused, with the message at the field; a recovery
    # code from the list lets us in.
    sign_out(browser)
    sign_in(browser, live_server, email)
    wait_for_path(browser, "/login/code")
    fill(browser, {"code": fresh_code})
    submit(browser, "form[action='/login/code']")
    assert path_of(browser) == "/login/code"
    assert element(browser, "#e-code").text.strip()
    assert element(browser, "#f-code").get_attribute("aria-invalid") == "true"
    fill(browser, {"code": codes[0]})
    submit(browser, "form[action='/login/code']")
    wait_for_path(browser, "/account")
    assert element(browser, "#f-display_name").get_attribute("value") == name
    assert language(browser) == "vi"


def test_bad_registration_shows_messages_and_keeps_input(browser: WebDriver, live_server: str):
    name = "Phạm Ngọc Ánh"
    browser.get(f"{live_server}/register?lang=en")
    assert language(browser) == "en"
    fill(browser, {"email": "not-an-address", "display_name": name, "password": "short"})
    submit(browser, "form[action='/register']")

    assert path_of(browser) == "/register"
    assert language(browser) == "en"  # the choice is remembered
    assert element(browser, "#e-email").text == "Enter an e-mail address like name@example.vn."
    assert "Use at least 12 characters." in element(browser, "#e-password").text
    for field in ("email", "password"):
        assert element(browser, f"#f-{field}").get_attribute("aria-invalid") == "true"
    assert element(browser, "#f-display_name").get_attribute("value") == name
    assert element(browser, "#f-email").get_attribute("value") == "not-an-address"
    assert element(browser, "#f-password").get_attribute("value") == ""
    assert not browser.find_elements(By.CSS_SELECTOR, "#e-display_name")
