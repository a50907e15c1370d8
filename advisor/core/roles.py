"""Give every container of a pod a role, with a short reason a user can read.

Roles: ``app`` (the workload itself), ``init`` (runs once before it), ``sidecar`` (a helper
running next to it), ``ambassador`` (proxies its connections), ``adapter`` (translates its
output: reformatted logs, metrics) and ``config-helper`` (keeps its configuration or content
files up to date).

Order of decision for one container (the first step that gives an answer wins):

1. A plain init container (``lifecycle == "init"``) is ``init``. When its image is in the
   catalogue (``istio-init`` runs ``proxyv2``, a Vault Agent run as init), the reason says so.
2. The pod's primary regular container is ``app``. A single regular container is always the app,
   even when its image is a catalogue helper (PgBouncer alone in its pod is the workload). With
   several, the candidates are the regular containers the catalogue does not know (or marks as
   ``app``); when the catalogue knows them all, every regular container is a candidate. The best
   candidate wins, in this order: a catalogue ``app`` entry; a name equal to the pod's name or to
   one of its ``app``, ``app.kubernetes.io/name``, ``k8s-app``, ``name``, ``run`` or
   ``component`` labels; a name such as ``app``, ``main`` or ``main-app``; a container with ports
   or probes whose command shows no helper work (log tailing, forwarding); any container whose
   command shows no helper work; then the rest. Ties go to the first declared.
3. Catalogue (native sidecars and the other regular containers): the image repository is matched
   against the entries of :func:`load_catalogue` (the container name is used only when the image
   is empty) and the entry's role is taken.
4. Structure: the container's command, ports and volumes, checked in this order:
   ``tail -f``/``-F`` of a file is a log-streaming ``sidecar``, or an ``adapter`` when the lines
   are piped into a reformatting step; socat relays and ``--upstream=`` style flags make an
   ``ambassador``; a metrics port (name with "metrics"/"prom", or 9100-9999) together with a
   localhost target, a volume shared with the app or an exporter-like name makes an ``adapter``;
   writing into (or watching) a volume that the app mounts makes a ``config-helper``; a proxy
   server image (nginx, haproxy, ...) next to the app is an ``ambassador``; last, words in the
   container name ("adapter", "proxy", "exporter", "config", "sync", "log", ...).
5. Default: a remaining regular container is a ``sidecar`` ("a second long-running container in
   the pod"); a native sidecar without other evidence is a ``sidecar``.

The wiring (:mod:`advisor.core.wiring`) refines these steps: the container an init container
redirects all pod traffic through is an ``ambassador`` whatever its vendor (before step 3, when
the catalogue does not know its image); a helper listening on the port another container's probe
reads is an ``adapter`` (first in step 4); a helper that serves its own port and forwards to the
app's port is an ``ambassador``; a container that writes files another reads is a
``config-helper`` and not a candidate app; a ``sidecar`` verdict becomes ``ambassador`` when the
app calls it on a local port and it passes data on (a known image, or a remote host:port in its
flags). In a Job every container that runs to completion is an ``app``; elsewhere regular
containers serving their own ports with no edge between them (a mesh proxy's interception aside)
are each an ``app``. A name sharing a distinctive word with the pod's name or app labels ranks
just after an exact label match in step 2.

:func:`is_long_running` answers separately whether a container keeps running: never for a plain
init container; then the command (an exit-after-one-run flag, an endless loop or ``tail -f``, a
script made only of short steps); then the catalogue entry; then server images and programs;
otherwise it is assumed to keep running.

The module is pure Python (stdlib and PyYAML); the catalogue is data in ``data/catalogue.yaml``
that a team can extend with its own files.
"""

from __future__ import annotations

import functools
import itertools
import math
import os
import re
from dataclasses import field
from fnmatch import fnmatchcase
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

import yaml

from advisor.core.errors import InputError
from advisor.core.lazy import lazy_re
from advisor.core.model import Container, PodTemplate
from advisor.core.records import dataclass
from advisor.core.source import get_list, get_map, get_str

if TYPE_CHECKING:
    from advisor.core.wiring import Wiring

BATCH_KINDS = ("Job", "CronJob")


def _words(text: str) -> frozenset[str]:
    """Return the blank-separated words of ``text`` as a set."""
    return frozenset(text.split())


Role = Literal["app", "init", "sidecar", "ambassador", "adapter", "config-helper"]
ROLES: tuple[Role, ...] = ("app", "init", "sidecar", "ambassador", "adapter", "config-helper")
CATALOGUE_ROLES = frozenset(r for r in ROLES if r != "init")
BUNDLED_CATALOGUE = Path(__file__).resolve().parent / "data" / "catalogue.yaml"
UNKNOWN_RUNNING = "nothing shows that it exits on its own"

APP_LABELS = ("app", "app.kubernetes.io/name", "k8s-app", "name", "run", "component")
MAIN_NAME = lazy_re(r"(?:main|app|application)(?:[-_].*)?")
SHELLS = lazy_re(r"^\s*(?:\S*/)?(?:ba|a|da|z|k)?sh\s+(?:-\w+\s+)*")
SEPARATORS = lazy_re(r"&&|\|\||[;|\n]")
LEADING_WORDS = _words("do then else elif if while until ! { ( exec nohup time done fi esac } )")
ASSIGNMENT = lazy_re(r"[A-Za-z_][A-Za-z0-9_]*=.*")
FOREVER_LOOP = lazy_re(
    r"\b(?:while\s+(?:true|:|\[\s*1\s*\]|\[\[\s*1\s*\]\])|until\s+false)(?=[\s;]|$)"
    r"|for\s*\(\(\s*;\s*;\s*\)\)"
)
FOLLOW_FLAG = lazy_re(r"-[a-zA-Z]*[fF][a-zA-Z]*|--follow(?:=.*)?")
TRANSFORM_PIPE = lazy_re(
    r"\btail\b[^;\n|]*\|\s*(while\s+read|sed|awk|gawk|jq|grep|perl|python3?|ruby|cut|tr)\b"
)
EXIT_FLAGS = _words(
    "--one-time -one-time --oneshot --one-shot --once -exit-after-auth --exit-after-auth"
)
SHORT_PROGRAMS = _words(
    "echo printf cp mv rm mkdir touch chmod chown ln cat ls date true false test [ [[ set "
    "export exit return sysctl ulimit wget curl tar gzip gunzip unzip sed awk grep cut head "
    "env hostname id whoami nc install dd find tee basename dirname cd : sync for case read "
    "wc sort uniq stat umask"
)
SERVER_PROGRAMS = _words(
    "nginx httpd apache2 apachectl redis-server memcached envoy haproxy mysqld postgres "
    "mongod gunicorn uwsgi uvicorn caddy traefik php-fpm catalina.sh http.server socat"
)
SERVER_IMAGES = _words(
    "nginx nginx-unprivileged openresty httpd redis memcached mysql mariadb postgres mongo "
    "haproxy envoy tomcat caddy traefik rabbitmq elasticsearch zookeeper kafka etcd"
)
PROXY_IMAGES = _words(
    "nginx nginx-unprivileged openresty haproxy envoy traefik caddy varnish squid tinyproxy stunnel"
)
UPSTREAM_FLAG = lazy_re(
    r"--?(?:upstream|upstream-url|backend|target-url|forward-to|proxy-to)"
    r"=(\S+)"
)
SOCAT_TARGET = lazy_re(r"(?:tcp4?-connect|tcp4?|openssl|udp4?-sendto|udp4?):(\S+)", re.I)
METRICS_PORT_NAME = lazy_re(r"metrics|prom|exporter")
WRITE_REDIRECT = lazy_re(r">>?\s*[\"']?(/[^\s;|&\"')]+)")
WRITE_FLAG = lazy_re(r"--?(?:root|dest|destination|output|out|target|dir|folder)=(/\S+)")
WATCH_WORDS = lazy_re(r"inotifywait|--watch|--watched-dir|--volume-dir|/-/reload|\breload\b")
NAME_HINTS: tuple[tuple[str, Role], ...] = (
    ("adapter", "adapter"),
    ("ambassador", "ambassador"),
    ("proxy", "ambassador"),
    ("exporter", "adapter"),
    ("metrics", "adapter"),
    ("config", "config-helper"),
    ("reload", "config-helper"),
    ("sync", "config-helper"),
    ("secret", "config-helper"),
    ("shipper", "sidecar"),
    ("fluent", "sidecar"),
    ("log", "sidecar"),
    ("logs", "sidecar"),
)
ROLE_WORDS: dict[Role, str] = {
    "app": "the workload itself",
    "init": "a one-off setup step",
    "sidecar": "a helper running next to the app",
    "ambassador": "a proxy for the app's connections",
    "adapter": "an adapter translating the app's output",
    "config-helper": "a helper feeding the app its configuration",
}


@dataclass(frozen=True)
class CatalogueEntry:
    """One well-known image: its role and what it does for the app."""

    id: str
    title: str
    role: Role
    match: tuple[str, ...]
    long_running: bool
    description: str
    needs_ready_before_app: bool
    ports: tuple[int, ...] = ()  # where it listens when its flags do not say


@dataclass(frozen=True)
class ImageKeys:
    """What catalogue patterns are compared with: last path segment and full repository paths."""

    segment: str
    paths: tuple[str, ...]


@dataclass(frozen=True)
class Catalogue:
    """Known images in the order they are tried (the first matching entry wins)."""

    entries: tuple[CatalogueEntry, ...]
    _memo: dict[tuple[bool, str], CatalogueEntry | None] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )
    _index: list[_PatternIndex] = field(
        default_factory=list, init=False, repr=False, compare=False, hash=False
    )

    def match(self, image: str, name: str = "") -> CatalogueEntry | None:
        """Return the first entry whose patterns fit the image, or the name when there is none."""
        # Tags and digests do not matter, so a large input repeats the same few images.
        if isinstance(image, str) and image.strip():
            memo = (True, image)
        elif isinstance(name, str) and name.strip():
            memo = (False, name)
        else:
            return None
        found = self._memo.get(memo, _UNSEEN)
        if found is not _UNSEEN:
            return found
        by_name = ImageKeys(segment=name.strip().lower(), paths=()) if not memo[0] else None
        keys = by_name or image_keys(image)
        if not self._index:
            self._index.append(_PatternIndex(self.entries))
        entry = self._index[0].first(keys)
        if len(self._memo) > 4096:
            self._memo.clear()
        self._memo[memo] = entry
        return entry

    def get(self, entry_id: str) -> CatalogueEntry | None:
        """Return the entry with this id, if any."""
        return next((e for e in self.entries if e.id == entry_id), None)


@dataclass(frozen=True)
class RoleAssignment:
    """The role of one container, why, and whether it is expected to keep running."""

    container: str
    lifecycle: str
    role: Role
    reason: str
    source: str  # "catalogue" | "structure" | "default"
    catalogue_id: str | None
    long_running: bool
    long_running_reason: str
    needed_at_start: bool | None = None  # the catalogue's needs_ready_before_app, if known


@dataclass(frozen=True)
class Command:
    """A container's command and args, read as a shell script split into simple statements."""

    words: tuple[str, ...]
    script: str
    statements: tuple[tuple[str, ...], ...]

    @property
    def programs(self) -> tuple[str, ...]:
        """The program each statement runs."""
        return tuple(s[0] for s in self.statements)

    @property
    def tokens(self) -> tuple[str, ...]:
        """Every blank-separated word of the script, quotes removed."""
        return tuple(t.strip("\"'`") for t in self.script.split())


# --- catalogue ------------------------------------------------------------------------------

_UNSEEN: Any = object()
_GLOB_CHARS = frozenset("*?[")


class _PatternIndex:
    """A catalogue's patterns arranged for lookup: plain names in dictionaries (entry position
    by segment or path), globs in entry order, so an image costs a few dictionary lookups and
    only the globs of entries before the best plain match are tried."""

    __slots__ = ("entries", "globs", "paths", "segments")

    def __init__(self, entries: tuple[CatalogueEntry, ...]) -> None:
        self.entries = entries
        self.segments: dict[str, int] = {}
        self.paths: dict[str, int] = {}
        self.globs: list[tuple[int, str, bool]] = []
        for position, entry in enumerate(entries):
            for raw in entry.match:
                pattern = raw.strip().lower()
                if not pattern:
                    continue
                by_path = "/" in pattern
                if _GLOB_CHARS.isdisjoint(pattern):
                    (self.paths if by_path else self.segments).setdefault(pattern, position)
                else:
                    self.globs.append((position, pattern, by_path))

    def first(self, keys: ImageKeys) -> CatalogueEntry | None:
        """Return the first entry (in catalogue order) with a pattern that fits ``keys``."""
        best = self.segments.get(keys.segment, len(self.entries))
        for path in keys.paths:
            best = min(best, self.paths.get(path, best))
        for position, pattern, by_path in self.globs:
            if position >= best:
                break
            if by_path:
                if any(fnmatchcase(path, pattern) for path in keys.paths):
                    best = position
                    break
            elif fnmatchcase(keys.segment, pattern):
                best = position
                break
        return self.entries[best] if best < len(self.entries) else None


@lru_cache(maxsize=4096)
def image_keys(image: str) -> ImageKeys:
    """Split an image reference into its last path segment and repository paths (no tag/digest).

    ``docker.io/istio/proxyv2:1.2`` gives segment ``proxyv2`` and paths ``istio/proxyv2`` and
    ``docker.io/istio/proxyv2``.
    """
    ref = image.strip().lower().split("@", 1)[0]
    head, _, last = ref.rpartition("/")
    segment = last.split(":", 1)[0]
    parts = [p for p in head.split("/") if p]
    registry = ""
    if parts and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        registry = parts.pop(0)
    path = "/".join([*parts, segment])
    paths = [path]
    if parts[:1] == ["library"]:
        paths.append("/".join([*parts[1:], segment]))
    if registry:
        paths.append(f"{registry}/{path}")
    return ImageKeys(segment=segment, paths=tuple(paths))


def _fits(pattern: str, keys: ImageKeys) -> bool:
    """Tell whether one catalogue pattern fits the image keys."""
    pattern = pattern.strip().lower()
    if "/" in pattern:
        return any(fnmatchcase(path, pattern) for path in keys.paths)
    return bool(pattern) and fnmatchcase(keys.segment, pattern)


def load_catalogue(*extra_paths: str | os.PathLike[str]) -> Catalogue:
    """Load the bundled catalogue, then each extra file; later files win on equal id and order."""
    if not extra_paths:
        return _bundled_catalogue()
    layers = [_bundled_catalogue().entries]
    layers += [read_catalogue_file(path) for path in extra_paths]
    seen: set[str] = set()
    merged: list[CatalogueEntry] = []
    for layer in reversed(layers):
        for entry in layer:
            if entry.id not in seen:
                seen.add(entry.id)
                merged.append(entry)
    return Catalogue(tuple(merged))


@functools.lru_cache(maxsize=1)
def _bundled_catalogue() -> Catalogue:
    """Read the catalogue shipped with the advisor (once per process)."""
    return Catalogue(read_catalogue_file(BUNDLED_CATALOGUE))


def read_catalogue_file(path: str | os.PathLike[str]) -> tuple[CatalogueEntry, ...]:
    """Read one catalogue YAML file (a list of entries); raise InputError when it is unusable."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError(f"cannot read the image catalogue: {exc}", file=file) from exc
    if isinstance(data, dict) and "entries" in data:
        data = data["entries"]
    if data is None:
        return ()
    if not isinstance(data, list):
        raise InputError("an image catalogue must be a YAML list of entries", file=file)
    entries: list[CatalogueEntry] = []
    for index, raw in enumerate(data, start=1):
        entry = _entry(raw, file=file, index=index)
        if all(e.id != entry.id for e in entries):
            entries.append(entry)
    return tuple(entries)


def _entry(raw: Any, *, file: str, index: int) -> CatalogueEntry:
    """Build one entry from its mapping; raise InputError naming the entry when it is wrong."""
    where = f"catalogue entry {index}"
    if not isinstance(raw, dict):
        raise InputError(f"{where} is not a mapping", file=file)
    entry_id, role, patterns = raw.get("id"), raw.get("role"), raw.get("match")
    if not isinstance(entry_id, str) or not entry_id.strip():
        raise InputError(f"{where} has no 'id'", file=file)
    if role not in CATALOGUE_ROLES:
        raise InputError(
            f"{where} ({entry_id}) has role {role!r}; use one of {sorted(CATALOGUE_ROLES)}",
            file=file,
        )
    if isinstance(patterns, str):
        patterns = [patterns]
    if not isinstance(patterns, list) or not all(isinstance(p, str) and p for p in patterns):
        raise InputError(f"{where} ({entry_id}) needs 'match': a list of image patterns", file=file)
    return CatalogueEntry(
        id=entry_id.strip(),
        title=_text(raw.get("title")) or entry_id.strip(),
        role=cast(Role, role),
        match=tuple(patterns),
        long_running=raw.get("long_running", True) is not False,
        description=_text(raw.get("description")).rstrip("."),
        needs_ready_before_app=raw.get("needs_ready_before_app", False) is True,
        ports=_ports(raw.get("ports"), where=f"{where} ({entry_id})", file=file),
    )


def _ports(value: Any, *, where: str, file: str) -> tuple[int, ...]:
    """Read an entry's optional ``ports`` list of default listening ports."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(
        isinstance(p, int) and not isinstance(p, bool) and 0 < p < 65536 for p in value
    ):
        raise InputError(f"{where} has 'ports' that are not a list of port numbers", file=file)
    return tuple(value)


def _text(value: Any) -> str:
    """Return a stripped string, or an empty one for anything else."""
    return value.strip() if isinstance(value, str) else ""


# --- commands -------------------------------------------------------------------------------


def read_command(container: Container) -> Command:
    """Read ``command`` + ``args`` (lists, or a lone string) as a shell script.

    The result is kept on the container object: the wiring, the roles and the rules all read
    the same command, and a container's mapping does not change once it is read.
    """
    cached = container.__dict__.get("_command")
    if cached is None:
        cached = _read_command(container)
        object.__setattr__(container, "_command", cached)
    return cast(Command, cached)


_NO_COMMAND = Command((), "", ())  # what the general path gives for no command and no args


def _read_command(container: Container) -> Command:
    raw = container.raw
    if "command" not in raw and "args" not in raw:
        return _NO_COMMAND
    words: list[str] = []
    for key in ("command", "args"):
        value = raw.get(key)
        if isinstance(value, str):
            words.append(value)
        elif isinstance(value, list):
            words += [
                str(v)
                for v in value
                if isinstance(v, (str, int, float)) and not isinstance(v, bool)
            ]
    script = SHELLS.sub("", " ".join(words), count=1).strip()
    if len(script) > 1 and script[0] == script[-1] and script[0] in "\"'":
        script = script[1:-1]
    statements = (_statement(part) for part in SEPARATORS.split(script))
    return Command(tuple(words), script, tuple(s for s in statements if s))


def _statement(text: str) -> tuple[str, ...]:
    """Return the tokens of one simple statement, program first (keywords, assignments dropped)."""
    tokens = [t.strip("\"'`") for t in text.split()]
    tokens = [t for t in tokens if t]
    while tokens and (tokens[0] in LEADING_WORDS or ASSIGNMENT.fullmatch(tokens[0])):
        tokens.pop(0)
    if tokens:
        tokens[0] = tokens[0].strip("()").rsplit("/", 1)[-1] or tokens[0]
    return tuple(tokens)


def _sleep_seconds(args: tuple[str, ...]) -> float | None:
    """Return how long ``sleep ARGS`` waits, or None when it cannot be told."""
    units = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
    total = 0.0
    for arg in args:
        if arg in ("infinity", "inf"):
            return math.inf
        found = re.fullmatch(r"(\d+(?:\.\d+)?)([smhd]?)", arg)
        if not found:
            return None
        total += float(found[1]) * units[found[2]]
    return total if args else None


def _follows(statement: tuple[str, ...]) -> bool:
    """Tell whether the statement is a ``tail`` that follows its file."""
    return statement[0] == "tail" and any(FOLLOW_FLAG.fullmatch(t) for t in statement[1:])


# --- long-running ---------------------------------------------------------------------------


def is_long_running(
    container: Container, *, catalogue: Catalogue | None = None
) -> tuple[bool, str]:
    """Tell whether the container keeps running (rather than finishing), and why."""
    if container.lifecycle == "init":
        return False, "a plain init container runs to completion before the next one starts"
    command = read_command(container)
    for check in (_exit_flag_verdict, _until_file_verdict, _forever_verdict, _short_script_verdict):
        verdict = check(command)
        if verdict is not None:
            return verdict
    entry = (catalogue or load_catalogue()).match(container.image, container.name)
    if entry is not None and entry.long_running:
        return True, f"{entry.title} keeps running for the pod's whole life"
    if entry is not None:
        return False, f"{entry.title} does its work and exits"
    return _server_verdict(container, command) or (True, UNKNOWN_RUNNING)


def _exit_flag_verdict(command: Command) -> tuple[bool, str] | None:
    """Spot flags that make a helper run once and exit (``--one-time``, ...)."""
    for word in command.words:
        flag, _, value = word.partition("=")
        if flag in EXIT_FLAGS and value.lower() not in ("false", "0"):
            return False, f"the {flag} flag makes it stop after one run"
    return None


UNTIL_FILE = lazy_re(
    r"\b(?:until\s+\[\[?\s+-[ef]\s+(\S+)\s+\]\]?|while\s+\[\[?\s+!\s+-[ef]\s+(\S+)\s+\]\]?)"
)


def _until_file_verdict(command: Command) -> tuple[bool, str] | None:
    """Spot a wait for a file (``until [ -f /shared/done ]``): it exits once the file appears."""
    found = UNTIL_FILE.search(command.script)
    if found is None:
        return None
    path = (found[1] or found[2]).strip("\"'")
    return False, f"it exits once {path} appears (another container's signal that it is done)"


def _forever_verdict(command: Command) -> tuple[bool, str] | None:
    """Spot endless loops, ``tail -f`` and sleeps of an hour or more."""
    loop = FOREVER_LOOP.search(command.script)
    if loop:
        return True, f"its command loops forever ({' '.join(loop[0].split())})"
    for statement in command.statements:
        if _follows(statement):
            return True, f"it follows a file with '{' '.join(statement[:3])}', which never ends"
        if statement[0] == "sleep":
            seconds = _sleep_seconds(statement[1:])
            if seconds == math.inf:
                return True, f"it sleeps forever ('{' '.join(statement[:2])}')"
            if seconds is not None and seconds >= 3600:
                return True, f"it sleeps for an hour or more ('{' '.join(statement[:2])}')"
    return None


def _short_script_verdict(command: Command) -> tuple[bool, str] | None:
    """Say 'exits' when every statement is a short built-in step (echo, cp, a brief sleep)."""
    if not command.statements:
        return None
    steps: list[str] = []
    for statement in command.statements:
        step = _short_step(statement)
        if step is None:
            return None
        if step not in steps:
            steps.append(step)
    shown = ", ".join(steps[:4]) + (", ..." if len(steps) > 4 else "")
    return False, f"its command only runs short steps ({shown}) and then exits"


def _short_step(statement: tuple[str, ...]) -> str | None:
    """Name the statement when it finishes quickly by itself, else return None."""
    program, args = statement[0], statement[1:]
    if program == "sleep":
        return " ".join(statement[:2]) if _sleep_seconds(args) is not None else None
    if program == "cat" and not args:
        return None  # a bare cat waits on stdin, a common keep-alive
    if program == "nc" and any(a.startswith("-l") for a in args):
        return None  # nc -l listens for connections
    return program if program in SHORT_PROGRAMS else None


def _server_verdict(container: Container, command: Command) -> tuple[bool, str] | None:
    """Spot server programs and server images, which keep running."""
    programs = list(command.programs)
    programs += [w for i, w in enumerate(command.words[1:]) if command.words[i] == "-m"]
    server = next((p for p in programs if p in SERVER_PROGRAMS), None)
    if server:
        return True, f"it runs a server ({server})"
    segment = image_keys(container.image).segment if container.image.strip() else ""
    if segment in SERVER_IMAGES:
        return True, f"the {segment} image runs a server"
    if segment == "pause":
        return True, "the pause image only waits until the pod is stopped"
    return None


# --- classification ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Pod:
    """What classifying one container looks at besides the container itself."""

    pod: PodTemplate
    wiring: Wiring
    kind: str
    catalogue: Catalogue


def classify(
    pod: PodTemplate,
    *,
    catalogue: Catalogue | None = None,
    wiring: Wiring | None = None,
    kind: str = "",
) -> tuple[RoleAssignment, ...]:
    """Assign a role to every container: init containers first in order, then regular ones.

    ``wiring`` is the pod's :func:`advisor.core.wiring.wire` result (computed here when not
    given); ``kind`` is the workload kind (a Job's app is the container that finishes).
    """
    known = catalogue or load_catalogue()
    if wiring is None:
        from advisor.core.wiring import wire

        wiring = wire(pod, catalogue=known)
    ctx = _Pod(pod, wiring, kind, known)
    containers = pod.all_containers
    entries = [known.match(c.image, c.name) for c in containers]
    running = [is_long_running(c, catalogue=known) for c in containers]
    primary = _primary(ctx, containers, entries, running)
    apps = _independent_apps(ctx, containers, entries, primary, running)
    return tuple(
        _assign(c, entry, ctx, primary, apps, verdict)
        for c, entry, verdict in zip(containers, entries, running, strict=True)
    )


@dataclass(frozen=True)
class Primary:
    """The container chosen as the pod's app, and why."""

    container: Container
    reason: str
    source: str


def _assign(
    c: Container,
    entry: CatalogueEntry | None,
    ctx: _Pod,
    primary: Primary | None,
    apps: dict[str, str],
    verdict: tuple[bool, str],
) -> RoleAssignment:
    """Build the assignment of one container."""
    running, running_reason = verdict
    if c.name and c.name in apps and (primary is None or c is not primary.container):
        role, reason, source = "app", apps[c.name], "wiring"
    else:
        role, reason, source = _decide(c, entry, ctx, primary, running)
    return RoleAssignment(
        container=c.name,
        lifecycle=c.lifecycle,
        role=cast(Role, role),
        reason=reason,
        source=source,
        catalogue_id=entry.id if entry else None,
        long_running=running,
        long_running_reason=running_reason,
        needed_at_start=entry.needs_ready_before_app if entry else None,
    )


def _decide(
    c: Container,
    entry: CatalogueEntry | None,
    ctx: _Pod,
    primary: Primary | None,
    running: bool,
) -> tuple[Role, str, str]:
    """Return role, reason and source for one container (see the module docstring's order)."""
    app = primary.container if primary else None
    if c.lifecycle == "init":
        return "init", _init_reason(c, entry, ctx, app), "structure"
    if primary is not None and c is app:
        return "app", primary.reason, primary.source
    if c.name and c.name == ctx.wiring.mesh_proxy and entry is None:
        return "ambassador", _interception_reason(c, ctx), "wiring"
    if entry is not None:
        role, reason, source = entry.role, _catalogue_reason(c, entry), "catalogue"
    elif (found := _structural_role(c, ctx, app)) is not None:
        role, reason, source = found[0], found[1], "structure"
    else:
        role, reason, source = _default_role(c, running)
    if (
        role == "sidecar"
        and (entry is not None or _reaches_remote(c))
        and (called := _called_evidence(c, ctx, app)) is not None
    ):
        return "ambassador", called, "wiring"
    return role, reason, source


def _interception_reason(c: Container, ctx: _Pod) -> str:
    """Explain why the container that all pod traffic is redirected through is an ambassador."""
    edge = next((e for e in ctx.wiring.incoming(c.name) if e.kind == "interception"), None)
    if edge is not None and edge.source in {x.name for x in ctx.pod.init_containers}:
        return f"'{edge.source}' redirects all pod traffic through it: a proxy for the app"
    return "all pod traffic is redirected through it: a proxy for the app"


REMOTE_ADDRESS = lazy_re(
    r"(?:[a-z][a-z0-9+]*://|=|^)(?!localhost\b|127\.|0\.0\.0\.0|\[?::)"
    r"[a-z0-9][a-z0-9.-]*[a-z0-9]:\d{2,5}\b",
    re.I,
)


def _reaches_remote(c: Container) -> bool:
    """Tell whether the command or env names a non-local host:port it passes things on to."""
    values = [*read_command(c).tokens]
    values += [get_str(e, "value") for e in get_list(c.raw, "env")]
    return any(REMOTE_ADDRESS.search(v) for v in values if v)


def _called_evidence(c: Container, ctx: _Pod, app: Container | None) -> str | None:
    """The app calls this helper on a local port: it receives the app's traffic and passes it
    on (a local agent, collector or proxy), which makes it an ambassador."""
    if app is None or app is c:
        return None
    edge = ctx.wiring.calls(app.name, c.name)
    if edge is None or edge.evidence.startswith("the "):  # a probe is not traffic
        return None
    return f"'{app.name}' sends to it on local port {edge.port} ({edge.evidence})"


def _default_role(c: Container, running: bool) -> tuple[Role, str, str]:
    """Call a helper without any specific sign a sidecar."""
    if c.lifecycle == "native-sidecar":
        reason = "a native sidecar (restartPolicy: Always) with no more specific sign"
    elif running:
        reason = "a second long-running container in the pod"
    else:
        reason = "a second regular container in the pod; it exits on its own"
    return "sidecar", reason, "default"


def _catalogue_reason(c: Container, entry: CatalogueEntry) -> str:
    """Explain a catalogue match in one sentence."""
    described = f": {entry.description}" if entry.description else ""
    if c.image.strip():
        return f"{entry.title} image{described}"
    return f"{entry.title}, known by its container name (no image given){described}"


def _init_reason(
    c: Container, entry: CatalogueEntry | None, ctx: _Pod, app: Container | None
) -> str:
    """Explain an init container: its catalogue image or the shared files it prepares."""
    if entry is not None:
        known = f"; catalogue: {entry.description}" if entry.description else ""
        return f"plain init container running the {entry.title} image once, before the app{known}"
    written = _written_shared(c, ctx, app)
    if written is not None:
        path, volume, reader = written
        return (
            f"plain init container: writes {path} into the shared volume '{volume}' for '{reader}'"
        )
    return "plain init container: runs once, to completion, before the app starts"


def _label(c: Container) -> str:
    """Return the container name, or its position when it has none."""
    return c.name or f"{c.list_name}[{c.index}]"


# --- the primary container ------------------------------------------------------------------


def _primary(
    ctx: _Pod,
    containers: tuple[Container, ...],
    entries: list[CatalogueEntry | None],
    running: list[tuple[bool, str]],
) -> Primary | None:
    """Pick the regular container that is the pod's app (see the module docstring)."""
    regular = [
        (c, e, r)
        for c, e, r in zip(containers, entries, running, strict=True)
        if c.lifecycle == "regular"
    ]
    if not regular:
        return None
    if len(regular) == 1:
        return _only_regular(regular[0][0], regular[0][1])
    if ctx.kind in BATCH_KINDS:
        finisher = _batch_app(ctx, regular)
        if finisher is not None:
            return finisher
    pool = [(c, e) for c, e, _ in regular if e is None or e.role == "app"] or [
        (c, e) for c, e, _ in regular
    ]
    ranked = [(_rank(c, e, ctx), c, e) for c, e in pool]
    (rank, reason, source), c, entry = min(ranked, key=lambda r: (r[0][0], r[1].index))
    if entry is not None and entry.role != "app":
        reason += f" (all regular containers use known helper images; this one is {entry.title})"
    elif rank >= 2 and len(pool) == 1:
        reason, source = (
            "main container: the only regular one that is not a known helper",
            "structure",
        )
    return Primary(c, reason, source)


def _batch_app(
    ctx: _Pod, regular: list[tuple[Container, CatalogueEntry | None, tuple[bool, str]]]
) -> Primary | None:
    """In a Job, the app is the container that runs to completion, not a server beside it.

    A container that exits on its own wins; failing that, one with its own command that serves
    no port, when the others serve ports (a test runner next to a Selenium server).
    """
    done = [
        (c, why)
        for c, e, (keeps, why) in regular
        if not keeps
        and (e is None or e.role == "app")
        and _until_file_verdict(read_command(c)) is None  # waits for the app's signal
        and _forward_evidence(read_command(c)) is None
    ]
    if len(done) == 1:
        c, why = done[0]
        return Primary(c, f"the {ctx.kind}'s work: it runs to completion ({why})", "structure")
    servers = {c.name for c, _, _ in regular if ctx.wiring.served_ports(c.name)}
    runners = [
        c for c, e, _ in regular if e is None and c.name not in servers and read_command(c).words
    ]
    if len(runners) == 1 and servers:
        c = runners[0]
        return Primary(
            c,
            f"the {ctx.kind}'s work: it runs its own command and serves no port, while "
            f"{', '.join(sorted(servers))} serve(s) beside it",
            "structure",
        )
    return None


def _only_regular(c: Container, entry: CatalogueEntry | None) -> Primary:
    """Make the single regular container the app, even when its image is a known helper."""
    note = ""
    if entry is not None and entry.role != "app":
        note = f" (its image, {entry.title}, is usually a helper)"
    return Primary(c, f"the only regular container in the pod, so it is the app{note}", "structure")


def _rank(c: Container, entry: CatalogueEntry | None, ctx: _Pod) -> tuple[float, str, str]:
    """Score how much a regular container looks like the app: lower is more likely."""
    if entry is not None and entry.role == "app":
        return 0, _catalogue_reason(c, entry), "catalogue"
    label = _app_names(ctx.pod).get(c.name) if c.name else None
    if label:
        return 1, f"main container: its name matches the pod's {label}", "structure"
    shared = _shared_name_word(c, ctx.pod)
    if shared:
        word, where = shared
        return 1.5, f"main container: its name shares '{word}' with the pod's {where}", "structure"
    if MAIN_NAME.fullmatch(c.name.lower()):
        return 2, f"main container: its name '{c.name}' says so", "structure"
    command = read_command(c)
    helper = _log_evidence(c, ctx, command) or _forward_evidence(command) or _feeds_others(c, ctx)
    if helper is None and (c.ports or any(c.probe(k) for k in _PROBES)):
        return 3, "main container: the first regular one that serves ports or probes", "structure"
    if helper is None:
        return (
            4,
            "main container: the first regular one, with nothing marking it as a helper",
            "default",
        )
    return 5, "main container: the first regular one", "default"


_PROBES = ("readinessProbe", "livenessProbe", "startupProbe")
GENERIC_NAME_WORDS = _words("app k8s kube io sidecar container pod server service main v1 v2")


def _feeds_others(c: Container, ctx: _Pod) -> Evidence | None:
    """It writes files into a volume other containers read, and reads nobody's: a feeder."""
    out = [
        e
        for e in ctx.wiring.outgoing(c.name)
        if e.kind == "files" and e.directed and "socket" not in e.evidence
    ]
    fed = any(e.kind == "files" and e.directed for e in ctx.wiring.incoming(c.name))
    if out and not fed:
        return "config-helper", out[0].evidence
    return None


def _shared_name_word(c: Container, pod: PodTemplate) -> tuple[str, str] | None:
    """A distinctive word the container's name shares with the pod's name or app labels
    ('sidecar-injector' in a pod labelled 'vault-injector')."""
    mine = set(re.split(r"[-_.]+", c.name.lower())) - GENERIC_NAME_WORDS
    for name, where in _app_names(pod).items():
        common = mine & set(re.split(r"[-_./]+", name.lower()))
        if common:
            return sorted(common)[0], where
    return None


def _app_names(pod: PodTemplate) -> dict[str, str]:
    """Map the names that identify the pod's app (labels, pod name) to how they were found."""
    names: dict[str, str] = {}
    labels = get_map(pod.metadata, "labels")
    for key in APP_LABELS:
        value = get_str(labels, key)
        if value and value not in names:
            names[value] = f"'{key}' label"
    pod_name = get_str(pod.metadata, "name")
    if pod_name and pod_name not in names:
        names[pod_name] = "name"
    return names


def _independent_apps(
    ctx: _Pod,
    containers: tuple[Container, ...],
    entries: list[CatalogueEntry | None],
    primary: Primary | None,
    running: list[tuple[bool, str]],
) -> dict[str, str]:
    """Regular containers that are each a workload of their own: apps.

    In a Job or CronJob, every container that runs to completion (not a known helper, not one
    waiting for another's signal) is the Job's work. Elsewhere, two or more regular containers
    that are not known helper images, each serving its own ports with no localhost call, shared
    volume or process namespace linking it to another container, are separate apps; a mesh
    proxy's interception wires it to everyone and links nobody. A lone server beside the app
    could still be a helper nothing shows.
    """
    regular = [
        (c, e, r)
        for c, e, r in zip(containers, entries, running, strict=True)
        if c.lifecycle == "regular" and c.name and (e is None or e.role == "app")
    ]
    if ctx.kind in BATCH_KINDS:
        done = [
            c
            for c, _, (keeps, _why) in regular
            if not keeps
            and _until_file_verdict(read_command(c)) is None
            and _forward_evidence(read_command(c)) is None
        ]
        if len(done) < 2:
            return {}
        return {
            c.name: f"the {ctx.kind}'s work: it runs to completion, like "
            + ", ".join(f"'{o.name}'" for o in done if o is not c)
            for c in done
        }
    wiring = ctx.wiring
    alone = [
        c
        for c, _, _ in regular
        if c.ports
        and not any(e.kind != "interception" for e in wiring.edges_of(c.name))
        and not _helper_signs(c, ctx)
    ]
    if len(alone) < 2:
        return {}
    return {
        c.name: "serves its own ports, and no localhost call, shared volume or process links it "
        "to the other containers: a separate app in the same pod"
        for c in alone
    }


def _helper_signs(c: Container, ctx: _Pod) -> bool:
    """Tell whether the command or name marks the container as a helper."""
    command = read_command(c)
    return bool(
        _log_evidence(c, ctx, command)
        or _forward_evidence(command)
        or _proxy_image_evidence(c)
        or _name_evidence(c)
    )


# --- structural evidence ----------------------------------------------------------------------

Evidence = tuple[Role, str]


def _structural_role(c: Container, ctx: _Pod, app: Container | None) -> Evidence | None:
    """Return the role the container's command, ports, volumes and wiring point to, if any."""
    command = read_command(c)
    return (
        _health_evidence(c, ctx)
        or _log_evidence(c, ctx, command)
        or _forward_evidence(command)
        or _metrics_evidence(c, ctx, app)
        or _translation_evidence(c, ctx, app)
        or _front_evidence(c, ctx, app)
        or _config_evidence(c, ctx, app, command)
        or _proxy_image_evidence(c)
        or _name_evidence(c)
    )


def _probe_ports(c: Container) -> dict[int, str]:
    """Numeric ports of the container's HTTP, TCP and gRPC probes (named ports resolved)."""
    named = {p.name: p.number for p in c.ports if p.name and p.number}
    found: dict[int, str] = {}
    for kind in _PROBES:
        probe = c.probe(kind)
        for handler in ("httpGet", "tcpSocket", "grpc"):
            port = get_map(probe, handler).get("port") if probe is not None else None
            number = named.get(port) if isinstance(port, str) else port
            if isinstance(number, int) and not isinstance(number, bool):
                found.setdefault(number, kind)
    return found


def _health_evidence(c: Container, ctx: _Pod) -> Evidence | None:
    """It listens on the port another container's probe reads: it serves that container's
    health, derived from its state (the CSI livenessprobe turns a gRPC Probe into HTTP)."""
    from advisor.core.wiring import listeners_of

    own = {
        item.port for item in listeners_of(c, ctx.catalogue) if "containerPort" not in item.evidence
    }
    if not own:
        return None
    for other in ctx.pod.all_containers:
        if other is c or other.lifecycle == "init":
            continue
        for port, kind in _probe_ports(other).items():
            if port in own:
                return (
                    "adapter",
                    f"serves port {port}, which the {kind} of '{other.name}' reads: it reports "
                    f"'{other.name}''s health in the form the kubelet checks",
                )
    return None


def _front_evidence(c: Container, ctx: _Pod, app: Container | None) -> Evidence | None:
    """It serves its own port and passes what it receives on to the app's port: a front proxy
    (a DNS cache, an API gateway, a TLS terminator in front of the app)."""
    if app is None or not c.ports:
        return None
    edge = ctx.wiring.calls(c.name, app.name)
    if edge is None or edge.evidence.startswith("the "):
        return None
    port = c.ports[0].number
    return (
        "ambassador",
        f"serves port {port} and forwards to '{app.name}' on port {edge.port} ({edge.evidence})",
    )


def _log_evidence(c: Container, ctx: _Pod, command: Command) -> Evidence | None:
    """A ``tail -f``/``-F`` of a file: a log streamer, or an adapter when the lines are reworked."""
    tail = next((s for s in command.statements if _follows(s)), None)
    if tail is None:
        return None
    files = [t for t in tail[1:] if not t.startswith(("-", "+")) and not t.isdigit()]
    path = files[-1] if files else ""
    if not path or path.startswith("/dev/"):
        return None
    volume = volume_of(c, path)
    shared = volume and any(
        e.volume == volume for e in ctx.wiring.edges_of(c.name) if e.kind == "files"
    )
    where = f" from the shared volume '{volume}'" if shared else ""
    if TRANSFORM_PIPE.search(command.script):
        return "adapter", f"reformats the lines of the log file {path}{where}"
    return "sidecar", f"streams the log file {path}{where}"


def _forward_evidence(command: Command) -> Evidence | None:
    """A socat relay or an ``--upstream=`` style flag: it forwards connections."""
    tokens = command.tokens
    if "socat" in command.programs or any(t.lower().startswith("tcp-listen:") for t in tokens):
        target = next((m[1] for t in tokens if (m := SOCAT_TARGET.fullmatch(t))), "")
        if target:
            return "ambassador", f"relays local connections to {target.split(',')[0]} with socat"
        return "ambassador", "relays connections with socat"
    for token in tokens:
        found = UPSTREAM_FLAG.fullmatch(token)
        if found:
            return "ambassador", f"proxies requests to {found[1]}"
    return None


def _metrics_evidence(c: Container, ctx: _Pod, app: Container | None) -> Evidence | None:
    """A metrics port plus a view of the app (a localhost call, a shared volume) or its name.

    A bare 9100-9999 port counts only with a call into the pod or an exporter-like name:
    webhook servers listen on 9443 too.
    """
    named = next((p for p in c.ports if METRICS_PORT_NAME.search(p.name.lower())), None)
    numbered = next((p for p in c.ports if p.number and 9100 <= p.number <= 9999), None)
    port = named or numbered
    if port is None:
        return None
    shown = port.name or str(port.number)
    call = next((e for e in ctx.wiring.outgoing(c.name) if e.kind == "network"), None)
    if call is not None:
        return (
            "adapter",
            f"serves metrics on port {shown} from what it reads from '{call.target}' "
            f"on port {call.port} ({call.evidence})",
        )
    shared = [
        e.volume
        for e in ctx.wiring.edges_of(c.name)
        if e.kind == "files" and app is not None and app.name in (e.source, e.target)
    ]
    if named is not None and shared:
        return "adapter", f"serves metrics on port {shown} from the shared volume '{shared[0]}'"
    if re.search(r"exporter|metrics", f"{c.name} {c.image}".lower()):
        return "adapter", f"an exporter serving metrics on port {shown}"
    return None


READS_OUTPUT = lazy_re(r"scrape|metrics|stats|status|jolokia|/debug/vars|exporter", re.I)


def _translation_evidence(c: Container, ctx: _Pod, app: Container | None) -> Evidence | None:
    """It reads the app's status or metrics endpoint over localhost and serves a port itself:
    it republishes the app's output in another format."""
    if app is None or not ctx.wiring.served_ports(c.name):
        return None
    edge = ctx.wiring.calls(c.name, app.name)
    if edge is None or not READS_OUTPUT.search(edge.evidence):
        return None
    port = ctx.wiring.served_ports(c.name)[0]
    return (
        "adapter",
        f"reads '{app.name}' on port {edge.port} ({edge.evidence}) and serves it on port {port}",
    )


def _config_evidence(
    c: Container, ctx: _Pod, app: Container | None, command: Command
) -> Evidence | None:
    """Writing into, or watching, a volume that the app (or another container) reads."""
    written = _written_shared(c, ctx, app)
    if written is not None:
        path, volume, reader = written
        return (
            "config-helper",
            f"writes {path} into the shared volume '{volume}' that '{reader}' reads",
        )
    edge = next(
        (
            e
            for e in ctx.wiring.outgoing(c.name)
            if e.kind == "files"
            and e.directed
            and app is not None
            and e.target == app.name
            and "socket" not in e.evidence
        ),
        None,
    )
    if edge is not None:
        return "config-helper", f"feeds '{edge.target}' files: {edge.evidence}"
    shared = [e for e in ctx.wiring.edges_of(c.name) if e.kind == "files"]
    if shared and WATCH_WORDS.search(command.script):
        edge = shared[0]
        other = edge.target if edge.source == c.name else edge.source
        return (
            "config-helper",
            f"watches the shared volume '{edge.volume}' and refreshes what '{other}' reads",
        )
    return None


def _written_shared(c: Container, ctx: _Pod, app: Container | None) -> tuple[str, str, str] | None:
    """Return (path, volume, reader) for the first file ``c`` writes into a volume another reads."""
    edges = [e for e in ctx.wiring.outgoing(c.name) if e.kind == "files" and e.directed]
    if not edges:
        return None
    edges.sort(key=lambda e: app is None or e.target != app.name)
    for path in written_paths(read_command(c)):
        volume = volume_of(c, path)
        edge = next((e for e in edges if e.volume == volume), None)
        if edge is not None:
            return path, volume, edge.target
    return None


def written_paths(command: Command) -> list[str]:
    """Paths the command writes: redirections, copy targets, download and output flags."""
    paths = [m[1] for m in WRITE_REDIRECT.finditer(command.script)]
    paths += [m[1] for w in command.words if (m := WRITE_FLAG.fullmatch(w))]
    for statement in command.statements:
        program, args = statement[0], statement[1:]
        if program in ("cp", "mv", "install", "ln", "rsync") and args:
            paths.append(args[-1])
        elif program in ("wget", "curl"):
            paths += [b for a, b in itertools.pairwise(args) if a in ("-O", "-P", "-o", "--output")]
        elif program in ("touch", "tee", "mkdir"):
            paths += [a for a in args if a.startswith("/")]
        elif program == "git" and "clone" in args:
            paths.append(args[-1])
    return [p for p in paths if p.startswith("/")]


def volume_of(c: Container, path: str) -> str:
    """Return the volume mounted at the longest mount path that holds ``path``."""
    best, volume = "", ""
    for mount in get_list(c.raw, "volumeMounts"):
        mount_path, name = get_str(mount, "mountPath").rstrip("/"), get_str(mount, "name")
        inside = path == mount_path or path.startswith(mount_path + "/")
        if name and mount_path and inside and len(mount_path) > len(best):
            best, volume = mount_path, name
    return volume


def _proxy_image_evidence(c: Container) -> Evidence | None:
    """A proxy server image (nginx, haproxy, ...) next to the app: it fronts the app."""
    segment = image_keys(c.image).segment if c.image.strip() else ""
    if segment in PROXY_IMAGES:
        return "ambassador", f"the {segment} image next to the app most likely proxies its traffic"
    return None


def _name_evidence(c: Container) -> Evidence | None:
    """Fall back on words in the container name ('log-shipper', 'metrics-adapter', ...)."""
    lowered = c.name.lower()
    words = set(re.split(r"[-_.]+", lowered))
    for hint, role in NAME_HINTS:
        if (hint in words) if hint in ("log", "logs") else (hint in lowered):
            return role, f"its name '{c.name}' suggests {ROLE_WORDS[role]}"
    return None
