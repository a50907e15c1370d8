"""Saving a review from the analyser in a real browser, after logging in, keeps the text."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from tests.conftest import CORPUS

LEGACY_JOB = (
    CORPUS / "kubernetes__website__content__en__examples__application__job__job-sidecar-legacy.yaml"
)


@pytest.mark.django_db(transaction=True)
def test_it_saves_a_review_after_logging_in_without_losing_the_text(page: Page) -> None:
    User.objects.create_user("ada", password="correct horse battery")
    base = page.base  # type: ignore[attr-defined]
    page.goto(f"{base}/analyze/")
    page.fill("#id_manifest", LEGACY_JOB.read_text())
    page.click("#analyze-form button.primary")
    expect(page.locator("#result article.workload")).to_have_count(1)
    page.get_by_text("Save as a design review").click()
    page.get_by_role("link", name="Log in").last.click()
    page.fill("#id_username", "ada")
    page.fill("#id_password", "correct horse battery")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{base}/analyze/")
    expect(page.locator("#id_manifest")).to_have_value(LEGACY_JOB.read_text())
    page.click("#analyze-form button.primary")
    page.get_by_text("Save as a design review").click()
    page.fill("#save-title", "Nightly export job")
    page.get_by_role("button", name="Save review").click()
    saved = page.locator("#save-result a")
    expect(saved).to_have_text("Nightly export job")
    saved.click()
    expect(page.locator("h1")).to_have_text("Nightly export job")
    expect(page.locator("main")).to_contain_text("classic-sidecar-blocks-job")
