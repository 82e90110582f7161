"""The shipped lessons (assets/lessons/*.toml) and a teacher's own lesson file anywhere on disk."""

from __future__ import annotations

import tomllib
from pathlib import Path

from efficiency.lessons.schema import Lesson, LessonError, parse_lesson
from efficiency.paths import REPO_ROOT, app_data_dir

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


def own_lessons_dir() -> Path:
    """Where the lessons a teacher adds through the Lessons page are kept: the lab's data folder."""
    return app_data_dir() / "lessons"


def own_lessons() -> tuple[list[Lesson], list[str]]:
    """The teacher's added lessons, and a message for each file that no longer reads (never a crash)."""
    lessons, problems = [], []
    for path in sorted(own_lessons_dir().glob("*.toml")):
        try:
            lessons.append(load_lesson(path))
        except LessonError as exc:
            problems.append(str(exc))
    return lessons, problems


def all_lessons() -> tuple[list[Lesson], list[str]]:
    """The shipped lessons, then the teacher's own (an own lesson named like a shipped one is left out)."""
    shipped = shipped_lessons()
    taken = {lesson.name for lesson in shipped}
    own, problems = own_lessons()
    kept = [lesson for lesson in own if lesson.name not in taken]
    problems += [f"{lesson.source}: a shipped lesson is named '{lesson.name}': rename it." for lesson in own
                 if lesson.name in taken]  # fmt: skip
    return shipped + kept, problems


def add_own_lesson(text: str, source: str = "the uploaded file") -> Lesson:
    """Validate a lesson file's text and keep it among the teacher's own lessons, by its name."""
    lesson = parse_text(text, source)
    if lesson.name in {shipped.name for shipped in shipped_lessons()}:
        raise LessonError(f"{source}: a shipped lesson is named '{lesson.name}' already: give yours another name.")
    folder = own_lessons_dir()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{lesson.name}.toml").write_text(text, encoding="utf-8")  # the name is checked: [a-z0-9_-]
    return lesson


def find_lesson(name_or_path: str) -> Lesson:
    """A shipped lesson by its name, or a lesson file by its path."""
    path = Path(name_or_path).expanduser()
    if path.suffix == ".toml" or path.is_file():
        return load_lesson(path)
    lessons, _ = all_lessons()
    for lesson in lessons:
        if lesson.name == name_or_path:
            return lesson
    names = ", ".join(lesson.name for lesson in lessons)
    raise LessonError(f"There is no lesson '{name_or_path}': use one of {names}, or the path of a .toml file.")
