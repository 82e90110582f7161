"""Screenshots of the app in headless Chromium, for the README: `python scripts/screenshots.py`.

Starts the app on a free port with a fresh, temporary run store, trains a model from the page,
and saves PNGs of the page before, during and after the run into assets/screenshots/.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="Tiny BERT (2 layers, random init: seconds, for a quick look)")
    parser.add_argument("--epochs", default="4")
    parser.add_argument("--out", default=str(ROOT / "assets" / "screenshots"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "EFFLAB_HOME": home}
        server = subprocess.Popen(
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
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(200):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.3)
            shoot(f"http://127.0.0.1:{port}", out, args.model, args.epochs)
        finally:
            server.terminate()
            server.wait(timeout=30)
    return 0


def shoot(url: str, out: Path, model: str, epochs: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(url)
        page.get_by_text("Efficiency Lab").first.wait_for(timeout=60_000)
        page.wait_for_timeout(1500)
        page.screenshot(path=str(out / "home.png"), full_page=True)
        page.get_by_role("combobox", name="Model").click()
        page.get_by_role("option", name=model).click()
        page.get_by_role("spinbutton", name="Epochs").fill(epochs)
        page.get_by_role("button", name="Train").click()
        page.mouse.move(700, 880)  # away from the button, so no tooltip covers the form
        page.get_by_text("step ").first.wait_for(timeout=120_000)
        page.get_by_role("button", name="Stop").wait_for(timeout=60_000)
        page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)  # the growing loss curve
        page.wait_for_timeout(3000)
        page.screenshot(path=str(out / "run-live.png"), full_page=True)
        page.get_by_text("Accuracy", exact=True).first.wait_for(timeout=600_000)
        page.wait_for_timeout(2000)
        page.screenshot(path=str(out / "run-result.png"), full_page=True)
        browser.close()
    print(f"screenshots in {out}")


if __name__ == "__main__":
    sys.exit(main())
