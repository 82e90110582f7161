"""The class server's teacher PIN: where it comes from, and a guard that slows down guessing.

The PIN is read from `$EFFLAB_TEACHER_PIN` or from the file `$EFFLAB_TEACHER_PIN_FILE` names, which only
its owner may read; never from a command line (any user of the machine can read those). It is compared
in constant time, and after a few wrong tries every try waits longer, for every browser alike.
"""

from __future__ import annotations

import hmac
import os
import stat
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from efficiency.errors import EfficiencyError

PIN_ENV = "EFFLAB_TEACHER_PIN"
PIN_FILE_ENV = "EFFLAB_TEACHER_PIN_FILE"
MIN_PIN_LENGTH = 4
FREE_TRIES = 3  # wrong tries before the waits begin
LONGEST_WAIT_S = 60.0


def read_pin(environ: dict[str, str] | None = None) -> str | None:
    """The teacher's PIN from the environment or an owner-only file; None when neither is set."""
    environ = dict(os.environ if environ is None else environ)
    if environ.get(PIN_ENV):
        return _checked(environ[PIN_ENV], f"${PIN_ENV}")
    if environ.get(PIN_FILE_ENV):
        path = Path(environ[PIN_FILE_ENV]).expanduser()
        try:
            info = path.stat()
        except OSError as exc:
            raise EfficiencyError(f"Cannot read the PIN file {path}: {exc.strerror}.") from exc
        if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO) or info.st_uid != os.getuid():
            raise EfficiencyError(f"The PIN file {path} can be read by others: make it yours alone (chmod 600 {path}).")
        return _checked(path.read_text(encoding="utf-8").strip(), str(path))
    return None


def _checked(pin: str, where: str) -> str:
    if len(pin) < MIN_PIN_LENGTH:
        raise EfficiencyError(f"The teacher PIN in {where} is too short: use at least {MIN_PIN_LENGTH} characters.")
    return pin


@dataclass
class PinGuard:
    """Constant-time comparison, and a wait that doubles after each wrong try beyond the first few."""

    pin: str | None
    failures: int = 0
    locked_until: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def check(self, typed: str, now: float | None = None) -> tuple[bool, str]:
        """(unlocked, message): no PIN set unlocks everyone (a personal lab)."""
        if self.pin is None:
            return True, ""
        now = time.monotonic() if now is None else now
        with self._lock:
            if now < self.locked_until:
                return False, f"Too many wrong PINs: try again in {self.locked_until - now:.0f} s."
            if hmac.compare_digest(typed.encode(), self.pin.encode()):
                self.failures = 0
                return True, ""
            self.failures += 1
            if self.failures >= FREE_TRIES:
                wait_s = min(2.0 ** (self.failures - FREE_TRIES + 1), LONGEST_WAIT_S)
                self.locked_until = now + wait_s
                return False, f"Wrong PIN. Wait {wait_s:.0f} s before the next try."
            return False, "Wrong PIN."
