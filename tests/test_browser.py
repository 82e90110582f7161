"""The app in a real browser: headless Debian Chromium driven by Playwright.

Starts the Streamlit server on a free port, trains a tiny model from the page, reloads the page
mid-run and sees it re-attach (the run id lives in the URL), and sees the result card.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from efficiency import paths
from tests.conftest import needs_shared_data

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    needs_shared_data,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed (make test installs it)"),
]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server():
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.port",
            str(port),
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
        ],
        cwd=paths.REPO_ROOT,
        env=os.environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.3)
    yield url
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        yield page
        browser.close()


def choose(page, label: str, option: str) -> None:
    page.get_by_role("combobox", name=label).click()
    page.get_by_role("option", name=option).click()


def test_train_reload_and_see_the_result(server, page, tmp_path):
    page.goto(server)
    page.get_by_text("Efficiency Lab").first.wait_for(timeout=60_000)
    choose(page, "Model", "Tiny BERT (2 layers, random init: seconds, for a quick look)")
    page.get_by_role("spinbutton", name="Epochs").fill("2")
    page.get_by_role("button", name="Train").click()
    page.wait_for_url("**/?run=*", timeout=30_000)
    run_url = page.url
    page.get_by_text("step ").first.wait_for(timeout=90_000)  # the live progress bar
    page.reload()
    assert page.url == run_url
    page.get_by_text(re.compile(r"^Run \d+: tiny on nusax-senti/javanese")).wait_for(timeout=60_000)
    page.get_by_text("Accuracy", exact=True).first.wait_for(timeout=300_000)  # re-attached and finished
    page.get_by_text("estimated", exact=True).first.wait_for()
    page.screenshot(path=str(tmp_path / "home-result.png"), full_page=True)
