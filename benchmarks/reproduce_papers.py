"""Every lesson reproduced on this machine: the README's table of claims, measured figures and verdicts.

    python benchmarks/reproduce_papers.py                      # run every shipped lesson here (runs reused)
    python benchmarks/reproduce_papers.py --lessons mine.toml  # a teacher's own lesson files
    python benchmarks/reproduce_papers.py --store sqlite:///runs.sqlite   # keep the runs (default: a fresh store)
    python benchmarks/reproduce_papers.py --from-bench         # no training: verdicts from the rows of
                                                               # bench_techniques.py (same configs and seeds)

Each lesson runs through the same plan as `python -m efficiency lesson run` (its missing runs trained in
order, runs stored earlier in the sitting reused), and its verdicts come from the same rules. Lessons that
do not reproduce stay in the table, with the figures that say why.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from efficiency.lessons import Lesson, LessonResult, evaluate, find_lesson, lesson_result, plan_lesson, shipped_lessons
from efficiency.store import RunStore

RESULTS = Path(__file__).resolve().parent / "results"
# Lesson runs whose config is one of bench_techniques.py's (MiniLM, NusaX-senti javanese, 3 epochs, defaults):
# (lesson, run id) -> (suite's rows file, configuration label).
FROM_BENCH: dict[tuple[str, str], tuple[str, str]] = {
    ("lora-vs-full", "full"): ("nusax", "full"),
    ("lora-vs-full", "lora"): ("nusax", "lora"),
    ("peft-family", "full"): ("nusax", "full"),
    ("peft-family", "lora"): ("nusax", "lora"),
    ("peft-family", "prefix"): ("nusax-more", "prefix"),
    ("peft-family", "ia3"): ("nusax", "ia3"),
    ("peft-family", "bitfit"): ("nusax", "bitfit"),
    ("peft-family", "top2"): ("nusax", "freeze top 2"),
    ("peft-family", "probe"): ("nusax", "probe"),
    ("filter-data", "all"): ("nusax", "full"),
    ("filter-data", "multistage"): ("nusax", "filter multistage"),
    ("filter-data", "random"): ("nusax", "filter 50% random"),
    ("quantization", "full"): ("nusax", "full"),
    ("quantization", "int8"): ("nusax", "quant int8"),
}


def machine() -> str:
    from efficiency.measure.environment import cpu_model

    return f"{cpu_model()}, {platform.machine()}"


def run_lesson(lesson: Lesson, store: RunStore, quiet: bool) -> tuple[LessonResult, float]:
    """Train what the lesson still misses; the result and the minutes it took here."""
    from efficiency.lessons.execute import run_plan

    say = (lambda _m: None) if quiet else (lambda m: print(m, file=sys.stderr, flush=True))
    started = time.monotonic()
    plan = run_plan(plan_lesson(lesson, store), store, say=say)
    return lesson_result(lesson, store, plan), (time.monotonic() - started) / 60


def minutes_alone(result: LessonResult, store: RunStore) -> float:
    """The lesson on its own: the sum of its stored runs' times from start to end, reused runs included."""
    seconds = 0.0
    for run_id in {run_id for ids in result.runs.values() for run_id in ids}:
        record = store.get(run_id)
        if record is not None and record.started_at and record.finished_at:
            seconds += record.finished_at - record.started_at
    return seconds / 60


def from_bench(lesson: Lesson) -> LessonResult | None:
    """The verdicts from bench_techniques.py's stored rows at the lesson's seeds (None: no run of it was benched)."""
    metrics: dict[str, list[dict[str, Any]]] = {}
    for run in lesson.runs:
        source = FROM_BENCH.get((lesson.name, run.id))
        if source is None:
            continue
        rows = [json.loads(line) for line in (RESULTS / f"{source[0]}.jsonl").read_text().splitlines() if line]
        metrics[run.id] = [r for r in rows if r["label"] == source[1] and r["seed"] in run.seeds]
    return evaluate(lesson, metrics) if metrics else None


def table(rows: list[dict[str, Any]]) -> str:
    """The README's table; every cell escaped for a Markdown table."""
    head = ["lesson", "the paper's claim", "measured here", "verdict", "minutes alone", "minutes in this sitting",
            "machine", "command"]  # fmt: skip
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for row in rows:
        cells = [row["lesson"], row["claim"], row["measured"], f"**{row['verdict']}**", row["minutes_alone"],
                 row["minutes"], row["machine"], f"`{row['command']}`"]  # fmt: skip
        lines.append("| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
    return "\n".join(lines)


def row(lesson: Lesson, result: LessonResult, minutes: str, where: str, command: str,
        alone: str = "") -> dict[str, Any]:  # fmt: skip
    measured = "; ".join(f"{c.says}: {c.verdict} ({c.words})" for c in result.checks)
    return {
        "lesson": lesson.title, "name": lesson.name, "claim": f"{lesson.claim} ({lesson.citation})",
        "measured": measured, "verdict": result.verdict, "minutes": minutes, "minutes_alone": alone, "machine": where, "command": command,
        "result": result.to_json(),
    }  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lessons", nargs="*", help="Lesson names or files (default: every shipped lesson).")
    parser.add_argument("--store", help="SQLAlchemy URL of the run store (default: a fresh one for this sitting).")
    parser.add_argument("--from-bench", action="store_true", help="Train nothing: use bench_techniques.py's rows.")
    parser.add_argument("--json", action="store_true", help="Print the rows as one JSON object.")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    lessons = [find_lesson(name) for name in args.lessons] if args.lessons else shipped_lessons()
    rows = []
    if args.from_bench:
        for lesson in lessons:
            result = from_bench(lesson)
            if result is not None:
                rows.append(row(lesson, result, "(earlier sittings)", "rows of bench_techniques.py",
                                "python benchmarks/reproduce_papers.py --from-bench"))  # fmt: skip
    else:
        with tempfile.TemporaryDirectory() as folder:
            store = RunStore(args.store or f"sqlite:///{folder}/lessons.sqlite")
            where = machine()
            for lesson in lessons:
                result, minutes = run_lesson(lesson, store, args.quiet)
                rows.append(row(lesson, result, f"{minutes:.1f}", where, f"python -m efficiency lesson run {lesson.name}",
                                f"{minutes_alone(result, store):.1f}"))  # fmt: skip
    print(json.dumps({"rows": rows}, default=str) if args.json else table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
