"""Reviews out of and into the knowledge base: Markdown for people, JSON for another instance.

* :func:`review_markdown` writes a review as Markdown for a pull request or a wiki page. Every
  user-supplied string is escaped (no raw HTML, no accidental formatting) and the manifest sits in
  a code fence longer than any run of backticks inside it, so it cannot break out.
* :func:`review_document` writes the stable JSON document (``format`` / ``format_version``);
  new fields may be added, none renamed or removed without a new ``format_version``.
* :func:`validate_document` checks such a document and :func:`import_review` stores it as a new
  review, re-analysed with today's analyser (the document's snapshot is not trusted).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils.text import slugify

from advisor.core.errors import InputError
from advisor.core.matrix import QUESTIONS
from advisor.core.patterns import PATTERNS
from advisor.core.versions import parse_version
from webui import services
from webui.models import Review

FORMAT = "pod-pattern-advisor/review"
FORMAT_VERSION = 1
TITLE_MAX = Review._meta.get_field("title").max_length or 200
TAG_MAX = 50
MAX_TAGS = 50

_STATUS_LABELS = dict(Review.Status.choices)
_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


# ---------------------------------------------------------------------------------------------
# Markdown

# Characters that start Markdown formatting inline; '<', '>' and '&' become entities instead,
# so no renderer sees raw HTML (entities are decoded as text by every CommonMark renderer).
_MD_PUNCTUATION = re.compile(r"([\\`*_\[\]|~])")
_BACKTICKS = re.compile(r"`+")


def md_text(text: object) -> str:
    """Escape ``text`` for Markdown prose or a table cell: one line, no HTML, no formatting."""
    value = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    value = _MD_PUNCTUATION.sub(r"\\\1", value)
    value = " ".join(value.split())
    # A leading '#', '-', '+', '=' or 'N.' would make a heading or a list; neutralise it.
    value = re.sub(r"^([#+=-])", r"\\\1", value)
    return re.sub(r"^(\d{1,9})([.)])(?=\s|$)", r"\1\\\2", value)


def md_paragraphs(text: str) -> str:
    """Escape multi-line plain text, keeping its paragraphs and line breaks."""
    blocks = re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n").strip())
    out = []
    for block in blocks:
        lines = [md_text(line) for line in block.split("\n") if line.strip()]
        if lines:
            out.append("  \n".join(lines))  # two spaces: a hard line break
    return "\n\n".join(out)


def fence_for(content: str, char: str = "`") -> str:
    """A code fence longer than any run of ``char`` in ``content`` (at least three)."""
    runs = [len(m.group(0)) for m in re.finditer(re.escape(char) + "+", content)]
    return char * max(3, max(runs, default=0) + 1)


def code_block(content: str, info: str = "") -> str:
    """``content`` verbatim in a fenced code block that nothing inside can close."""
    fence = fence_for(content)
    body = content if content.endswith("\n") or not content else content + "\n"
    return f"{fence}{info}\n{body}{fence}\n"


def _code_span(text: object) -> str:
    """Inline code that holds any text (the delimiter is longer than any backtick run)."""
    value = " ".join(str(text).split())
    runs = [len(m.group(0)) for m in _BACKTICKS.finditer(value)]
    ticks = "`" * (max(runs, default=0) + 1)
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{ticks}{pad}{value}{pad}{ticks}"


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "–"


def review_markdown(review: Review, *, link: str | None = None) -> str:
    """The review as Markdown: metadata, description, findings, resources and the manifest.

    ``link`` is the review's absolute address, listed when given.
    """
    snapshot = review.snapshot or {}
    tags = [t.name for t in review.tags.all()]
    facts = [
        ("Status", _STATUS_LABELS.get(review.status, review.status)),
        ("Author", review.author.get_username()),
        ("Created", _when(review.created)),
        ("Updated", _when(review.updated)),
        (
            "Kubernetes",
            f"{review.kubernetes_version}"
            + ("" if review.api_defaults else " (without API server defaulting)"),
        ),
        ("Pattern", _pattern_name(review.pattern)),
        ("Analyser", review.analyzer_version),
        ("Tags", ", ".join(tags) if tags else "none"),
        ("Revisions", str(review.revisions.count())),
    ]
    parts = [f"# {md_text(review.title)}\n", "| | |\n| --- | --- |"]
    parts += [f"| {label} | {md_text(value)} |" for label, value in facts]
    if link:
        # An autolink; an address that could break out of it is written as text instead.
        safe = re.fullmatch(r"https?://[^\s<>|`\\]+", link)
        parts.append(f"| Link | {f'<{link}>' if safe else md_text(link)} |")
    parts.append("")
    if review.description.strip():
        parts += ["## Description\n", md_paragraphs(review.description), ""]
    if review.kind == Review.Kind.QUESTIONNAIRE:
        parts += _questionnaire_markdown(review)
    else:
        parts += _analysis_markdown(snapshot)
        parts += ["## Manifest\n", code_block(review.manifest, "yaml")]
        if review.redactions:
            parts.append(
                f"_{len(review.redactions)} secret value(s) were redacted before storing._\n"
            )
    parts += _decision_markdown(review)
    parts += _discussion_markdown(review)
    return "\n".join(parts).rstrip("\n") + "\n"


def _decision_markdown(review: Review) -> list[str]:
    """The status and each reviewer's verdict on the latest revision, then every verdict."""
    number = review.revision_number
    parts = [
        "## Decision\n",
        f"Status: **{md_text(_STATUS_LABELS.get(review.status, review.status))}** "
        f"(revision {number}).\n",
    ]
    states = services.reviewer_states(review)
    if states:
        parts += ["| Reviewer | Verdict on the latest revision |", "| --- | --- |"]
        for state in states:
            verdict = state["verdict"]
            said = verdict.get_verdict_display() if verdict else "waiting"
            parts.append(f"| {md_text(state['reviewer'].get_username())} | {md_text(said)} |")
        parts.append("")
    else:
        parts.append("No reviewer was requested.\n")
    verdicts = list(review.verdicts.select_related("reviewer").order_by("created", "pk"))
    if verdicts:
        parts.append("### Verdicts\n")
        for v in verdicts:
            line = (
                f"- {md_text(v.reviewer.get_username())}, {_when(v.created)}, "
                f"revision {v.revision_number}: **{md_text(v.get_verdict_display())}**"
            )
            parts.append(line)
            if v.body.strip():
                parts.append(_quote(v.body))
        parts.append("")
    return parts


def _quote(text: str) -> str:
    """A block quote under a list item, every line escaped."""
    return "\n".join(f"  > {md_text(line)}" if line else "  >" for line in text.splitlines())


def _discussion_markdown(review: Review) -> list[str]:
    """Every thread: general comments, line comments with their line as it was, replies."""
    threads = services.threads(review)
    if not threads:
        return ["## Discussion\n", "No comments.\n"]
    parts = ["## Discussion\n"]
    for t in threads:
        c = t["comment"]
        head = f"- {md_text(c.author.get_username())}, {_when(c.created)}"
        if c.line:
            number = c.revision.number if c.revision else "?"
            head += f", on line {c.line} of revision {number}"
            if t["outdated"]:
                head += " (outdated: a later revision changed this line)"
            head += f": {_code_span(c.line_text)}" if c.line_text.strip() else ""
        if c.resolved_at:
            head += " · resolved"
        parts.append(head)
        parts.append(_quote(c.body))
        for r in t["replies"]:
            parts.append(f"  - {md_text(r.author.get_username())}, {_when(r.created)}:")
            parts.append("  " + _quote(r.body))
    parts.append("")
    return parts


def _pattern_name(pattern_id: str) -> str:
    pattern = PATTERNS.get(pattern_id)
    if pattern is None:
        return pattern_id or "none detected"
    return f"{pattern.title} ({pattern_id})"


def _analysis_markdown(snapshot: Mapping[str, Any]) -> list[str]:
    workloads = snapshot.get("workloads") or []
    summary = snapshot.get("summary") or {}
    lines = ["## Findings\n"]
    if summary:
        lines.append(
            f"{summary.get('error', 0)} error(s), {summary.get('warning', 0)} warning(s), "
            f"{summary.get('info', 0)} info across {summary.get('workloads', len(workloads))} "
            "workload(s).\n"
        )
    if not workloads:
        lines.append("No workload was analysed.\n")
    for w in workloads:
        lines += _workload_markdown(w)
    errors = snapshot.get("errors") or []
    if errors:
        lines.append("### Unreadable documents\n")
    for e in errors:
        lines.append(
            f"- Document {md_text(e.get('document') or '?')}, "
            f"line {md_text(e.get('line') or '?')}: {md_text(e.get('message', ''))}"
        )
    if errors:
        lines.append("")
    return lines


def _workload_markdown(w: Mapping[str, Any]) -> list[str]:
    name = f"{w.get('kind', '?')}/{w.get('name') or '(no name)'}"
    if w.get("namespace"):
        name += f" in {w['namespace']}"
    lines = [f"### {md_text(name)}\n"]
    rec = w.get("recommendation") or {}
    if rec.get("summary"):
        lines.append(f"{md_text(rec['summary'])}\n")
    findings = sorted(
        w.get("findings") or [],
        key=lambda f: (_SEVERITY_ORDER.get(f.get("severity"), 9), f.get("line") or 0),
    )
    if not findings:
        lines.append("No findings.\n")
    for f in findings:
        where = [f"line {f['line']}"] if f.get("line") else []
        if f.get("container"):
            where.append(f"container {_code_span(f['container'])}")
        location = f" ({', '.join(where)})" if where else ""
        lines.append(
            f"- **{md_text(str(f.get('severity', '')).upper())}** "
            f"{_code_span(f.get('rule', ''))}{location}: {md_text(f.get('message', ''))}"
        )
        if f.get("fix"):
            lines.append(f"  - Fix: {md_text(f['fix'])}")
    lines.append("")
    effective = w.get("effective") or {}
    lines.append(
        f"Effective requests: {_quantities(effective.get('requests'))} · "
        f"limits: {_quantities(effective.get('limits'))} · "
        f"QoS class: {md_text(w.get('qos_class') or '?')}\n"
    )
    return lines


def _quantities(values: Mapping[str, Any] | None) -> str:
    if not values:
        return "none"
    return ", ".join(f"{md_text(k)} {md_text(v)}" for k, v in sorted(values.items()))


def _questionnaire_markdown(review: Review) -> list[str]:
    rec = (review.snapshot or {}).get("recommendation") or {}
    lines = ["## Questionnaire answers\n"]
    lines += [f"- {md_text(k)}: {md_text(v)}" for k, v in sorted((review.answers or {}).items())]
    lines.append("")
    if rec:
        lines.append("## Recommendation\n")
        lines.append(f"**{md_text(rec.get('title') or rec.get('pattern') or '?')}**\n")
        for heading, key in (
            ("Why", "reasons"),
            ("Pitfalls", "pitfalls"),
            ("Notes", "version_notes"),
        ):
            items = [md_text(item) for item in rec.get(key) or [] if isinstance(item, str)]
            if items:
                lines += [f"{heading}:\n", *(f"- {item}" for item in items), ""]
    return lines


def export_filename(review: Review, extension: str) -> str:
    """A filename safe on every system: the slugified title (ASCII) and the extension."""
    stem = slugify(review.title)[:60].strip("-_") or "review"
    return f"{stem}.{extension}"


# ---------------------------------------------------------------------------------------------
# JSON


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def review_document(review: Review) -> dict[str, Any]:
    """The stable JSON document of a review, its revisions (inputs only) and its comments."""
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        # The review's identity: importing a document whose review exists offers an update.
        "slug": review.slug,
        "title": review.title,
        "description": review.description,
        "kind": review.kind,
        "manifest": review.manifest,
        "answers": review.answers or {},
        "kubernetes_version": review.kubernetes_version,
        "api_defaults": review.api_defaults,
        "status": review.status,
        "tags": sorted(t.name for t in review.tags.all()),
        "pattern": review.pattern,
        "rule_ids": list(review.rule_ids or []),
        "snapshot": review.snapshot or {},
        "analyzer_version": review.analyzer_version,
        "author": review.author.get_username(),
        "created": _iso(review.created),
        "updated": _iso(review.updated),
        "revisions": [
            {
                "number": r.number,
                "created": _iso(r.created),
                "author": r.author.get_username() if r.author else None,
                "note": r.note,
                "kind": review.kind,
                "manifest": services.shown_revision(review, r)[0],
                "answers": r.answers or {},
                "kubernetes_version": r.kubernetes_version,
                "api_defaults": r.api_defaults,
                "analyzer_version": r.analyzer_version,
                "rule_ids": list(r.rule_ids or []),
            }
            for r in review.revisions.select_related("author").order_by("number")
        ],
        "comments": [
            {
                "id": c.pk,
                "author": c.author.get_username(),
                "created": _iso(c.created),
                "body": c.body,
                "revision": c.revision.number if c.revision else None,
                "line": c.line,
                "line_text": c.line_text,
                "reply_to": c.parent_id,
                "resolved": c.resolved_at is not None,
            }
            for c in review.comments.select_related("author", "revision").order_by("created", "pk")
        ],
        "reviewers": [
            r.reviewer.get_username() for r in review.requests.select_related("reviewer")
        ],
        "verdicts": [
            {
                "reviewer": v.reviewer.get_username(),
                "revision": v.revision_number,
                "verdict": v.verdict,
                "body": v.body,
                "created": _iso(v.created),
            }
            for v in review.verdicts.select_related("reviewer").order_by("created", "pk")
        ],
    }


class InvalidDocument(ValueError):
    """A document that cannot be imported; ``errors`` says every reason, one per item."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


_TYPES: dict[str, tuple[type, ...]] = {
    "title": (str,),
    "description": (str,),
    "kind": (str,),
    "manifest": (str,),
    "answers": (dict,),
    "kubernetes_version": (str,),
    "api_defaults": (bool,),
    "status": (str,),
    "tags": (list,),
    "snapshot": (dict,),
    "analyzer_version": (str,),
    "revisions": (list,),
    "comments": (list,),
    "slug": (str,),
}
_TYPE_NAMES = {str: "a string", dict: "an object", bool: "true or false", list: "a list"}


def validate_document(document: object) -> dict[str, Any]:
    """Check an exported document; return the fields an import uses or raise InvalidDocument."""
    if not isinstance(document, dict):
        raise InvalidDocument(["The document must be a JSON object."])
    if document.get("format") != FORMAT:
        raise InvalidDocument([f'This is not a review export: "format" must be "{FORMAT}".'])
    version = document.get("format_version")
    if type(version) is not int or version != FORMAT_VERSION:
        raise InvalidDocument(
            [f"format_version {version!r} is not supported; this site reads {FORMAT_VERSION}."]
        )
    errors: list[str] = []
    for name, types in _TYPES.items():
        if name in document and not isinstance(document[name], types):
            errors.append(f"{name} must be {_TYPE_NAMES[types[0]]}.")
    kind = document.get("kind", Review.Kind.MANIFEST)
    required = ["title", "kubernetes_version"]
    required.append("answers" if kind == Review.Kind.QUESTIONNAIRE else "manifest")
    errors += [f"{name} is missing." for name in required if name not in document]
    if errors:
        raise InvalidDocument(errors)

    title = document["title"].strip()
    if not title:
        errors.append("title is empty.")
    elif len(title) > TITLE_MAX:
        errors.append(f"title is longer than {TITLE_MAX} characters.")
    if kind not in Review.Kind.values:
        errors.append(f"kind must be one of {', '.join(Review.Kind.values)}.")
    status = document.get("status", Review.Status.DRAFT)
    if status not in Review.Status.values:
        errors.append(f"status must be one of {', '.join(Review.Status.values)}.")
    try:
        parse_version(document["kubernetes_version"])
    except ValueError as exc:
        errors.append(f"kubernetes_version: {exc}")
    manifest = document.get("manifest", "")
    limit = settings.ADVISOR_MAX_INPUT_BYTES
    if len(manifest.encode("utf-8", "surrogatepass")) > limit:
        errors.append(f"manifest is larger than {limit // 1024:,} KiB.")
    elif kind == Review.Kind.MANIFEST and not manifest.strip():
        errors.append("manifest is empty.")
    answers = document.get("answers", {})
    if kind == Review.Kind.QUESTIONNAIRE:
        errors += _answer_errors(answers)
    tags = document.get("tags", [])
    if not all(isinstance(t, str) for t in tags):
        errors.append("tags must be a list of strings.")
    elif len(tags) > MAX_TAGS:
        errors.append(f"at most {MAX_TAGS} tags.")
    elif any(len(t.strip()) > TAG_MAX for t in tags):
        errors.append(f"a tag is longer than {TAG_MAX} characters.")
    for name in ("title", "description", "manifest", "kubernetes_version"):
        errors += _text_errors(name, document.get(name, ""))
    for tag in tags:
        errors += _text_errors("tags", tag) if isinstance(tag, str) else []
    slug = document.get("slug", "")
    if slug and not _SLUG.fullmatch(slug):
        errors.append("slug must be 1 to 32 letters, digits, '-' or '_'.")
    if errors:
        raise InvalidDocument(list(dict.fromkeys(errors)))
    return {
        "slug": slug,
        "title": title,
        "description": document.get("description", ""),
        "kind": kind,
        "manifest": manifest if kind == Review.Kind.MANIFEST else "",
        "answers": dict(answers) if kind == Review.Kind.QUESTIONNAIRE else {},
        "kubernetes_version": document["kubernetes_version"],
        "api_defaults": document.get("api_defaults", True),
        "status": status,
        "tags": [t for t in (s.strip() for s in tags) if t],
    }


_SLUG = re.compile(r"[A-Za-z0-9_-]{1,32}")


def existing_review(document: object) -> Review | None:
    """The review (deleted ones too) that an exported document came from, if this site has it."""
    if not isinstance(document, dict):
        return None
    slug = document.get("slug")
    if not isinstance(slug, str) or not _SLUG.fullmatch(slug):
        return None
    return Review.all_objects.filter(slug=slug).select_related("author").first()


def _text_errors(name: str, value: str) -> list[str]:
    """Text a database cannot store: NUL characters, lone surrogates."""
    if "\x00" in value:
        return [f"{name} contains a NUL character."]
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return [f"{name} is not valid Unicode text."]
    return []


def _answer_errors(answers: Mapping[str, Any]) -> list[str]:
    """Questionnaire answers: known questions only, each a plain value."""
    known = {q.id for q in QUESTIONS}
    errors = [f"answers: unknown question {name!r}." for name in answers if name not in known]
    for name, value in answers.items():
        if name in known:
            if value is not None and not isinstance(value, str | bool | int | float):
                errors.append(f"answers: {name} must be a plain value.")
            elif isinstance(value, str):
                errors += _text_errors(f"answers: {name}", value)
    return errors[:20]


def prepare_document(data: Mapping[str, Any], redact_secrets: bool) -> services.Prepared:
    """Analyse a validated document's input; raise InvalidDocument when it cannot be."""
    try:
        return services.prepare(
            kind=data["kind"],
            manifest=data["manifest"],
            answers=data["answers"],
            kubernetes_version=data["kubernetes_version"],
            api_defaults=data["api_defaults"],
            redact_secrets=redact_secrets,
        )
    except InputError as exc:
        raise InvalidDocument([f"The manifest cannot be analysed: {exc.describe()}"]) from None
    except (ValueError, TypeError, KeyError) as exc:
        raise InvalidDocument([f"The review's input cannot be analysed: {exc}"]) from None


def update_from_document(
    review: Review, document: object, *, author: Any, redact_secrets: bool = True
) -> Review:
    """Update an existing review from its exported document (no duplicate): its input (a new
    revision only when it changed), title, description and tags. A deleted review is restored.
    Its status, verdicts and discussion stay this site's."""
    data = validate_document(document)
    prepared = prepare_document(data, redact_secrets)
    if review.deleted_at is not None:
        services.restore(review, by=author)
    review = services.revise(
        review,
        author=author,
        expected_version=review.version,
        prepared=prepared,
        title=data["title"],
        description=data["description"],
        tags=data["tags"],
        redact_secrets=redact_secrets,
        note="updated from an imported document",
    )
    services.record(review, author, "imported", revision_number=review.revision_number)
    return review


def import_review(
    document: object, *, author: Any, redact_secrets: bool = True, copy: bool = False
) -> Review:
    """Validate ``document``, analyse its input with today's analyser, store a new review.

    The new review belongs to ``author``; its status is the document's (draft when absent) and
    its tags are kept. Revisions, comments and the old snapshot are not imported: the history
    belongs to the other instance, and the analysis is redone. Raises :class:`InvalidDocument`.
    """
    data = validate_document(document)
    prepared = prepare_document(data, redact_secrets)
    if data["status"] == Review.Status.APPROVED and not services.self_approval_allowed():
        # Approvals belong to the reviewers of the site that gave them: the importer, now the
        # author, does not bring an approval of their own review.
        data["status"] = Review.Status.IN_REVIEW
    review = services.create_review(
        author=author,
        title=data["title"],
        description=data["description"],
        prepared=prepared,
        tags=data["tags"],
        status=data["status"],
        redact_secrets=redact_secrets,
    )
    slug = data["slug"]
    if slug and not copy and not Review.all_objects.filter(slug=slug).exists():
        # Keep the exported identity, so that importing the same document again finds it.
        Review.all_objects.filter(pk=review.pk).update(slug=slug)
        review.refresh_from_db()
    return review
