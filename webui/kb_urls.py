"""URLs of the knowledge base: review list, rule pages, statistics, export and import."""

from django.urls import path

from webui import kb

urlpatterns = [
    path("reviews/", kb.review_list, name="reviews"),
    path("reviews/stats/", kb.review_stats, name="review-stats"),
    path("reviews/import/", kb.review_import, name="review-import"),
    path("rules/<str:rule_id>/reviews/", kb.rule_reviews, name="rule-reviews"),
    path("r/<str:slug>/export.md", kb.export_markdown, name="review-export-md"),
    path("r/<str:slug>/export.json", kb.export_json, name="review-export-json"),
]
