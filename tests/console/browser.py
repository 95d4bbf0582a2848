"""Debian's Chromium, driven by Selenium through Debian's ChromeDriver, for the console's tests."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# As the machine's own probe starts it: headless, and no background traffic to Google's hosts.
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--metrics-recording-only", "--no-default-browser-check",
         "--window-size=1280,900"]  # fmt: skip
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def start_chromium(user_data_dir: Path) -> WebDriver:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={user_data_dir}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must not download anything
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def wait_for(condition: Callable[[], Any], *, timeout: float = 10.0, what: str = "the page") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = condition()
        except Exception:
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


class Problems:
    """Everything the browser logged (JavaScript errors, CSP violations) and every request it made."""

    def __init__(self, driver: WebDriver) -> None:
        self.driver = driver
        self.console: list[str] = []
        self.requests: list[str] = []

    def collect(self) -> None:
        for entry in self.driver.get_log("browser"):
            if entry["level"] in ("SEVERE", "WARNING"):
                self.console.append(entry["message"])
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message["method"] == "Network.requestWillBeSent":
                self.requests.append(message["params"]["request"]["url"])

    def outside_requests(self) -> list[str]:
        # chrome:// is the browser's own new-tab page (a new tab opens one), not the network.
        network = [url for url in self.requests if urlsplit(url).scheme in ("http", "https", "ws", "wss")]
        return [url for url in network if urlsplit(url).hostname not in LOCAL_HOSTS]


def click_at(driver: WebDriver, lat: float, lon: float) -> None:
    """A real mouse click on the map where this coordinate is drawn."""
    element = driver.find_element(By.ID, "map")
    x, y = driver.execute_script(
        "var p = arguments[0].consoleMap.latLngToContainerPoint([arguments[1], arguments[2]]); return [p.x, p.y];",
        element, lat, lon,
    )  # fmt: skip
    size = element.size
    offset_x, offset_y = int(x - size["width"] / 2), int(y - size["height"] / 2)  # from the element's centre
    ActionChains(driver).move_to_element_with_offset(element, offset_x, offset_y).click().perform()


def sign_in(driver: WebDriver, base: str, email: str, password: str) -> None:
    driver.get(base + "/console/login/")
    driver.find_element(By.ID, "email").send_keys(email)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    wait_for(lambda: driver.current_url.rstrip("/").endswith("/console"), what="the situation page")
