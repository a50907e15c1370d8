"""Thin views: parse the request, call the core, render."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def home(request: HttpRequest) -> HttpResponse:
    """Show what the tool does and the ways in."""
    return render(request, "home.html")
