"""Admin for reviews, comments, tags, API tokens and the team's image catalogue."""

from __future__ import annotations

from django.contrib import admin

from webui.models import (
    ApiToken,
    CatalogueImage,
    Comment,
    Event,
    Review,
    ReviewRequest,
    Revision,
    Tag,
    Verdict,
)


class RevisionInline(admin.TabularInline):
    model = Revision
    extra = 0
    fields = ("number", "author", "analyzer_version", "created", "note")
    readonly_fields = fields
    can_delete = False


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = (
        "title",
        "author",
        "status",
        "pattern",
        "kubernetes_version",
        "updated",
        "deleted_at",
    )
    list_filter = ("status", "kind", "pattern", "kubernetes_version", "tags")
    search_fields = ("title", "description", "slug")
    readonly_fields = ("slug", "snapshot", "analyzer_version", "rule_ids", "version", "redactions")
    inlines = [RevisionInline]

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        # Staff see deleted reviews too (the web UI's Recently deleted restores them).
        return Review.all_objects.all()


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ("review", "author", "created")
    search_fields = ("body",)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ("name",)


@admin.register(CatalogueImage)
class CatalogueImageAdmin(admin.ModelAdmin):
    list_display = ("entry_id", "title", "role", "match", "long_running", "enabled")
    list_filter = ("role", "enabled")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("user", "name", "created", "last_used")
    readonly_fields = ("digest", "created", "last_used")


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    """The review timelines, read-only: they record what happened."""

    list_display = ("review", "actor", "kind", "detail", "created")
    list_filter = ("kind",)
    readonly_fields = ("review", "actor", "kind", "detail", "revision_number", "created")

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False


@admin.register(ReviewRequest)
class ReviewRequestAdmin(admin.ModelAdmin):
    list_display = ("review", "reviewer", "requested_by", "created")


@admin.register(Verdict)
class VerdictAdmin(admin.ModelAdmin):
    list_display = ("review", "reviewer", "revision_number", "verdict", "created")
    list_filter = ("verdict",)
