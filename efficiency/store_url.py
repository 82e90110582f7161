"""A run store's URL as it may be shown: the password masked in every message and log.

A PostgreSQL URL carries its password. It travels to workers in the environment ($EFFLAB_STORE),
never on a command line, which every user of the machine can read in the process list.
"""

from __future__ import annotations

import re
import urllib.parse

from sqlalchemy.engine import make_url

ENV_VAR = "EFFLAB_STORE"
MASK = "***"
# user:password@ in a URL that SQLAlchemy cannot parse (a typo must not print the password either)
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z0-9+.-]+://[^:/@\s]*):(?P<password>[^@\s]*)@")


def masked(url: str) -> str:
    """The URL with its password replaced by ***; unparsable URLs are masked too."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # ArgumentError, or a ValueError from a bad port: mask by hand
        return _USERINFO.sub(lambda m: f"{m['scheme']}:{MASK}@", url)


def password_of(url: str) -> str | None:
    """The URL's password (None when it has none), as written and percent-decoded alike."""
    match = _USERINFO.search(url)
    return match["password"] or None if match else None


def has_password(url: str | None) -> bool:
    return bool(url) and password_of(url or "") is not None


def scrub(text: str, url: str | None) -> str:
    """`text` (an error message, a log line) with the store's URL and password masked wherever they occur."""
    if not url:
        return text
    text = text.replace(url, masked(url))
    password = password_of(url)
    if password:
        for form in {password, urllib.parse.unquote(password)}:
            if form:
                text = text.replace(form, MASK)
    return text


def reason(exc: BaseException, url: str | None) -> str:
    """An exception's first line for a message or a log, the store's URL and password masked."""
    text = str(exc).strip()
    return scrub(text.splitlines()[0] if text else type(exc).__name__, url)
