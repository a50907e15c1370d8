"""URLs of the web UI."""

from django.contrib.auth import views as auth_views
from django.urls import path

from webui import reviews, views

urlpatterns = [
    path("", views.home, name="home"),
    path("analyze/", views.analyze_view, name="analyze"),
    path("fix/", views.fix_view, name="fix"),
    path("questionnaire/", views.questionnaire, name="questionnaire"),
    path("rules/", views.rules, name="rules"),
    path("patterns/", views.patterns, name="patterns"),
    path("patterns/<slug:pattern_id>/", views.pattern_detail, name="pattern"),
    # Log-in (rate-limited, in advisor/urls.py), log-out and password change. No self-service
    # password reset: it needs a mail server; administrators reset passwords in the admin.
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password_change/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("reviews/save/", reviews.save, name="review-save"),
    path("r/<str:slug>/", reviews.detail, name="review"),
    path("r/<str:slug>/edit/", reviews.edit, name="review-edit"),
    path("r/<str:slug>/status/", reviews.change_status, name="review-status"),
    path("r/<str:slug>/delete/", reviews.delete, name="review-delete"),
    path("r/<str:slug>/comments/", reviews.add_comment, name="review-comment"),
    path(
        "r/<str:slug>/comments/<int:pk>/delete/",
        reviews.delete_comment,
        name="review-comment-delete",
    ),
    path("r/<str:slug>/history/", reviews.history, name="review-history"),
    path("r/<str:slug>/restore/", reviews.restore, name="review-restore"),
    path("r/<str:slug>/manifest.yaml", reviews.manifest_download, name="review-manifest"),
    path("r/<str:slug>/reviewers/", reviews.request_reviewers, name="review-reviewers"),
    path(
        "r/<str:slug>/reviewers/<int:user_id>/withdraw/",
        reviews.withdraw_reviewer,
        name="review-reviewer-withdraw",
    ),
    path("r/<str:slug>/verdict/", reviews.verdict, name="review-verdict"),
    path(
        "r/<str:slug>/comments/<int:pk>/resolve/",
        reviews.resolve_comment,
        name="review-comment-resolve",
    ),
    path("reviews/mine/", reviews.mine, name="reviews-mine"),
    path("reviews/deleted/", reviews.recently_deleted, name="reviews-deleted"),
    path("r/<str:slug>/reanalyse/", reviews.reanalyse, name="review-reanalyse"),
    # One workload's detail, rendered when opened (many-workloads results and saved reviews).
    path("analyze/w/<str:token>/<int:index>/", views.analyze_workload, name="analyze-workload"),
    path("r/<str:slug>/w/<int:index>/", views.review_workload, name="review-workload"),
    path("r/<str:slug>/secrets/", reviews.secrets, name="review-secrets"),
]
