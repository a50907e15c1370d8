"""What saving, revising and comparing reviews means, shared by the views and the JSON API.

Views and API endpoints stay thin: they validate input, call these functions, and render.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import F, Max

from advisor.core import ANALYZER_VERSION
from advisor.core.analyze import Options, Report, analyze
from advisor.core.matrix import answers_from_mapping, recommend
from advisor.core.redact import mask, redact
from advisor.core.report import to_dict
from advisor.core.roles import Catalogue, CatalogueEntry, load_catalogue
from advisor.core.versions import parse_version
from advisor.core.yamlload import Limits
from webui.models import CatalogueImage, Review, ReviewRule, Revision, Tag


class EditConflict(Exception):
    """Someone saved the review after the editor loaded it; nothing was written."""

    def __init__(self, current: Review) -> None:
        super().__init__(f"review {current.slug} changed (now version {current.version})")
        self.current = current


def team_catalogue() -> Catalogue:
    """The bundled image catalogue with the team's own entries (from the admin) first."""
    bundled = load_catalogue()
    try:
        rows = list(CatalogueImage.objects.filter(enabled=True))
    except DatabaseError:
        # Analysis must keep working while the database is down; it only loses team entries.
        return bundled
    team = tuple(
        CatalogueEntry(
            id=row.entry_id,
            title=row.title,
            role=row.role,  # type: ignore[arg-type]
            match=tuple(p.strip() for p in row.match.split(",") if p.strip()),
            long_running=row.long_running,
            description=row.description,
            needs_ready_before_app=row.needs_ready_before_app,
        )
        for row in rows
    )
    if not team:
        return bundled
    ids = {e.id for e in team}
    return Catalogue(team + tuple(e for e in bundled.entries if e.id not in ids))


def analyse(
    text: str, *, kubernetes_version: str, api_defaults: bool, assumptions: Any = None
) -> Report:
    """Analyse one manifest with the web's limits and the team catalogue."""
    options = Options(
        kubernetes_version=parse_version(kubernetes_version),
        api_defaults=api_defaults,
        limits=Limits(
            max_bytes=settings.ADVISOR_MAX_INPUT_BYTES, max_depth=settings.ADVISOR_MAX_DEPTH
        ),
        catalogue=team_catalogue(),
        **({"assumptions": assumptions} if assumptions is not None else {}),
    )
    return analyze([("manifest", text)], options=options)


@dataclass(frozen=True)
class Prepared:
    """A review's input made ready to store: redacted, analysed, summarised."""

    kind: str
    manifest: str
    answers: dict[str, Any]
    kubernetes_version: str
    api_defaults: bool
    snapshot: dict[str, Any]
    rule_ids: list[str]
    pattern: str
    redactions: list[dict[str, Any]] = field(default_factory=list)


def prepare(
    *,
    kind: str,
    manifest: str = "",
    answers: Mapping[str, Any] | None = None,
    kubernetes_version: str,
    api_defaults: bool = True,
    redact_secrets: bool = True,
) -> Prepared:
    """Redact (unless asked not to) and analyse a review's input; raise ValueError if unusable."""
    if kind == Review.Kind.QUESTIONNAIRE:
        return _prepare_answers(dict(answers or {}), kubernetes_version)
    redactions: list[dict[str, Any]] = []
    if redact_secrets:
        result = redact(manifest)
        manifest = result.text
        redactions = [asdict(r) for r in result.redactions]
    report = analyse(manifest, kubernetes_version=kubernetes_version, api_defaults=api_defaults)
    snapshot = to_dict(report)
    return Prepared(
        kind=Review.Kind.MANIFEST,
        manifest=manifest,
        answers={},
        kubernetes_version=kubernetes_version,
        api_defaults=api_defaults,
        snapshot=snapshot,
        rule_ids=rule_ids_of(snapshot),
        pattern=pattern_of(snapshot),
        redactions=redactions,
    )


def _prepare_answers(answers: dict[str, Any], kubernetes_version: str) -> Prepared:
    answers.setdefault("kubernetes_version", kubernetes_version)
    recommendation = recommend(answers_from_mapping(answers))
    snapshot = {
        "analyzer_version": ANALYZER_VERSION,
        "recommendation": asdict(recommendation),
        "answers": answers,
    }
    return Prepared(
        kind=Review.Kind.QUESTIONNAIRE,
        manifest="",
        answers=answers,
        kubernetes_version=str(answers["kubernetes_version"]),
        api_defaults=True,
        snapshot=snapshot,
        rule_ids=[],
        pattern=recommendation.pattern,
    )


def rule_ids_of(snapshot: Mapping[str, Any]) -> list[str]:
    """Every rule id a snapshot's findings carry, sorted."""
    return sorted({f["rule"] for w in snapshot.get("workloads", []) for f in w.get("findings", [])})


def pattern_of(snapshot: Mapping[str, Any]) -> str:
    """The first multi-container pattern the analysed workloads use ('' for none)."""
    for w in snapshot.get("workloads", []):
        patterns = w.get("recommendation", {}).get("patterns", [])
        if patterns:
            return str(patterns[0])
    return ""


@transaction.atomic
def create_review(
    *,
    author: Any,
    title: str,
    prepared: Prepared,
    description: str = "",
    tags: Iterable[str] = (),
    status: str = Review.Status.DRAFT,
    redact_secrets: bool = True,
) -> Review:
    """Store a new review and its first revision, all or nothing."""
    review = Review.objects.create(
        title=title,
        description=description,
        **_review_fields(prepared),
        status=status,
        author=author,
        redact_secrets=redact_secrets,
    )
    _add_revision(review, prepared, author=author, number=1, note="created")
    _set_tags(review, tags)
    _set_rules(review, prepared.rule_ids)
    return review


@transaction.atomic
def revise(
    review: Review,
    *,
    author: Any,
    expected_version: int,
    prepared: Prepared,
    title: str | None = None,
    description: str | None = None,
    tags: Iterable[str] | None = None,
    redact_secrets: bool | None = None,
    note: str = "",
) -> Review:
    """Save new input as a new revision, unless the review changed since ``expected_version``."""
    changes: dict[str, Any] = _review_fields(prepared)
    if title is not None:
        changes["title"] = title
    if description is not None:
        changes["description"] = description
    if redact_secrets is not None:
        changes["redact_secrets"] = redact_secrets
    _update_if_current(review, expected_version, changes)
    review.refresh_from_db()
    number = (review.revisions.aggregate(n=Max("number"))["n"] or 0) + 1
    _add_revision(review, prepared, author=author, number=number, note=note)
    if tags is not None:
        _set_tags(review, tags)
    _set_rules(review, prepared.rule_ids)
    return review


def update_fields(review: Review, *, expected_version: int | None, **changes: Any) -> Review:
    """Change metadata (status, title...) with the same concurrency check, no new revision."""
    if expected_version is None:
        expected_version = review.version
    with transaction.atomic():
        _update_if_current(review, expected_version, changes)
    review.refresh_from_db()
    return review


def _update_if_current(review: Review, expected_version: int, changes: dict[str, Any]) -> None:
    # One conditional UPDATE: atomic on SQLite and PostgreSQL alike, no read-then-write race.
    updated = Review.objects.filter(pk=review.pk, version=expected_version).update(
        version=F("version") + 1, **changes
    )
    if updated != 1:
        raise EditConflict(Review.objects.get(pk=review.pk))
    # auto_now is not applied by update(); touch it explicitly.
    Review.objects.filter(pk=review.pk).update(updated=_now())


def _now() -> Any:
    from django.utils import timezone

    return timezone.now()


def _add_revision(
    review: Review, prepared: Prepared, *, author: Any, number: int, note: str
) -> None:
    fields = _review_fields(prepared)
    for review_only in ("kind", "pattern", "redactions"):
        del fields[review_only]
    Revision.objects.create(review=review, number=number, author=author, note=note[:200], **fields)


def _review_fields(prepared: Prepared) -> dict[str, Any]:
    """The model fields a prepared input sets on a review (and, most of them, a revision)."""
    return {
        "kind": prepared.kind,
        "manifest": prepared.manifest,
        "answers": prepared.answers,
        "kubernetes_version": prepared.kubernetes_version,
        "api_defaults": prepared.api_defaults,
        "snapshot": prepared.snapshot,
        "analyzer_version": prepared.snapshot.get("analyzer_version", ANALYZER_VERSION),
        "rule_ids": prepared.rule_ids,
        "pattern": prepared.pattern,
        "redactions": prepared.redactions,
    }


def _set_tags(review: Review, names: Iterable[str]) -> None:
    tags = []
    for raw in names:
        name = raw.strip().lower()
        if name:
            tags.append(Tag.objects.get_or_create(name=name[:50])[0])
    review.tags.set(tags)


def _set_rules(review: Review, rule_ids: Iterable[str]) -> None:
    ReviewRule.objects.filter(review=review).delete()
    ReviewRule.objects.bulk_create(ReviewRule(review=review, rule_id=r) for r in set(rule_ids))


def parse_tags(text: str) -> list[str]:
    """Tags typed as 'a, b c' -> ['a', 'b', 'c']."""
    return [t for t in text.replace(",", " ").split() if t]


# --- comparing analyses --------------------------------------------------------------------


@dataclass(frozen=True)
class WorkloadChange:
    key: str
    added: list[dict[str, Any]]
    gone: list[dict[str, Any]]
    moved: list[tuple[str, str, str]]  # (what, before, after)


@dataclass(frozen=True)
class Comparison:
    """How two analysis snapshots differ: findings added and gone, numbers that moved."""

    before_version: str
    after_version: str
    workloads: list[WorkloadChange]
    added_workloads: list[str]
    gone_workloads: list[str]

    @property
    def unchanged(self) -> bool:
        return not (
            self.added_workloads
            or self.gone_workloads
            or any(w.added or w.gone or w.moved for w in self.workloads)
        )


def compare(before: Mapping[str, Any], after: Mapping[str, Any]) -> Comparison:
    """Compare two analysis snapshots workload by workload."""
    old = {_wkey(w): w for w in before.get("workloads", [])}
    new = {_wkey(w): w for w in after.get("workloads", [])}
    changes = [_compare_workload(key, old[key], new[key]) for key in old if key in new]
    return Comparison(
        before_version=str(before.get("analyzer_version", "")),
        after_version=str(after.get("analyzer_version", "")),
        workloads=changes,
        added_workloads=[k for k in new if k not in old],
        gone_workloads=[k for k in old if k not in new],
    )


def _wkey(w: Mapping[str, Any]) -> str:
    ns = f" -n {w['namespace']}" if w.get("namespace") else ""
    return f"{w.get('kind')}/{w.get('name')}{ns}"


def _fkey(f: Mapping[str, Any]) -> tuple[Any, ...]:
    return (f.get("rule"), f.get("container"), f.get("message"))


def _compare_workload(key: str, a: Mapping[str, Any], b: Mapping[str, Any]) -> WorkloadChange:
    fa = {_fkey(f): f for f in a.get("findings", [])}
    fb = {_fkey(f): f for f in b.get("findings", [])}
    moved = []
    for kind in ("requests", "limits"):
        ea, eb = a.get("effective", {}).get(kind, {}), b.get("effective", {}).get(kind, {})
        for name in sorted(set(ea) | set(eb)):
            if ea.get(name) != eb.get(name):
                moved.append((f"{kind} {name}", ea.get(name, "none"), eb.get(name, "none")))
    if a.get("qos_class") != b.get("qos_class"):
        moved.append(("QoS class", str(a.get("qos_class")), str(b.get("qos_class"))))
    return WorkloadChange(
        key=key,
        added=[f for k, f in fb.items() if k not in fa],
        gone=[f for k, f in fa.items() if k not in fb],
        moved=moved,
    )


def reanalyse(review: Review) -> tuple[dict[str, Any], Comparison]:
    """Analyse the stored input with today's analyser and compare with the saved snapshot."""
    prepared = prepare(
        kind=review.kind,
        manifest=review.manifest,
        answers=review.answers,
        kubernetes_version=review.kubernetes_version,
        api_defaults=review.api_defaults,
        redact_secrets=False,  # the stored text is already redacted when it had to be
    )
    return prepared.snapshot, compare(review.snapshot, prepared.snapshot)


def revision_diff(a: Revision, b: Revision, *, label: str = "manifest") -> str:
    """Unified diff of two revisions' manifests (or answers, for questionnaire reviews)."""
    left = a.manifest if a.manifest or not a.answers else _answers_text(a.answers)
    right = b.manifest if b.manifest or not b.answers else _answers_text(b.answers)
    return "".join(
        difflib.unified_diff(
            left.splitlines(keepends=True),
            right.splitlines(keepends=True),
            fromfile=f"r{a.number}/{label}",
            tofile=f"r{b.number}/{label}",
        )
    )


def _answers_text(answers: Mapping[str, Any]) -> str:
    return "".join(f"{k}: {v}\n" for k, v in sorted(answers.items()))


# --- secrets in earlier revisions ----------------------------------------------------------


def shown_revision(review: Review, revision: Revision) -> tuple[str, dict[str, Any]]:
    """A revision's manifest and snapshot as they may be shown: redacted on the fly while the
    review asks for redaction, so a revision saved before it was turned on never shows its
    secrets (in history, diffs, comparisons and exports) even if it was kept as it was."""
    if not review.redact_secrets or not revision.manifest:
        return revision.manifest, revision.snapshot
    result = redact(revision.manifest)
    if not result.redactions:
        return revision.manifest, revision.snapshot
    return result.text, mask(revision.snapshot, result.values)


def unredacted_revisions(review: Review) -> list[int]:
    """Numbers of the revisions (the latest excepted) whose stored text still holds secrets."""
    revisions = list(review.revisions.order_by("number"))
    return [r.number for r in revisions[:-1] if r.manifest and redact(r.manifest).redactions]


@transaction.atomic
def redact_revisions(review: Review) -> list[int]:
    """Rewrite every earlier revision that holds secrets: its manifest redacted, its snapshot
    masked wherever it copied a redacted value. Returns the revisions rewritten."""
    done = []
    for revision in review.revisions.select_for_update().order_by("number"):
        result = redact(revision.manifest) if revision.manifest else None
        if result is None or not result.redactions:
            continue
        Revision.objects.filter(pk=revision.pk).update(
            manifest=result.text, snapshot=mask(revision.snapshot, result.values)
        )
        done.append(revision.number)
    current = redact(review.manifest) if review.manifest else None
    if current is not None and current.redactions:  # the review keeps the latest input too
        Review.objects.filter(pk=review.pk).update(
            manifest=current.text, snapshot=mask(review.snapshot, current.values)
        )
    return done


@transaction.atomic
def purge_revisions(review: Review) -> list[int]:
    """Delete the earlier revisions that hold secrets (never the latest). Returns their numbers."""
    numbers = unredacted_revisions(review)
    review.revisions.filter(number__in=numbers).delete()
    return numbers
