"""The knowledge base: find reviews, see which rules they raise, statistics, export and import.

Every page needs a login (reviews are the team's, not public). Views are thin: they read the
request, query with the ORM, and render a page, or its list fragment for htmx.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Substr, TruncMonth
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods

from advisor.core.errors import InputError
from advisor.core.patterns import PATTERNS
from advisor.core.rules import REGISTRY
from advisor.core.yamlload import decode
from webui import exchange, kb_charts, limits
from webui.forms import VERSION_CHOICES
from webui.models import Review, ReviewRule, Tag

PAGE_SIZE = 20
MAX_SEARCH_WORDS = 10
# PostgreSQL: the text configuration of the full-text search, and how much of a manifest is
# indexed (to_tsvector refuses documents whose vector exceeds 1 MB; 200,000 characters of YAML
# stay far below that).
SEARCH_CONFIG = "english"
MANIFEST_SEARCH_CHARS = 200_000


# ---------------------------------------------------------------------------------------------
# the review list


class ReviewFilterForm(forms.Form):
    """Search words and filters of the review list; every field is optional."""

    q = forms.CharField(
        required=False,
        max_length=200,
        label="Search",
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "words in title, description or manifest"}
        ),
    )
    pattern = forms.ChoiceField(required=False, label="Pattern")
    rule = forms.ChoiceField(required=False, label="Rule")
    status = forms.ChoiceField(
        required=False, label="Status", choices=[("", "Any status"), *Review.Status.choices]
    )
    tag = forms.ChoiceField(required=False, label="Tag")
    author = forms.ChoiceField(required=False, label="Author")
    kubernetes_version = forms.ChoiceField(required=False, label="Kubernetes")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        used_patterns = set(
            Review.objects.exclude(pattern="").values_list("pattern", flat=True).distinct()
        )
        self.fields["pattern"].choices = [
            ("", "Any pattern"),
            *((pid, p.title) for pid, p in PATTERNS.items()),
            *((p, p) for p in sorted(used_patterns - set(PATTERNS))),
        ]
        raised = set(
            ReviewRule.objects.filter(review__deleted_at__isnull=True)
            .values_list("rule_id", flat=True)
            .distinct()
        )
        self.fields["rule"].choices = [
            ("", "Any rule"),
            *((rid, rid) for rid in sorted(set(REGISTRY) | raised)),
        ]
        self.fields["tag"].choices = [
            ("", "Any tag"),
            *((t, t) for t in Tag.objects.order_by("name").values_list("name", flat=True)),
        ]
        username = get_user_model().USERNAME_FIELD
        authors = (
            get_user_model()
            .objects.filter(reviews__isnull=False, reviews__deleted_at__isnull=True)
            .order_by(username)
            .values_list(username, flat=True)
            .distinct()
        )
        self.fields["author"].choices = [("", "Anyone"), *((a, a) for a in authors)]
        versions = {v for v, _ in VERSION_CHOICES}
        stored = set(Review.objects.values_list("kubernetes_version", flat=True).distinct())
        self.fields["kubernetes_version"].choices = [
            ("", "Any version"),
            *VERSION_CHOICES,
            *((v, v) for v in sorted(stored - versions)),
        ]

    def filters(self) -> dict[str, str]:
        """The valid, non-empty values (an invalid one is reported and not applied)."""
        self.is_valid()
        return {k: v for k, v in getattr(self, "cleaned_data", {}).items() if v}


def search(queryset: QuerySet[Review], text: str) -> QuerySet[Review]:
    """Reviews matching ``text``: full-text search on PostgreSQL, every word on other databases."""
    words = text.split()[:MAX_SEARCH_WORDS]
    if not words:
        return queryset
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

        vector = (
            SearchVector("title", weight="A", config=SEARCH_CONFIG)
            + SearchVector("description", weight="B", config=SEARCH_CONFIG)
            + SearchVector(
                Substr("manifest", 1, MANIFEST_SEARCH_CHARS), weight="C", config=SEARCH_CONFIG
            )
        )
        query = SearchQuery(" ".join(words), search_type="websearch", config=SEARCH_CONFIG)
        # Every word must match: in the text, or as one of the review's tags.
        condition = Q()
        for word in words:
            tagged = Review.objects.filter(tags__name=_tag_word(word)).values("pk")
            one = SearchQuery(word, search_type="websearch", config=SEARCH_CONFIG)
            condition &= Q(search=one) | Q(pk__in=tagged)
        return (
            queryset.annotate(search=vector, rank=SearchRank(vector, query))
            .filter(condition)
            .order_by("-rank", "-updated", "-pk")
        )
    condition = Q()
    for word in words:
        tagged = Review.objects.filter(tags__name__icontains=_tag_word(word)).values("pk")
        condition &= (
            Q(title__icontains=word)
            | Q(description__icontains=word)
            | Q(manifest__icontains=word)
            | Q(pk__in=tagged)
        )
    return queryset.filter(condition)


def _tag_word(word: str) -> str:
    """A search word as a tag name: ``#Team-A`` finds the tag ``team-a``."""
    return word.lstrip("#").lower()


def filter_reviews(filters: dict[str, str]) -> QuerySet[Review]:
    """The reviews the list shows for ``filters`` (as :meth:`ReviewFilterForm.filters`)."""
    qs = (
        Review.objects.select_related("author").prefetch_related("tags").order_by("-updated", "-pk")
    )
    if "pattern" in filters:
        qs = qs.filter(pattern=filters["pattern"])
    if "rule" in filters:
        qs = qs.filter(raised__rule_id=filters["rule"])
    if "status" in filters:
        qs = qs.filter(status=filters["status"])
    if "tag" in filters:
        qs = qs.filter(tags__name=filters["tag"])
    if "author" in filters:
        qs = qs.filter(**{f"author__{get_user_model().USERNAME_FIELD}": filters["author"]})
    if "kubernetes_version" in filters:
        qs = qs.filter(kubernetes_version=filters["kubernetes_version"])
    return search(qs, filters.get("q", ""))


def paginate(request: HttpRequest, queryset: QuerySet[Review]) -> Page:
    """The requested page (``?page=``); a bad or too large number gives the nearest page.

    Each review on it gets ``pattern_title``, the pattern's display name.
    """
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    for review in page:
        pattern = PATTERNS.get(review.pattern)
        review.pattern_title = pattern.title if pattern else review.pattern
    return page


def _fragment(request: HttpRequest) -> bool:
    """An htmx request that swaps a fragment (not a history restore, which needs a page)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


@login_required
@require_GET
def review_list(request: HttpRequest) -> HttpResponse:
    """Search and filter the team's reviews; htmx gets the list fragment only."""
    form = ReviewFilterForm(request.GET)
    filters = form.filters()
    page = paginate(request, filter_reviews(filters))
    context = {
        "form": form,
        "page_obj": page,
        "filters": filters,
        "rule": REGISTRY.get(filters.get("rule", "")),
        "hx_target": "#review-list",
        "query": clean_query(request),
    }
    fragment = _fragment(request)
    response = render(request, "kb/reviews.html#list" if fragment else "kb/reviews.html", context)
    if fragment:
        # The address bar shows the filters in use, not every empty field of the form.
        response["HX-Push-Url"] = _clean_url(request)
    patch_vary_headers(response, ("HX-Request",))
    return response


def clean_query(request: HttpRequest) -> QueryDict:
    """The query parameters without the empty ones (a form submits every field)."""
    params = QueryDict(mutable=True)
    for key, values in request.GET.lists():
        kept = [v for v in values if v.strip()]
        if kept:
            params.setlist(key, kept)
    return params


def _clean_url(request: HttpRequest) -> str:
    query = clean_query(request).urlencode()
    return f"{request.path}?{query}" if query else request.path


@login_required
@require_GET
def rule_reviews(request: HttpRequest, rule_id: str) -> HttpResponse:
    """What a rule checks and the reviews that raised it."""
    rule = REGISTRY.get(rule_id)
    reviews = filter_reviews({"rule": rule_id})
    # A rule removed from the analyser keeps its page while saved reviews still carry it.
    if rule is None and not reviews.exists():
        raise Http404("no such rule")
    context = {
        "rule": rule,
        "rule_id": rule_id,
        "page_obj": paginate(request, reviews),
        "query": clean_query(request),
    }
    return render(request, "kb/rule_reviews.html", context)


# ---------------------------------------------------------------------------------------------
# statistics


@login_required
@require_GET
def review_stats(request: HttpRequest) -> HttpResponse:
    """Charts: patterns over time, the most frequent findings, reviews per tag."""
    tag = request.GET.get("tag", "").strip()
    by = request.GET.get("by", "status")
    if by not in ("status", "pattern"):
        by = "status"
    selected = Review.objects.all()
    if tag:
        selected = selected.filter(tags__name=tag)
    # One subquery, so that grouping by tag below sees every tag of the selected reviews.
    reviews = Review.objects.filter(pk__in=selected.values("pk"))
    monthly = (
        reviews.annotate(month=TruncMonth("created"))
        .values_list("month", "pattern")
        .annotate(n=Count("id", distinct=True))
        .order_by("month", "pattern")
    )
    findings = (
        ReviewRule.objects.filter(review__in=reviews)
        .values_list("rule_id")
        .annotate(n=Count("review", distinct=True))
        .order_by("-n", "rule_id")[: kb_charts.TOP_FINDINGS]
    )
    per_tag = (
        reviews.values_list("tags__name", by)
        .annotate(n=Count("id", distinct=True))
        .order_by("tags__name", by)
    )
    pattern_titles = {pid: p.title for pid, p in PATTERNS.items()}
    if by == "status":
        group_labels, colours = dict(Review.Status.choices), kb_charts.STATUS_COLOURS
    else:
        group_labels, colours = pattern_titles, {}
    charts = [
        (
            "chart-patterns",
            "Patterns chosen over time",
            "Month",
            kb_charts.patterns_over_time(list(monthly), titles=pattern_titles),
        ),
        (
            "chart-findings",
            "Most frequent findings",
            "Rule",
            kb_charts.top_findings(
                list(findings), titles={rid: r.title for rid, r in REGISTRY.items()}
            ),
        ),
        (
            "chart-tags",
            f"Reviews per team tag, by {by}",
            "Tag",
            kb_charts.by_tag(list(per_tag), labels=group_labels, colours=colours, group_title=by),
        ),
    ]
    context = {
        "charts": [
            {
                "id": chart_id,
                "title": title,
                "key_heading": key_heading,
                "figure": figure,
                "table": kb_charts.table_rows(figure),
            }
            for chart_id, title, key_heading, figure in charts
        ],
        "total": reviews.count(),
        "tag": tag,
        "by": by,
        "tags": Tag.objects.order_by("name").values_list("name", flat=True),
    }
    return render(request, "kb/stats.html", context)


# ---------------------------------------------------------------------------------------------
# export


def _download(body: str, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def export_markdown(request: HttpRequest, slug: str) -> HttpResponse:
    """The review as Markdown, for a pull request or a wiki page."""
    review = get_object_or_404(Review.objects.select_related("author"), slug=slug)
    link = request.build_absolute_uri(review.get_absolute_url())
    return _download(
        exchange.review_markdown(review, link=link),
        "text/markdown; charset=utf-8",
        exchange.export_filename(review, "md"),
    )


@login_required
@require_GET
def export_json(request: HttpRequest, slug: str) -> HttpResponse:
    """The review as the stable JSON document that the import page reads."""
    review = get_object_or_404(Review.objects.select_related("author"), slug=slug)
    body = json.dumps(exchange.review_document(review), indent=2, ensure_ascii=False)
    return _download(
        body + "\n", "application/json; charset=utf-8", exchange.export_filename(review, "json")
    )


# ---------------------------------------------------------------------------------------------
# import


class ImportForm(forms.Form):
    """An exported review, as a file or pasted, and whether to keep its secret values."""

    upload = forms.FileField(
        required=False,
        label="Exported review (.json)",
        widget=forms.ClearableFileInput(attrs={"accept": ".json,application/json"}),
    )
    document = forms.CharField(
        required=False,
        strip=False,
        label="or paste the exported JSON",
        widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false", "wrap": "off"}),
    )
    keep_secrets = forms.BooleanField(
        required=False,
        label="Keep secret values (by default they are redacted before storing)",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        upload, pasted = data.get("upload"), data.get("document") or ""
        limit = settings.ADVISOR_MAX_INPUT_BYTES
        too_big = forms.ValidationError(
            f"The document is larger than {limit // 1024:,} KiB, the most this site imports.",
            code="too_big",
        )
        if upload is not None and pasted.strip():
            raise forms.ValidationError("Upload a file or paste the JSON, not both.")
        if upload is not None:
            if upload.size > limit:
                raise too_big
            try:
                text = decode(upload.read(), file=upload.name)
            except InputError as exc:
                raise forms.ValidationError(exc.describe()) from None
        elif pasted.strip():
            if len(pasted.encode("utf-8", "surrogatepass")) > limit:
                raise too_big
            text = pasted
        else:
            raise forms.ValidationError("Choose an exported .json file or paste its content.")
        data["parsed"] = _parse_json(text)
        try:
            exchange.validate_document(data["parsed"])
        except exchange.InvalidDocument as exc:
            raise forms.ValidationError(exc.errors) from None
        return data


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON")


def _parse_json(text: str) -> Any:
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise forms.ValidationError(
            f"This is not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})."
        ) from None
    except (ValueError, RecursionError) as exc:
        raise forms.ValidationError(f"This JSON cannot be read: {exc}") from None


def _import_too_big(request: HttpRequest) -> HttpResponse:
    """413 on the import page: the request was not read."""
    limit = settings.ADVISOR_MAX_INPUT_BYTES
    message = (
        f"The request is larger than {limit // 1024:,} KiB, so it was not read; "
        "upload the exported file instead of pasting it, or import a smaller review."
    )
    return _import_page(request, ImportForm(), status=413, errors=[message])


@limits.too_large_response(_import_too_big)
@login_required
@require_http_methods(["GET", "POST"])
def review_import(request: HttpRequest) -> HttpResponse:
    """Import an exported review as a new review of the current user, re-analysed today."""
    if request.method == "GET":
        return _import_page(request, ImportForm())
    try:
        form = ImportForm(request.POST, request.FILES)
        valid = form.is_valid()
    except RequestDataTooBig:
        return _import_too_big(request)
    if valid:
        parsed = form.cleaned_data["parsed"]
        redact_secrets = not form.cleaned_data["keep_secrets"]
        existing = exchange.existing_review(parsed)
        if existing is not None and existing.deleted_at and not existing.can_edit(request.user):
            existing = None  # someone else's bin: import a copy, say nothing about it
        choice = request.POST.get("existing", "")
        if existing is not None and choice not in ("update", "copy"):
            # Never a silent duplicate: say that the review exists and let the user choose,
            # once the document is known to import at all.
            try:
                exchange.prepare_document(exchange.validate_document(parsed), redact_secrets)
            except exchange.InvalidDocument as exc:
                form.add_error(None, exc.errors)
                return _import_page(request, form, status=400)
            data = request.POST.copy()
            data["document"] = json.dumps(parsed, indent=2, ensure_ascii=False)
            context = {"existing": existing, "can_update": existing.can_edit(request.user)}
            return _import_page(request, ImportForm(data), status=409, **context)
        try:
            if existing is not None and choice == "update":
                if not existing.can_edit(request.user):
                    raise PermissionDenied("only the review's author or staff can update it")
                review = exchange.update_from_document(
                    existing, parsed, author=request.user, redact_secrets=redact_secrets
                )
            else:
                review = exchange.import_review(
                    parsed,
                    author=request.user,
                    redact_secrets=redact_secrets,
                    copy=choice == "copy",
                )
        except exchange.InvalidDocument as exc:
            form.add_error(None, exc.errors)
        else:
            return redirect(review.get_absolute_url())
    return _import_page(request, form, status=400)


def _import_page(
    request: HttpRequest,
    form: ImportForm,
    *,
    status: int = 200,
    errors: list[str] | None = None,
    **extra: Any,
) -> HttpResponse:
    """The import form; ``errors`` are messages about a request the form could not read."""
    context = {
        "form": form,
        "errors": errors or [],
        "max_kib": settings.ADVISOR_MAX_INPUT_BYTES // 1024,
        **extra,
    }
    return render(request, "kb/import.html", context, status=status)
