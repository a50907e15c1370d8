"""URL configuration."""

from django.contrib import admin
from django.urls import include, path

from webui import health, limits, metrics
from webui.api import api

urlpatterns = [
    # Both log-in forms under the log-in rate limit (webui.limits); these come before the admin's
    # and django.contrib.auth's own patterns for the same paths, which still name them.
    path("admin/login/", limits.admin_login_view, name="admin-login"),
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("api/v1/", api.urls),
    path("accounts/login/", limits.login_view, name="login"),
    path("", include("webui.urls")),
    path("", include("webui.kb_urls")),
]
