"""Analyse one hostile input in this process, under resource limits, and print what it cost.

    .venv/bin/python tests/hostile/run_one.py NAME      # NAME: one of INPUTS, or --list

Limits are set before the project is imported: ``RLIMIT_AS`` (address space, so a memory
blow-up fails fast instead of swapping) and ``RLIMIT_CPU``, generous for the import and for
building the input, then lowered to :data:`CALL_CPU_SECONDS` more than what was already used,
just before the call. The call is ``analyze([("x.yaml", data)])`` with the CLI's default limits
(16 MiB, 100 levels, 200,000 alias nodes, 20,000 documents). Before it, one tiny manifest is
analysed, so the one-time loading of the rule catalogue and schemas is not counted.

Prints one JSON line: ``{"name", "bytes", "cpu", "maxrss_kib", "baseline_kib", "errors",
"workloads", "skipped"}``, where ``cpu`` is the user+system CPU seconds of the call alone (all
threads: the core parses on a worker thread) and ``maxrss_kib`` the process's peak resident
size (``VmHWM``, see :func:`peak_rss_kib`), which includes the interpreter and the input itself;
``baseline_kib`` is the peak before the call.
"""

from __future__ import annotations

import json
import math
import random
import resource
import sys
from collections.abc import Callable
from pathlib import Path

ADDRESS_SPACE = 1536 * 1024 * 1024  # 1.5 GiB: the loader thread's 512 MiB stack is virtual
SETUP_CPU_SECONDS = 60  # import and input building
CALL_CPU_SECONDS = 2  # what the call may use before the kernel stops it (SIGXCPU, then SIGKILL)
ROOT = Path(__file__).resolve().parents[2]

POD = (
    "apiVersion: v1\n"
    "kind: Pod\n"
    "metadata:\n"
    "  name: web\n"
    "spec:\n"
    "  initContainers:\n"
    "  - name: proxy\n"
    "    image: envoyproxy/envoy:v1.31.0\n"
    "    restartPolicy: Always\n"
    "  containers:\n"
    "  - name: app\n"
    "    image: nginx:1.27.2\n"
    "    resources:\n"
    "      requests: {cpu: 100m, memory: 64Mi}\n"
)


def billion_laughs() -> bytes:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        prev, cur = chr(96 + i), chr(97 + i)
        lines.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 9) + "]")
    return ("\n".join(lines) + "\n").encode()


def merge_key_bomb() -> bytes:
    lines = ["m0: &m0 {k0: v, k1: v, k2: v, k3: v}"]
    for i in range(1, 30):
        refs = ", ".join([f"*m{i - 1}"] * 4)
        lines.append(f"m{i}: &m{i} {{<<: [{refs}], x{i}: *m{i - 1}, y{i}: *m{i - 1}}}")
    return ("\n".join(lines) + "\n").encode()


def oversized_50mb() -> bytes:
    doc = ("---\n" + POD).encode()
    size = 50 * 1024 * 1024
    return (doc * (size // len(doc) + 1))[:size]


def deep_flow_sequences() -> bytes:
    return b"[" * 100_000 + b"]" * 100_000 + b"\n"


def deep_flow_mappings() -> bytes:
    return b"{a: " * 100_000 + b"1" + b"}" * 100_000 + b"\n"


def deep_block_sequences() -> bytes:
    return b"- " * 100_000 + b"x\n"


def deep_block_keys() -> bytes:
    return b"? " * 100_000 + b"x\n"


def deep_indented_mappings() -> bytes:
    """3,000 levels of block mappings, one space of indentation each (4.5 MB)."""
    return b"".join(b" " * i + b"a:\n" for i in range(3_000)) + b" " * 3_000 + b"b: 1\n"


def binary() -> bytes:
    rnd = random.Random(20_251_121)
    data = bytes(rnd.getrandbits(8) for _ in range(1 << 20))
    return b"\x7fELF\x02\x01\x01\x00" + data  # NULs from the first line on


def random_bytes_without_nul() -> bytes:
    rnd = random.Random(7)
    return bytes(rnd.randrange(1, 256) for _ in range(1 << 20))


def invalid_utf8() -> bytes:
    return POD.replace("name: web", "name: we\xc3\x28b", 1).encode("latin-1")


def crlf_and_bom() -> bytes:
    return b"\xef\xbb\xbf" + POD.replace("\n", "\r\n").encode()


def utf16_with_bom() -> bytes:
    return POD.encode("utf-16")


def empty_documents_100k() -> bytes:
    return b"---\n" * 100_000


def string_scalar_15mb() -> bytes:
    big = "x" * (15 * 1024 * 1024)
    return POD.replace("  name: web\n", f"  name: web\n  annotations:\n    big: {big}\n").encode()


INPUTS: dict[str, Callable[[], bytes]] = {
    "billion-laughs": billion_laughs,
    "merge-key-bomb": merge_key_bomb,
    "oversized-50mb": oversized_50mb,
    "deep-flow-sequences-100k": deep_flow_sequences,
    "deep-flow-mappings-100k": deep_flow_mappings,
    "deep-block-sequences-100k": deep_block_sequences,
    "deep-block-keys-100k": deep_block_keys,
    "deep-indented-mappings-3k": deep_indented_mappings,
    "binary": binary,
    "random-bytes-without-nul": random_bytes_without_nul,
    "invalid-utf8": invalid_utf8,
    "crlf-and-bom": crlf_and_bom,
    "utf16-with-bom": utf16_with_bom,
    "empty-documents-100k": empty_documents_100k,
    "string-scalar-15mb": string_scalar_15mb,
}


def peak_rss_kib() -> int:
    """This process's peak resident size in KiB since it started this program.

    ``VmHWM`` is kept per address space, which ``exec`` replaces; ``ru_maxrss`` is not reset
    by ``exec``, so in a child forked from a big test process it reports the parent's size.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(name: str) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
    resource.setrlimit(resource.RLIMIT_CPU, (SETUP_CPU_SECONDS, SETUP_CPU_SECONDS))
    data = INPUTS[name]()

    sys.path.insert(0, str(ROOT))
    from advisor.core.analyze import analyze  # the project, imported under the limits

    analyze([("warm-up.yaml", POD)])  # catalogue and schemas load once, not per input
    baseline = peak_rss_kib()
    allowed = math.ceil(cpu_seconds()) + CALL_CPU_SECONDS
    resource.setrlimit(resource.RLIMIT_CPU, (allowed, allowed + 1))

    before = cpu_seconds()
    report = analyze([("x.yaml", data)])
    cpu = cpu_seconds() - before

    result = {
        "name": name,
        "bytes": len(data),
        "cpu": round(cpu, 3),
        "maxrss_kib": peak_rss_kib(),
        "baseline_kib": baseline,
        "errors": [e.message for e in report.errors],
        "workloads": len(report.workloads),
        "skipped": len(report.skipped),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in (*INPUTS, "--list"):
        sys.exit(f"usage: {sys.argv[0]} NAME|--list  (NAME: {', '.join(INPUTS)})")
    if sys.argv[1] == "--list":
        print("\n".join(INPUTS))
    else:
        main(sys.argv[1])
