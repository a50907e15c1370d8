"""Tell secret-looking names, and find credentials written inside text, in linear time.

Used by :mod:`advisor.core.redact` on every string of a manifest (and on the raw text of a
document that does not parse). Everything here reads its input a bounded number of times: no
regular expression can backtrack over more than a fixed window, so a hostile 100 KB value costs
about twice what a 50 KB one does.

A name looks secret (:func:`secret_word`) when, split into words on ``_ . - / :`` and camelCase
humps, it

* contains one of :data:`STRONG` anywhere, even with no separator (``PGPASSWORD``,
  ``ADMINPASSWORD``, ``AUTHTOKEN``, ``HTPASSWD``, ``SSHKEY``, ``clientSecret``);
* has one of :data:`WORDS` as a whole word (``MYSQL_ROOT_PASS``, ``DB_PWD``, ``AZURE_SIG``);
* ends with ``KEY``, ``KEYS`` or ``AUTH``, maybe followed by ``ID`` (``SSH_KEY``, ``TLS_KEY``,
  ``AWS_ACCESS_KEY_ID``, ``BASIC_AUTH``);

unless its last word says where or what kind of thing the secret is rather than the secret
itself (:data:`NOT_THE_SECRET`: ``DB_PASSWORD_FILE``, ``TOKEN_URL``, ``secretName``,
``secretKeyRef``, ``tokenExpirationSeconds``), or it is about tokenizers.

Credentials inside a value (:func:`find`):

* ``NAME=value`` and ``NAME: value`` pairs whose name looks secret (properties files, shell
  ``export``, query strings ``?access_token=``, DSNs ``password=``, embedded JSON and YAML,
  ``Authorization: Bearer x`` headers), and a ``value`` that follows a ``name`` that looks secret;
* the password of a URL's ``user:password@``, and of a Go MySQL DSN's ``user:password@tcp(``;
* tokens with a known fixed prefix: AWS access key ids (``AKIA``...), GitHub, GitLab, Slack,
  Stripe, Google API keys, JSON Web Tokens; Slack and Discord webhook URLs;
* the body of a PEM private key (the ``BEGIN``/``END`` lines stay);
* command-line flags whose name looks secret (``--password=x``, ``--token x``, ``--api-key``),
  ``-pSECRET`` after ``mysql``/``mariadb`` tools, ``-a x`` after ``redis-cli``, and
  ``-u user:password`` after ``curl``. ``-p`` elsewhere is a port or a prompt (``psql -p 5432``).

Values that are references, not secrets, are left: ``$(VAR)``, ``${VAR}``, ``$VAR`` and
``{{ template }}``, and values already ``REDACTED``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from advisor.core.lazy import lazy_re

REDACTED = "REDACTED"

STRONG = (
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "credential",
    "apikey",
    "accesskey",
    "privatekey",
    "authorization",
    "sshkey",
    "signingkey",
    "encryptionkey",
    "masterkey",
    "licensekey",
    "sessionkey",
    "hmackey",
    "pgpass",
)
WORDS = frozenset({"pass", "pwd", "pw", "creds", "sig", "signature", "auth"})
LAST = frozenset({"key", "keys", "auth"})
NOT_THE_SECRET = frozenset(
    {
        "file",
        "files",
        "path",
        "paths",
        "dir",
        "dirs",
        "url",
        "uri",
        "urls",
        "endpoint",
        "name",
        "names",
        "ref",
        "ttl",
        "length",
        "timeout",
        "seconds",
        "type",
        "enabled",
        "prefix",
    }
)
_MAX_NAME = 80  # a longer name is not a variable name; only its last 80 characters are read
_HUMP = lazy_re(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+|[^\W_]+")  # linear: no nested repetition


def words_of(name: str) -> list[str]:
    """Split a name into lower-case words on separators and camelCase humps."""
    tail = name[-_MAX_NAME:]
    words: list[str] = []
    for chunk in re.split(r"[^A-Za-z0-9]+", tail):
        words += [w.lower() for w in _HUMP.findall(chunk)]
    return words


def secret_word(name: str) -> str | None:
    """Return what makes ``name`` look like it holds a secret, upper-cased, or None."""
    words = words_of(name)
    if not words or words[-1] in NOT_THE_SECRET:
        return None
    compact = "".join(words)
    if "tokeniz" in compact:
        return None
    for strong in STRONG:
        if strong in compact:
            return strong.upper()
    for word in words:
        if word in WORDS:
            return word.upper()
    last = words[-2] if words[-1] == "id" and len(words) > 1 else words[-1]
    return last.upper() if last in LAST else None


def is_reference(value: str) -> bool:
    """Tell a value that names where a secret comes from (or is already redacted)."""
    stripped = value.strip("'\"")
    return (
        not stripped
        or REDACTED in stripped
        or stripped.startswith(("$", "{{", "%{"))
        or stripped.lower() in ("true", "false", "null", "none", "<none>", "***", "xxx")
    )


# ---------------------------------------------------------------------------------------------
# Finding credentials inside text: each finder yields (start, end, why) spans of ``text``.

Span = tuple[int, int, str]

_SCHEMES = frozenset({"bearer", "basic", "token", "digest", "negotiate", "apikey", "sso-key"})
_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
_STOP = frozenset(" \t\r\n&;,\"'<>)}]|`")
_SEPARATORS = lazy_re(r"[=:]")
_TOKEN = lazy_re(r"\S+")
# Tokens with a fixed prefix. Each alternative starts with a literal and repeats one character
# class that cannot contain what follows it, and no match may start inside a run of token
# characters, so a failed attempt costs at most the run it starts (read once).
_KNOWN = lazy_re(
    r"(?<![A-Za-z0-9_\-])(?:"
    r"(?P<aws>(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)[A-Z0-9]{16})"
    r"|(?P<github>gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})"
    r"|(?P<gitlab>glpat-[A-Za-z0-9_\-]{20,255})"
    r"|(?P<slack>xox[abposr]-[A-Za-z0-9\-]{10,255})"
    r"|(?P<stripe>(?:sk|rk)_live_[A-Za-z0-9]{16,255})"
    r"|(?P<google>AIza[A-Za-z0-9_\-]{35})"
    r"|(?P<jwt>eyJ[A-Za-z0-9_\-]{8,4096}\.eyJ[A-Za-z0-9_\-]{8,8192}\.[A-Za-z0-9_\-]{8,4096})"
    r")"
)
_KNOWN_WHY = {
    "aws": "AWS access key id",
    "github": "GitHub token",
    "gitlab": "GitLab token",
    "slack": "Slack token",
    "stripe": "Stripe key",
    "google": "Google API key",
    "jwt": "JSON Web Token",
}
_WEBHOOKS = (
    ("hooks.slack.com/services/", "Slack webhook token"),
    ("discord.com/api/webhooks/", "Discord webhook token"),
    ("discordapp.com/api/webhooks/", "Discord webhook token"),
    ("outlook.office.com/webhook/", "Teams webhook token"),
)
_MYSQL = frozenset(
    {"mysql", "mysqldump", "mysqladmin", "mysqlimport", "mysqlcheck", "mysqlsh", "mariadb"}
)
_MYSQL_PREFIXES = ("mariadb-",)


def find(text: str) -> list[Span]:
    """Every credential written inside ``text``, as sorted, non-overlapping spans."""
    spans = [
        *_pairs(text),
        *_url_passwords(text),
        *_go_dsn_passwords(text),
        *_known_tokens(text),
        *_webhooks(text),
        *_pem_bodies(text),
        *_flags(text),
    ]
    spans.sort()
    merged: list[Span] = []
    for start, end, why in spans:
        if merged and start < merged[-1][1]:
            last = merged[-1]
            merged[-1] = (last[0], max(last[1], end), last[2])
        else:
            merged.append((start, end, why))
    return merged


def _value_span(text: str, at: int) -> tuple[int, int]:
    """Return the span of a value starting at ``at`` (after blanks; quoted or up to a stop)."""
    size = len(text)
    while at < size and text[at] in " \t":
        at += 1
    if at < size and text[at] in "'\"":
        return at + 1, _closing_quote(text, at)
    end = at
    while end < size and text[end] not in _STOP:
        end += 1
    return at, end


def _closing_quote(text: str, at: int) -> int:
    """Return where the quoted value opened at ``at`` closes (``''`` and ``\\x`` are escapes),
    maybe lines later (YAML folds quoted scalars), or the end of the text."""
    quote, pos, size = text[at], at + 1, len(text)
    while pos < size:
        if quote == '"' and text[pos] == "\\":
            pos += 2
            continue
        if text[pos] == quote:
            if quote == "'" and pos + 1 < size and text[pos + 1] == "'":
                pos += 2
                continue
            return pos
        pos += 1
    return min(pos, size)


def _name_before(text: str, sep: int) -> str:
    """Return the name written just before a separator (maybe quoted), at most 80 characters."""
    end = sep
    while end > 0 and sep - end < 8 and text[end - 1] in " \t":
        end -= 1
    if end > 0 and text[end - 1] in "'\"":
        quote, close = text[end - 1], end - 1
        start = text.rfind(quote, max(0, close - _MAX_NAME), close)
        return text[start + 1 : close] if start >= 0 else ""
    start = end
    while start > 0 and end - start < _MAX_NAME and text[start - 1] in _NAME_CHARS:
        start -= 1
    return text[start:end]


def _pairs(text: str) -> Iterator[Span]:
    """``name=value`` and ``name: value`` pairs with a secret-looking name."""
    resume = 0
    pending: str | None = None  # a "name" that looked secret: its "value" is the secret
    size = len(text)
    for match in _SEPARATORS.finditer(text):
        sep = match.start()
        if sep < resume:
            continue
        after = text[sep + 1] if sep + 1 < size else ""
        if text[sep] == ":" and after not in ("", " ", "\t", "'", '"'):
            continue  # a URL's scheme, a host:port, a time, not a pair
        if text[sep] == "=" and after == "=":
            continue
        name = _name_before(text, sep)
        bare = name.strip("-").lower()
        if bare == "name":
            start, end = _value_span(text, sep + 1)
            pending = secret_word(text[start:end])
            resume = max(end, sep + 1)
            continue
        if bare == "value":
            word, pending = pending, None
        else:
            word = secret_word(name)
        if word is None or (bare in ("key", "keys") and not _query_or_flag(text, sep, name)):
            continue
        start, end = _value_span(text, sep + 1)
        if text[start:end].lower() in _SCHEMES:  # Authorization: Bearer <token>
            start, end = _value_span(text, end)
        value = text[start:end]
        if start < end and not is_reference(value) and value.strip("|>+-0123456789"):
            yield start, end, f"{word} in a {name[:40]} pair"
        resume = max(end, sep + 1)


def _query_or_flag(text: str, sep: int, name: str) -> bool:
    """A bare ``key=``/``auth=`` counts in a query string or as a flag, not as a YAML key."""
    at = sep - len(name)
    return text[sep] == "=" and (at == 0 or text[at - 1] in "?&;-" or name.startswith("-"))


def _url_passwords(text: str) -> Iterator[Span]:
    """The password of every ``scheme://user:password@host``."""
    pos = 0
    while (at := text.find("://", pos)) >= 0:
        start = end = at + 3
        while end < len(text) and text[end] not in "/?#@ \t\r\n\"'<>":
            end += 1
        if end < len(text) and text[end] == "@":
            colon = text.find(":", start, end)
            if colon >= 0 and not is_reference(text[colon + 1 : end]):
                yield colon + 1, end, "password in a URL"
        pos = max(at + 1, end - 1)


def _go_dsn_passwords(text: str) -> Iterator[Span]:
    """The password of a Go MySQL DSN, ``user:password@tcp(host)/db`` (no scheme)."""
    for marker in ("@tcp(", "@unix("):
        pos = 0
        while (at := text.find(marker, pos)) >= 0:
            start = at
            while start > 0 and text[start - 1] not in " \t\r\n\"'=(@/,;":
                start -= 1
            colon = text.find(":", start, at)
            if colon >= 0 and not is_reference(text[colon + 1 : at]):
                yield colon + 1, at, "password in a DSN"
            pos = at + len(marker)


def _known_tokens(text: str) -> Iterator[Span]:
    for match in _KNOWN.finditer(text):
        kind = match.lastgroup or ""
        yield match.start(), match.end(), _KNOWN_WHY.get(kind, "token")


def _webhooks(text: str) -> Iterator[Span]:
    """The path after a chat webhook's host: it is the token."""
    for host, why in _WEBHOOKS:
        pos = 0
        while (at := text.find(host, pos)) >= 0:
            start = end = at + len(host)
            while end < len(text) and (text[end].isalnum() or text[end] in "/_-@."):
                end += 1
            if end > start and not is_reference(text[start:end]):
                yield start, end, why
            pos = end if end > at else at + 1


def _pem_bodies(text: str) -> Iterator[Span]:
    """Every token between a ``-----BEGIN ... PRIVATE KEY-----`` line and its ``END``."""
    pos = 0
    while (at := text.find("-----BEGIN ", pos)) >= 0:
        close = text.find("-----", at + 11)
        if close < 0:
            return
        label = text[at + 11 : close]
        pos = close + 5
        if "PRIVATE KEY" not in label or "\n" in label:
            continue
        end = text.find("-----END", pos)
        stop = len(text) if end < 0 else end
        for token in _TOKEN.finditer(text, pos, stop):
            if ":" not in token.group() and token.group() != REDACTED:  # keep "Proc-Type:" lines
                yield token.start(), token.end(), "private key"
        pos = stop


def _flags(text: str) -> Iterator[Span]:
    """Values of secret-looking command-line flags, and the few short flags of known tools."""
    tool = ""
    expect: str | None = None  # why the next token is a secret
    for match in _TOKEN.finditer(text):
        token = match.group()
        start, end = match.start(), match.end()
        bare = token.strip("'\"")
        if expect is not None:
            if not bare.startswith("-") and not is_reference(bare):
                if expect == "curl":
                    colon = token.find(":")
                    if colon >= 0 and not is_reference(token[colon + 1 :]):
                        yield start + colon + 1, end, "password of curl -u"
                else:
                    yield start, end, expect
            expect = None
            continue
        base = bare.rsplit("/", 1)[-1]
        if base in _MYSQL or base.startswith(_MYSQL_PREFIXES) or base in ("redis-cli", "curl"):
            tool = base
            continue
        if not bare.startswith("-") or len(bare) < 2:
            continue
        name, eq, value = bare.partition("=")
        flag = name.lstrip("-")
        if name.startswith("--"):
            if tool == "curl" and flag in ("user", "proxy-user"):
                expect = None if eq else "curl"
                continue
            word = secret_word(flag)
            if word is None:
                continue
            if eq:
                offset = token.index("=") + 1
                if value and not is_reference(value):
                    yield start + offset, end, f"--{flag} flag"
            else:
                expect = f"--{flag} flag"
        elif tool in _MYSQL or tool.startswith(_MYSQL_PREFIXES):
            if flag.startswith("p") and len(flag) > 1 and not eq and not is_reference(flag[1:]):
                yield start + token.index("-p") + 2, end, f"{tool} -p password"
        elif tool == "redis-cli" and flag == "a":
            expect = "redis-cli -a password"
        elif tool == "curl" and flag == "u":
            expect = "curl"


# Keys of a Secret (and of the objects around it) whose values say what it is, not what it holds.
STRUCTURE = frozenset(
    {"apiVersion", "kind", "metadata", "name", "namespace", "generateName", "type", "immutable"}
    | {"labels", "annotations", "items", "data", "stringData", "uid", "resourceVersion"}
)


def object_values(text: str) -> Iterator[Span]:
    """Every ``key: value`` whose key is not :data:`STRUCTURE` (for text that says it holds a
    Secret but does not parse: its layout cannot be trusted)."""
    resume = 0
    for match in _SEPARATORS.finditer(text):
        sep = match.start()
        if sep < resume:
            continue
        after = text[sep + 1] if sep + 1 < len(text) else ""
        if text[sep] != ":" or after not in (" ", "\t", "'", '"'):
            continue
        if _name_before(text, sep).strip("'\"") in STRUCTURE:
            continue
        start, end = _value_span(text, sep + 1)
        value = text[start:end]
        quoted = text[start - 1] in "'\""
        if start < end and not is_reference(value) and (quoted or value[0] not in "{[|>&*!#"):
            yield start, end, "value in a Secret"
            resume = end
