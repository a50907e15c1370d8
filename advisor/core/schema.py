"""Check a manifest against the OpenAPI schema of one Kubernetes version, fast.

kubernetes-validate bundles strict JSON schemas (unknown fields rejected) for every supported
Kubernetes version: one file per kind plus a shared ``_definitions.json``. Running the
``jsonschema`` library on each document would cost more than parsing the YAML, so each schema is
compiled once into a tree of ``_Node`` objects (property table, allowed JSON types, enum, required
names, item and map-value nodes) and the document is walked once against it. The walk checks only
what a user gets wrong: unknown fields, wrong JSON types, enum values, integer ranges and missing
required fields. It never raises, skips ``status`` and ``metadata.managedFields`` (kubectl dumps
carry them; they are not the user's design) and stops after ``MAX_ISSUES`` findings.
"""

from __future__ import annotations

import contextlib
import datetime
import importlib.util
import json
import threading
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from advisor.core.lazy import lazy_re
from advisor.core.records import dataclass
from advisor.core.source import LDict

MAX_ISSUES = 50
MAX_DEPTH = 200

_OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
_DIR_NAME = lazy_re(r"v(\d+)\.(\d+)\.\d+-local-strict")
_VERSION = lazy_re(r"\s*[vV]?(\d+)\.(\d+)")
_KIND = lazy_re(r"[A-Za-z][A-Za-z0-9]{0,99}")
_API_VERSION = lazy_re(r"(?:([a-z0-9][a-z0-9.-]{0,199})/)?([a-z][a-z0-9]{0,29})")
_PLAIN_KEY = lazy_re(r"[A-Za-z0-9_$-]+")
_BOUNDS = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
_JSON_TYPES: dict[type, str] = {
    dict: "object",
    LDict: "object",
    list: "array",
    str: "string",
    bool: "boolean",
    int: "integer",
    float: "number",
    type(None): "null",
    # YAML timestamps and binaries reach the API server as JSON strings.
    datetime.date: "string",
    datetime.datetime: "string",
    bytes: "string",
}
_TYPE_ORDER = ("object", "array", "string", "integer", "number", "boolean")
_TYPE_NAMES = {
    "object": "an object",
    "array": "an array",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
}

# Where a value sits: (parent path, key or list index), None at the top; formatted only on an issue.
_Path = tuple[Any, Any] | None


@dataclass(frozen=True)
class SchemaIssue:
    """One place where a manifest does not match the schema of the target version."""

    path: str  # dotted path with indexes, e.g. "spec.template.spec.containers[1].resource"
    line: int | None  # line of the offending key, or of its mapping when nothing finer is known
    message: str
    kind: str  # "unknown-field" | "wrong-type" | "bad-value" | "missing-field"


class _Node:
    """A compiled schema: what one value may be, and how to check what is inside it."""

    __slots__ = ("bounds", "closed", "enum", "extra", "items", "props", "ref", "required", "types")

    def __init__(self) -> None:
        self.types: frozenset[str] | None = None  # allowed JSON types; None means anything
        self.props: dict[Any, _Node] = {}
        self.closed = False  # keys outside ``props`` are unknown fields
        self.extra: _Node | None = None  # schema of every value of a map (additionalProperties)
        self.items: _Node | None = None
        self.enum: frozenset[Any] | None = None
        self.required: tuple[str, ...] = ()
        self.bounds: tuple[int, int] | None = None
        self.ref: str | None = None  # definition name, to look the field up in other versions


_ANYTHING = _Node()
# A definition's node is registered before it is filled: other threads must not see it half-done.
_COMPILE_LOCK = threading.Lock()


class _Full(Exception):
    """Raised inside the walk once a document has ``MAX_ISSUES`` issues."""


def _find_schema_dirs() -> dict[str, Path]:
    """Return the installed strict schema folders by version ("1.25" -> path), oldest first."""
    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or not spec.submodule_search_locations:
        return {}
    root = Path(next(iter(spec.submodule_search_locations))) / "kubernetes-json-schema"
    found: dict[tuple[int, int], Path] = {}
    if root.is_dir():
        for entry in root.iterdir():
            match = _DIR_NAME.fullmatch(entry.name)
            if match and (entry / "_definitions.json").is_file():
                found[(int(match[1]), int(match[2]))] = entry
    return {f"{major}.{minor}": found[(major, minor)] for major, minor in sorted(found)}


_SCHEMA_DIRS = _find_schema_dirs()
SUPPORTED_VERSIONS: tuple[str, ...] = tuple(_SCHEMA_DIRS)


def _resolve_version(text: Any) -> str | None:
    """Return the newest supported version not newer than ``text`` ("v1.29.3" -> "1.29")."""
    return _resolve_version_text(text) if isinstance(text, str) else None


@lru_cache(maxsize=64)
def _resolve_version_text(text: str) -> str | None:
    match = _VERSION.match(text)
    if match is None:
        return None
    wanted = (int(match[1]), int(match[2]))
    chosen = None
    for version in SUPPORTED_VERSIONS:
        major, minor = version.split(".")
        if (int(major), int(minor)) <= wanted:
            chosen = version
    return chosen


def _load_json(path: Path) -> Any:
    """Return the parsed JSON file at ``path``, or None when it is missing or broken."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    try:
        import orjson  # a third faster on the 1.4 MB definitions file each run reads

        return orjson.loads(data)
    except ValueError:  # what orjson refuses (NaN, huge integers) json may still read
        pass
    try:
        return json.loads(data)
    except ValueError:
        return None


def _load_definitions(version: str) -> dict[str, Any]:
    """Return the ``$defs`` table of one version's ``_definitions.json``."""
    data = _load_json(_SCHEMA_DIRS[version] / "_definitions.json")
    defs = data.get("$defs") if isinstance(data, dict) else None
    return defs if isinstance(defs, dict) else {}


def _schema_types(schema: dict[str, Any]) -> frozenset[str] | None:
    """Return the JSON types ``schema`` allows (None for any), widening number to integer."""
    alternatives = schema.get("oneOf") or schema.get("anyOf")
    if isinstance(alternatives, list):
        union: set[str] = set()
        for alternative in alternatives:
            types = _schema_types(alternative) if isinstance(alternative, dict) else None
            if types is None:
                return None
            union |= types
        return frozenset(union)
    declared = schema.get("type")
    if declared is None:
        return None
    names = {declared} if isinstance(declared, str) else set(declared)
    if "number" in names:
        names.add("integer")
    if schema.get("format") == "int-or-string" or schema.get("x-kubernetes-int-or-string"):
        names |= {"integer", "string"}
    return frozenset(names)


class _Compiler:
    """Turn one version's schemas into ``_Node`` trees, each definition compiled once."""

    def __init__(self, defs: dict[str, Any]) -> None:
        self.defs = defs
        self.nodes: dict[str, _Node] = {}
        self.by_gvk: dict[tuple[str, str, str], str] = {}
        for name, schema in defs.items():
            for gvk in schema.get("x-kubernetes-group-version-kind") or ():
                key = (gvk.get("group", ""), gvk.get("version", ""), gvk.get("kind", ""))
                self.by_gvk.setdefault(key, name)

    def definition(self, name: str) -> _Node:
        """Return the node of definition ``name`` (registered before filling, for cycles)."""
        node = self.nodes.get(name)
        if node is None:
            node = self.nodes[name] = _Node()
            schema = self.defs.get(name)
            self.fill(node, schema if isinstance(schema, dict) else {})
            node.ref = name
            if name == _OBJECT_META and "managedFields" in node.props:
                node.props["managedFields"] = _ANYTHING
        return node

    def schema(self, schema: Any) -> _Node:
        """Return the node of an inline schema or a ``$ref`` to a definition."""
        if not isinstance(schema, dict):
            return _ANYTHING
        ref = schema.get("$ref")
        if isinstance(ref, str):
            return self.definition(ref.rsplit("/", 1)[-1])
        node = _Node()
        self.fill(node, schema)
        return node

    def fill(self, node: _Node, schema: dict[str, Any]) -> None:
        """Compile ``schema`` into ``node``; free-form objects get nothing to descend into."""
        node.types = _schema_types(schema)
        node.bounds = _BOUNDS.get(schema.get("format", ""))
        node.required = tuple(n for n in schema.get("required") or () if isinstance(n, str))
        enum = schema.get("enum")
        if isinstance(enum, list) and all(isinstance(v, (str, int, float)) for v in enum):
            node.enum = frozenset(enum)
        if "items" in schema:
            node.items = self.schema(schema["items"])
        if schema.get("x-kubernetes-preserve-unknown-fields"):
            return
        props = schema.get("properties")
        if isinstance(props, dict):
            node.props = {key: self.schema(child) for key, child in props.items()}
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            node.extra = self.schema(extra)
        node.closed = extra is False and bool(node.props)


@cache
def _compiler(version: str) -> _Compiler:
    """Return the compiler of one version, loading its definitions on first use."""
    return _Compiler(_load_definitions(version))


@lru_cache(maxsize=1024)
def _compile_root(version: str, kind: str, api_version: str) -> _Node | None:
    """Return the compiled schema of one kind, or None when the version does not have it."""
    match = _API_VERSION.fullmatch(api_version)
    if not _KIND.fullmatch(kind) or match is None:
        return None
    group, ver = match[1] or "", match[2]
    prefix = f"{group.split('.')[0]}-" if group else ""
    schema = _load_json(_SCHEMA_DIRS[version] / f"{kind.lower()}-{prefix}{ver}.json")
    if not isinstance(schema, dict):
        return None
    gvks = schema.get("x-kubernetes-group-version-kind") or ()
    if {"group": group, "kind": kind, "version": ver} not in gvks:
        return None  # e.g. "apps.example.com/v1" maps to the same file name as "apps/v1"
    with _COMPILE_LOCK:
        compiler = _compiler(version)
        root = _Node()
        compiler.fill(root, schema)
    root.ref = compiler.by_gvk.get((group, ver, kind))
    root.props["status"] = _ANYTHING
    return root


@cache
def _field_names(version: str) -> dict[str, frozenset[str]]:
    """Return, for one version, each definition's property names."""
    names = {}
    for name, schema in _load_definitions(version).items():
        props = schema.get("properties") if isinstance(schema, dict) else None
        names[name] = frozenset(props) if isinstance(props, dict) else frozenset()
    return names


def _added_in(ref: str, field: str, version: str) -> str | None:
    """Return the first version after ``version`` whose definition ``ref`` has ``field``."""
    for later in SUPPORTED_VERSIONS[SUPPORTED_VERSIONS.index(version) + 1 :]:
        if field in _field_names(later).get(ref, ()):
            return later
    return None


def _json_type(value: Any) -> str:
    """Return the JSON type name of a value whose Python type is not in ``_JSON_TYPES``."""
    for types, name in (
        (bool, "boolean"),
        (int, "integer"),
        (float, "number"),
        ((str, bytes, datetime.date), "string"),
        (dict, "object"),
        ((list, tuple), "array"),
    ):
        if isinstance(value, types):
            return name
    return type(value).__name__


def _integral(value: Any, types: frozenset[str]) -> bool:
    """Tell whether a float like 3.0 stands where an integer is expected (JSON sees 3)."""
    return isinstance(value, float) and "integer" in types and value.is_integer()


def _describe(value: Any, json_type: str) -> str:
    """Describe a value for a message, briefly and without ever failing."""
    if json_type in ("object", "array"):
        return f"an {json_type}"
    if json_type == "boolean":
        return f"boolean {'true' if value else 'false'}"
    if json_type == "integer":
        if value.bit_length() > 64:
            return "a very large integer"
        return f"integer {value}"
    if json_type == "number":
        return f"number {value!r}"
    if json_type == "string":
        text = str(value)
        return f"string {text!r}" if len(text) <= 40 else f"string {text[:40]!r}..."
    return json_type


def _expected(types: frozenset[str]) -> str:
    """Say which JSON types are expected ("an integer or a string")."""
    shown = [t for t in _TYPE_ORDER if t in types]
    if "number" in shown:
        shown.remove("integer")
    return " or ".join(_TYPE_NAMES[t] for t in shown) or "nothing"


def _format_path(path: _Path) -> str:
    """Render a path chain as "spec.containers[0].env" (odd keys in brackets)."""
    keys = []
    while path is not None:
        path, key = path
        keys.append(key)
    text = ""
    for key in reversed(keys):
        if isinstance(key, int) and not isinstance(key, bool):
            text += f"[{key}]"
        elif _PLAIN_KEY.fullmatch(str(key)):
            text += f".{key}" if text else str(key)
        else:
            text += f"[{json.dumps(str(key))}]"
    return text


class _Walker:
    """Walk one document against a compiled schema, collecting issues."""

    def __init__(self, version: str) -> None:
        self.version = version
        self.issues: list[SchemaIssue] = []

    def add(self, path: _Path, line: int | None, message: str, kind: str) -> None:
        """Record an issue; stop the walk once the document has enough."""
        self.issues.append(SchemaIssue(_format_path(path), line, message, kind))
        if len(self.issues) >= MAX_ISSUES:
            raise _Full

    def mapping(self, node: _Node, obj: dict, path: _Path, depth: int) -> None:
        """Check the keys and values of a mapping, then its required fields."""
        if depth > MAX_DEPTH:
            return
        props = node.props
        lines = obj.lines if isinstance(obj, LDict) else None
        for key, value in obj.items():
            child = props.get(key)
            if child is None:
                child = node.extra
                if child is None:
                    if node.closed:
                        self.unknown(node, obj, key, path)
                    continue
            if type(value) is str and child.enum is None:
                types = child.types
                if types is None or "string" in types:
                    continue  # the common case, settled without a call
            line = lines.get(key) if lines is not None else None
            self.value(child, value, (path, key), line, depth)
        for name in node.required:
            if name not in obj:
                line = obj.line if isinstance(obj, LDict) else None
                self.add((path, name), line, f"missing required field '{name}'", "missing-field")

    def sequence(self, node: _Node, seq: list, path: _Path, line: int | None, depth: int) -> None:
        """Check every item of a list against the item schema."""
        if depth > MAX_DEPTH:
            return
        for index, item in enumerate(seq):
            item_line = item.line if isinstance(item, LDict) and item.line else line
            self.value(node, item, (path, index), item_line, depth)

    def value(self, node: _Node, value: Any, path: _Path, line: int | None, depth: int) -> None:
        """Check one value's type, then descend into it or check it as a scalar."""
        json_type = _JSON_TYPES.get(type(value)) or _json_type(value)
        types = node.types
        if types is not None and json_type not in types and not _integral(value, types):
            message = f"expected {_expected(types)}, got {_describe(value, json_type)}"
            self.add(path, line, message, "wrong-type")
            return
        if json_type == "object":
            if node.props or node.extra is not None:
                self.mapping(node, value, path, depth + 1)
        elif json_type == "array":
            if node.items is not None:
                self.sequence(node.items, value, path, line, depth + 1)
        elif node.enum is not None or node.bounds is not None:
            self.scalar(node, value, json_type, path, line)

    def scalar(
        self, node: _Node, value: Any, json_type: str, path: _Path, line: int | None
    ) -> None:
        """Check a scalar against the schema's enum and integer range."""
        if node.enum is not None and json_type != "null" and value not in node.enum:
            allowed = ", ".join(sorted(repr(v) for v in node.enum))
            message = f"{_describe(value, json_type)} is not one of {allowed}"
            self.add(path, line, message, "bad-value")
        elif node.bounds is not None and json_type == "integer":
            low, high = node.bounds
            if not low <= value <= high:
                bits = "int32" if high < 2**32 else "int64"
                message = f"{_describe(value, json_type)} is out of range for {bits}"
                self.add(path, line, message, "bad-value")

    def unknown(self, node: _Node, obj: dict, key: Any, path: _Path) -> None:
        """Report a key the schema does not have, saying which version adds it or what was meant."""
        name = str(key)
        line = obj.lines.get(key, obj.line) if isinstance(obj, LDict) else None
        since = _added_in(node.ref, name, self.version) if node.ref else None
        if since is not None:
            message = (
                f"field '{name}' is not available in Kubernetes {self.version}; "
                f"it exists from {since}"
            )
        else:
            candidates = [p for p in node.props if isinstance(p, str)]
            import difflib  # only for a field it does not know

            close = difflib.get_close_matches(name, candidates, n=1)
            message = f"unknown field '{name}'"
            if close:
                message += f" (did you mean '{close[0]}'?)"
        self.add((path, key), line, message, "unknown-field")


def validate(obj: dict, *, kubernetes_version: str) -> tuple[SchemaIssue, ...]:
    """Check a manifest object against its kind's schema in ``kubernetes_version``."""
    if not isinstance(obj, dict):
        return ()
    kind, api_version = obj.get("kind"), obj.get("apiVersion")
    version = _resolve_version(kubernetes_version)
    if not isinstance(kind, str) or not isinstance(api_version, str) or version is None:
        return ()
    root = _compile_root(version, kind, api_version)
    if root is None:
        return ()
    walker = _Walker(version)
    # Stop quietly on enough issues, or when a caller was already deep in the stack.
    with contextlib.suppress(_Full, RecursionError):
        walker.mapping(root, obj, None, 0)
    return tuple(walker.issues)
