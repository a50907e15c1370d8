"""Rules fed by validation against the target version's OpenAPI schema."""

from __future__ import annotations

from collections.abc import Iterator

from advisor.core.rules.base import Context, Finding, Rule, rule


@rule(
    id="unknown-field",
    title="A field the target Kubernetes version does not know",
    severity="error",
    rationale="A misspelt field (initContainer, resource) is dropped or rejected: with kubectl's "
    "default strict validation the apply fails, and with validation off the setting silently "
    "does nothing. A field from a newer version is dropped by an older API server.",
    fix="Correct the field name, or target a Kubernetes version that has the field.",
)
def unknown_field(r: Rule, ctx: Context) -> Iterator[Finding]:
    for issue in ctx.schema_issues:
        if issue.kind == "unknown-field":
            yield r.finding(f"{issue.path}: {issue.message}", line=issue.line)


@rule(
    id="invalid-field",
    title="A field has the wrong type or value",
    severity="error",
    rationale="The API server rejects an object whose fields do not match the schema.",
    fix="Give the field a value of the type the schema expects.",
)
def invalid_field(r: Rule, ctx: Context) -> Iterator[Finding]:
    for issue in ctx.schema_issues:
        if issue.kind != "unknown-field":
            yield r.finding(f"{issue.path}: {issue.message}", line=issue.line)


RULES = [unknown_field, invalid_field]
