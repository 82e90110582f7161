"""The shipped lessons (assets/lessons/*.toml) and a teacher's own lesson file anywhere on disk."""

from __future__ import annotations

import tomllib
from pathlib import Path

from efficiency.lessons.schema import Lesson, LessonError, parse_lesson
from efficiency.paths import REPO_ROOT

LESSONS_DIR = REPO_ROOT / "assets" / "lessons"


def load_lesson(path: str | Path) -> Lesson:
    """Read and validate one lesson file; LessonError says what is wrong and where."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise LessonError(f"Cannot read the lesson file {path}: {exc.strerror or exc}.") from exc
    except UnicodeDecodeError as exc:
        raise LessonError(f"{path}: the lesson file is not UTF-8 text: save it as UTF-8.") from exc
    return parse_text(text, str(path))


def parse_text(text: str, source: str = "lesson") -> Lesson:
    """A lesson from TOML text (a file uploaded through a page has no path)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LessonError(f"{source}: not valid TOML ({exc}). Check the quotes and the [[runs]] headers.") from exc
    return parse_lesson(raw, source)


def shipped_lessons() -> list[Lesson]:
    """Every lesson in assets/lessons, in file-name order (the files are numbered)."""
    return [load_lesson(path) for path in sorted(LESSONS_DIR.glob("*.toml"))]


def find_lesson(name_or_path: str) -> Lesson:
    """A shipped lesson by its name, or a lesson file by its path."""
    path = Path(name_or_path).expanduser()
    if path.suffix == ".toml" or path.is_file():
        return load_lesson(path)
    lessons = shipped_lessons()
    for lesson in lessons:
        if lesson.name == name_or_path:
            return lesson
    names = ", ".join(lesson.name for lesson in lessons)
    raise LessonError(f"There is no lesson '{name_or_path}': use one of {names}, or the path of a .toml file.")
