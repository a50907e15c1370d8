"""Saved reviews: save from a result, read, revise, compare, discuss. Thin views over services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from advisor.core.errors import InputError
from webui import limits, services
from webui.forms import VERSION_CHOICES
from webui.models import Comment, Review


class SaveForm(forms.Form):
    """What a person adds when saving a result as a review."""

    title = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    tags = forms.CharField(
        required=False, max_length=300, help_text="Separated by spaces or commas"
    )
    redact_secrets = forms.BooleanField(
        required=False, initial=True, label="Redact secrets before storing (recommended)"
    )


class EditForm(SaveForm):
    """A new revision of a review: its input plus the version the editor started from."""

    manifest = forms.CharField(
        required=False, strip=False, widget=forms.Textarea(attrs={"rows": 20, "wrap": "off"})
    )
    kubernetes_version = forms.ChoiceField(choices=VERSION_CHOICES)
    api_defaults = forms.BooleanField(required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)
    note = forms.CharField(required=False, max_length=200, label="What changed")


class CommentForm(forms.Form):
    body = forms.CharField(max_length=10_000, widget=forms.Textarea(attrs={"rows": 3}))


def _review_for(request: HttpRequest, slug: str, *, edit: bool = False) -> Review:
    review = get_object_or_404(Review, slug=slug)
    if edit and not review.can_edit(request.user):
        raise PermissionDenied("only the author or staff can change this review")
    return review


def _save_too_big(request: HttpRequest) -> HttpResponse:
    """413 in the save form's result box (the body was not read)."""
    context = {"error": limits.too_large_message()}
    return render(request, "reviews/_saved.html", context, status=413)


@limits.too_large_response(_save_too_big)
@require_POST
def save(request: HttpRequest) -> HttpResponse:
    """Save the current analysis or questionnaire result as a new review."""
    if not request.user.is_authenticated:
        login = f"{reverse('login')}?next={request.POST.get('next', reverse('analyze'))}"
        if request.htmx:
            return render(request, "reviews/_saved.html", {"login_url": login}, status=401)
        return HttpResponseRedirect(login)
    form = SaveForm(request.POST)
    context: dict[str, Any] = {"save_form": form}
    if form.is_valid():
        try:
            review = services.create_review(
                author=request.user,
                title=form.cleaned_data["title"],
                description=form.cleaned_data["description"],
                tags=services.parse_tags(form.cleaned_data["tags"]),
                redact_secrets=form.cleaned_data["redact_secrets"],
                prepared=_prepared_from_post(request.POST, form.cleaned_data["redact_secrets"]),
            )
        except (ValueError, InputError) as exc:
            context["error"] = str(exc)
        else:
            if not request.htmx:
                return redirect(review)
            context["review"] = review
    status = 200 if "review" in context else 400
    return render(request, "reviews/_saved.html", context, status=status)


def _prepared_from_post(data: Any, redact_secrets: bool) -> services.Prepared:
    kind = data.get("kind", Review.Kind.MANIFEST)
    version = data.get("kubernetes_version") or "1.37"
    if kind == Review.Kind.QUESTIONNAIRE:
        answers = {k: v for k, v in data.items() if k not in _NOT_ANSWERS}
        return services.prepare(kind=kind, answers=answers, kubernetes_version=version)
    manifest = data.get("manifest", "")
    if not manifest.strip():
        raise ValueError("there is no manifest to save; analyse one first")
    return services.prepare(
        kind=Review.Kind.MANIFEST,
        manifest=manifest,
        kubernetes_version=version,
        api_defaults=data.get("api_defaults") in ("on", "true", "True", "1"),
        redact_secrets=redact_secrets,
    )


_NOT_ANSWERS = {
    "csrfmiddlewaretoken",
    "kind",
    "title",
    "description",
    "tags",
    "redact_secrets",
    "next",
    "app_name",
    "app_image",
    "helper_name",
    "helper_image",
}


@login_required
@require_GET
def detail(request: HttpRequest, slug: str) -> HttpResponse:
    """A review's permalink: its analysis as saved, the discussion, and what can be done."""
    review = _review_for(request, slug)
    return render(request, "reviews/detail.html", _detail_context(request, review))


def _detail_context(request: HttpRequest, review: Review, **extra: Any) -> dict[str, Any]:
    return {
        "review": review,
        "can_edit": review.can_edit(request.user),
        "comments": review.comments.select_related("author"),
        "comment_form": CommentForm(),
        "revisions": review.revisions.all(),
        "statuses": Review.Status.choices,
        "snapshot": review.snapshot,
        "unredacted_revisions": _unredacted(request, review),
        **extra,
    }


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, slug: str) -> HttpResponse:
    """Edit a review's input: a new revision, refused if someone saved in between."""
    review = _review_for(request, slug, edit=True)
    if request.method == "GET":
        return render(request, "reviews/edit.html", {"review": review, "form": _edit_form(review)})
    form = EditForm(request.POST)
    if not form.is_valid():
        return render(request, "reviews/edit.html", {"review": review, "form": form}, status=400)
    data = form.cleaned_data
    try:
        prepared = _prepared_for_edit(review, data)
        review = services.revise(
            review,
            author=request.user,
            expected_version=data["version"],
            prepared=prepared,
            title=data["title"],
            description=data["description"],
            tags=services.parse_tags(data["tags"]),
            redact_secrets=data["redact_secrets"],
            note=data["note"],
        )
    except services.EditConflict as conflict:
        return _conflict(request, review, form, conflict.current)
    except (ValueError, InputError) as exc:
        form.add_error(None, str(exc))
        return render(request, "reviews/edit.html", {"review": review, "form": form}, status=400)
    if data["redact_secrets"] and services.unredacted_revisions(review):
        return redirect("review-secrets", review.slug)  # offer to redact or purge them
    return redirect(review)


def _edit_form(review: Review) -> EditForm:
    return EditForm(
        initial={
            "title": review.title,
            "description": review.description,
            "tags": " ".join(t.name for t in review.tags.all()),
            "redact_secrets": review.redact_secrets,
            "manifest": review.manifest,
            "kubernetes_version": review.kubernetes_version,
            "api_defaults": review.api_defaults,
            "version": review.version,
        }
    )


def _prepared_for_edit(review: Review, data: dict[str, Any]) -> services.Prepared:
    if review.kind == Review.Kind.QUESTIONNAIRE:
        answers = dict(review.answers, kubernetes_version=data["kubernetes_version"])
        return services.prepare(
            kind=review.kind, answers=answers, kubernetes_version=data["kubernetes_version"]
        )
    return services.prepare(
        kind=Review.Kind.MANIFEST,
        manifest=data["manifest"],
        kubernetes_version=data["kubernetes_version"],
        api_defaults=data["api_defaults"],
        redact_secrets=data["redact_secrets"],
    )


def _conflict(
    request: HttpRequest, review: Review, form: EditForm, current: Review
) -> HttpResponse:
    """Refuse the save and show both versions; the editor's text stays in the form."""
    mine = form.cleaned_data.get("manifest", "")
    theirs = current.manifest
    import difflib

    diff = "".join(
        difflib.unified_diff(
            theirs.splitlines(keepends=True),
            mine.splitlines(keepends=True),
            fromfile=f"saved (version {current.version})",
            tofile="yours",
        )
    )
    data = form.data.copy()
    data["version"] = str(current.version)  # a deliberate second save overwrites
    context = {
        "review": current,
        "form": EditForm(data),
        "conflict": {"current": current, "diff": diff, "theirs": theirs},
    }
    return render(request, "reviews/edit.html", context, status=409)


@login_required
@require_POST
def change_status(request: HttpRequest, slug: str) -> HttpResponse:
    review = _review_for(request, slug, edit=True)
    status = request.POST.get("status")
    if status not in Review.Status.values:
        return HttpResponse("unknown status", status=400)
    try:
        services.update_fields(
            review, expected_version=_int(request.POST.get("version")), status=status
        )
    except services.EditConflict:
        return HttpResponse("the review changed meanwhile; reload it", status=409)
    return redirect(review)


@login_required
@require_POST
def delete(request: HttpRequest, slug: str) -> HttpResponse:
    review = _review_for(request, slug, edit=True)
    review.delete()
    if request.htmx:
        return HttpResponseClientRedirect(reverse("reviews"))
    return redirect("reviews")


@login_required
@require_POST
def add_comment(request: HttpRequest, slug: str) -> HttpResponse:
    review = _review_for(request, slug)
    form = CommentForm(request.POST)
    if form.is_valid():
        Comment.objects.create(review=review, author=request.user, body=form.cleaned_data["body"])
        if not request.htmx:
            return redirect(f"{review.get_absolute_url()}#comments")
        form = CommentForm()
    context = _detail_context(request, review, comment_form=form)
    template = "reviews/detail.html#comments" if request.htmx else "reviews/detail.html"
    return render(request, template, context, status=200 if form.is_bound is False else 400)


@login_required
@require_POST
def delete_comment(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    review = _review_for(request, slug)
    comment = get_object_or_404(Comment, pk=pk, review=review)
    if comment.author_id != request.user.pk and not request.user.is_staff:
        raise PermissionDenied("only the comment's author or staff can delete it")
    comment.delete()
    if request.htmx:
        return render(request, "reviews/detail.html#comments", _detail_context(request, review))
    return redirect(f"{review.get_absolute_url()}#comments")


@login_required
@require_GET
def history(request: HttpRequest, slug: str) -> HttpResponse:
    """Revisions of a review, and the diff and finding changes between any two."""
    review = _review_for(request, slug)
    revisions = list(review.revisions.all())
    context: dict[str, Any] = {"review": review, "revisions": revisions}
    a_num, b_num = _int(request.GET.get("a")), _int(request.GET.get("b"))
    if revisions and a_num is None:  # numbers may have gaps: purged revisions
        a_num, b_num = revisions[-min(2, len(revisions))].number, revisions[-1].number
    by_number = {r.number: r for r in revisions}
    a, b = by_number.get(a_num or 0), by_number.get(b_num or 0)
    if a is not None and b is not None:
        a, b = _shown(review, a), _shown(review, b)
        context |= {
            "a": a,
            "b": b,
            "diff": services.revision_diff(a, b),
            "comparison": services.compare(a.snapshot, b.snapshot),
        }
    template = "reviews/history.html#compare" if request.htmx else "reviews/history.html"
    return render(request, template, context)


@login_required
@require_http_methods(["GET", "POST"])
def reanalyse(request: HttpRequest, slug: str) -> HttpResponse:
    """Show what today's analyser says differently; the author may save it as a revision."""
    review = _review_for(request, slug, edit=request.method == "POST")
    if request.method == "POST":
        snapshot, _ = services.reanalyse(review)
        prepared = services.prepare(
            kind=review.kind,
            manifest=review.manifest,
            answers=review.answers,
            kubernetes_version=review.kubernetes_version,
            api_defaults=review.api_defaults,
            redact_secrets=False,
        )
        try:
            services.revise(
                review,
                author=request.user,
                expected_version=_int(request.POST.get("version")) or review.version,
                prepared=prepared,
                note=f"re-analysed with analyser {snapshot.get('analyzer_version', '')}",
            )
        except services.EditConflict:
            return HttpResponse("the review changed meanwhile; reload it", status=409)
        return redirect(review)
    _, comparison = services.reanalyse(review)
    context = {
        "review": review,
        "comparison": comparison,
        "can_edit": review.can_edit(request.user),
    }
    template = "reviews/reanalyse.html#comparison" if request.htmx else "reviews/reanalyse.html"
    return render(request, template, context)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _unredacted(request: HttpRequest, review: Review) -> list[int]:
    """Earlier revisions with secrets, for the author to act on while redaction is on."""
    if not (review.redact_secrets and review.can_edit(request.user)):
        return []
    return services.unredacted_revisions(review)


def _shown(review: Review, revision: Any) -> Any:
    """A copy of a revision as it may be shown (redacted while the review asks for it)."""
    import copy

    shown = copy.copy(revision)
    shown.manifest, shown.snapshot = services.shown_revision(review, revision)
    return shown


@login_required
@require_http_methods(["GET", "POST"])
def secrets(request: HttpRequest, slug: str) -> HttpResponse:
    """Offer to redact, or purge, the earlier revisions that still hold secrets."""
    review = _review_for(request, slug, edit=True)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "redact":
            services.redact_revisions(review)
        elif action == "purge":
            services.purge_revisions(review)
        elif action != "keep":
            return HttpResponse("unknown action", status=400)
        return redirect(review)
    numbers = services.unredacted_revisions(review) if review.redact_secrets else []
    return render(request, "reviews/secrets.html", {"review": review, "numbers": numbers})
