"""Passwords out of text: every URL, command line and message the tool records or prints passes through ``hide``.

Masking works on the text, never on a parse of it alone: a URL the driver cannot read
(a port that is not a number, an unclosed ``[``) is exactly the one whose error
message would otherwise repeat it whole. The patterns err towards hiding too much. And
the passwords of the storage URL in use are remembered as they are, so a form the
patterns miss, or a driver quoting the password it decoded, is hidden too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from urllib.parse import unquote

MASK = "***"
SHORTEST = 4  # a remembered password shorter than this is not replaced on its own: it would garble the text

# scheme://user: -- the start of a URL's password, which runs from there to the text's last '@' (see _userinfo).
# Bounded, so that no text makes the search slow: a scheme is short, a user name at most 256 characters.
_SCHEME_USER = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]{0,31}://[^:/\s]{0,256}:")
# password=..., sslpassword=..., token=... in a query string or a libpq keyword string (blanks around '=' allowed,
# a quoted value with its backslash escapes): the value runs to the next '&' or blank, '#' and ';' included
# (drivers pass them on as part of the password).
_KEYWORD = re.compile(
    r"(?P<head>(?:^|[?&;\s])[A-Za-z_]{0,64}(?:password|passwd|pwd|secret|token)\s*=\s*)"
    r"(?P<secret>'(?:[^'\\]|\\.)*'|[^&\s]*)",
    re.IGNORECASE,
)
_remembered: set[str] = set()


def hide(text: str, known: Iterable[str] = ()) -> str:
    """``text`` with each URL's password, each password-like parameter, each of ``known`` and each remembered
    password replaced by ***."""
    for secret in sorted({*known, *_remembered}, key=len, reverse=True):  # the longest first: no half-masks
        if len(secret) >= SHORTEST or secret in known:
            text = text.replace(secret, MASK)
    text = _userinfo(text, lambda secret: MASK)
    return _KEYWORD.sub(lambda m: m["head"] + MASK, text)


def _userinfo(text: str, replace: Callable[[str], str]) -> str:
    """``text`` with a URL's password -- from the first ``scheme://user:`` to the text's last '@', since a user
    name may hold '@' (user@server, as Azure spells it) and a password '@', '/', ':' or blanks that its writer
    did not percent-encode -- replaced. Two URLs in one text are hidden together; more is hidden, never less.
    One scan: linear in the text, whatever it holds."""
    last = text.rfind("@")
    start = next((m for m in _SCHEME_USER.finditer(text, 0, max(last, 0)) if m.end() <= last), None)
    if start is None:
        return text
    return text[: start.end()] + replace(text[start.end() : last]) + text[last:]


def secrets_in(url: str) -> list[str]:
    """The passwords ``url`` holds, as written and percent-decoded: what ``hide`` must also find elsewhere,
    e.g. in a driver's message that quotes the decoded value."""
    found = [m["secret"] for m in _KEYWORD.finditer(url)] + [_parsed_password(url)]
    _userinfo(url, lambda secret: found.append(secret) or secret)
    variants = (v for secret in found if secret for v in (secret, secret.strip("'"), unquote(secret)))
    return [v for v in dict.fromkeys(variants) if v and v != MASK]


def _parsed_password(url: str) -> str | None:
    """The password as SQLAlchemy reads it, where it can: the split the driver will use."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).password
    except Exception:  # not a URL SQLAlchemy reads (the opening will say so), or SQLAlchemy absent
        return None


def remember(url: str) -> None:
    """Hides the passwords of ``url`` (the storage in use) in every text ``hide`` sees from now on."""
    _remembered.update(secrets_in(url))


def command(argv: Iterable[str]) -> list[str]:
    """A command line fit to record: each argument with its secrets hidden."""
    return [hide(arg) for arg in argv]
