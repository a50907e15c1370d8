"""Saved design reviews: the team's knowledge base.

A review keeps its input (a manifest, or questionnaire answers), the analysis snapshot made by
the analyser version of the day, and every earlier revision. Rule ids are stored in their own
table so that the knowledge base can list the reviews that raised a rule on any database.
"""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.urls import reverse


def new_slug() -> str:
    """An unguessable permalink id (128 bits)."""
    return secrets.token_urlsafe(16)


class Tag(models.Model):
    name = models.SlugField(max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class LiveReviewManager(models.Manager["Review"]):
    """Reviews that are not in the bin: what every list, search, count and permalink sees."""

    def get_queryset(self) -> models.QuerySet[Review]:
        return super().get_queryset().filter(deleted_at__isnull=True)


class Review(models.Model):
    """A design review with its latest revision's input and analysis."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        IN_REVIEW = "in-review", "In review"
        CHANGES_REQUESTED = "changes-requested", "Changes requested"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    class Kind(models.TextChoices):
        MANIFEST = "manifest", "Manifest"
        QUESTIONNAIRE = "questionnaire", "Questionnaire"

    slug = models.CharField(max_length=32, unique=True, default=new_slug, editable=False)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.MANIFEST)
    manifest = models.TextField(blank=True)
    answers = models.JSONField(default=dict, blank=True)
    kubernetes_version = models.CharField(max_length=8)
    api_defaults = models.BooleanField(default=True)
    snapshot = models.JSONField(default=dict, blank=True)
    analyzer_version = models.CharField(max_length=32)
    rule_ids = models.JSONField(default=list, blank=True)
    pattern = models.CharField(max_length=40, blank=True, db_index=True)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="reviews")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reviews"
    )
    redact_secrets = models.BooleanField(default=True)
    redactions = models.JSONField(default=list, blank=True)
    version = models.PositiveIntegerField(default=1)
    created = models.DateTimeField(auto_now_add=True, db_index=True)
    updated = models.DateTimeField(auto_now=True)
    # Soft delete: a deleted review leaves every list and permalink; its author or staff can
    # restore it from "recently deleted".
    deleted_at = models.DateTimeField(null=True, blank=True, db_index=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = LiveReviewManager()
    all_objects = models.Manager()

    class Meta:
        ordering = ["-updated"]
        base_manager_name = "all_objects"

    def __str__(self) -> str:
        return self.title

    @property
    def revision_number(self) -> int:
        """The number of the latest manifest revision (what the history counts)."""
        latest = self.revisions.order_by("-number").values_list("number", flat=True).first()
        return latest or 0

    def get_absolute_url(self) -> str:
        return reverse("review", args=[self.slug])

    def can_edit(self, user: object) -> bool:
        """Only the author or staff edit, delete or change status."""
        return bool(
            getattr(user, "is_authenticated", False)
            and (getattr(user, "is_staff", False) or getattr(user, "pk", None) == self.author_id)
        )


class Revision(models.Model):
    """One saved state of a review's input and its analysis."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    manifest = models.TextField(blank=True)
    answers = models.JSONField(default=dict, blank=True)
    kubernetes_version = models.CharField(max_length=8)
    api_defaults = models.BooleanField(default=True)
    snapshot = models.JSONField(default=dict, blank=True)
    analyzer_version = models.CharField(max_length=32)
    rule_ids = models.JSONField(default=list, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["review", "number"]
        constraints = [
            models.UniqueConstraint(fields=["review", "number"], name="unique_revision_number")
        ]

    def __str__(self) -> str:
        return f"{self.review} r{self.number}"


class ReviewRule(models.Model):
    """A rule id the latest revision of a review raised (for filters and rule pages)."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="raised")
    rule_id = models.CharField(max_length=80, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["review", "rule_id"], name="unique_review_rule")
        ]


class Comment(models.Model):
    """Plain-text discussion on a review; rendered escaped, with links made clickable.

    A line comment names the revision it was made on, the manifest line and that line's text;
    a reply names its thread's first comment (``parent``); only a thread's first comment is
    resolved or unresolved.
    """

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comments"
    )
    body = models.TextField(max_length=10_000)
    created = models.DateTimeField(auto_now_add=True)
    revision = models.ForeignKey(
        Revision, on_delete=models.SET_NULL, null=True, blank=True, related_name="comments"
    )
    line = models.PositiveIntegerField(null=True, blank=True)
    line_text = models.TextField(blank=True)
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["created", "pk"]

    def __str__(self) -> str:
        return f"{self.author} on {self.review}"


class ReviewRequest(models.Model):
    """A reviewer the author asked to approve the review (or to request changes)."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="requests")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_requests"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["review", "reviewer"], name="unique_review_request")
        ]


class Verdict(models.Model):
    """A reviewer's decision on one revision: approve, or request changes, with a comment."""

    class Kind(models.TextChoices):
        APPROVE = "approve", "Approved"
        CHANGES = "changes", "Requested changes"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="verdicts")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="verdicts"
    )
    revision_number = models.PositiveIntegerField()
    verdict = models.CharField(max_length=10, choices=Kind.choices)
    body = models.TextField(max_length=10_000, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created", "pk"]


class Event(models.Model):
    """One entry of a review's timeline: who did what, and when."""

    class Kind(models.TextChoices):
        CREATED = "created", "created the review"
        REVISED = "revised", "saved a new revision"
        EDITED = "edited", "edited the title, description or tags"
        STATUS = "status", "changed the status"
        REQUESTED = "requested", "requested a review"
        UNREQUESTED = "unrequested", "withdrew a review request"
        APPROVED = "approved", "approved"
        CHANGES = "changes", "requested changes"
        COMMENTED = "commented", "commented"
        RESOLVED = "resolved", "resolved a thread"
        REOPENED = "reopened", "reopened a thread"
        DELETED = "deleted", "deleted the review"
        RESTORED = "restored", "restored the review"
        IMPORTED = "imported", "updated the review from an import"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    detail = models.CharField(max_length=300, blank=True)
    revision_number = models.PositiveIntegerField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created", "pk"]

    def __str__(self) -> str:
        return f"{self.actor} {self.get_kind_display()} ({self.review})"


class CatalogueImage(models.Model):
    """A team's own image catalogue entry, used next to the bundled one for role detection."""

    class Role(models.TextChoices):
        APP = "app", "App"
        SIDECAR = "sidecar", "Sidecar"
        AMBASSADOR = "ambassador", "Ambassador"
        ADAPTER = "adapter", "Adapter"
        CONFIG_HELPER = "config-helper", "Config helper"

    entry_id = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=120)
    role = models.CharField(max_length=20, choices=Role.choices)
    match = models.CharField(
        max_length=500, help_text="Comma-separated image patterns, e.g. my-proxy, team/*-agent"
    )
    long_running = models.BooleanField(default=True)
    needs_ready_before_app = models.BooleanField(default=False)
    description = models.CharField(max_length=300)
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["entry_id"]

    def __str__(self) -> str:
        return self.entry_id


class ApiToken(models.Model):
    """A token for the JSON API; only its SHA-256 is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.user}: {self.name}"

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @classmethod
    def issue(cls, user: object, name: str) -> tuple[ApiToken, str]:
        """Create a token; the plain value is returned once and never stored."""
        token = secrets.token_urlsafe(32)
        return cls.objects.create(user=user, name=name, digest=cls.hash(token)), token
