"""What saving, revising and comparing reviews means, shared by the views and the JSON API.

Views and API endpoints stay thin: they validate input, call these functions, and render.
"""

from __future__ import annotations

import difflib
import json
import logging
import re
import secrets
import smtplib
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, transaction
from django.db.models import F, Max
from django.urls import NoReverseMatch

from advisor.core import ANALYZER_VERSION
from advisor.core.analyze import Options, Report, analyze
from advisor.core.budget import check_storable
from advisor.core.lifecycle import Assumptions
from advisor.core.matrix import QUESTIONS, answers_from_mapping, recommend
from advisor.core.redact import mask, redact
from advisor.core.report import to_dict
from advisor.core.roles import Catalogue, CatalogueEntry, load_catalogue
from advisor.core.versions import parse_version
from webui import metrics
from webui.budget import budget as web_budget
from webui.budget import refuse_breach
from webui.models import (
    CatalogueImage,
    Comment,
    Event,
    Review,
    ReviewRequest,
    ReviewRule,
    Revision,
    Tag,
    Verdict,
)

logger = logging.getLogger(__name__)


def normalise_newlines(text: str) -> str:
    """CRLF and lone CR become LF: browsers send CRLF from a textarea, files may carry either."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


class EditConflict(Exception):
    """Someone saved the review after the editor loaded it; nothing was written."""

    def __init__(self, current: Review) -> None:
        super().__init__(f"review {current.slug} changed (now version {current.version})")
        self.current = current


# The team catalogue changes only when someone edits an entry in the admin, but every analysis
# reads it. Each process keeps the built catalogue with the version it was built at; the version
# lives in the shared cache (Redis in production, so every worker and replica sees a bump) and
# is bumped whenever an entry is saved or deleted (webui.apps connects the signals).
CATALOGUE_VERSION_KEY = "advisor:team-catalogue:version"
_catalogue_memo: tuple[object, Catalogue] | None = None


def bump_catalogue_version(**_: Any) -> None:
    """Make every process rebuild the team catalogue on its next analysis."""
    from django.core.cache import cache

    global _catalogue_memo
    _catalogue_memo = None
    try:
        cache.incr(CATALOGUE_VERSION_KEY)
    except ValueError:  # not set yet (or evicted): any new value differs from what was seen
        cache.set(CATALOGUE_VERSION_KEY, secrets.randbits(62), timeout=None)


def team_catalogue() -> Catalogue:
    """The bundled image catalogue with the team's own entries (from the admin) first."""
    global _catalogue_memo
    version = _catalogue_version()
    memo = _catalogue_memo
    if version is not None and memo is not None and memo[0] == version:
        return memo[1]
    catalogue, complete = _build_team_catalogue()
    if version is not None and complete:  # never keep one built while the database was down
        _catalogue_memo = (version, catalogue)
    return catalogue


def _catalogue_version() -> object | None:
    """The shared catalogue version, set on first use; None when the cache is unavailable."""
    from django.core.cache import cache

    try:
        version = cache.get(CATALOGUE_VERSION_KEY)
        if version is None:
            cache.add(CATALOGUE_VERSION_KEY, secrets.randbits(62), timeout=None)
            version = cache.get(CATALOGUE_VERSION_KEY)
    except Exception:  # a cache outage must not stop analysis: read the database each time
        return None
    return version


def _build_team_catalogue() -> tuple[Catalogue, bool]:
    bundled = load_catalogue()
    try:
        rows = list(CatalogueImage.objects.filter(enabled=True))
    except DatabaseError:
        # Analysis must keep working while the database is down; it only loses team entries.
        return bundled, False
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
        return bundled, True
    ids = {e.id for e in team}
    return Catalogue(team + tuple(e for e in bundled.entries if e.id not in ids)), True


# Frozen and read-only (its per-container overrides too): one instance for every analysis that
# brings none of its own, rather than one validated afresh per request.
DEFAULT_ASSUMPTIONS = Assumptions()


def analyse(
    text: str, *, kubernetes_version: str, api_defaults: bool, assumptions: Any = None
) -> Report:
    """Analyse one manifest with the web's limits and the team catalogue."""
    options = Options(
        kubernetes_version=parse_version(kubernetes_version),
        api_defaults=api_defaults,
        limits=web_budget(),
        catalogue=team_catalogue(),
        assumptions=DEFAULT_ASSUMPTIONS if assumptions is None else assumptions,
    )
    report = analyze([("manifest", text)], options=options)
    metrics.observe_analysis(report, len(text))  # the request's log line and /metrics
    return report


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
    manifest = normalise_newlines(manifest)
    redactions: list[dict[str, Any]] = []
    check_storable(manifest, name="manifest")  # every save path: PostgreSQL refuses NUL
    if redact_secrets:
        result = redact(manifest)
        manifest = result.text
        redactions = [asdict(r) for r in result.redactions]
    report = analyse(manifest, kubernetes_version=kubernetes_version, api_defaults=api_defaults)
    refuse_breach(report)  # a manifest over the budget is never stored
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
    _check_answers(answers)  # what is stored always re-imports (webui.exchange's rules)
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


def _check_answers(answers: Mapping[str, Any]) -> None:
    """Answers to the questionnaire's questions only, each a plain value a database stores."""
    known = {q.id for q in QUESTIONS}
    for name, value in answers.items():
        if name not in known:
            raise ValueError(f"answers: unknown question {str(name)[:60]!r}")
        if value is not None and not isinstance(value, str | bool | int | float):
            raise ValueError(f"answers: {name} must be a plain value")
        if isinstance(value, str):
            check_storable(value, name=f"answers: {name}")


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
    record(review, author, Event.Kind.CREATED, revision_number=1)
    return review


def same_input(review: Review, prepared: Prepared) -> bool:
    """True when ``prepared`` holds the review's current input and analysis (nothing to revise)."""
    return (
        review.kind == prepared.kind
        and normalise_newlines(review.manifest) == prepared.manifest
        and _as_stored(review.answers) == _as_stored(prepared.answers)
        and review.kubernetes_version == prepared.kubernetes_version
        and review.api_defaults == prepared.api_defaults
        and _as_stored(review.snapshot) == _as_stored(prepared.snapshot)
    )


def _as_stored(value: Any) -> str:
    """A value as the JSON field stores it (tuples become lists), for comparing."""
    return json.dumps(value, sort_keys=True, cls=DjangoJSONEncoder)


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
    """Save new input as a new revision, unless the review changed since ``expected_version``.

    When the input and its analysis are the ones already stored, only the title, description,
    tags or redaction choice change: no new revision (approvals stand).
    """
    if same_input(review, prepared):
        meta: dict[str, Any] = {
            k: v
            for k, v in (
                ("title", title),
                ("description", description),
                ("redact_secrets", redact_secrets),
            )
            if v is not None
        }
        return edit_metadata(
            review, author=author, expected_version=expected_version, tags=tags, **meta
        )
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
    record(review, author, Event.Kind.REVISED, detail=note, revision_number=number)
    # Approvals were given on the previous revision: the status follows from the new one.
    refresh_status(review, actor=author)
    return review


def edit_metadata(
    review: Review,
    *,
    author: Any,
    expected_version: int,
    tags: Iterable[str] | None = None,
    **meta: Any,
) -> Review:
    """Change the title, description, tags or redaction flag: no new revision."""
    before = (review.title, review.description, sorted(t.name for t in review.tags.all()))
    with transaction.atomic():
        _update_if_current(review, expected_version, meta)
        review.refresh_from_db()
        if tags is not None:
            _set_tags(review, tags)
        after = (review.title, review.description, sorted(t.name for t in review.tags.all()))
        if after != before:
            record(review, author, Event.Kind.EDITED)
    return review


def update_fields(
    review: Review, *, expected_version: int | None, actor: Any = None, **changes: Any
) -> Review:
    """Change metadata (status, title...) with the same concurrency check, no new revision."""
    if expected_version is None:
        expected_version = review.version
    old_status = review.status
    with transaction.atomic():
        _update_if_current(review, expected_version, changes)
        review.refresh_from_db()
        if "status" in changes and review.status != old_status:
            record(review, actor, Event.Kind.STATUS, detail=_status_change(old_status, review))
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


TAG = re.compile(r"[A-Za-z0-9_-]{1,50}")  # the API's TagName rule, for the HTML forms too


def parse_names(text: str) -> list[str]:
    """User names and @teams typed as 'ada, @platform bob' -> ['ada', '@platform', 'bob']."""
    return list(dict.fromkeys(t for t in text.replace(",", " ").split() if t))


def parse_tags(text: str) -> list[str]:
    """Tags typed as 'a, b C' -> ['a', 'b', 'c']; raise ValueError for one the API refuses."""
    tags = [t for t in text.replace(",", " ").split() if t]
    bad = [t for t in tags if not TAG.fullmatch(t)]
    if bad:
        raise ValueError(
            f"tag {bad[0][:60]!r}: use 1 to 50 letters, digits, '-' or '_' (as the API does)"
        )
    return list(dict.fromkeys(t.lower() for t in tags))


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


# --- the review workflow: timeline, soft delete, reviewers, line comments ------------------


def _status_change(old: str, review: Review) -> str:
    labels = dict(Review.Status.choices)
    return f"{labels.get(old, old)} → {labels.get(review.status, review.status)}"


def record(
    review: Review,
    actor: Any,
    kind: str,
    *,
    detail: str = "",
    revision_number: int | None = None,
) -> Event:
    """Add an event to the review's timeline (and mail it when mail is configured)."""
    event = Event.objects.create(
        review=review,
        actor=actor if getattr(actor, "pk", None) else None,
        kind=kind,
        detail=detail[:300],
        revision_number=revision_number,
    )
    if getattr(settings, "ADVISOR_MAIL_EVENTS", False):
        transaction.on_commit(lambda: mail_event(event.pk))
    return event


def mail_event(event_pk: int) -> None:
    """Mail one timeline event to the people it concerns, except who caused it."""
    from django.core.mail import send_mail

    event = Event.objects.select_related("review", "actor").filter(pk=event_pk).first()
    if event is None:
        return
    review = event.review
    people = {review.author, *(r.reviewer for r in review.requests.select_related("reviewer"))}
    people |= {c.author for c in review.comments.select_related("author")}
    recipients = sorted({p.email for p in people if p is not None and p.email and p != event.actor})
    if not recipients:
        return
    who = event.actor.get_username() if event.actor else "someone"
    text = f"{who} {event.get_kind_display()}"
    if event.detail:
        text += f": {event.detail}"
    try:
        link = review.get_absolute_url()
    except NoReverseMatch:  # the web UI may not be mounted
        link = ""
    try:
        send_mail(
            subject=f"[Pod Pattern Advisor] {review.title}: {who} {event.get_kind_display()}",
            message=f"{text}\n\n{review.title}\n{link}\n",
            from_email=None,
            recipient_list=recipients,
        )
    except (OSError, smtplib.SMTPException):
        # Mail is a courtesy: the event is on the timeline whatever the mail server does.
        logger.warning("could not mail review event %s", event_pk, exc_info=True)


def self_approval_allowed() -> bool:
    return bool(getattr(settings, "ADVISOR_ALLOW_SELF_APPROVAL", False))


# soft delete


@transaction.atomic
def soft_delete(review: Review, *, by: Any) -> Review:
    """Move the review to the bin: it leaves lists, search, statistics and permalinks."""
    Review.all_objects.filter(pk=review.pk).update(deleted_at=_now(), deleted_by=by)
    review.refresh_from_db()
    record(review, by, Event.Kind.DELETED)
    return review


@transaction.atomic
def restore(review: Review, *, by: Any) -> Review:
    """Take the review out of the bin, as it was."""
    Review.all_objects.filter(pk=review.pk).update(deleted_at=None, deleted_by=None)
    review.refresh_from_db()
    record(review, by, Event.Kind.RESTORED)
    return review


def recently_deleted(user: Any) -> Any:
    """Deleted reviews the user may restore: their own, or every one for staff."""
    qs = Review.all_objects.filter(deleted_at__isnull=False).select_related("author", "deleted_by")
    if not getattr(user, "is_staff", False):
        qs = qs.filter(author=user)
    return qs.order_by("-deleted_at", "-pk")


# reviewers and verdicts


class NotAllowed(Exception):
    """The user may not do this (the message says why)."""


def users_named(names: Iterable[str]) -> tuple[list[Any], list[str]]:
    """Users for usernames or group names ('@team' or a group's name); and the unknown names."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    user_model = get_user_model()
    found: dict[int, Any] = {}
    unknown: list[str] = []
    for raw in names:
        name = raw.strip().lstrip("@")
        if not name:
            continue
        user = user_model.objects.filter(
            **{user_model.USERNAME_FIELD: name}, is_active=True
        ).first()
        if user is not None:
            found[user.pk] = user
            continue
        group = Group.objects.filter(name=name).first()
        if group is None:
            unknown.append(name)
            continue
        for member in group.user_set.filter(is_active=True):
            found[member.pk] = member
    return list(found.values()), unknown


@transaction.atomic
def request_review(review: Review, *, by: Any, reviewers: Iterable[Any]) -> list[Any]:
    """Ask people to review; the author is skipped unless self-approval is allowed."""
    added = []
    for reviewer in reviewers:
        if reviewer.pk == review.author_id and not self_approval_allowed():
            continue
        _, created = ReviewRequest.objects.get_or_create(
            review=review, reviewer=reviewer, defaults={"requested_by": by}
        )
        if created:
            added.append(reviewer)
            record(
                review,
                by,
                Event.Kind.REQUESTED,
                detail=reviewer.get_username(),
                revision_number=review.revision_number,
            )
    if added:
        refresh_status(review, actor=by)
    return added


@transaction.atomic
def withdraw_request(review: Review, *, by: Any, reviewer: Any) -> None:
    deleted, _ = ReviewRequest.objects.filter(review=review, reviewer=reviewer).delete()
    if deleted:
        record(review, by, Event.Kind.UNREQUESTED, detail=reviewer.get_username())
        refresh_status(review, actor=by)


@transaction.atomic
def give_verdict(review: Review, *, reviewer: Any, verdict: str, body: str = "") -> Verdict:
    """Approve or request changes on the latest revision; the status follows."""
    if verdict not in Verdict.Kind.values:
        raise ValueError(f"unknown verdict {verdict!r}")
    if reviewer.pk == review.author_id and not self_approval_allowed():
        raise NotAllowed(
            "You wrote this review, so you cannot approve it or request changes; "
            "ask a colleague to review it."
        )
    number = review.revision_number
    given = Verdict.objects.create(
        review=review, reviewer=reviewer, revision_number=number, verdict=verdict, body=body
    )
    kind = Event.Kind.APPROVED if verdict == Verdict.Kind.APPROVE else Event.Kind.CHANGES
    record(review, reviewer, kind, detail=body[:300], revision_number=number)
    refresh_status(review, actor=reviewer)
    return given


def latest_verdicts(review: Review) -> dict[int, Verdict]:
    """Each reviewer's latest verdict on the latest revision, by user id."""
    number = review.revision_number
    latest: dict[int, Verdict] = {}
    for v in review.verdicts.filter(revision_number=number).order_by("created", "pk"):
        latest[v.reviewer_id] = v
    return latest


def reviewer_states(review: Review) -> list[dict[str, Any]]:
    """Each requested reviewer with their verdict on the latest revision (None: waiting)."""
    latest = latest_verdicts(review)
    earlier: dict[int, Verdict] = {}
    for v in review.verdicts.exclude(revision_number=review.revision_number).order_by("created"):
        earlier[v.reviewer_id] = v
    return [
        {
            "request": r,
            "reviewer": r.reviewer,
            "verdict": latest.get(r.reviewer_id),
            "earlier": earlier.get(r.reviewer_id),
        }
        for r in review.requests.select_related("reviewer")
    ]


def computed_status(review: Review) -> str | None:
    """The status the requests and verdicts give (None: nobody asked and nobody decided).

    Changes requested while any reviewer's latest verdict on the latest revision says so;
    approved when every requested reviewer approved the latest revision (or, with nobody
    requested, when someone approved it); in review otherwise.
    """
    requested = set(review.requests.values_list("reviewer_id", flat=True))
    latest = latest_verdicts(review)
    if not requested and not latest:
        return None
    if any(v.verdict == Verdict.Kind.CHANGES for v in latest.values()):
        return Review.Status.CHANGES_REQUESTED
    approved = {uid for uid, v in latest.items() if v.verdict == Verdict.Kind.APPROVE}
    if (requested and requested <= approved) or (not requested and approved):
        return Review.Status.APPROVED
    return Review.Status.IN_REVIEW


def refresh_status(review: Review, *, actor: Any) -> None:
    """Set the status the verdicts give; an event when it changes. The edit version stays."""
    status = computed_status(review)
    review.refresh_from_db(fields=["status"])
    if status is None or status == review.status:
        return
    old = review.status
    Review.all_objects.filter(pk=review.pk).update(status=status)
    review.status = status
    record(review, actor, Event.Kind.STATUS, detail=_status_change(old, review))


# comments and line comments


def manifest_lines(text: str) -> list[str]:
    """The manifest's lines, numbered from 1 as the analysis numbers them (no phantom last line)."""
    text = normalise_newlines(text)
    return text[:-1].split("\n") if text.endswith("\n") else text.split("\n")


@transaction.atomic
def add_comment(
    review: Review,
    *,
    author: Any,
    body: str,
    line: int | None = None,
    parent: Comment | None = None,
) -> Comment:
    """A general comment, a comment on a manifest line of the latest revision, or a reply."""
    revision = review.revisions.order_by("-number").first()
    line_text = ""
    if parent is not None:
        while parent.parent_id is not None:
            parent = parent.parent  # type: ignore[assignment]
        line = None
        revision = parent.revision
    elif line is not None:
        lines = manifest_lines(revision.manifest if revision else review.manifest)
        if not 1 <= line <= len(lines):
            raise ValueError(f"the manifest has no line {line}")
        line_text = lines[line - 1]
    comment = Comment.objects.create(
        review=review,
        author=author,
        body=body,
        revision=revision,
        line=line,
        line_text=line_text,
        parent=parent,
    )
    where = f"line {line}" if line else ("a reply" if parent else "")
    record(
        review,
        author,
        Event.Kind.COMMENTED,
        detail=where,
        revision_number=revision.number if revision else None,
    )
    return comment


@transaction.atomic
def resolve(comment: Comment, *, by: Any, resolved: bool) -> Comment:
    """Resolve or reopen a thread (its first comment)."""
    while comment.parent_id is not None:
        comment = comment.parent  # type: ignore[assignment]
    comment.resolved_at = _now() if resolved else None
    comment.resolved_by = by if resolved else None
    comment.save(update_fields=["resolved_at", "resolved_by"])
    where = f"line {comment.line}" if comment.line else ""
    record(
        comment.review, by, Event.Kind.RESOLVED if resolved else Event.Kind.REOPENED, detail=where
    )
    return comment


def is_outdated(comment: Comment, latest_lines: list[str], latest_number: int) -> bool:
    """A line comment is outdated when a later revision changed (or removed) its line."""
    if comment.line is None or comment.revision is None:
        return False
    if comment.revision.number >= latest_number:
        return False
    if comment.line > len(latest_lines):
        return True
    return latest_lines[comment.line - 1] != comment.line_text


def threads(review: Review) -> list[dict[str, Any]]:
    """Each thread's first comment with its replies, and whether it is outdated."""
    latest = review.revisions.order_by("-number").first()
    lines = manifest_lines(latest.manifest if latest else review.manifest)
    number = latest.number if latest else 0
    comments = list(
        review.comments.select_related("author", "revision", "resolved_by").order_by(
            "created", "pk"
        )
    )
    replies: dict[int, list[Comment]] = {}
    for c in comments:
        if c.parent_id is not None:
            replies.setdefault(c.parent_id, []).append(c)
    return [
        {
            "comment": c,
            "replies": replies.get(c.pk, []),
            "outdated": is_outdated(c, lines, number),
        }
        for c in comments
        if c.parent_id is None
    ]


def waiting_on(user: Any) -> dict[str, Any]:
    """What waits on ``user``: reviews without their verdict on the latest revision, their own
    reviews with changes requested, and unresolved threads they wrote in."""
    to_review = []
    for request in ReviewRequest.objects.filter(
        reviewer=user, review__deleted_at__isnull=True
    ).select_related("review", "review__author"):
        review = request.review
        # Waiting on me until I give a verdict on the latest revision (after "changes
        # requested" it waits on the author, until a new revision).
        if user.pk not in latest_verdicts(review):
            to_review.append(review)
    changes = list(
        Review.objects.filter(author=user, status=Review.Status.CHANGES_REQUESTED).select_related(
            "author"
        )
    )
    thread_ids = set(
        Comment.objects.filter(author=user, review__deleted_at__isnull=True).values_list(
            "parent_id", flat=True
        )
    ) | set(
        Comment.objects.filter(
            author=user, parent__isnull=True, review__deleted_at__isnull=True
        ).values_list("pk", flat=True)
    )
    thread_ids.discard(None)
    open_threads = list(
        Comment.objects.filter(pk__in=thread_ids, resolved_at__isnull=True, parent__isnull=True)
        .select_related("review", "author")
        .order_by("-created")
    )
    return {"to_review": to_review, "changes_requested": changes, "threads": open_threads}


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
