"""Screenshots of every page in headless Chromium, for the README: `python scripts/screenshots.py`.

Trains a few real runs first (MiniLM on NusaX-senti Javanese, 1 epoch each, plus the TF-IDF
baseline: about six minutes on a 2-core CPU) into a fresh app-data folder, so Compare has honest
points to show; then serves the app on it and photographs each page, a run live and its result,
and presentation mode at a projector's 1280x720. `--home DIR` reuses (and keeps) a folder from an earlier call.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from efficiency.appserver import serving  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"]
TINY = "Tiny BERT: 2 layers, random init (seconds; for a quick look)"
PREPARED = [  # (name, techniques, seed): the experiments Compare shows
    ("full fine-tuning", [], 42),
    ("full fine-tuning", [], 43),
    ("LoRA", [("lora", {})], 42),
    ("LoRA", [("lora", {})], 43),
    ("linear probe", [("probe", {})], 42),
    ("filter 50% random", [("filter", {"method": "random", "keep": 0.5})], 42),
    ("prune 50% of layers", [("prune", {"method": "layers", "sparsity": 0.5})], 42),
]


def prepare(home: Path) -> None:
    """Real runs for Compare (skipped when the folder already holds them)."""
    os.environ["EFFLAB_HOME"] = str(home)
    from efficiency.config import DataConfig, ModelConfig, RunConfig, TechniqueSpec, TrainConfig
    from efficiency.estimate import calibrate
    from efficiency.runs.runner import run_experiment
    from efficiency.store import RunStore

    store = RunStore()
    if store.list():
        return
    calibrate("minilm", "cpu")
    data = DataConfig(dataset="nusax-senti/javanese")
    run_experiment(RunConfig(name="TF-IDF baseline", model=ModelConfig(name="tfidf-logreg"), data=data), store=store)
    for name, techniques, seed in PREPARED:
        config = RunConfig(
            name=f"{name} (seed {seed})",
            data=data,
            train=TrainConfig(epochs=1),
            techniques=[TechniqueSpec(n, p) for n, p in techniques],
            seed=seed,
            device="cpu",
        )
        result = run_experiment(config, store=store)
        print(f"{config.name}: acc {result.metrics['accuracy']:.3f}", file=sys.stderr)


def shoot(url: str, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1800})

        def settle(ms: int = 2500) -> None:
            page.mouse.move(5, 5)  # no tooltip over the page
            page.wait_for_timeout(ms)

        page.goto(url)
        page.get_by_text("Efficiency Lab").first.wait_for(timeout=60_000)
        settle()
        page.screenshot(path=str(out / "home.png"), full_page=True)

        page.goto(f"{url}/experiment")
        page.get_by_role("heading", name="Experiment", exact=True).wait_for(timeout=60_000)
        page.get_by_text("LoRA", exact=True).first.click()
        page.get_by_text("Predicted cost").wait_for()
        page.get_by_text("Training FLOPs").first.wait_for(timeout=60_000)
        settle()
        page.screenshot(path=str(out / "experiment.png"), full_page=True)

        page.get_by_role("combobox", name="Model").click()
        page.get_by_role("option", name=TINY, exact=True).click()
        page.get_by_text("None: train every weight", exact=False).first.click()
        page.get_by_text("Quantization", exact=True).click()  # the card then shows a before/after table
        page.get_by_text("Advanced: training, data and measurement settings").click()
        epochs = page.get_by_role("spinbutton", name="epochs", exact=True)
        epochs.fill("12")
        epochs.press("Enter")
        page.wait_for_timeout(1500)
        page.get_by_role("button", name="Train", exact=True).click()
        page.get_by_text("step ").first.wait_for(timeout=120_000)
        page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)  # the growing loss curve
        settle(4000)
        page.screenshot(path=str(out / "run-live.png"), full_page=False)
        page.get_by_text("Accuracy", exact=True).first.wait_for(timeout=600_000)
        settle()
        page.screenshot(path=str(out / "run-result.png"), full_page=True)
        result_url = page.url  # the run's id lives in the address

        page.goto(f"{url}/compare?dataset=nusax-senti/javanese")
        page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
        settle(4000)
        page.screenshot(path=str(out / "compare.png"), full_page=True)

        page.goto(f"{url}/methods")
        page.get_by_text("How each figure is measured").wait_for(timeout=60_000)
        settle()
        page.screenshot(path=str(out / "methods.png"), full_page=False)

        presentation(browser, url, result_url, out)
        browser.close()


def presentation(browser, url: str, result_url: str, out: Path) -> None:
    """Presentation mode at a projector's 1280x720: Compare's chart, then a run's result card."""
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.goto(f"{url}/compare?dataset=nusax-senti/javanese")
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    page.get_by_text("Presentation mode").click()
    page.locator("g.annotation").first.wait_for(timeout=60_000)
    page.mouse.move(5, 5)
    page.wait_for_timeout(4000)
    page.screenshot(path=str(out / "presentation.png"), full_page=False)
    page.goto(result_url)
    page.get_by_text("Accuracy", exact=True).first.wait_for(timeout=60_000)
    page.get_by_text("Presentation mode").click()
    page.wait_for_timeout(4000)
    page.screenshot(path=str(out / "presentation-result.png"), full_page=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(ROOT / "assets" / "screenshots"))
    parser.add_argument("--home", help="app-data folder to fill (or reuse) and keep")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        home = Path(args.home or scratch)
        home.mkdir(parents=True, exist_ok=True)
        prepare(home)
        with serving(env={"EFFLAB_HOME": str(home)}) as url:
            shoot(url, out)
    print(f"screenshots in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
