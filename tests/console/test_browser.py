"""The console in a real browser (Debian's Chromium): what an officer does at 3 a.m., click by click."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from accounts.models import Role, User
from consular.crypto import email_blind_index
from consular.models import AuditEntry
from crises.models import Crisis
from crises.selectors import affected_counts
from crises.services.lifecycle import crisis_transition
from notifications.messages import checkin_token
from notifications.models import Campaign
from tests.console.browser import Problems, click_at, sign_in, start_chromium, wait_for
from tests.factories import StaffFactory, declared_crisis, square, traveller_with_stay

pytestmark = pytest.mark.skipif(not Path("/usr/bin/chromedriver").exists(), reason="make test installs Chromium")

PASSWORD = "correct horse battery"
SCREENSHOTS = os.environ.get("CONSOLE_SCREENSHOT_DIR", "")  # set to save the pages (docs/screenshots)


@pytest.fixture
def browser(tmp_path):
    driver = start_chromium(tmp_path / "chromium")
    problems = Problems(driver)
    yield driver, problems
    problems.collect()
    driver.quit()
    assert problems.console == [], f"the browser logged errors: {problems.console}"
    assert problems.outside_requests() == [], f"requests left 127.0.0.1: {problems.outside_requests()}"


@pytest.fixture
def site(live_server, transactional_db, settings):
    settings.CONSOLE_REFRESH_SECONDS = 1
    return live_server.url


def staff(email, role, post):
    return StaffFactory.create(email=email, password=PASSWORD, role=role, post=post)


def shot(driver, name):
    if not SCREENSHOTS:
        return
    wait_for(lambda: driver.find_element(By.ID, "map").get_attribute("data-countries-loaded"), what="the map")
    for width, height in ((1280, 900), (390, 844)):
        driver.set_window_size(width, height)
        driver.get_screenshot_as_file(str(Path(SCREENSHOTS) / f"console-{name}-{width}.png"))
    driver.set_window_size(1280, 900)


def test_an_officer_draws_declares_activates_messages_sees_answers_and_reveals(site, browser, pacific_post):
    driver, problems = browser
    staff("otto@mfa.example", Role.OFFICER, pacific_post)
    travellers = [traveller_with_stay(lon=178.2 + 0.04 * n, lat=-18.0, start="2026-12-01", end="2026-12-31")
                  for n in range(12)]  # fmt: skip
    sign_in(driver, site, "otto@mfa.example", PASSWORD)

    # Draw a polygon around them by clicking on the map; the preview counts them.
    driver.find_element(By.LINK_TEXT, "Declare a crisis").click()
    wait_for(lambda: driver.execute_script("return !!document.getElementById('map').consoleMap"))
    driver.execute_script("document.getElementById('map').consoleMap.setView([-18.0, 178.45], 9)")
    driver.find_element(By.CSS_SELECTOR, ".leaflet-pm-icon-polygon").click()
    corners = [(-17.8, 178.0), (-17.8, 178.9), (-18.25, 178.9), (-18.25, 178.0)]
    for lat, lon in [*corners, corners[0]]:
        click_at(driver, lat, lon)
    located = wait_for(lambda: driver.find_element(By.ID, "preview-located").text.isdigit()
                       and driver.find_element(By.ID, "preview-located").text, what="the preview count")  # fmt: skip
    shot(driver, "declare")

    driver.find_element(By.ID, "id_title").send_keys("Cyclone over Viti Levu")
    driver.find_element(By.CSS_SELECTOR, "#declare-form button[type=submit]").click()
    wait_for(lambda: driver.find_element(By.ID, "located-total"), what="the crisis page")
    crisis = Crisis.objects.get(title="Cyclone over Viti Levu")
    officer = User.objects.get(email_bidx=email_blind_index("otto@mfa.example"))
    counted: int = sum(affected_counts(crisis=crisis, user=officer).located.values())
    assert int(located) == counted == len(travellers)

    driver.find_element(By.CSS_SELECTOR, "button[value=activate]").click()
    wait_for(lambda: "Active" in driver.find_element(By.CSS_SELECTOR, ".lead").text, what="activation")

    # A campaign: the dry run first, then the launch.
    driver.find_element(By.ID, "id_message_en").send_keys("Are you safe? {checkin_url}")
    driver.find_element(By.CSS_SELECTOR, "button[value=dry-run]").click()
    assert wait_for(lambda: driver.find_element(By.ID, "dry-run-recipients").text) == "12"
    driver.find_element(By.CSS_SELECTOR, "button[value=launch]").click()
    wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, "tr[data-campaign]"), what="the campaign row")
    campaign = Campaign.objects.get(crisis=crisis)
    shot(driver, "crisis")
    if SCREENSHOTS:
        driver.get(site + "/console/")
        wait_for(lambda: driver.find_element(By.ID, "map").get_attribute("data-loaded"), what="the crises")
        shot(driver, "situation")
        driver.get(site + f"/console/crises/{crisis.pk}/")

    # A traveller answers through the link in their message (in another tab); the count follows.
    crisis_page = driver.current_window_handle
    driver.switch_to.new_window("tab")
    driver.get(f"{site}/checkin/{checkin_token(campaign.pk, travellers[0].pk)}")
    driver.find_element(By.CSS_SELECTOR, "button[value=safe]").click()
    wait_for(lambda: driver.find_element(By.CSS_SELECTOR, "p.note"), what="the answer's confirmation")
    driver.close()
    driver.switch_to.window(crisis_page)
    wait_for(lambda: driver.find_element(By.ID, "checkins-safe").text == "1", what="the check-in count")

    # Reveal with a reason: the table, a CSV in the same page, and one audit entry.
    driver.find_element(By.ID, "id_reason").send_keys("Cyclone landfall: contacting everyone in Suva")
    driver.find_element(By.CSS_SELECTOR, "section[aria-labelledby=reveal-heading] button").click()
    audit_id = wait_for(lambda: driver.find_element(By.ID, "audit-id").text, what="the reveal")
    assert len(driver.find_elements(By.CSS_SELECTOR, "#revealed tbody tr")) == 12
    assert driver.find_element(By.LINK_TEXT, "Download as CSV").get_attribute("href").startswith("data:text/csv")
    assert AuditEntry.objects.get(pk=int(audit_id)).action == "reveal"
    problems.collect()

    # Signing out ends the session.
    driver.find_element(By.CSS_SELECTOR, ".signout button").click()
    wait_for(lambda: "/console/login/" in driver.current_url, what="the sign-in page")
    driver.get(site + f"/console/crises/{crisis.pk}/")
    assert "/console/login/" in driver.current_url


def test_an_analyst_sees_suppressed_counts_and_no_reveal_form(site, browser, pacific_post):
    driver, _ = browser
    officer = staff("otto@mfa.example", Role.OFFICER, pacific_post)
    staff("anna@mfa.example", Role.ANALYST, pacific_post)
    traveller_with_stay(lon=178.4, lat=-18.1, start="2026-12-01", end="2026-12-31")
    crisis = declared_crisis(officer, area=square(178.0, -18.5, 178.8, -17.8), starts_at="2026-12-02T00:00:00Z")
    crisis_transition(crisis=crisis, user=officer, action="activate")
    sign_in(driver, site, "anna@mfa.example", PASSWORD)
    driver.get(f"{site}/console/crises/{crisis.pk}/")
    assert driver.find_element(By.ID, "located-total").text == "<10"
    assert not driver.find_elements(By.ID, "reveal-heading")


def test_an_officer_of_another_post_cannot_open_the_crisis(site, browser, pacific_post, andes_post):
    driver, _ = browser
    officer = staff("otto@mfa.example", Role.OFFICER, pacific_post)
    staff("oscar@mfa.example", Role.OFFICER, andes_post)
    crisis = declared_crisis(officer, area=square(178.0, -18.5, 178.8, -17.8))
    sign_in(driver, site, "oscar@mfa.example", PASSWORD)
    driver.get(f"{site}/console/crises/{crisis.pk}/")
    assert driver.find_element(By.TAG_NAME, "h1").text == "Not found" and "Cyclone" not in driver.page_source
    driver.get_log("browser")  # the 404 itself is logged as a failed resource: expected here


# Every control a keyboard reaches, with no name a screen reader could read out.
UNNAMED_CONTROLS = """
const unnamed = [];
for (const el of document.querySelectorAll('a[href], button, input, select, textarea, [role=button], [tabindex]')) {
  if (el.type === 'hidden' || el.tabIndex < 0 || el.offsetParent === null) continue;
  const labelled = el.labels && Array.from(el.labels).some(l => l.textContent.trim());
  const name = el.getAttribute('aria-label') || el.getAttribute('title') || el.textContent.trim() || el.value;
  if (!labelled && !name) unnamed.push(el.outerHTML.slice(0, 120));
}
return unnamed;
"""


def test_every_page_loads_without_errors_and_names_every_control(site, browser, pacific_post, settings):
    settings.REVEAL_APPROVAL_ABOVE = 0
    driver, _ = browser
    officer = staff("otto@mfa.example", Role.OFFICER, pacific_post)
    staff("sam@mfa.example", Role.SUPERVISOR, pacific_post)
    staff("ada@mfa.example", Role.ADMIN, None)
    traveller_with_stay(lon=178.4, lat=-18.1, start="2026-12-01", end="2026-12-31")
    crisis = declared_crisis(officer, area=square(178.0, -18.5, 178.8, -17.8), starts_at="2026-12-02T00:00:00Z")
    crisis_transition(crisis=crisis, user=officer, action="activate")
    pages = {
        "sam@mfa.example": ["/console/", "/console/crises/new/", f"/console/crises/{crisis.pk}/", "/console/proposals/",
                            "/console/reveals/", "/console/audit/"],
        "ada@mfa.example": ["/console/", "/console/feeds/", "/console/audit/"],
    }  # fmt: skip
    for email, paths in pages.items():
        driver.delete_all_cookies()
        sign_in(driver, site, email, PASSWORD)
        for path in paths:
            driver.get(site + path)
            if driver.find_elements(By.ID, "map"):
                wait_for(lambda: driver.find_element(By.ID, "map").get_attribute("data-countries-loaded"))
            assert driver.execute_script(UNNAMED_CONTROLS) == [], path
