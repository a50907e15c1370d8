"""Saved reviews: save from a result, read, revise, compare, discuss. Thin views over services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import resolve, reverse
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from advisor.core.errors import InputError
from webui import limits, services
from webui.forms import VERSION_CHOICES
from webui.models import Comment, Review, Verdict


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
    line = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    parent = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


class VerdictForm(forms.Form):
    verdict = forms.ChoiceField(choices=Verdict.Kind.choices, widget=forms.RadioSelect)
    body = forms.CharField(
        required=False,
        max_length=10_000,
        label="Comment",
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class RequestForm(forms.Form):
    reviewers = forms.CharField(
        max_length=500,
        label="Request review from",
        help_text="User names, or a team (a group) as @team; separated by spaces or commas",
    )


def _review_for(request: HttpRequest, slug: str, *, edit: bool = False) -> Review:
    review = get_object_or_404(Review, slug=slug)
    if edit and not review.can_edit(request.user):
        raise PermissionDenied("only the author or staff can change this review")
    return review


def _fragment(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


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
    review = get_object_or_404(Review.all_objects, slug=slug)
    if review.deleted_at is not None:
        if not review.can_edit(request.user):
            raise Http404("No review with this id.")
        return render(request, "reviews/deleted.html", {"review": review})
    context = _detail_context(request, review, selected_line=_int(request.GET.get("line")))
    part = request.GET.get("part")
    if _fragment(request) and part in ("manifest", "comments", "workflow"):
        return render(request, f"reviews/detail.html#{part}", context)
    return render(request, "reviews/detail.html", context)


# The review page shows the manifest this many lines at a time (a 2 MB file has ~80,000).
MANIFEST_WINDOW = 1000
# Up to this size the page carries the manifest to "Open in the analyser"; above, a download.
OPEN_IN_PAGE_CHARS = 200_000


def _window(total: int, selected: int | None, start: int | None) -> dict[str, int]:
    """The lines the page shows: the window holding the selected line, or from ``start``."""
    first = start or 1
    if selected and 1 <= selected <= total:
        first = (selected - 1) // MANIFEST_WINDOW * MANIFEST_WINDOW + 1
    first = max(1, min(first, max(total, 1)))
    last = min(total, first + MANIFEST_WINDOW - 1)
    return {
        "first": first,
        "last": last,
        "total": total,
        "previous": max(1, first - MANIFEST_WINDOW) if first > 1 else 0,
        "next": last + 1 if last < total else 0,
    }


def _detail_context(request: HttpRequest, review: Review, **extra: Any) -> dict[str, Any]:
    revisions = list(review.revisions.all())
    all_threads = services.threads(review)
    lines = services.manifest_lines(review.manifest) if review.manifest else []
    window = _window(len(lines), extra.get("selected_line"), _int(request.GET.get("from")))
    shown = range(window["first"], window["last"] + 1)
    on_line: dict[int, list[dict[str, Any]]] = {}
    for t in all_threads:
        if t["comment"].line and not t["outdated"]:
            on_line.setdefault(t["comment"].line, []).append(t)
    findings_at: dict[int, list[dict[str, Any]]] = {}
    for w in (review.snapshot or {}).get("workloads", []):
        for f in w.get("findings", []):
            if isinstance(f.get("line"), int):
                findings_at.setdefault(f["line"], []).append(f)
    user = request.user
    can_verdict = (
        user.is_authenticated
        and (user.pk != review.author_id or services.self_approval_allowed())
        and bool(revisions)
    )
    statuses = [
        (v, label)
        for v, label in Review.Status.choices
        if v != Review.Status.APPROVED
        or user.pk != review.author_id
        or services.self_approval_allowed()
        or v == review.status
    ]
    return {
        "review": review,
        "can_edit": review.can_edit(user),
        # Beside the manifest: current line threads in the window; the rest in the discussion.
        "threads": [
            t
            for t in all_threads
            if not t["comment"].line or t["outdated"] or t["comment"].line not in shown
        ],
        "all_threads": all_threads,
        "comment_count": review.comments.count(),
        "manifest_lines": [
            {
                "number": n,
                "text": text,
                "threads": on_line.get(n, []),
                "findings": findings_at.get(n, []),
            }
            for n, text in enumerate(lines[window["first"] - 1 : window["last"]], window["first"])
        ],
        "window": window,
        "open_in_page": len(review.manifest) <= OPEN_IN_PAGE_CHARS,
        # A line comment refused for a line not shown (none such): its text is offered again.
        "stray_line": extra.get("selected_line")
        if extra.get("selected_line") and extra["selected_line"] not in shown
        else None,
        "comment_form": CommentForm(),
        "revisions": revisions,
        "revision_number": revisions[-1].number if revisions else 0,
        "statuses": statuses,
        "snapshot": review.snapshot,
        "reviewers": services.reviewer_states(review),
        "verdict_form": VerdictForm(),
        "request_form": RequestForm(),
        "can_verdict": can_verdict,
        "events": review.events.select_related("actor"),
        "unredacted_revisions": _unredacted(request, review),
        **extra,
    }


def _edit_too_big(request: HttpRequest) -> HttpResponse:
    """413 on the edit page (the body was not read, so the saved text is shown again)."""
    slug = resolve(request.path_info).kwargs.get("slug", "")
    review = Review.objects.filter(slug=slug).first()
    if review is None or not review.can_edit(request.user):
        return HttpResponse(limits.too_large_message(), status=413, content_type="text/plain")
    form = _edit_form(review)
    message = (
        f"{limits.too_large_message()} Nothing was saved. Your edited text is still in your "
        "browser: go back to copy it, then save a smaller manifest."
    )
    context = {"review": review, "form": form, "too_large": message}
    return render(request, "reviews/edit.html", context, status=413)


@limits.too_large_response(_edit_too_big)
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
    mine = services.normalise_newlines(form.cleaned_data.get("manifest", ""))
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
    if (
        status == Review.Status.APPROVED
        and status != review.status
        and request.user.pk == review.author_id
        and not services.self_approval_allowed()
    ):
        raise PermissionDenied("You cannot approve your own review; request a reviewer.")
    try:
        services.update_fields(
            review,
            expected_version=_int(request.POST.get("version")),
            actor=request.user,
            status=status,
        )
    except services.EditConflict:
        return HttpResponse("the review changed meanwhile; reload it", status=409)
    return redirect(review)


@login_required
@require_http_methods(["GET", "POST"])
def delete(request: HttpRequest, slug: str) -> HttpResponse:
    """GET asks for confirmation; POST moves the review to the bin (it can be restored)."""
    review = _review_for(request, slug, edit=True)
    if request.method == "GET":
        return render(request, "reviews/delete.html", {"review": review})
    services.soft_delete(review, by=request.user)
    messages.success(
        request,
        f"“{review.title}” was deleted. You can restore it from Recently deleted.",
    )
    if request.htmx:
        return HttpResponseClientRedirect(reverse("reviews-deleted"))
    return redirect("reviews-deleted")


@login_required
@require_POST
def restore(request: HttpRequest, slug: str) -> HttpResponse:
    """Undo a delete (the author or staff; anyone else gets the same 404 as for no review)."""
    review = get_object_or_404(Review.all_objects, slug=slug, deleted_at__isnull=False)
    if not review.can_edit(request.user):
        raise Http404("No review with this id.")
    services.restore(review, by=request.user)
    messages.success(request, f"“{review.title}” was restored.")
    return redirect(review)


@login_required
@require_GET
def recently_deleted(request: HttpRequest) -> HttpResponse:
    """Deleted reviews the user can restore."""
    context = {"deleted": services.recently_deleted(request.user)}
    return render(request, "reviews/recently_deleted.html", context)


@login_required
@require_POST
def request_reviewers(request: HttpRequest, slug: str) -> HttpResponse:
    """The author (or staff) asks colleagues or a team to review."""
    review = _review_for(request, slug, edit=True)
    form = RequestForm(request.POST)
    status = 200
    if form.is_valid():
        names = services.parse_names(form.cleaned_data["reviewers"])
        people, unknown = services.users_named(names)
        if unknown:
            form.add_error("reviewers", f"No user or team named {', '.join(unknown)}.")
        elif not people:
            form.add_error("reviewers", "Name at least one colleague.")
        else:
            services.request_review(review, by=request.user, reviewers=people)
            if not request.htmx:
                return redirect(f"{review.get_absolute_url()}#workflow")
            form = RequestForm()
    if form.errors:
        status = 400
    review.refresh_from_db()
    context = _detail_context(request, review, request_form=form)
    template = "reviews/detail.html#workflow" if request.htmx else "reviews/detail.html"
    return render(request, template, context, status=status)


@login_required
@require_POST
def withdraw_reviewer(request: HttpRequest, slug: str, user_id: int) -> HttpResponse:
    review = _review_for(request, slug, edit=True)
    request_row = get_object_or_404(review.requests.select_related("reviewer"), reviewer_id=user_id)
    services.withdraw_request(review, by=request.user, reviewer=request_row.reviewer)
    if request.htmx:
        review.refresh_from_db()
        return render(request, "reviews/detail.html#workflow", _detail_context(request, review))
    return redirect(f"{review.get_absolute_url()}#workflow")


@login_required
@require_POST
def verdict(request: HttpRequest, slug: str) -> HttpResponse:
    """A reviewer approves the latest revision or requests changes, with a comment."""
    review = _review_for(request, slug)
    form = VerdictForm(request.POST)
    if form.is_valid():
        try:
            services.give_verdict(
                review,
                reviewer=request.user,
                verdict=form.cleaned_data["verdict"],
                body=services.normalise_newlines(form.cleaned_data["body"]),
            )
        except services.NotAllowed as exc:
            raise PermissionDenied(str(exc)) from None
        if not request.htmx:
            return redirect(f"{review.get_absolute_url()}#workflow")
        form = VerdictForm()
    review.refresh_from_db()
    context = _detail_context(request, review, verdict_form=form)
    template = "reviews/detail.html#workflow" if request.htmx else "reviews/detail.html"
    return render(request, template, context, status=400 if form.errors else 200)


@login_required
@require_POST
def add_comment(request: HttpRequest, slug: str) -> HttpResponse:
    """A general comment, a comment on a manifest line, or a reply to a thread."""
    review = _review_for(request, slug)
    form = CommentForm(request.POST)
    line = None
    if form.is_valid():
        data = form.cleaned_data
        line = data.get("line")
        parent = None
        if data.get("parent"):
            parent = review.comments.filter(pk=data["parent"]).first()
            if parent is None:
                form.add_error(None, "The comment you replied to is gone.")
        if not form.errors:
            try:
                services.add_comment(
                    review,
                    author=request.user,
                    body=services.normalise_newlines(data["body"]),
                    line=line,
                    parent=parent,
                )
            except ValueError as exc:
                form.add_error(None, str(exc))
        if not form.errors:
            anchor = f"L{line}" if line else "comments"
            if not request.htmx:
                return redirect(f"{review.get_absolute_url()}#{anchor}")
            form = CommentForm()
            line = None
    context = _detail_context(request, review, comment_form=form, selected_line=line)
    part = _part(request)
    template = f"reviews/detail.html#{part}" if request.htmx else "reviews/detail.html"
    return render(request, template, context, status=400 if form.errors else 200)


@login_required
@require_POST
def resolve_comment(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Resolve or reopen a thread: its author, the review's author, or staff."""
    review = _review_for(request, slug)
    comment = get_object_or_404(Comment, pk=pk, review=review, parent__isnull=True)
    if comment.author_id != request.user.pk and not review.can_edit(request.user):
        raise PermissionDenied("only the thread's author, the review's author or staff resolve it")
    services.resolve(comment, by=request.user, resolved=request.POST.get("resolved") != "0")
    part = _part(request)
    if request.htmx:
        return render(request, f"reviews/detail.html#{part}", _detail_context(request, review))
    return redirect(f"{review.get_absolute_url()}#comment-{comment.pk}")


@login_required
@require_GET
def manifest_download(request: HttpRequest, slug: str) -> HttpResponse:
    """The stored manifest as a YAML file (LF line ends, as stored)."""
    review = _review_for(request, slug)
    response = HttpResponse(review.manifest, content_type="application/yaml; charset=utf-8")
    name = f"{slugify(review.title) or 'review'}.yaml"
    response["Content-Disposition"] = content_disposition_header(True, name)
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    """What waits on me: reviews to review, my reviews with changes requested, open threads."""
    context = services.waiting_on(request.user)
    return render(request, "reviews/mine.html", context)


@login_required
@require_POST
def delete_comment(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    review = _review_for(request, slug)
    comment = get_object_or_404(Comment, pk=pk, review=review)
    if comment.author_id != request.user.pk and not request.user.is_staff:
        raise PermissionDenied("only the comment's author or staff can delete it")
    comment.delete()
    if request.htmx:
        template = f"reviews/detail.html#{_part(request)}"
        return render(request, template, _detail_context(request, review))
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
        try:
            prepared = services.prepare(
                kind=review.kind,
                manifest=review.manifest,
                answers=review.answers,
                kubernetes_version=review.kubernetes_version,
                api_defaults=review.api_defaults,
                redact_secrets=False,
            )
        except (ValueError, InputError) as exc:  # stored before the budget, now over it
            return HttpResponse(f"not saved: {exc}", status=422, content_type="text/plain")
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


def _part(request: HttpRequest) -> str:
    """Which fragment of the review page an in-page comment action refreshes."""
    return "manifest" if request.POST.get("part") == "manifest" else "comments"


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
