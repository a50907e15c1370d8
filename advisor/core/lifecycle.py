"""Pod startup and shutdown as timelines for a Gantt chart.

Follows ``docs/kubernetes-semantics.md`` section (b) for startup and (c) for shutdown:

* startup: init entries strictly in declared order (a plain init container must exit, a native
  sidecar must be *started*: postStart returned and startup probe passed), then the regular
  containers one after another, each start call blocking on its postStart hook only;
* shutdown: every running container runs its preStop hook at once; with native sidecars, a
  sidecar then waits for every regular container and every later sidecar to exit, capped by its
  own remaining budget (counted in whole seconds, rounded down like the kubelet); the stop signal
  always comes with at least 2 s before SIGKILL.

What Kubernetes cannot know (how long an image takes to start, how long a hook runs, ...) comes
from :class:`Assumptions`; every value a simulation used is listed in ``Timeline.assumptions``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import field, fields
from types import MappingProxyType
from typing import TYPE_CHECKING

from advisor.core.model import Container, PodTemplate
from advisor.core.records import dataclass
from advisor.core.source import get_int, get_map, get_str

if TYPE_CHECKING:
    from advisor.core.wiring import Edge, Wiring

MAX_SECONDS = 86400.0
MIN_STOP_GRACE = 2
EPSILON = 1e-9
DEFAULT_PERIOD = 10
DEFAULT_FAILURE_THRESHOLD = 3
DEFAULT_INITIAL_DELAY = 0


@dataclass(frozen=True)
class Assumptions:
    """What Kubernetes cannot know, with defaults.

    Every value a simulation used is listed in ``Timeline.assumptions``.
    """

    image_start_seconds: float = 1.0
    init_run_seconds: float = 5.0
    ready_after_seconds: float = 2.0
    exec_prestop_seconds: float = 2.0
    exit_after_sigterm_seconds: float = 1.0
    post_start_seconds: float = 0.5
    per_container: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in FIELD_NAMES:
            object.__setattr__(self, name, _seconds(getattr(self, name), name))
        object.__setattr__(self, "per_container", _per_container(self.per_container))

    def for_container(self, name: str, field_name: str) -> float:
        """Return ``field_name`` for container ``name``: its override, else the default."""
        if field_name not in FIELD_NAMES:
            raise ValueError(f"unknown assumption {field_name!r}")
        override = self.per_container.get(name, {}).get(field_name)
        return float(getattr(self, field_name) if override is None else override)

    def is_overridden(self, name: str, field_name: str) -> bool:
        """Tell whether container ``name`` has its own value for ``field_name``."""
        return field_name in self.per_container.get(name, {})


FIELD_NAMES: tuple[str, ...] = tuple(
    f.name for f in fields(Assumptions) if f.name != "per_container"
)

_ASSUMPTION_TEXT = {
    "image_start_seconds": "'{name}' takes {value} from start call to running process",
    "init_run_seconds": "init container '{name}' runs {value}",
    "ready_after_seconds": "'{name}' would pass its startup probe {value} after it starts",
    "exec_prestop_seconds": "preStop hook of '{name}' takes {value}",
    "exit_after_sigterm_seconds": "'{name}' exits {value} after its stop signal",
    "post_start_seconds": "postStart hook of '{name}' blocks its start for {value}",
}


def assumptions_from_mapping(data: Mapping[str, object]) -> Assumptions:
    """Build assumptions from JSON or form input; raise ValueError naming the bad value."""
    if not isinstance(data, Mapping):
        raise ValueError("assumptions must be a mapping of names to seconds")
    values: dict[str, object] = {}
    for key, raw in data.items():
        if key == "per_container":
            values[key] = {} if _blank(raw) else raw
        elif key not in FIELD_NAMES:
            raise ValueError(
                f"unknown assumption {key!r}; expected one of {', '.join(FIELD_NAMES)}"
            )
        elif not _blank(raw):
            values[key] = raw
    return Assumptions(**values)  # type: ignore[arg-type]


def _blank(value: object) -> bool:
    """Tell whether a form value was left empty (the default then applies)."""
    return value is None or (isinstance(value, str) and not value.strip())


def _seconds(value: object, where: str) -> float:
    """Return ``value`` as a number of seconds in [0, 86400]; raise ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{where}: expected a number of seconds, got {value!r}")
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except ValueError:
        raise ValueError(f"{where}: {value!r} is not a number of seconds") from None
    except OverflowError:
        number = math.inf
    if math.isnan(number):
        raise ValueError(f"{where}: {value!r} is not a number of seconds")
    if number < 0:
        raise ValueError(f"{where}: {value!r} is negative; seconds must be 0 or more")
    if number > MAX_SECONDS:
        raise ValueError(f"{where}: {value!r} is more than {MAX_SECONDS:g} seconds (one day)")
    return number


def _per_container(data: object) -> Mapping[str, Mapping[str, float]]:
    """Validate per-container overrides and return a read-only copy."""
    if not isinstance(data, Mapping):
        raise ValueError("per_container: expected a mapping of container name to assumptions")
    out: dict[str, Mapping[str, float]] = {}
    for name, overrides in data.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"per_container: {name!r} is not a container name")
        if not isinstance(overrides, Mapping):
            raise ValueError(f"per_container.{name}: expected a mapping of assumption to seconds")
        values: dict[str, float] = {}
        for key, raw in overrides.items():
            if key not in FIELD_NAMES:
                raise ValueError(f"per_container.{name}: unknown assumption {key!r}")
            if not _blank(raw):
                values[key] = _seconds(raw, f"per_container.{name}.{key}")
        if values:
            out[name] = MappingProxyType(values)
    return MappingProxyType(out)


@dataclass(frozen=True)
class Segment:
    """One bar of the chart: a container in one phase between two times (seconds)."""

    container: str
    lifecycle: str
    phase: str
    start: float
    end: float
    why: str


@dataclass(frozen=True)
class Marker:
    """One instant on the chart, for one container or (``None``) for the pod."""

    time: float
    label: str
    container: str | None


@dataclass(frozen=True)
class Timeline:
    """A simulated startup or shutdown, with the assumptions it used and what to tell the user."""

    segments: tuple[Segment, ...]
    markers: tuple[Marker, ...]
    total_seconds: float
    assumptions: tuple[str, ...]
    notes: tuple[str, ...]


@dataclass
class _Builder:
    """Collects the pieces of one timeline while a simulation runs."""

    assumptions: Assumptions
    segments: list[Segment] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    used: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def value(self, c: Container, field_name: str) -> float:
        """Return an assumed value for ``c`` and record it as used."""
        value = self.assumptions.for_container(c.name, field_name)
        overridden = bool(self.assumptions.per_container) and self.assumptions.is_overridden(
            c.name, field_name
        )
        source = "set for this container" if overridden else "assumed"
        text = _ASSUMPTION_TEXT[field_name].format(name=c.name, value=_secs(value))
        _add_once(self.used, f"{text} ({source})")
        return value

    def segment(self, c: Container, phase: str, start: float, end: float, why: str) -> None:
        """Add a bar unless it would be empty."""
        if end - start > EPSILON:
            self.segments.append(Segment(c.name, c.lifecycle, phase, _t(start), _t(end), why))

    def marker(self, time: float, label: str, container: str | None) -> None:
        self.markers.append(Marker(_t(time), label, container))

    def note(self, text: str) -> None:
        _add_once(self.notes, text)

    def timeline(self, total: float) -> Timeline:
        """Freeze what was collected; markers are sorted by time."""
        markers = sorted(self.markers, key=lambda m: m.time)
        return Timeline(
            tuple(self.segments), tuple(markers), _t(total), tuple(self.used), tuple(self.notes)
        )


def _add_once(items: list[str], text: str) -> None:
    if text not in items:
        items.append(text)


def _t(value: float) -> float:
    """Round a time so float noise does not reach the chart."""
    if value.is_integer():  # most times are whole seconds: nothing to round
        return value + 0.0
    return round(value, 6) + 0.0


def _secs(value: float) -> str:
    return f"{round(value, 3):g}s"


def _floor(value: float) -> int:
    """Whole seconds, rounded down, as the kubelet counts elapsed time."""
    return math.floor(value + EPSILON)


# ---------------------------------------------------------------------------------------------
# hooks and probes


def _hook_seconds(b: _Builder, c: Container, hook_name: str, field_name: str) -> float | None:
    """Return how long ``c``'s postStart/preStop hook runs, or None when it has none."""
    hook = get_map(c.lifecycle_hooks, hook_name)
    if not hook:
        return None
    if "sleep" in hook:
        seconds = get_int(get_map(hook, "sleep"), "seconds")
        if seconds is not None and seconds >= 0:
            return float(seconds)
        b.note(f"{hook_name} sleep of '{c.name}' has no valid seconds: its length is assumed")
    return b.value(c, field_name)


def _hook_kind(c: Container, hook_name: str) -> str:
    """Name the handler of a hook for the chart ("sleep 20s", "exec", ...)."""
    hook = get_map(c.lifecycle_hooks, hook_name)
    seconds = get_int(get_map(hook, "sleep"), "seconds")
    if seconds is not None:
        return f"sleep {seconds}s"
    return next((k for k in ("exec", "httpGet", "tcpSocket") if k in hook), "handler")


@dataclass(frozen=True)
class _Probe:
    initial_delay: int
    period: int
    failure_threshold: int

    @property
    def gives_up_after(self) -> int:
        """Seconds after container start when the probe has failed too often."""
        return self.initial_delay + self.failure_threshold * self.period


def _startup_probe(b: _Builder, c: Container) -> _Probe | None:
    """Read ``c``'s startupProbe timings; bad fields fall back to the API defaults with a note."""
    raw = c.probe("startupProbe")
    if raw is None or c.lifecycle == "init":
        return None
    return _Probe(
        _probe_field(b, c, raw, "initialDelaySeconds", DEFAULT_INITIAL_DELAY, 0),
        _probe_field(b, c, raw, "periodSeconds", DEFAULT_PERIOD, 1),
        _probe_field(b, c, raw, "failureThreshold", DEFAULT_FAILURE_THRESHOLD, 1),
    )


def _probe_field(b: _Builder, c: Container, raw: dict, key: str, default: int, lowest: int) -> int:
    """Return an integer probe field, or ``default`` (noted) when it is missing or invalid."""
    if key not in raw:
        return default
    value = get_int(raw, key)
    if value is not None and value >= lowest:
        return value
    b.note(
        f"startup probe of '{c.name}': {key} {raw[key]!r} is not a valid integer "
        f"(at least {lowest}); the default {default} is used"
    )
    return default


# ---------------------------------------------------------------------------------------------
# startup


@dataclass(frozen=True)
class _Start:
    call_done: float  # the start call (image start + postStart) has returned
    started: float  # "started": call returned and startup probe passed
    failed: bool  # the startup probe would kill the container


DEFAULT_ASSUMPTIONS = Assumptions()


def simulate_startup(
    pod: PodTemplate,
    *,
    assumptions: Assumptions = DEFAULT_ASSUMPTIONS,
    wiring: Wiring | None = None,
) -> Timeline:
    """Simulate the pod from sandbox ready to every container started.

    With the pod's ``wiring``, every start dependency the declared order does not guarantee
    becomes a note (see :func:`start_dependencies`).
    """
    b = _Builder(assumptions)
    if wiring is not None:
        for dependency in start_dependencies(pod, wiring):
            if not dependency.guaranteed:
                b.note(dependency.why)
    t = 0.0
    running: list[tuple[Container, float]] = []
    for c in pod.init_containers:
        if c.lifecycle == "init":
            t = _run_init(b, c, t)
            continue
        start = _start_container(b, c, t)
        if start.failed:
            return _finish_startup(b, running, start.started, tail=False)
        running.append((c, start.started))
        t = start.started
    if pod.init_containers:
        b.marker(t, "init done: regular containers start", None)
    end = _start_regulars(b, pod.containers, t, running)
    if len(pod.containers) > 1:
        b.note(
            "regular containers are started one after another with no readiness ordering: "
            "a classic sidecar in spec.containers is not guaranteed to be up before the app"
        )
    return _finish_startup(b, running, end, tail=True)


@dataclass(frozen=True)
class Dependency:
    """``dependant`` needs ``helper`` up at start (``edge`` shows why); is the order enough?"""

    dependant: str
    helper: str
    edge: Edge
    guaranteed: bool
    why: str


def start_dependencies(pod: PodTemplate, wiring: Wiring) -> tuple[Dependency, ...]:
    """Who must be up before whom, from the wiring, and whether the pod's order ensures it.

    The order ensures it only when the helper is a native sidecar declared before the
    dependant with a startupProbe (the kubelet then waits until the probe passes). A plain init
    container that writes files is guaranteed too: it exits before anything later starts.
    """
    position = {c.name: i for i, c in enumerate(pod.all_containers)}
    by_name = {c.name: c for c in pod.all_containers}
    out: list[Dependency] = []
    for c in pod.all_containers:
        if c.lifecycle == "init" and not c.name:
            continue
        for edge in wiring.needs_at_start(c.name):
            other = edge.target if edge.source == c.name else edge.source
            helper = by_name.get(other)
            if helper is None or helper is c:
                continue
            if helper.lifecycle == "regular" and c.lifecycle != "regular":
                continue  # a sidecar calling the app cannot wait for it; it retries
            out.append(_dependency(c, helper, edge, position))
    return tuple(out)


def _dependency(
    c: Container, helper: Container, edge: Edge, position: dict[str, int]
) -> Dependency:
    """Judge one start dependency against the declared order."""
    before = position[helper.name] < position[c.name]
    why_needed = f"'{c.name}' needs '{helper.name}' at start ({edge.kind}: {edge.evidence})"
    if helper.lifecycle == "init":
        ok = before
        how = "it runs to completion first" if ok else "but it runs after it"
    elif helper.lifecycle == "native-sidecar" and before:
        ok = helper.probe("startupProbe") is not None
        how = (
            "its startupProbe makes the kubelet wait"
            if ok
            else "but without a startupProbe the kubelet only waits for its process to start"
        )
    elif helper.lifecycle == "native-sidecar":
        ok, how = False, "but it is declared later, so it is not running yet"
    elif c.lifecycle == "regular":
        ok, how = False, "but regular containers start together, with no readiness ordering"
    else:
        ok, how = False, "but regular containers start only after every init container"
    return Dependency(c.name, helper.name, edge, ok, f"{why_needed}; {how}")


def _run_init(b: _Builder, c: Container, t: float) -> float:
    """Run a plain init container to completion; return when the next entry may start."""
    running_at = _image_start(b, c, t)
    exits_at = running_at + b.value(c, "init_run_seconds")
    b.segment(
        c,
        "running-to-completion",
        running_at,
        exits_at,
        "plain init container: it must exit 0 before the next init entry starts",
    )
    return exits_at


def _image_start(b: _Builder, c: Container, t: float) -> float:
    """Add the start-call bar; return when the process runs."""
    running_at = t + b.value(c, "image_start_seconds")
    b.segment(
        c,
        "image-start",
        t,
        running_at,
        "the kubelet starts the container (image pull not included)",
    )
    return running_at


def _start_container(b: _Builder, c: Container, t: float) -> _Start:
    """Start a native sidecar or regular container: image start, postStart, startup probe."""
    running_at = _image_start(b, c, t)
    call_done = running_at
    post = _hook_seconds(b, c, "postStart", "post_start_seconds")
    if post is not None:
        call_done += post
        b.segment(
            c,
            "post-start",
            running_at,
            call_done,
            f"postStart hook ({_hook_kind(c, 'postStart')}): the start call waits for it",
        )
    probe = _startup_probe(b, c)
    if probe is None:
        return _Start(call_done, call_done, False)
    return _run_startup_probe(b, c, probe, running_at, call_done)


def _run_startup_probe(
    b: _Builder, c: Container, probe: _Probe, running_at: float, call_done: float
) -> _Start:
    """Find the probe tick that passes, or the time the probe gives up."""
    target = max(float(probe.initial_delay), b.value(c, "ready_after_seconds"))
    tick = math.ceil(target / probe.period - EPSILON) * probe.period
    if tick <= probe.gives_up_after:
        passes_at = running_at + tick
        started = max(passes_at, call_done)
        b.segment(c, "startup-probe", call_done, started, _probe_why(c, probe))
        b.marker(passes_at, "startup probe passes", c.name)
        return _Start(call_done, started, False)
    killed_at = running_at + probe.gives_up_after
    b.segment(c, "startup-probe", call_done, killed_at, _probe_why(c, probe))
    b.marker(killed_at, "startup probe would kill the container", c.name)
    _note_probe_failure(b, c, probe)
    return _Start(call_done, max(killed_at, call_done), True)


def _probe_why(c: Container, probe: _Probe) -> str:
    timing = f"every {probe.period}s after {probe.initial_delay}s"
    if c.lifecycle == "native-sidecar":
        return f"startup probe ({timing}): the next init entry waits until the sidecar is started"
    return f"startup probe ({timing}): it does not hold back the other regular containers"


def _note_probe_failure(b: _Builder, c: Container, probe: _Probe) -> None:
    text = (
        f"startup probe of '{c.name}' gives up after {probe.gives_up_after}s: it would be restarted"
    )
    if c.lifecycle == "native-sidecar":
        text += ", and the pod stays Pending: later containers never start"
    b.note(text)


def _start_regulars(
    b: _Builder, containers: tuple[Container, ...], t: float, running: list[tuple[Container, float]]
) -> float:
    """Start regular containers in one sync, each start call after the previous returned."""
    end = t
    for c in containers:
        start = _start_container(b, c, t)
        t = start.call_done
        end = max(end, start.started)
        if not start.failed:
            running.append((c, start.started))
    return end


def _finish_startup(
    b: _Builder, running: list[tuple[Container, float]], end: float, *, tail: bool
) -> Timeline:
    """Add the running bars up to the end (with a short tail so they show) and freeze."""
    total = end + max(1.0, 0.1 * end) if tail else end
    for c, since in running:
        why = (
            "native sidecar: keeps running next to the app"
            if c.lifecycle == "native-sidecar"
            else "running"
        )
        b.segment(c, "running", since, total, why)
    return b.timeline(total)


# ---------------------------------------------------------------------------------------------
# shutdown


def simulate_shutdown(
    pod: PodTemplate,
    *,
    assumptions: Assumptions = DEFAULT_ASSUMPTIONS,
    grace_seconds: int | None = None,
) -> Timeline:
    """Simulate the pod from deletion to the last container gone."""
    grace = _grace(pod, grace_seconds)
    b = _Builder(assumptions)
    ordered = bool(pod.sidecars)
    boosted: list[float] = []
    main_exits = [_stop(b, c, grace, None, boosted) for c in pod.containers]
    later_exits: list[float] = []
    for c in reversed(pod.sidecars):
        wait_until = max(main_exits + later_exits, default=0.0)
        later_exits.append(_stop(b, c, grace, wait_until, boosted))
    total = max(main_exits + later_exits, default=0.0)
    b.marker(grace, f"grace deadline ({grace}s)", None)
    _note_shutdown(b, pod, grace, total, boosted, ordered)
    return b.timeline(total)


def _grace(pod: PodTemplate, grace_seconds: int | None) -> int:
    """Return the grace budget: the override, else the pod's (default 30)."""
    if grace_seconds is None:
        return pod.grace_seconds
    if isinstance(grace_seconds, bool) or not isinstance(grace_seconds, int) or grace_seconds < 0:
        raise ValueError(
            f"grace_seconds must be a whole number of seconds >= 0, got {grace_seconds!r}"
        )
    return grace_seconds


def _stop(
    b: _Builder, c: Container, grace: int, wait_until: float | None, boosted: list[float]
) -> float:
    """Run one container's kill procedure; return when it is gone."""
    signal_at, budget = _run_pre_stop(b, c, grace)
    if wait_until is not None and budget > 0:
        signal_at, budget = _wait_for_turn(b, c, signal_at, budget, wait_until)
    return _send_stop_signal(b, c, signal_at, budget, boosted)


def _run_pre_stop(b: _Builder, c: Container, grace: int) -> tuple[float, int]:
    """Run the preStop hook (cut off at the budget); return its end and the budget left."""
    length = _hook_seconds(b, c, "preStop", "exec_prestop_seconds") if grace > 0 else None
    if length is None:
        return 0.0, grace
    elapsed = min(length, float(grace))
    why = f"preStop hook ({_hook_kind(c, 'preStop')}) runs before any signal"
    if length > grace:
        why += f"; the kubelet stops waiting for it at {grace}s"
        b.note(
            f"preStop hook of '{c.name}' takes {_secs(length)}, "
            f"longer than the {grace}s grace period"
        )
    b.segment(c, "pre-stop", 0.0, elapsed, why)
    return elapsed, grace - _floor(elapsed)


def _wait_for_turn(
    b: _Builder, c: Container, start: float, budget: int, wait_until: float
) -> tuple[float, int]:
    """Wait for regular containers and later sidecars, at most the budget left."""
    signal_at = max(start, min(wait_until, start + budget))
    budget -= _floor(signal_at - start)
    why = "waits for the regular containers and later sidecars to exit (native sidecar ordering)"
    if budget <= 0:
        why += "; its grace budget runs out first"
        b.marker(signal_at, "grace budget used up", c.name)
        b.note(
            f"'{c.name}' uses up its grace budget while waiting and is signalled at "
            f"{_secs(signal_at)} with only the {MIN_STOP_GRACE}s minimum stop grace"
        )
    b.segment(c, "waiting-for-others", start, signal_at, why)
    return signal_at, budget


def _send_stop_signal(
    b: _Builder, c: Container, signal_at: float, budget: int, boosted: list[float]
) -> float:
    """Send the stop signal with at least 2 s of grace; SIGKILL if the container is slower."""
    stop_grace = max(budget, MIN_STOP_GRACE)
    exit_after = b.value(c, "exit_after_sigterm_seconds")
    signal = get_str(c.lifecycle_hooks, "stopSignal") or "SIGTERM"
    b.marker(signal_at, signal, c.name)
    left = f"{signal} with {stop_grace}s left before SIGKILL"
    if budget < MIN_STOP_GRACE:
        left += f" ({MIN_STOP_GRACE}s minimum stop grace)"
    if exit_after <= stop_grace:
        end = signal_at + exit_after
        b.segment(c, "terminating", signal_at, end, f"{left}; exits after {_secs(exit_after)}")
    else:
        end = signal_at + stop_grace
        b.segment(
            c, "killed", signal_at, end, f"{left}; needs {_secs(exit_after)}, so it is killed"
        )
        b.marker(end, "SIGKILL", c.name)
        b.note(
            f"'{c.name}' needs {_secs(exit_after)} after {signal} but has {stop_grace}s left: "
            f"it is SIGKILLed at {_secs(end)}"
        )
    if budget < MIN_STOP_GRACE:
        boosted.append(end)
    return end


def _note_shutdown(
    b: _Builder, pod: PodTemplate, grace: int, total: float, boosted: list[float], ordered: bool
) -> None:
    """Explain the ordering that applied and any overrun of the grace period."""
    if not pod.containers and not pod.sidecars:
        b.note("no running containers: nothing to stop")
    elif ordered:
        names = ", ".join(f"'{c.name}'" for c in reversed(pod.sidecars))
        b.note(
            "native sidecars stop after every regular container has exited, "
            f"in reverse order: {names}"
        )
    elif any(s.phase == "pre-stop" for s in b.segments):
        b.note(
            "no native sidecars: each container is signalled right after its own preStop "
            "hook, in no defined order"
        )
    else:
        b.note("no native sidecars: all containers are signalled at once, in no defined order")
    if grace == 0:
        b.note(
            "grace period 0s: preStop hooks are skipped and every container gets only "
            f"the {MIN_STOP_GRACE}s minimum"
        )
    if total > grace + EPSILON:
        reason = (
            f"{MIN_STOP_GRACE}s minimum stop grace"
            if any(end > grace + EPSILON for end in boosted)
            else "the kubelet counts elapsed time in whole seconds"
        )
        b.note(f"shutdown overruns the grace period by {_secs(total - grace)} ({reason})")
