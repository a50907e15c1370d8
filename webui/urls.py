"""URLs of the web UI."""

from django.urls import path

from webui import views

urlpatterns = [
    path("", views.home, name="home"),
    path("analyze/", views.analyze_view, name="analyze"),
    path("fix/", views.fix_view, name="fix"),
    path("questionnaire/", views.questionnaire, name="questionnaire"),
    path("rules/", views.rules, name="rules"),
    path("patterns/", views.patterns, name="patterns"),
    path("patterns/<slug:pattern_id>/", views.pattern_detail, name="pattern"),
]
