"""Draw a pod's wiring as server-rendered SVG: a pure function from the analysis to markup.

Containers are boxes in three bands by lifecycle (init containers, native sidecars, regular
containers), one per row, alternating left and right, so the drawing stays readable on a
390 px phone and no arrow hides behind a box. Edges are
arrows labelled with their port or volume; declared container ports sit on the pod's border;
a local call that reaches nothing ends in a dashed stub. Every edge carries the keys
(``rule:container``) of the findings about it, so the page's script can highlight the edges of
the finding a user selects. Every label goes through :func:`html.escape`.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from advisor.core.analyze import WorkloadReport
from advisor.core.rules import Finding
from advisor.core.wiring import Edge

WIDTH = 360
BOX_W = 150
BOX_H = 40
GAP_X = 20
GAP_Y = 34
BAND_TITLE = 18
MARGIN = 20
COLUMNS = (44.0, WIDTH - 44.0 - BOX_W)  # x of the left and right boxes; ports in the margins
MAX_BOXES = 40
MAX_EDGES = 120
BANDS = (
    ("init", "Init containers (run first, one by one)"),
    ("native-sidecar", "Native sidecars"),
    ("regular", "Containers"),
)
# rules whose findings are about the links between containers, not one container alone
KIND_RULES = {"share-process-namespace": ("process",)}


@dataclass(frozen=True)
class _Box:
    name: str
    x: float
    y: float
    column: int

    @property
    def cx(self) -> float:
        return self.x + BOX_W / 2

    @property
    def cy(self) -> float:
        return self.y + BOX_H / 2


def _text(value: object) -> str:
    return escape(str(value), quote=True)


def _short(name: str, limit: int = 20) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def _layout(w: WorkloadReport) -> tuple[dict[str, _Box], list[tuple[str, float]], float]:
    """Place the boxes band by band, one per row, alternating left and right (so no two boxes
    share a row and every arrow and label stays visible); return boxes, band titles, height."""
    boxes: dict[str, _Box] = {}
    titles: list[tuple[str, float]] = []
    y = float(MARGIN)
    shown = 0
    for lifecycle, title in BANDS:
        members = [c for c in w.containers if c.lifecycle == lifecycle and c.name]
        members = members[: max(0, MAX_BOXES - shown)]
        if not members:
            continue
        titles.append((title, y + 12))
        y += BAND_TITLE
        for i, c in enumerate(members):
            column = (shown + i) % 2
            boxes.setdefault(c.name, _Box(c.name, COLUMNS[column], y, column))
            y += BOX_H + GAP_Y
        shown += len(members)
    return boxes, titles, y + MARGIN - GAP_Y / 2


def _finding_keys(findings: tuple[Finding, ...]) -> dict[str, list[str]]:
    """Map container name (or ``@kind``) to the keys of the findings about it."""
    keys: dict[str, list[str]] = {}
    for f in findings:
        key = f"{f.rule}:{f.container or ''}"
        if f.container:
            keys.setdefault(f.container, []).append(key)
        for kind in KIND_RULES.get(f.rule, ()):
            keys.setdefault(f"@{kind}", []).append(key)
    return keys


def _edge_keys(edge: Edge, keys: dict[str, list[str]]) -> str:
    found = keys.get(edge.source, []) + keys.get(edge.target, []) + keys.get(f"@{edge.kind}", [])
    return " ".join(dict.fromkeys(found))


def _ends(a: _Box, b: _Box) -> tuple[float, float, float, float]:
    """Start and end points on the boxes' borders, so arrow heads stay visible."""
    if abs(a.cy - b.cy) < 1:  # same row: side to side
        if a.cx < b.cx:
            return a.x + BOX_W, a.cy, b.x, b.cy
        return a.x, a.cy, b.x + BOX_W, b.cy
    if a.cy < b.cy:
        return a.cx, a.y + BOX_H, b.cx, b.y
    return a.cx, a.y, b.cx, b.y + BOX_H


def _merged(edges: tuple[Edge, ...]) -> list[tuple[Edge, Edge | None]]:
    """One line per pair and kind, with the edge going back the other way, if any."""
    seen: dict[tuple[str, str, str], int] = {}
    out: list[tuple[Edge, Edge | None]] = []
    for e in edges:
        back = (e.target, e.source, e.kind)
        if back in seen:
            first, other = out[seen[back]]
            out[seen[back]] = (first, other or e)
            continue
        if (e.source, e.target, e.kind) in seen:
            continue
        seen[(e.source, e.target, e.kind)] = len(out)
        out.append((e, None))
    return out


def wiring_svg(w: WorkloadReport, *, index: int = 0) -> str:
    """Return the SVG markup of one workload's wiring (empty for a single-container pod)."""
    wiring = w.wiring
    if wiring is None or len(w.containers) < 2:
        return ""
    boxes, titles, height = _layout(w)
    keys = _finding_keys(w.findings)
    marker = f"wiring-arrow-{index}"
    parts = [
        f'<svg class="wiring-svg" viewBox="0 0 {WIDTH} {height:.0f}" width="100%" '
        f'role="img" aria-labelledby="wiring-title-{index}" data-wiring="{index}" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="wiring-title-{index}">Wiring of {_text(w.workload.kind)} '
        f"{_text(w.workload.name)}: {len(wiring.edges)} link(s) between "
        f"{len(w.containers)} containers</title>",
        f'<defs><marker id="{marker}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'class="wiring-head"/></marker></defs>',
        f'<rect class="wiring-pod" x="4" y="4" width="{WIDTH - 8}" height="{height - 8:.0f}" '
        'rx="10"/>',
    ]
    for title, y in titles:
        parts.append(f'<text class="wiring-band" x="14" y="{y:.0f}">{_text(title)}</text>')
    parts += _ports(w, boxes)
    for edge, back in _merged(wiring.edges)[:MAX_EDGES]:
        a, b = boxes.get(edge.source), boxes.get(edge.target)
        if a is None or b is None or a is b:
            continue
        x1, y1, x2, y2 = _ends(a, b)
        heads = f' marker-end="url(#{marker})"' if edge.directed else ""
        if back is not None and edge.directed:
            heads += f' marker-start="url(#{marker})"'
        label = edge.label
        if back is not None and back.label != edge.label and edge.kind != "interception":
            label = f"{edge.label} / {back.label}"
        label = _short(label, 16)
        mx, my = (x1 + x2) / 2, (y1 + y2) / 2
        parts.append(
            f'<g class="wiring-edge kind-{edge.kind}" data-from="{_text(edge.source)}" '
            f'data-to="{_text(edge.target)}" data-findings="{_text(_edge_keys(edge, keys))}">'
            f"<title>{_text(edge.kind)}: {_text(edge.evidence)}"
            f"{f' (line {edge.line})' if edge.line else ''}"
            f"{f'; {_text(back.evidence)}' if back is not None else ''}</title>"
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}"{heads}/>'
            f'<rect class="wiring-label-bg" x="{mx - 4 * len(label) - 3:.1f}" y="{my - 8:.1f}" '
            f'width="{8 * len(label) + 6}" height="14" rx="3"/>'
            f'<text class="wiring-label" x="{mx:.1f}" y="{my + 3:.1f}" '
            f'text-anchor="middle">{_text(label)}</text></g>'
        )
    parts += _dangling(w, boxes, keys)
    for box in boxes.values():
        c = next(c for c in w.containers if c.name == box.name)
        parts.append(
            f'<g class="wiring-box lc-{_text(c.lifecycle)}" data-container="{_text(c.name)}">'
            f"<title>{_text(c.name)}: {_text(c.role)} ({_text(c.lifecycle)})</title>"
            f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{BOX_W}" height="{BOX_H}" rx="6"/>'
            f'<text x="{box.cx:.1f}" y="{box.y + 16:.1f}" text-anchor="middle" '
            f'class="wiring-name">{_text(_short(c.name))}</text>'
            f'<text x="{box.cx:.1f}" y="{box.y + 31:.1f}" text-anchor="middle" '
            f'class="wiring-role">{_text(c.role)}</text></g>'
        )
    hidden = len([c for c in w.containers if c.name]) - len(boxes)
    if hidden > 0:
        parts.append(
            f'<text class="wiring-band" x="14" y="{height - 8:.0f}">'
            f"+{hidden} more container(s) not drawn</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _ports(w: WorkloadReport, boxes: dict[str, _Box]) -> list[str]:
    """Declared container ports, as tags on the pod's border next to their container."""
    out: list[str] = []
    assert w.wiring is not None
    per_box: dict[str, list[int]] = {}
    for item in w.wiring.listeners:
        if item.evidence.startswith("declares") and item.container in boxes:
            per_box.setdefault(item.container, []).append(item.port)
    for name, ports in per_box.items():
        box = boxes[name]
        text = str(ports[0]) + ("+" if len(ports) > 1 else "")
        edge_x = 4.0 if box.column == 0 else WIDTH - 4.0
        inner = box.x if box.column == 0 else box.x + BOX_W
        y = box.cy
        anchor = "start" if box.column == 0 else "end"
        tx = edge_x + (2 if box.column == 0 else -2)
        out.append(
            f'<g class="wiring-port" data-container="{_text(name)}">'
            f"<title>{_text(name)} serves {_text(', '.join(map(str, ports)))}</title>"
            f'<line x1="{edge_x:.1f}" y1="{y:.1f}" x2="{inner:.1f}" y2="{y:.1f}"/>'
            f'<text x="{tx:.1f}" y="{y - 3:.1f}" text-anchor="{anchor}">:{_text(text)}</text></g>'
        )
    return out


def _dangling(w: WorkloadReport, boxes: dict[str, _Box], keys: dict[str, list[str]]) -> list[str]:
    """Calls to local ports nothing serves: a dashed stub with a question mark."""
    out: list[str] = []
    assert w.wiring is not None
    for loose in w.wiring.dangling[:MAX_EDGES]:
        box = boxes.get(loose.container)
        if box is None:
            continue
        x = box.x + BOX_W - 20 if box.column == 0 else box.x + 20
        near = f"; {loose.near.container} serves {loose.near.port}" if loose.near else ""
        found = " ".join(k for k in keys.get(loose.container, []) if "local-port" in k)
        out.append(
            f'<g class="wiring-edge wiring-dangling" data-from="{_text(loose.container)}" '
            f'data-to="" data-findings="{_text(found)}">'
            f"<title>{_text(loose.evidence)}: nothing in the pod serves port {loose.port}"
            f"{_text(near)}</title>"
            f'<line x1="{x:.1f}" y1="{box.y:.1f}" x2="{x:.1f}" y2="{box.y - 14:.1f}"/>'
            f'<text class="wiring-label" x="{x:.1f}" y="{box.y - 17:.1f}" '
            f'text-anchor="middle">:{loose.port}?</text></g>'
        )
    return out
