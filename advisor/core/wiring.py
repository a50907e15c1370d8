"""How the containers of one pod are wired to each other, computed once for every later stage.

:func:`wire` reads a pod template and returns a :class:`Wiring`: typed edges between containers,
each with the evidence that shows it and the line of that evidence.

* ``network``: a container reaches a local address (``localhost``, ``127.0.0.1``, ``[::1]``,
  ``0.0.0.0``) on a port that another container declares or listens on. Evidence comes from
  command and args, env values, port flags (``--app-port 8080``, ``--upstream=...``,
  ``--metrics-url=...``) and probes aimed at another container's port. The edge goes from the
  caller to the callee.
* ``files``: a volume mounted by several containers, from the writer to each reader. A writer is
  a container whose command writes under the mount, a plain init container with a writable
  mount, or a catalogue config helper with a writable mount; a ``readOnly`` mount only reads.
  When nothing tells who writes, the mount is shared read-write: the edge joins the containers
  without a direction (``directed`` is False).
* ``interception``: a service-mesh proxy (Istio, Linkerd, Consul) and the init container or CNI
  that redirects all pod traffic through it. The proxy is wired to every serving container in
  both directions, and the redirecting init container to the proxy. Any other vendor's proxy
  (Kuma, App Mesh, ...) counts when an init container redirects traffic (iptables, or NET_ADMIN
  with redirect/proxy words): the proxy is the container whose user the redirect exempts, else
  the only known ambassador or proxy-named container.
* ``process``: ``shareProcessNamespace: true`` joins every container to the first regular one.

A reference to a local port that nothing in the pod serves is kept as a :class:`Dangling` call;
when another container serves a port one typo away, the call is most likely a mistake.

Every step is linear in the number of containers, ports and words of the manifest: ports are
looked up in dictionaries, shared volumes are joined through their writers (or one hub), and the
process namespace is a star, so a pod with hundreds of containers stays cheap.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import field
from typing import Literal, cast

from advisor.core.lazy import lazy_re
from advisor.core.model import Container, PodTemplate
from advisor.core.records import dataclass
from advisor.core.roles import Catalogue, load_catalogue, read_command, volume_of, written_paths
from advisor.core.source import get_int, get_list, get_map, get_str, line_of

EdgeKind = Literal["network", "files", "interception", "process"]
EDGE_KINDS: tuple[EdgeKind, ...] = ("network", "files", "interception", "process")

MESH_PROXIES = frozenset({"istio-proxy", "linkerd-proxy", "consul-dataplane"})
REDIRECT_WORDS = lazy_re(r"iptables|istio-iptables|proxy-init|linkerd-init|consul-connect-inject")
NET_ADMIN_REDIRECT = lazy_re(
    r"redirect|transparent|tproxy|intercept|proxy|envoy|inbound|outbound|ingress|egress", re.I
)
PROXY_NAME = lazy_re(r"proxy|envoy|sidecar|dataplane|(?:^|[-_/])dp(?:$|[-_:])")
REDIRECT_IMAGES = frozenset({"proxy-init", "istio-init", "linkerd2-proxy-init"})
CNI_ANNOTATIONS = (
    "sidecar.istio.io/status",
    "linkerd.io/proxy-version",
    "consul.hashicorp.com/connect-inject-status",
)

LOCAL_HOST = r"(?:localhost|127\.0\.0\.1|\[::1\]|::1|0\.0\.0\.0|\[::\])"
# ``host#port`` is the dnsmasq/BIND spelling of ``host:port`` (``--server=/x/127.0.0.1#10053``).
LOCAL_ADDRESS = lazy_re(rf"(?<![\w.-]){LOCAL_HOST}[:#](\d{{1,5}})(?!\d)", re.IGNORECASE)
BARE_PORT = lazy_re(r"(?:^|=|\s)(?:https?://)?:(\d{1,5})(?!\d)")
FLAG = lazy_re(r"^--?([A-Za-z][\w.-]*)(?:=(.*))?$")
LISTEN_FLAG = lazy_re(
    r"listen|bind|^(?:web\.)?(?:http-|https-|grpc-|metrics-|health-)?(?:addr|address|port)$|^port$|serve",
    re.I,
)
CALL_FLAG = lazy_re(
    r"app[-_.]?port|upstream|backend|target|forward|proxy[-_.]?to|metrics[-_.]?url|scrape|"
    r"endpoint|source|url|uri|server|host|webhook|reload|remote|destination|collector",
    re.I,
)
PORT_VALUE = lazy_re(r"^\d{1,5}$")
ENV_CALL_NAME = lazy_re(
    r"(?:APP|UPSTREAM|BACKEND|TARGET|FORWARD|SERVER|SIDECAR|AGENT)\w*PORT$|_PORT$", re.I
)
PROBES = ("startupProbe", "readinessProbe", "livenessProbe")
PROBE_EVIDENCE = "the "
VAR_REF = lazy_re(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")
ENV_LISTEN_NAME = lazy_re(r"LISTEN|BIND|INBOUND|ADMIN|_SERVER_ADDR", re.I)
LISTEN_SPEC = lazy_re(r"(?:tcp4?-listen|=tcp|^tcp):(\d{1,5})(?!\d)", re.I)
SOCKET_SERVER_FLAG = lazy_re(r"listen|bind|endpoint|serve|socket-path", re.I)
MAX_PAIRS_PER_VOLUME = 64
# Env names that tell a helper where to put the files it produces (k8s-sidecar's FOLDER, ...).
OUTPUT_ENV = lazy_re(
    r"FOLDER|(?:DEST(?:INATION)?|OUTPUT|TARGET|WRITE)(?:_?(?:DIR|FOLDER|PATH))?", re.I
)


@dataclass(frozen=True)
class Edge:
    """One link between two containers, from ``source`` to ``target``.

    For ``network`` the source calls the target; for ``files`` the source writes what the
    target reads (``directed`` False: both mount it read-write, the direction is unknown); for
    ``interception`` the source's traffic passes through the target; for ``process`` both share
    one process namespace.
    """

    kind: EdgeKind
    source: str
    target: str
    port: int | None
    volume: str | None
    evidence: str
    line: int | None
    directed: bool = True

    @property
    def label(self) -> str:
        """What to print on the arrow: the port or the volume."""
        if self.port is not None:
            return str(self.port)
        if self.volume:
            return self.volume
        return self.kind


@dataclass(frozen=True)
class Listener:
    """A port a container serves, and how we know."""

    container: str
    port: int
    evidence: str
    line: int | None


@dataclass(frozen=True)
class Dangling:
    """A call to a local port nothing in the pod serves; ``near`` is a likely intended target."""

    container: str
    port: int
    evidence: str
    line: int | None
    near: Listener | None


@dataclass(frozen=True)
class Wiring:
    """The pod's wiring: edges, served ports, calls that reach nothing, and the mesh proxy."""

    containers: tuple[str, ...]
    edges: tuple[Edge, ...]
    listeners: tuple[Listener, ...]
    dangling: tuple[Dangling, ...]
    mesh_proxy: str | None = None
    _out: dict[str, tuple[Edge, ...]] = field(default_factory=dict, repr=False, compare=False)
    _in: dict[str, tuple[Edge, ...]] = field(default_factory=dict, repr=False, compare=False)
    _group: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        out: dict[str, list[Edge]] = {}
        into: dict[str, list[Edge]] = {}
        for e in self.edges:
            out.setdefault(e.source, []).append(e)
            into.setdefault(e.target, []).append(e)
        self._out.update({k: tuple(v) for k, v in out.items()})
        self._in.update({k: tuple(v) for k, v in into.items()})
        self._group.update(_components(self.containers, self.edges))

    def outgoing(self, name: str) -> tuple[Edge, ...]:
        return self._out.get(name, ())

    def incoming(self, name: str) -> tuple[Edge, ...]:
        return self._in.get(name, ())

    def edges_of(self, name: str) -> tuple[Edge, ...]:
        return self.outgoing(name) + self.incoming(name)

    def linked(self, a: str, b: str) -> bool:
        """Tell whether a chain of edges joins ``a`` and ``b`` (a mesh proxy joins nothing)."""
        return a in self._group and self._group.get(a) == self._group.get(b)

    def group(self, name: str) -> str:
        """Name a representative of the containers linked with ``name`` (itself if alone)."""
        return self._group.get(name, name)

    def calls(self, caller: str, callee: str) -> Edge | None:
        """Return the first network edge from ``caller`` to ``callee``."""
        return next(
            (e for e in self.outgoing(caller) if e.kind == "network" and e.target == callee), None
        )

    def needs_at_start(self, dependant: str) -> tuple[Edge, ...]:
        """Edges showing ``dependant`` needs another container up before it can start.

        It calls the other one, reads files the other one writes, or its traffic goes through
        the other one (a mesh proxy).
        """
        out = [
            e
            for e in self.outgoing(dependant)
            if e.kind in ("network", "interception") and e.target != dependant
        ]
        out += [e for e in self.incoming(dependant) if e.kind == "files" and e.directed]
        return tuple(out)

    def depends_on(self, dependant: str, helper: str) -> Edge | None:
        """Return the edge showing ``dependant`` needs ``helper`` at start, if any."""
        for e in self.needs_at_start(dependant):
            other = e.target if e.source == dependant else e.source
            if other == helper:
                return e
        return None

    def served_ports(self, name: str) -> tuple[int, ...]:
        return tuple(dict.fromkeys(p.port for p in self.listeners if p.container == name))


def _components(names: Iterable[str], edges: Iterable[Edge]) -> dict[str, str]:
    """Union-find over the edges: map each container to the representative of its group."""
    parent = {n: n for n in names}

    def find(n: str) -> str:
        root = n
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(n, n) != root:
            parent[n], n = root, parent[n]
        return root

    for e in edges:
        if e.kind == "interception":
            continue  # a mesh proxy carries every container's traffic; it couples no two apps
        if e.source in parent and e.target in parent:
            a, b = find(e.source), find(e.target)
            if a != b:
                parent[b] = a
    return {n: find(n) for n in parent}


# --- entry point ----------------------------------------------------------------------------


def wire(pod: PodTemplate, *, catalogue: Catalogue | None = None) -> Wiring:
    """Build the wiring of one pod template."""
    known = catalogue or load_catalogue()
    containers = [c for c in pod.all_containers if c.name]
    names = tuple(dict.fromkeys(c.name for c in containers))
    listeners = list(_listeners(containers, known))
    served: dict[int, Listener] = {}
    for item in listeners:
        served.setdefault(item.port, item)
    edges: list[Edge] = []
    dangling: list[Dangling] = []
    host_network = pod.spec.get("hostNetwork") is True
    for c in containers:
        own = {p.port for p in listeners if p.container == c.name}
        seen: set[tuple[str, int]] = set()
        for port, evidence, line in _local_references(c):
            if port in own:
                continue
            target = served.get(port)
            if target is None and evidence.startswith(PROBE_EVIDENCE):
                continue  # a probe on a port nobody declares checks the container itself
            if target is not None and target.container != c.name:
                if (target.container, port) not in seen:
                    seen.add((target.container, port))
                    edges.append(
                        Edge("network", c.name, target.container, port, None, evidence, line)
                    )
            elif target is None and not host_network and (c.name, port) not in seen:
                seen.add((c.name, port))
                near = _near(port, served)
                if near is not None and near.container == c.name:
                    near = None
                dangling.append(Dangling(c.name, port, evidence, line, near))
    edges += _portless_calls(containers, edges, known)
    edges += _file_edges(pod, containers, known)
    proxy, intercept = _interception(pod, containers, known, listeners)
    edges += intercept
    edges += _process_edges(pod, containers)
    return Wiring(names, tuple(edges), tuple(listeners), tuple(dangling), proxy)


# --- ports ----------------------------------------------------------------------------------


def _listeners(
    containers: Iterable[Container], catalogue: Catalogue | None = None
) -> Iterator[Listener]:
    """Ports each container serves: declared ports, listen flags, env, and, when none of its
    flags or env says where it listens, the default ports of its catalogue image."""
    for c in containers:
        declared: set[int] = set()
        configured = False
        for p in c.ports:
            if p.number is not None and 0 < p.number < 65536:
                declared.add(p.number)
                yield Listener(c.name, p.number, f"declares containerPort {p.number}", p.line)
        tokens = _tokens(c)
        client = _local_client(tokens)
        for token in tokens:
            found = FLAG.match(token)
            if client and found and found[1].lower() == "port":
                continue  # --host=127.0.0.1 --port=5432: a client's target, not a listener
            if not found or found[2] is None or not LISTEN_FLAG.search(found[1]):
                continue
            port = _port_in(found[2])
            configured = configured or port is not None
            if port is not None and port not in declared:
                declared.add(port)
                yield Listener(c.name, port, f"listens with {token}", c.line)
        for token in tokens:
            spec = LISTEN_SPEC.search(token)
            if spec and int(spec[1]) not in declared and 0 < int(spec[1]) < 65536:
                declared.add(int(spec[1]))
                yield Listener(c.name, int(spec[1]), f"listens with {_short(token)}", c.line)
        for entry in get_list(c.raw, "env"):
            name, value = get_str(entry, "name"), get_str(entry, "value")
            if ENV_LISTEN_NAME.search(name) and (port := _port_in(value)) and port not in declared:
                declared.add(port)
                configured = True
                yield Listener(c.name, port, f"listens at {name}={value}", line_of(entry))
        entry = catalogue.match(c.image, c.name) if catalogue is not None else None
        if entry is not None and not configured:
            for port in entry.ports:
                if port not in declared:
                    declared.add(port)
                    yield Listener(
                        c.name, port, f"listens on {port} by default ({entry.title})", c.line
                    )


def _tokens(c: Container) -> tuple[str, ...]:
    """The command's words, quotes removed, with ``$(VAR)`` expanded from the container's env
    as the kubelet does."""
    cached = c.__dict__.get("_expanded_tokens")
    if cached is not None:
        return cast(tuple[str, ...], cached)
    expanded = _expand_tokens(c)
    object.__setattr__(c, "_expanded_tokens", expanded)
    return expanded


def _expand_tokens(c: Container) -> tuple[str, ...]:
    env = {
        get_str(e, "name"): get_str(e, "value")
        for e in get_list(c.raw, "env")
        if isinstance(e, dict) and "value" in e
    }
    tokens = read_command(c).tokens
    if not env or not any("$(" in t for t in tokens):
        return tokens
    return tuple(VAR_REF.sub(lambda m: env.get(m[1], m[0]), t) if "$(" in t else t for t in tokens)


def listeners_of(c: Container, catalogue: Catalogue | None = None) -> tuple[Listener, ...]:
    """The ports one container serves, as :func:`wire` sees them."""
    return tuple(_listeners([c], catalogue or load_catalogue()))


def _port_in(value: str) -> int | None:
    """Return the port of ``8080``, ``:8080``, ``0.0.0.0:8080`` or ``http://host:8080/x``."""
    found = re.search(r"(?:^|:)(\d{1,5})(?:/|$)", value.strip())
    if not found:
        return None
    number = int(found[1])
    return number if 0 < number < 65536 else None


def _local_references(c: Container) -> Iterator[tuple[int, str, int | None]]:
    """Yield ``(port, evidence, line)`` for every local port the container reaches out to."""
    line = line_of(c.raw, "args") or line_of(c.raw, "command") or c.line
    tokens = list(_tokens(c))
    client = _local_client([t.strip("\"'`,;") for t in tokens])
    for i, token in enumerate(tokens):
        stripped = token.strip("\"'`,;")
        flag = FLAG.match(stripped)
        name, value = (flag[1], flag[2]) if flag else ("", None)
        if flag and value is None and i + 1 < len(tokens) and not tokens[i + 1].startswith("-"):
            value = tokens[i + 1].strip("\"'`,;")
        if client and flag and name.lower() == "port" and value and PORT_VALUE.fullmatch(value):
            yield int(value), f"{c.name} connects to --host={client} --port={value}", line
            continue
        if flag and LISTEN_FLAG.search(name) and not CALL_FLAG.search(name):
            continue  # where it listens, not where it calls
        for m in LOCAL_ADDRESS.finditer(stripped):
            if m[0].startswith("0.0.0.0") and not (flag and CALL_FLAG.search(name)):
                continue  # 0.0.0.0 is an address to listen on unless a call flag names it
            yield int(m[1]), f"{c.name} reaches {m[0]} ({_short(stripped)})", line
        if flag and value is not None and CALL_FLAG.search(name):
            if PORT_VALUE.fullmatch(value) and "port" in name.lower():
                yield int(value), f"{c.name} is told --{name} {value}", line
            elif value.startswith(":") and PORT_VALUE.fullmatch(value[1:]):
                yield int(value[1:]), f"{c.name} reaches {value} (--{name})", line
    for entry in get_list(c.raw, "env"):
        if not isinstance(entry, dict):
            continue
        value, name = get_str(entry, "value"), get_str(entry, "name")
        env_line = line_of(entry, "value") or line_of(entry)
        if ENV_LISTEN_NAME.search(name):
            continue  # where this container listens
        for m in LOCAL_ADDRESS.finditer(value):
            if not m[0].startswith("0.0.0.0"):
                yield int(m[1]), f"{c.name} env {name}={_short(value)}", env_line
        if PORT_VALUE.fullmatch(value.strip()) and ENV_CALL_NAME.search(name):
            yield int(value), f"{c.name} env {name}={value}", env_line
    yield from _probe_references(c)


PORTLESS_LOCAL = lazy_re(
    rf"^(?:[a-z]+://)?{LOCAL_HOST}(?::(?:<[^>]*>|\$\{{?\w+\}}?|\{{\{{.*\}}\}}))?/?$", re.I
)


def _portless_calls(
    containers: list[Container], edges: list[Edge], catalogue: Catalogue
) -> Iterator[Edge]:
    """A local host with no usable port (``--host=127.0.0.1``, ``DB_HOST=localhost``, a
    placeholder port) reaches the pod's only known proxy when there is exactly one."""
    proxies = [
        c
        for c in containers
        if c.lifecycle != "init"
        and (entry := catalogue.match(c.image, c.name)) is not None
        and entry.role == "ambassador"
        and entry.id not in MESH_PROXIES
    ]
    if len(proxies) != 1:
        return
    proxy = proxies[0]
    callers = {e.source for e in edges if e.kind == "network" and e.target == proxy.name}
    for c in containers:
        if c is proxy or c.name in callers:
            continue
        found = _portless_reference(c)
        if found is not None:
            evidence, line = found
            yield Edge(
                "network",
                c.name,
                proxy.name,
                None,
                None,
                f"{c.name} reaches {evidence} with no port given; '{proxy.name}' is the pod's "
                "only proxy",
                line,
            )


def _portless_reference(c: Container) -> tuple[str, int | None] | None:
    """Return the first local host reference without a numeric port, and its line."""
    for token in _tokens(c):
        found = FLAG.match(token)
        if found and found[2] is not None and PORTLESS_LOCAL.match(found[2]):
            return token, line_of(c.raw, "args") or line_of(c.raw, "command") or c.line
    for entry in get_list(c.raw, "env"):
        value = get_str(entry, "value").strip()
        if (
            value
            and PORTLESS_LOCAL.match(value)
            and not ENV_LISTEN_NAME.search(get_str(entry, "name"))
        ):
            return f"{get_str(entry, 'name')}={value}", line_of(entry, "value") or line_of(entry)
    return None


def _local_client(tokens: list[str] | tuple[str, ...]) -> str:
    """Return the local host of a ``--host=127.0.0.1``/``-h localhost`` client flag, if any."""
    for i, token in enumerate(tokens):
        found = re.fullmatch(rf"--?(?:host|hostname)=({LOCAL_HOST})", token, re.I)
        if found:
            return found[1]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        if token in ("-h", "--host", "-H") and re.fullmatch(LOCAL_HOST, nxt, re.I):
            return nxt
    return ""


def _probe_references(c: Container) -> Iterator[tuple[int, str, int | None]]:
    """Probes whose numeric port is another container's: the health of one rests on the other."""
    for kind in PROBES:
        probe = c.probe(kind)
        if probe is None:
            continue
        for handler in ("httpGet", "tcpSocket", "grpc"):
            spec = get_map(probe, handler)
            port = get_int(spec, "port")
            host = get_str(spec, "host")
            if port is None or (host and not re.fullmatch(LOCAL_HOST, host, re.I)):
                continue
            where = f" host {host}" if host else ""
            line = line_of(spec, "port") or line_of(probe)
            yield port, f"{PROBE_EVIDENCE}{kind} of {c.name} checks port {port}{where}", line


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _near(port: int, served: dict[int, Listener]) -> Listener | None:
    """Return a served port one typo away (one digit changed, two swapped, or off by one)."""
    text = str(port)
    candidates: list[int] = [port - 1, port + 1]
    for i in range(len(text)):
        for digit in "0123456789":
            if digit != text[i]:
                candidates.append(int(text[:i] + digit + text[i + 1 :]))
        if i + 1 < len(text):
            candidates.append(int(text[:i] + text[i + 1] + text[i] + text[i + 2 :]))
    for drop in range(len(text)):
        if len(text) > 1:
            candidates.append(int(text[:drop] + text[drop + 1 :]))
    return next((served[p] for p in candidates if p in served and p != port), None)


# --- files ----------------------------------------------------------------------------------


def _file_edges(
    pod: PodTemplate, containers: list[Container], catalogue: Catalogue
) -> Iterator[Edge]:
    """Writer -> reader edges for every volume that two or more containers mount."""
    mounts: dict[str, list[tuple[Container, bool, int | None]]] = {}
    for c in containers:
        for m in get_list(c.raw, "volumeMounts"):
            name = get_str(m, "name")
            if name:
                mounts.setdefault(name, []).append((c, m.get("readOnly") is True, line_of(m)))
    for volume, users in mounts.items():
        if len({c.name for c, _, _ in users}) < 2:
            continue
        writers: dict[str, tuple[Container, str, int | None]] = {}
        for c, read_only, line in users:
            if read_only:
                continue
            why = _writes(c, volume, catalogue)
            if why:
                writers.setdefault(c.name, (c, why, line))
        if writers and len(writers) * len(users) <= MAX_PAIRS_PER_VOLUME * 4:
            for writer, why, line in writers.values():
                for reader, read_only, _ in users:
                    if reader.name == writer.name:
                        continue
                    mode = " (read-only)" if read_only else ""
                    yield Edge(
                        "files",
                        writer.name,
                        reader.name,
                        None,
                        volume,
                        f"{writer.name} {why}; {reader.name} mounts it{mode}",
                        line,
                    )
            continue
        hub = next((c for c, _, _ in users if c.lifecycle == "regular"), users[0][0])
        for c, read_only, line in users:
            if c.name == hub.name:
                continue
            mode = "read-only" if read_only else "read-write"
            yield Edge(
                "files",
                c.name,
                hub.name,
                None,
                volume,
                f"{c.name} and {hub.name} both mount '{volume}' ({c.name}: {mode})",
                line,
                directed=False,
            )


def _writes(c: Container, volume: str, catalogue: Catalogue) -> str:
    """Say how ``c`` writes into ``volume``, or return an empty string."""
    command = read_command(c)
    created = {a for st in command.statements if st[0] in ("touch", "mkdir") for a in st[1:]}
    for path in written_paths(command):
        if path not in created and volume_of(c, path) == volume:
            return f"writes {path} into '{volume}'"
    for e in get_list(c.raw, "env"):
        name, value = get_str(e, "name"), get_str(e, "value").strip()
        if OUTPUT_ENV.fullmatch(name) and value.startswith("/") and volume_of(c, value) == volume:
            return f"writes into {value} ({name}) in '{volume}'"
    if c.lifecycle == "init":
        return f"prepares '{volume}' as an init container"
    entry = catalogue.match(c.image, c.name)
    if entry is not None and entry.role == "config-helper":
        return f"keeps files in '{volume}' up to date ({entry.title})"
    if _serves_socket(c, volume):
        return f"serves a socket in '{volume}'"
    return ""


def _serves_socket(c: Container, volume: str) -> bool:
    """Tell whether a listen/endpoint flag of the command opens a ``*.sock`` in ``volume``.

    A flag such as ``--csi-address=/csi/csi.sock`` names a socket to connect to (a client);
    ``--endpoint=unix:///csi/csi.sock`` or ``--listen`` opens it (the server).
    """
    for word in _tokens(c):
        found = FLAG.match(word)
        if not found or found[2] is None or not SOCKET_SERVER_FLAG.search(found[1]):
            continue
        for part in re.findall(r"/[^\s=,'\"]*\.sock\b", found[2]):
            if volume_of(c, "/" + part.lstrip("/")) == volume:
                return True
    return False


# --- interception and process namespace ---------------------------------------------------


def _interception(
    pod: PodTemplate,
    containers: list[Container],
    catalogue: Catalogue,
    listeners: list[Listener],
) -> tuple[str | None, list[Edge]]:
    """Find the proxy all pod traffic goes through and wire it to every serving container.

    A known mesh proxy (Istio, Linkerd, Consul) counts on its own, since a CNI plugin may do the
    redirecting. Any other vendor's proxy (Kuma, App Mesh, ...) counts when an init container
    redirects the pod's traffic: the proxy is then the container whose user the redirect leaves
    out, or failing that the only known ambassador or proxy-named container.
    """
    proxy = next(
        (
            c
            for c in containers
            if c.lifecycle != "init"
            and (entry := catalogue.match(c.image, c.name)) is not None
            and entry.id in MESH_PROXIES
        ),
        None,
    )
    if proxy is None:
        redirect = next((c for c in containers if c.lifecycle == "init" and _redirects(c)), None)
        proxy = _redirect_target(redirect, containers, catalogue) if redirect else None
    if proxy is None:
        return None, []
    edges: list[Edge] = []
    redirect = next((c for c in containers if c.lifecycle == "init" and _redirects(c)), None)
    if redirect is not None:
        edges.append(
            Edge(
                "interception",
                redirect.name,
                proxy.name,
                None,
                None,
                f"{redirect.name} sets iptables rules that send all pod traffic to {proxy.name}",
                redirect.line,
            )
        )
    elif any(k in pod.annotations for k in CNI_ANNOTATIONS):
        pass  # a CNI plugin redirects the traffic; nothing in the pod to draw
    ports: dict[str, list[int]] = {}
    for item in listeners:
        ports.setdefault(item.container, []).append(item.port)
    for c in containers:
        if c is proxy or c.lifecycle == "init":
            continue
        shown = ports.get(c.name, [])
        port = shown[0] if shown else None
        inbound = f"inbound traffic for {c.name}" + (f" (port {port})" if port else "")
        edges.append(
            Edge(
                "interception",
                proxy.name,
                c.name,
                port,
                None,
                f"{proxy.name} receives {inbound}",
                proxy.line,
            )
        )
        edges.append(
            Edge(
                "interception",
                c.name,
                proxy.name,
                None,
                None,
                f"outbound traffic of {c.name} is redirected through {proxy.name}",
                proxy.line,
            )
        )
    return proxy.name, edges


def _redirects(c: Container) -> bool:
    """Tell whether an init container sets up traffic redirection (iptables, proxy-init), or
    holds NET_ADMIN while its command or env speaks of redirecting or a proxy."""
    from advisor.core.roles import image_keys

    segment = image_keys(c.image).segment if c.image.strip() else ""
    if segment in REDIRECT_IMAGES:
        return True
    words = " ".join(read_command(c).words)
    if REDIRECT_WORDS.search(words) or c.name in ("istio-init", "linkerd-init"):
        return True
    caps = get_list(get_map(get_map(c.raw, "securityContext"), "capabilities"), "add")
    if "NET_ADMIN" not in {str(x).upper() for x in caps}:
        return False
    env = " ".join(f"{get_str(e, 'name')}={get_str(e, 'value')}" for e in get_list(c.raw, "env"))
    return bool(NET_ADMIN_REDIRECT.search(f"{words} {env} {c.name} {c.image}"))


def _redirect_target(
    init: Container, containers: list[Container], catalogue: Catalogue
) -> Container | None:
    """The container a redirecting init container sends the pod's traffic to."""
    others = [c for c in containers if c.lifecycle != "init"]
    said = " ".join([*_tokens(init), *(get_str(e, "value") for e in get_list(init.raw, "env"))])
    numbers = set(re.findall(r"\b\d{1,6}\b", said))
    by_user = [
        c
        for c in others
        if (uid := get_int(get_map(c.raw, "securityContext"), "runAsUser")) is not None
        and uid != 0
        and str(uid) in numbers
    ]
    if len(by_user) == 1:
        return by_user[0]
    known = [
        c
        for c in others
        if (entry := catalogue.match(c.image, c.name)) is not None and entry.role == "ambassador"
    ]
    if len(known) == 1:
        return known[0]
    named = [c for c in others if PROXY_NAME.search(f"{c.name} {c.image}".lower())]
    return named[0] if len(named) == 1 else None


def _process_edges(pod: PodTemplate, containers: list[Container]) -> Iterator[Edge]:
    """``shareProcessNamespace``: a star around the first regular container."""
    if pod.spec.get("shareProcessNamespace") is not True:
        return
    hub = next((c for c in containers if c.lifecycle == "regular"), None)
    if hub is None:
        return
    line = line_of(pod.spec, "shareProcessNamespace")
    for c in containers:
        if c is not hub and c.lifecycle != "init":
            yield Edge(
                "process",
                c.name,
                hub.name,
                None,
                None,
                f"{c.name} and {hub.name} see each other's processes (shareProcessNamespace)",
                line,
                directed=False,
            )


def describe(edge: Edge) -> str:
    """One line for the text report."""
    arrow = "->" if edge.directed else "<->"
    what = f"port {edge.port}" if edge.port is not None else (edge.volume or "")
    where = f" (line {edge.line})" if edge.line else ""
    return f"{edge.kind}: {edge.source} {arrow} {edge.target} {what}".rstrip() + where
