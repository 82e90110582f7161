"""The run card of a stored run, without training: plain data, and Markdown no stored string can format."""

from __future__ import annotations

from efficiency.flags import config_from_flags
from efficiency.run_card import card_markdown, run_card
from efficiency.store import RunStore


def test_a_card_escapes_what_a_user_wrote_and_fences_the_command():
    store = RunStore()
    config = config_from_flags("--model tiny --epochs 1 --technique lora:r=4")
    config.name = "**bold** [link](http://x) ```"
    run_id = store.create_run(config.to_dict(), device="cpu")
    store.finish(run_id, "failed", error="<b>no</b>")
    card = run_card(store.get(run_id))
    assert card["results"] == {} and card["status"] == "failed"
    assert card["command"].startswith("python -m efficiency train --name ")
    markdown = card_markdown(card)
    title = markdown.splitlines()[0]
    assert title == rf"# Run {run_id}: \*\*bold\*\* \[link\](http://x) \`\`\`"
    assert r"\<b\>no\</b\>" in markdown
    fence = next(line for line in markdown.splitlines() if line.startswith("```"))
    assert fence == "````"  # longer than the name's own backticks, so the name cannot close the block


def test_a_card_lists_each_figure_with_its_method():
    store = RunStore()
    run_id = store.create_run(config_from_flags("--model tiny").to_dict(), device="cpu")
    metrics = {"accuracy": 0.5, "provenance": {"accuracy": {"kind": "measured", "method": "accuracy_score"}}}
    store.finish(run_id, "finished", metrics=metrics)
    card = run_card(store.get(run_id))
    assert card["results"]["accuracy"] == {
        "value": 0.5,
        "shown": "50.0%",
        "kind": "measured",
        "method": "accuracy_score",
    }
    assert "| accuracy | 50.0% | measured | accuracy\\_score |" in card_markdown(card)
