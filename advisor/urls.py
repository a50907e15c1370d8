"""URL configuration."""

from django.contrib import admin
from django.urls import include, path

from webui import health
from webui.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("api/v1/", api.urls),
    path("", include("webui.urls")),
    path("", include("webui.kb_urls")),
]
