"""Passwords out of text: every URL, command line and message the tool records or prints passes through ``hide``.

Masking works on the text, never on a parse of it: a URL the driver cannot read
(a port that is not a number, an unclosed ``[``) is exactly the one whose error
message would otherwise repeat it whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "***"

# scheme://user:PASSWORD@host: everything between the first ':' of the user part and the token's last '@',
# since a password may hold '@', '/' or ':' that its writer forgot to percent-encode.
_USERINFO = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^:/?#@\s]*):(?P<secret>\S*)@")
# password=..., sslpassword=..., token=... in a query string or a libpq keyword string.
_KEYWORD = re.compile(
    r"(?P<head>(?:^|[?&;\s])[A-Za-z_]*(?:password|passwd|pwd|secret|token)=)(?P<secret>'[^']*'|[^&;\s#]*)",
    re.IGNORECASE,
)


def hide(text: str, known: Iterable[str] = ()) -> str:
    """``text`` with each URL's password, each password-like parameter and each of ``known`` replaced by ***."""
    for secret in known:
        if secret:
            text = text.replace(secret, MASK)
    text = _USERINFO.sub(lambda m: f"{m['head']}:{MASK}@" if m["secret"] != MASK else m[0], text)
    return _KEYWORD.sub(lambda m: m["head"] + MASK, text)


def secrets_in(url: str) -> list[str]:
    """The passwords ``url`` holds, as written and percent-decoded: what ``hide`` must also find elsewhere,
    e.g. in a driver's message that quotes the decoded value."""
    from urllib.parse import unquote

    found = [m["secret"] for pattern in (_USERINFO, _KEYWORD) for m in pattern.finditer(url)]
    variants = (v for secret in found for v in (secret, secret.strip("'"), unquote(secret)))
    return [v for v in dict.fromkeys(variants) if v and v != MASK]


def command(argv: Iterable[str]) -> list[str]:
    """A command line fit to record: each argument with its secrets hidden."""
    return [hide(arg) for arg in argv]
