"""Redaction runs in linear time on hostile text, parsed or not.

Each input below targets one part of the redaction (the line scanner for documents that do not
parse, a finder of credentials, the masking of parts inside a value) with the shape that would
make a backtracking pattern or a rescan quadratic. The test measures the CPU time on a 100 KB
input and on the same shape at 200 KB, and requires the ratio to stay under 3 (linear is about
2, quadratic about 4). The best of three runs is kept on both sides, so a busy machine slows
both alike; no absolute time is asserted.

Audit of the regular expressions (redact.py and credentials.py), so that none can backtrack:

* ``_CONTENT``, ``_SPACES``, ``_BLANKS``, ``_PROPERTY``, ``_HEADER``, ``_SEPARATORS``, ``_TOKEN``,
  ``_SAYS_SECRET``: one character class repeated, or a literal; a failed attempt ends at the
  first character outside the class.
* ``_DOUBLE`` and ``_SINGLE``: the unrolled-loop form; the alternatives never start with the same
  character, so a position is read once; they run only on documents that parse (quotes closed).
* ``_PLAIN_LINE`` and ``_PLAIN_KEY``: alternatives that cannot match the same character (``#``
  after a blank or not, ``:`` before a blank or not), run on one line at a time.
* ``_KNOWN``: each alternative starts with a literal and repeats one bounded class that cannot
  hold what follows it, and no match may start inside a run of token characters.
* ``_HUMP``: runs on at most 80 characters (the end of a name).
* The pattern built from the literal parts of one value (``_pattern``): literals only, at most
  32 of them.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

import pytest

from advisor.core.redact import REDACTED, redact

BROKEN = "\n  bad: [\n"  # a document that ends like this does not parse

SHAPES: dict[str, Callable[[int], str]] = {
    "pairs": lambda n: "kind: ConfigMap\ndata:\n  x: " + "password=" * (n // 9) + BROKEN,
    "name-value": lambda n: "env: " + "{name: DB_PASSWORD, value: " * (n // 27 + 1) + BROKEN,
    "url-schemes": lambda n: "url: " + "://a:" * (n // 5) + BROKEN,
    "url-userinfo": lambda n: "url: x://" + "a:" * (n // 2) + BROKEN,
    "jwt-prefixes": lambda n: "t: " + "eyJ" * (n // 3) + BROKEN,
    "jwt-segments": lambda n: "t: " + "eyJaaaaaaaa." * (n // 12) + BROKEN,
    "pem-headers": lambda n: "k: " + "-----BEGIN " * (n // 11) + BROKEN,
    "pem-body": lambda n: (
        "k: |\n  -----BEGIN RSA PRIVATE KEY-----\n" + "  abcd\n" * (n // 7) + BROKEN
    ),
    "flags": lambda n: "args: " + "--token " * (n // 8) + BROKEN,
    "mysql-flags": lambda n: "c: mysql " + "-pX " * (n // 4) + BROKEN,
    "unclosed-quote": lambda n: 'password: "' + "a" * n + BROKEN,
    "quotes": lambda n: "p: " + '"' * n + BROKEN,
    "colons": lambda n: "p: " + ": " * (n // 2) + BROKEN,
    "equals": lambda n: "p: " + "=" * n + BROKEN,
    "webhooks": lambda n: "w: " + "hooks.slack.com/services/" * (n // 25) + BROKEN,
    "go-dsn": lambda n: "d: " + "a:b@tcp(" * (n // 8) + BROKEN,
    "go-dsn-userinfo": lambda n: "d: " + "a:" * (n // 2) + "@tcp(db)" + BROKEN,
    "secret-flow": lambda n: "kind: Secret\ndata: {" + "k: 'v', " * (n // 8) + BROKEN,
    "secret-quotes": lambda n: "kind: Secret\ndata:\n" + "  a: '\n" * (n // 7) + BROKEN,
    "name-quotes": lambda n: "env:\n" + "- name: 'x\n" * (n // 11) + BROKEN,
    "aws-prefixes": lambda n: "a: " + "AKIA" * (n // 4) + BROKEN,
    "secret-lines": lambda n: "kind: Secret\ndata:\n" + "  password: x\n" * (n // 14) + BROKEN,
    "indented-block": lambda n: (
        "token: |\n" + "".join(" " * (i % 50 + 1) + "x\n" for i in range(n // 27)) + BROKEN
    ),
    "long-name": lambda n: "a" * n + "=x" + BROKEN,
    "long-key": lambda n: "a" * n + ": x" + BROKEN,
    "parsed-value": lambda n: (
        "kind: ConfigMap\napiVersion: v1\ndata:\n  x: '" + "password=a " * (n // 11) + "'\n"
    ),
    "parsed-args": lambda n: (
        "kind: Pod\napiVersion: v1\nspec:\n  containers:\n  - args: ["
        + "--token, x, " * (n // 12)
        + "]\n"
    ),
}
SIZE = 100_000


def cpu_time(text: str) -> float:
    """The best of three CPU times of one redaction (garbage collection paused)."""
    best = float("inf")
    gc.collect()
    gc.disable()
    try:
        for _ in range(3):
            start = time.process_time()
            redact(text)
            best = min(best, time.process_time() - start)
    finally:
        gc.enable()
    return max(best, 1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("shape", list(SHAPES))
def test_redaction_time_grows_linearly_with_hostile_input(shape: str) -> None:
    small, large = SHAPES[shape](SIZE), SHAPES[shape](2 * SIZE)
    assert len(small) >= SIZE
    ratio = cpu_time(large) / cpu_time(small)
    if ratio >= 3:  # one more measurement before calling it quadratic: the machine is shared
        ratio = min(ratio, cpu_time(large) / cpu_time(small))
    assert ratio < 3, f"{shape}: 2x input took {ratio:.1f}x the time"


@pytest.mark.parametrize("shape", ["pairs", "secret-lines", "mysql-flags", "parsed-args"])
def test_hostile_input_is_still_redacted_and_keeps_its_lines(shape: str) -> None:
    text = SHAPES[shape](2_000)
    result = redact(text)
    assert REDACTED in result.text
    assert result.text.count("\n") == text.count("\n")
