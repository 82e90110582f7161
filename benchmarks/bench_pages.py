"""How fast the app answers a student, measured in headless Chromium (Debian's chromium through Playwright).

Prints, for a fresh server on this machine (idle otherwise):
- home_s: from the first request of a cold server (healthy, no page served yet) to the home page's
  title and demo button on screen;
- first_visit_s[page]: the first visit to each page (a sidebar click), to its title on screen;
- toggle_rerun_s: switching a technique on, to the rerun's end (Streamlit's running indicator gone),
  median of a few toggles.
Targets (issue 10): 2.5 s, 2.5 s, 0.4 s. Each figure is the median over --repeats fresh servers.

    python benchmarks/bench_pages.py [--repeats 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from efficiency.appserver import serving
from efficiency.ui.router import PAGES

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"]
TARGETS_S = {"home_s": 2.5, "first_visit_s": 2.5, "toggle_rerun_s": 0.4}
TOGGLES = 5


def settle(page) -> None:
    """Wait until the script run ends (Streamlit's status widget shows 'Running' while it runs)."""
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000, polling=20
    )


def one_server(browser, data_dir: str) -> dict[str, object]:
    env = {"EFFLAB_HOME": data_dir, "EFFLAB_AUTO_CALIBRATE": "0"}
    with serving(env=env) as url:
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        started = time.perf_counter()
        page.goto(url)
        page.get_by_role("heading", name="Efficiency Lab").wait_for(timeout=60_000)
        page.get_by_role("button", name="Run the one-minute demo").wait_for(timeout=60_000)
        home_s = time.perf_counter() - started
        settle(page)
        visits = {}
        for entry in PAGES:
            started = time.perf_counter()
            page.get_by_role("link", name=entry.title, exact=True).first.click()
            page.get_by_role("heading", name=entry.title, exact=True).wait_for(timeout=60_000)
            visits[entry.title] = time.perf_counter() - started
            settle(page)
        page.get_by_role("link", name=PAGES.experiment.title, exact=True).first.click()
        page.get_by_role("heading", name=PAGES.experiment.title, exact=True).wait_for(timeout=60_000)
        page.get_by_role("button", name="Train", exact=True).wait_for(timeout=120_000)
        settle(page)
        toggle = page.get_by_text("Mixed precision", exact=False).first
        reruns = []
        for _ in range(TOGGLES):
            started = time.perf_counter()
            toggle.click()
            page.wait_for_timeout(30)  # the rerun starts a few ms after the click
            settle(page)
            reruns.append(time.perf_counter() - started)
        page.context.close()
    return {"home_s": home_s, "first_visit_s": visits, "toggle_rerun_s": statistics.median(reruns)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="fresh servers measured (the median is printed)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    results = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        for _ in range(args.repeats):
            with tempfile.TemporaryDirectory() as data_dir:
                results.append(one_server(browser, data_dir))
        browser.close()
    summary = {
        "home_s": statistics.median(r["home_s"] for r in results),
        "first_visit_s": {
            k: statistics.median(r["first_visit_s"][k] for r in results) for k in results[0]["first_visit_s"]
        },
        "toggle_rerun_s": statistics.median(r["toggle_rerun_s"] for r in results),
        "repeats": args.repeats,
        "targets_s": TARGETS_S,
    }
    if args.json:
        print(json.dumps(summary))
        return 0
    print(f"home page, cold server: {summary['home_s']:.2f} s (target {TARGETS_S['home_s']} s)")
    for title, seconds in summary["first_visit_s"].items():
        print(f"first visit to {title}: {seconds:.2f} s (target {TARGETS_S['first_visit_s']} s)")
    print(f"technique toggle rerun: {summary['toggle_rerun_s']:.2f} s (target {TARGETS_S['toggle_rerun_s']} s)")
    print(f"median of {args.repeats} fresh servers on this machine")
    return 0


if __name__ == "__main__":
    sys.exit(main())
