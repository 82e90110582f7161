"""Who may change a run: in a personal lab anyone; on a class server its owner or the teacher.

On a class server each browser holds a random owner token. The store keeps only the token's
SHA-256 (a run's `owner`) and the display name the student typed, so an export, a run card or a
log can never give a token away, and a leaked database lets nobody act as a student. Everyone
may view every run; stopping, cancelling and deleting ask `Actor.check_may_change` first.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

from efficiency.errors import EfficiencyError

TOKEN_BYTES = 24  # 192 random bits: guessing another student's token is out of reach
NAME_MAX_CHARS = 60


def new_token() -> str:
    """A fresh owner token for a browser (URL-safe, so it can live in the page's address)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    """What the store keeps of a token: its SHA-256 in hex (the token is random, so no salt is needed)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def display_name(name: str) -> str:
    """A student's name as stored: trimmed, one line, at most NAME_MAX_CHARS characters."""
    return " ".join(name.split())[:NAME_MAX_CHARS]


@dataclass(frozen=True)
class Actor:
    """Who asks: a student (their token), the teacher, or the one user of a personal lab."""

    token: str | None = field(default=None, repr=False)  # never printed, logged or stored
    name: str = ""
    teacher: bool = False
    in_class: bool = False  # a class server: only a run's owner or the teacher may change it

    @classmethod
    def personal(cls) -> Actor:
        """The personal lab's one user: everything allowed, as without a class."""
        return cls()

    @classmethod
    def student(cls, token: str, name: str = "") -> Actor:
        if not token:
            raise EfficiencyError("This browser has no owner token: reload the page to get one.")
        return cls(token=token, name=display_name(name), in_class=True)

    @classmethod
    def class_teacher(cls, name: str = "teacher") -> Actor:
        """The teacher, once the PIN was checked (the caller checks it; this only says who acts)."""
        return cls(name=display_name(name), teacher=True, in_class=True)

    @classmethod
    def for_session(
        cls, token: str | None, name: str = "", teacher: bool = False, environ: Mapping[str, str] | None = None
    ) -> Actor:
        """Who a browser session is: on a class server (`make class` sets $EFFLAB_CLASS) a student, or the
        teacher once the PIN was checked; in the personal lab the one user, who may do everything."""
        from efficiency.class_server import CLASS_ENV

        if (os.environ if environ is None else environ).get(CLASS_ENV) != "1":
            return cls.personal()
        if teacher:
            return cls(token=token, name=display_name(name) or "teacher", teacher=True, in_class=True)
        return cls.student(token or "", name)

    @property
    def owner(self) -> str | None:
        """The owner hash this actor's new runs are stored with (None without a token)."""
        return token_hash(self.token) if self.token else None

    def owns(self, owner: str | None) -> bool:
        """Whether a run stored with owner hash `owner` is this actor's (compared in constant time)."""
        mine = self.owner
        return mine is not None and owner is not None and hmac.compare_digest(mine, owner)

    def may_change(self, owner: str | None) -> bool:
        """Stop, cancel or delete a run with owner hash `owner`: its owner, the teacher, or anyone in a personal lab."""
        return not self.in_class or self.teacher or self.owns(owner)

    def check_may_change(self, run_id: int, owner: str | None, owner_name: str | None, verb: str) -> None:
        """Raise the plain message a student sees when the run is not theirs."""
        if not self.may_change(owner):
            whose = f"{owner_name}'s run" if owner_name else "not your run"
            raise EfficiencyError(
                f"Run {run_id} is {whose}: only its owner or the teacher can {verb} it. You can still view it."
            )
