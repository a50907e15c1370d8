"""The JSON API, mounted at ``/api/v1/`` (README "JSON API").

``POST /analyze`` is open to anyone and returns the document ``manage.py analyze --format json``
prints. Everything under ``/reviews`` needs a user: an API token (``Authorization: Bearer ...``)
or the browser's Django session (CSRF enforced on unsafe methods). Permissions are the web's:
anyone logged in reads and comments; only the author or staff edit, delete or change status;
only a comment's author or staff delete it. The logic lives in :mod:`webui.services`.

Every 4xx body is ``{"detail": ...}``: a message, or (422) ninja's list of
``{"loc", "msg", "type"}`` entries, the same shape for our own checks as for schema validation.
"""

import json
from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
import pydantic
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.paginator import Paginator
from django.db import DatabaseError, transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from ninja import Field, NinjaAPI, Query, Schema, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer
from ninja.security.session import SessionAuth

from advisor.cli import exit_code
from advisor.core.errors import InputError
from advisor.core.lifecycle import assumptions_from_mapping
from advisor.core.report import to_dict
from advisor.core.versions import NEWEST, OLDEST, format_version, parse_version
from webui import budget, limits, services
from webui.models import ApiToken, Comment, Review

PAGE_SIZE = 20
DEFAULT_VERSION = format_version(NEWEST)
# Raw manifest bodies; anything else but application/json is refused with 415.
TEXT_TYPES = frozenset(
    {"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/plain"}
)
EXIT_CODE_HEADER = "X-Advisor-Exit-Code"


# --- authentication ------------------------------------------------------------------------


class BearerToken(HttpBearer):
    """``Authorization: Bearer <token>``: an :class:`ApiToken` (only its SHA-256 is stored)."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        token = token.strip()
        if not token:
            return None
        row = ApiToken.objects.select_related("user").filter(digest=ApiToken.hash(token)).first()
        if row is None or not row.user.is_active:
            return None
        ApiToken.objects.filter(pk=row.pk).update(last_used=timezone.now())
        return row.user


class LoggedInSession(SessionAuth):
    """The Django session, with ninja's CSRF check on unsafe methods (``csrf=True``).

    Consulted only when the session carries a logged-in user: an anonymous request then gets
    401 rather than a CSRF 403, and a token request never meets a CSRF check.
    """

    def __call__(self, request: HttpRequest) -> Any:
        if not request.user.is_authenticated:
            return None
        return super().__call__(request)


api = NinjaAPI(
    title="Pod Pattern Advisor API",
    version="1",
    description=(
        "Analyse Kubernetes manifests (anonymous) and keep design reviews (token or session). "
        "The analysis document is the one `manage.py analyze --format json` prints."
    ),
    urls_namespace="api",
    docs_url="/docs",
    auth=[BearerToken(), LoggedInSession(csrf=True)],
)


@api.exception_handler(AuthenticationError)
def unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = api.create_response(
        request,
        {"detail": "Authentication required: send 'Authorization: Bearer <token>' or log in."},
        status=401,
    )
    response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


@api.exception_handler(DatabaseError)
def database_unavailable(request: HttpRequest, exc: DatabaseError) -> HttpResponse:
    """Answer 503 with Retry-After while the database is unreachable; nothing was saved."""
    response = api.create_response(
        request, {"detail": "the database is unavailable; retry shortly"}, status=503
    )
    response["Retry-After"] = "5"
    return response


@api.exception_handler(RequestDataTooBig)
def too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return _too_large(request)


def _too_large(request: HttpRequest) -> HttpResponse:
    limit = settings.ADVISOR_MAX_INPUT_BYTES
    message = f"The manifest is larger than the limit of {limit} bytes ({limits.manifest_limit()})."
    return api.create_response(request, {"detail": message}, status=413)


def invalid(where: tuple[str, ...], message: str) -> ValidationError:
    """A 422 in ninja's own shape, for checks the schemas cannot express."""
    return ValidationError([{"loc": list(where), "msg": message, "type": "value_error"}])


def _pydantic_422(exc: pydantic.ValidationError, prefix: str) -> ValidationError:
    return ValidationError(
        [
            {"loc": [prefix, *e["loc"]], "msg": e["msg"], "type": e["type"]}
            for e in exc.errors(include_url=False)
        ]
    )


# --- schemas -------------------------------------------------------------------------------


class Detail(Schema):
    detail: str


def _version(value: str) -> str:
    """'1.31', 'v1.31.2' -> '1.31'; an unsupported version is a validation error."""
    return format_version(parse_version(value))


Version = Annotated[
    str,
    pydantic.AfterValidator(_version),
    Field(
        description=f"target Kubernetes version, {format_version(OLDEST)} to {DEFAULT_VERSION}",
        examples=["1.31"],
    ),
]
Title = Annotated[
    str, pydantic.StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
]
TagName = Annotated[
    str,
    pydantic.StringConstraints(
        strip_whitespace=True,
        to_lower=True,
        min_length=1,
        max_length=50,
        pattern=r"^[A-Za-z0-9_-]+$",
    ),
]
ReviewStatus = Literal["draft", "in-review", "changes-requested", "approved", "rejected"]
ReviewKind = Literal["manifest", "questionnaire"]
FailOn = Literal["error", "warning", "never"]


class AnalyzeIn(Schema):
    """The JSON form of ``POST /analyze`` (a raw YAML body takes the options as query params)."""

    manifest: str = Field(description="YAML or JSON manifest text, several documents allowed")
    kubernetes_version: Version | None = None
    api_defaults: bool | None = None
    assumptions: dict[str, Any] | None = Field(
        None, description="simulation assumptions, as `--assume` (README), e.g. init_run_seconds"
    )


class ReviewCreate(Schema):
    title: Title
    description: str = ""
    kind: ReviewKind = "manifest"
    manifest: str = Field("", description="for kind manifest")
    answers: dict[str, Any] | None = Field(None, description="for kind questionnaire")
    kubernetes_version: Version = DEFAULT_VERSION
    api_defaults: bool = True
    tags: list[TagName] = []
    status: ReviewStatus = "draft"
    redact_secrets: bool = Field(
        True, description="replace Secret values and credentials before anything is stored"
    )

    @pydantic.model_validator(mode="after")
    def _input_present(self) -> "ReviewCreate":
        if self.kind == "manifest" and not self.manifest.strip():
            raise ValueError("a manifest review needs a manifest")
        if self.kind == "questionnaire" and not self.answers:
            raise ValueError("a questionnaire review needs answers")
        return self


class ReviewPatch(Schema):
    """Fields to change; a new manifest, answers, version or api_defaults makes a new revision."""

    version: int = Field(ge=1, description="the review's version the client last saw")
    title: Title | None = None
    description: str | None = None
    status: ReviewStatus | None = None
    tags: list[TagName] | None = None
    manifest: str | None = None
    answers: dict[str, Any] | None = None
    kubernetes_version: Version | None = None
    api_defaults: bool | None = None
    redact_secrets: bool | None = None
    note: str = Field("", max_length=200, description="what this revision changes")
    earlier_revisions: Literal["redact", "purge"] | None = Field(
        None,
        description="with redaction on: redact, or delete, the earlier revisions that still hold "
        "secrets (listed in `unredacted_revisions`)",
    )

    @pydantic.model_validator(mode="after")
    def _one_input(self) -> "ReviewPatch":
        if self.manifest is not None and self.answers is not None:
            raise ValueError("send a manifest or answers, not both")
        if self.manifest is not None and not self.manifest.strip():
            raise ValueError("the manifest is empty")
        return self

    def changes_input(self, review: Review) -> bool:
        """Whether the input (and so the analysis) changes: then a new revision is made."""
        turns_redaction_on = self.redact_secrets is True and not review.redact_secrets
        return turns_redaction_on or any(
            v is not None
            for v in (self.manifest, self.answers, self.kubernetes_version, self.api_defaults)
        )


class RevisionOut(Schema):
    number: int
    created: datetime
    author: str | None
    note: str
    analyzer_version: str
    kubernetes_version: str
    rule_ids: list[str]


class ReviewerOut(Schema):
    reviewer: str
    verdict: Literal["approve", "changes"] | None = Field(
        description="the verdict on the latest revision; null while waiting"
    )
    body: str = Field("", description="the verdict's comment")


class ReviewersIn(Schema):
    reviewers: list[str] = Field(
        min_length=1, max_length=50, description="user names, or groups as '@team'"
    )


class VerdictIn(Schema):
    verdict: Literal["approve", "changes"]
    body: Annotated[str, pydantic.StringConstraints(max_length=10_000)] = ""


class ReviewSummary(Schema):
    slug: str
    url: str | None = Field(description="the review's page in the web UI")
    title: str
    kind: ReviewKind
    status: ReviewStatus
    pattern: str
    rule_ids: list[str]
    tags: list[str]
    author: str
    kubernetes_version: str
    api_defaults: bool
    analyzer_version: str
    version: int
    created: datetime
    updated: datetime


class ReviewOut(ReviewSummary):
    description: str
    manifest: str
    answers: dict[str, Any]
    redact_secrets: bool
    redactions: list[dict[str, Any]]
    unredacted_revisions: list[int] = Field(
        description="earlier revisions stored before redaction was turned on that still hold "
        "secrets (shown redacted); PATCH `earlier_revisions` to redact or purge them"
    )
    snapshot: dict[str, Any] = Field(description="the latest revision's analysis document")
    revisions: list[RevisionOut]
    reviewers: list[ReviewerOut] = Field(
        default_factory=list, description="requested reviewers and their verdicts"
    )


class ReviewPage(Schema):
    count: int
    page: int
    pages: int
    page_size: int
    items: list[ReviewSummary]


class ThreadOut(Schema):
    id: int
    review: str = Field(description="the review's slug")
    review_title: str
    url: str | None
    line: int | None = Field(description="the manifest line, for a line comment")
    author: str
    body: str
    created: datetime


class MyReviews(Schema):
    to_review: list[ReviewSummary] = Field(description="reviews waiting on my verdict")
    changes_requested: list[ReviewSummary] = Field(description="my reviews with changes asked")
    threads: list[ThreadOut] = Field(description="unresolved threads I wrote in")


class Conflict(Schema):
    detail: str
    current: ReviewOut


class CommentIn(Schema):
    body: Annotated[
        str, pydantic.StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)
    ]
    line: Annotated[int, Field(ge=1)] | None = Field(
        None, description="a line of the latest revision's manifest, for a line comment"
    )
    reply_to: int | None = Field(None, description="the id of a comment of the thread to answer")


class CommentOut(Schema):
    id: int
    author: str
    body: str
    created: datetime
    revision: int | None = Field(None, description="the revision the comment was made on")
    line: int | None = None
    line_text: str = Field("", description="the line's text in that revision")
    reply_to: int | None = None
    resolved: bool = False


# --- analysis ------------------------------------------------------------------------------

_ANALYZE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": AnalyzeIn.model_json_schema()},
            **{t: {"schema": {"type": "string"}} for t in sorted(TEXT_TYPES)},
        },
    },
    "responses": {
        200: {
            "headers": {
                EXIT_CODE_HEADER: {
                    "description": "what `manage.py analyze --fail-on FAIL_ON` would exit with: "
                    "0 clean, 1 a finding at or above fail_on, 2 an unreadable document",
                    "schema": {"type": "integer", "enum": [0, 1, 2]},
                }
            }
        }
    },
}


@api.post(
    "/analyze",
    auth=None,  # anonymous allowed: it stores nothing
    response={200: dict[str, Any], 413: Detail, 415: Detail, 422: Detail, 429: Detail},
    tags=["analysis"],
    summary="Analyse a manifest",
    openapi_extra=_ANALYZE_BODY,
)
@csrf_exempt  # changes nothing; anonymous and token clients have no CSRF token to send
def analyze(
    request: HttpRequest,
    response: HttpResponse,
    kubernetes_version: Annotated[
        str | None,
        Query(description=f"target version (default {DEFAULT_VERSION}); a JSON body's wins"),
    ] = None,
    api_defaults: Annotated[
        bool | None, Query(description="apply the API server's defaulting (default true)")
    ] = None,
    fail_on: Annotated[FailOn, Query(description="which findings make the exit code 1")] = "error",
) -> HttpResponse:
    """Analyse a manifest: the body is YAML/JSON text, or JSON ``{"manifest": ...}``.

    Returns the CLI's `--format json` document (file name "manifest"), with the exit code
    `manage.py analyze --fail-on FAIL_ON` would give in `X-Advisor-Exit-Code` (2 when a
    document could not be read: it is listed under `errors`, the rest is still analysed).
    """
    if (limited := limits.check_analysis(request)) is not None:
        response = api.create_response(request, {"detail": limited.message}, status=429)
        return limited.apply(response)
    limit = settings.ADVISOR_MAX_INPUT_BYTES
    content_type = (request.content_type or "").lower()
    assumptions = None
    where = "query"
    if content_type == "application/json":
        payload = _analyze_json(request.body)
        data: str | bytes = payload.manifest
        if len(payload.manifest.encode()) > limit:
            return _too_large(request)
        if payload.kubernetes_version is not None:
            kubernetes_version, where = payload.kubernetes_version, "body"
        if payload.api_defaults is not None:
            api_defaults = payload.api_defaults
        if payload.assumptions is not None:
            try:
                assumptions = assumptions_from_mapping(payload.assumptions)
            except ValueError as exc:
                raise invalid(("body", "assumptions"), str(exc)) from None
    elif content_type in TEXT_TYPES:
        if int(request.META.get("CONTENT_LENGTH") or 0) > limit or len(request.body) > limit:
            return _too_large(request)
        data = request.body  # bytes: decoded (BOM, UTF-16) exactly as the CLI decodes a file
    elif not request.body:
        raise invalid(("body",), "no manifest: send YAML with Content-Type application/yaml")
    else:
        raise HttpError(
            415,
            "Send the manifest as application/yaml (or text/plain), "
            'or as application/json {"manifest": "..."}.',
        )
    if not data.strip():
        raise invalid(("body",), "no manifest: the body is empty")
    try:
        version = _version(kubernetes_version or DEFAULT_VERSION)
    except ValueError as exc:
        raise invalid((where, "kubernetes_version"), str(exc)) from None
    report = services.analyse(
        data,  # type: ignore[arg-type]  # the core reads bytes as it reads a file
        kubernetes_version=version,
        api_defaults=True if api_defaults is None else api_defaults,
        assumptions=assumptions,
    )
    response[EXIT_CODE_HEADER] = str(exit_code(report, fail_on))
    if (over := budget.breach(report)) is not None:  # README "Limits": 413/422, not a 200
        status = budget.status_of(report)
        return api.create_response(request, {"detail": over}, status=status)
    # Encoded here, once: returned as data, ninja would first validate the whole document
    # against dict[str, Any] (a deep copy through pydantic), then encode it with json.
    response.content = document_json(to_dict(report))
    return response


def document_json(document: dict[str, Any]) -> bytes:
    """The analysis document as compact JSON (UTF-8): orjson, or json for what orjson refuses
    (an integer past 64 bits, a lone surrogate, which json writes as a ``\\u`` escape)."""
    try:
        return orjson.dumps(document)
    except TypeError:  # orjson.JSONEncodeError
        return json.dumps(document).encode()


def _analyze_json(body: bytes) -> AnalyzeIn:
    if not body.strip():
        raise invalid(("body",), 'no manifest: send {"manifest": "..."}')
    try:
        raw = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid(("body",), f"invalid JSON: {exc}") from None
    try:
        return AnalyzeIn.model_validate(raw)
    except pydantic.ValidationError as exc:
        raise _pydantic_422(exc, "body") from None


# --- permissions ---------------------------------------------------------------------------


def get_review(slug: str) -> Review:
    """The review, or 404 (the same answer whether it never existed or was deleted)."""
    review = Review.objects.select_related("author").filter(slug=slug).first()
    if review is None:
        raise HttpError(404, "No review with this id.")
    return review


def require_editor(review: Review, user: Any) -> None:
    """Only the author or staff edit, delete or change a review's status."""
    if not review.can_edit(user):
        raise HttpError(403, "Only the review's author or staff can change or delete it.")


def require_comment_owner(comment: Comment, user: Any) -> None:
    """Only the comment's author or staff delete it."""
    if not (user.is_staff or comment.author_id == user.pk):
        raise HttpError(403, "Only the comment's author or staff can delete it.")


# --- reviews -------------------------------------------------------------------------------


def _url(review: Review) -> str | None:
    try:
        return review.get_absolute_url()
    except NoReverseMatch:  # the web UI's review pages are not mounted
        return None


def _summary(review: Review) -> dict[str, Any]:
    return {
        "slug": review.slug,
        "url": _url(review),
        "title": review.title,
        "kind": review.kind,
        "status": review.status,
        "pattern": review.pattern,
        "rule_ids": list(review.rule_ids),
        "tags": [t.name for t in review.tags.all()],
        "author": review.author.get_username(),
        "kubernetes_version": review.kubernetes_version,
        "api_defaults": review.api_defaults,
        "analyzer_version": review.analyzer_version,
        "version": review.version,
        "created": review.created,
        "updated": review.updated,
    }


def _detail(review: Review) -> dict[str, Any]:
    revisions = review.revisions.select_related("author").order_by("number")
    return {
        **_summary(review),
        "description": review.description,
        "manifest": review.manifest,
        "answers": review.answers,
        "redact_secrets": review.redact_secrets,
        "redactions": review.redactions,
        "unredacted_revisions": (
            services.unredacted_revisions(review) if review.redact_secrets else []
        ),
        "snapshot": review.snapshot,
        "reviewers": _reviewers(review),
        "revisions": [
            {
                "number": r.number,
                "created": r.created,
                "author": r.author.get_username() if r.author else None,
                "note": r.note,
                "analyzer_version": r.analyzer_version,
                "kubernetes_version": r.kubernetes_version,
                "rule_ids": list(r.rule_ids),
            }
            for r in revisions
        ],
    }


def _reviewers(review: Review) -> list[dict[str, Any]]:
    return [
        {
            "reviewer": state["reviewer"].get_username(),
            "verdict": state["verdict"].verdict if state["verdict"] else None,
            "body": state["verdict"].body if state["verdict"] else "",
        }
        for state in services.reviewer_states(review)
    ]


def _fresh(review: Review) -> dict[str, Any]:
    return _detail(get_review(review.slug))


def _prepare(**kwargs: Any) -> services.Prepared:
    """Redact and analyse; unusable input (questionnaire answers) is a 422."""
    manifest = kwargs.get("manifest") or ""
    if len(manifest.encode()) > settings.ADVISOR_MAX_INPUT_BYTES:
        raise HttpError(413, "The manifest is larger than the limit.")
    try:
        return services.prepare(**kwargs)
    except (ValueError, InputError) as exc:
        field = "answers" if kwargs.get("kind") == Review.Kind.QUESTIONNAIRE else "manifest"
        raise invalid(("body", "payload", field), str(exc)) from None


@api.get("/reviews", response=ReviewPage, tags=["reviews"], summary="List reviews")
def list_reviews(
    request: HttpRequest,
    page: Annotated[int, Field(ge=1)] = 1,
    q: str | None = None,
    status: str | None = None,
    pattern: str | None = None,
    rule: str | None = None,
    tag: str | None = None,
    author: str | None = None,
    kubernetes_version: str | None = None,
) -> dict[str, Any]:
    """Newest first, 20 a page; `q` searches titles and descriptions, the others match exactly
    (`author` is a username, `rule` a rule id the latest revision raised)."""
    reviews: QuerySet[Review] = Review.objects.select_related("author").prefetch_related("tags")
    if q:
        reviews = reviews.filter(Q(title__icontains=q) | Q(description__icontains=q))
    if status:
        reviews = reviews.filter(status=status)
    if pattern:
        reviews = reviews.filter(pattern=pattern)
    if rule:
        reviews = reviews.filter(raised__rule_id=rule)
    if tag:
        reviews = reviews.filter(tags__name=tag.strip().lower())
    if author:
        reviews = reviews.filter(author__username=author)
    if kubernetes_version:
        reviews = reviews.filter(kubernetes_version=kubernetes_version)
    paginator = Paginator(reviews.distinct().order_by("-updated", "-pk"), PAGE_SIZE)
    items = paginator.page(page).object_list if page <= paginator.num_pages else []
    return {
        "count": paginator.count,
        "page": page,
        "pages": paginator.num_pages,
        "page_size": PAGE_SIZE,
        "items": [_summary(r) for r in items],
    }


def _thread_url(c: Comment) -> str | None:
    url = _url(c.review)
    return f"{url}#comment-{c.pk}" if url else None


@api.get("/reviews/mine", response=MyReviews, tags=["reviews"], summary="What waits on me")
def my_reviews(request: HttpRequest) -> dict[str, Any]:
    """Reviews I was asked to review, without my verdict on their latest revision; my reviews
    with changes requested, and unresolved threads I wrote in (as the web UI's My reviews)."""
    waiting = services.waiting_on(request.auth)  # type: ignore[attr-defined]
    return {
        "to_review": [_summary(r) for r in waiting["to_review"]],
        "changes_requested": [_summary(r) for r in waiting["changes_requested"]],
        "threads": [
            {
                "id": c.pk,
                "review": c.review.slug,
                "review_title": c.review.title,
                "url": _thread_url(c),
                "line": c.line,
                "author": c.author.get_username(),
                "body": c.body,
                "created": c.created,
            }
            for c in waiting["threads"]
        ],
    }


@api.post(
    "/reviews",
    response={201: ReviewOut, 413: Detail},
    tags=["reviews"],
    summary="Create a review",
)
def create_review(request: HttpRequest, payload: ReviewCreate) -> Status:
    """Analyse and store a review; with `redact_secrets` (the default) Secret values and
    credentials are replaced before anything is stored, and listed in `redactions`."""
    if payload.status == Review.Status.APPROVED and not services.self_approval_allowed():
        raise HttpError(403, "You cannot approve your own review; request a reviewer.")
    prepared = _prepare(
        kind=payload.kind,
        manifest=payload.manifest,
        answers=payload.answers,
        kubernetes_version=payload.kubernetes_version,
        api_defaults=payload.api_defaults,
        redact_secrets=payload.redact_secrets,
    )
    review = services.create_review(
        author=request.auth,  # type: ignore[attr-defined]
        title=payload.title,
        description=payload.description,
        prepared=prepared,
        tags=payload.tags,
        status=payload.status,
        redact_secrets=payload.redact_secrets,
    )
    return Status(201, _fresh(review))


@api.get(
    "/reviews/{slug}",
    response={200: ReviewOut, 404: Detail},
    tags=["reviews"],
    summary="Read a review",
)
def read_review(request: HttpRequest, slug: str) -> dict[str, Any]:
    """A review with its latest analysis and the list of its revisions."""
    return _detail(get_review(slug))


@api.patch(
    "/reviews/{slug}",
    response={200: ReviewOut, 403: Detail, 404: Detail, 409: Conflict, 413: Detail},
    tags=["reviews"],
    summary="Change a review",
)
def patch_review(request: HttpRequest, slug: str, payload: ReviewPatch) -> Any:
    """Author or staff only. `version` must be the review's current version, else 409 with the
    current review; each successful change increases it."""
    review = get_review(slug)
    user = request.auth  # type: ignore[attr-defined]
    require_editor(review, user)
    if (
        payload.status == Review.Status.APPROVED
        and review.status != Review.Status.APPROVED
        and user.pk == review.author_id
        and not services.self_approval_allowed()
    ):
        raise HttpError(403, "You cannot approve your own review; request a reviewer.")
    try:
        with transaction.atomic():
            review = _apply_patch(review, payload, user)
            if payload.earlier_revisions is not None and review.redact_secrets:
                if payload.earlier_revisions == "redact":
                    services.redact_revisions(review)
                else:
                    services.purge_revisions(review)
    except services.EditConflict as exc:
        current = _fresh(exc.current)
        return Status(
            409,
            {
                "detail": f"The review changed since version {payload.version}; "
                f"it is now at version {current['version']}.",
                "current": current,
            },
        )
    return _fresh(review)


def _apply_patch(review: Review, payload: ReviewPatch, user: Any) -> Review:
    if not payload.changes_input(review):
        meta = {
            k: v
            for k, v in (
                ("title", payload.title),
                ("description", payload.description),
                ("redact_secrets", payload.redact_secrets),
            )
            if v is not None
        }
        expected = payload.version
        if meta or payload.tags is not None or payload.status is None:
            # Title, description, tags: no new revision, an "edited" event on the timeline.
            review = services.edit_metadata(
                review, author=user, expected_version=expected, tags=payload.tags, **meta
            )
            expected = review.version
        if payload.status is not None:
            review = services.update_fields(
                review, expected_version=expected, actor=user, status=payload.status
            )
        return review
    kind = review.kind
    if payload.manifest is not None:
        kind = Review.Kind.MANIFEST
    elif payload.answers is not None:
        kind = Review.Kind.QUESTIONNAIRE
    version = payload.kubernetes_version or review.kubernetes_version
    answers = dict(review.answers if payload.answers is None else payload.answers)
    if kind == Review.Kind.QUESTIONNAIRE:
        # The version is one of the questionnaire's answers; one given on its own wins.
        if payload.kubernetes_version:
            answers["kubernetes_version"] = payload.kubernetes_version
        answers.setdefault("kubernetes_version", version)
    redact_secrets = (
        review.redact_secrets if payload.redact_secrets is None else payload.redact_secrets
    )
    # New text is redacted when asked; the stored text only if it never was.
    redact_now = redact_secrets and (payload.manifest is not None or not review.redact_secrets)
    prepared = _prepare(
        kind=kind,
        manifest=review.manifest if payload.manifest is None else payload.manifest,
        answers=answers,
        kubernetes_version=version,
        api_defaults=review.api_defaults if payload.api_defaults is None else payload.api_defaults,
        redact_secrets=redact_now,
    )
    if kind == Review.Kind.MANIFEST and payload.manifest is None and not redact_now:
        # The stored text is the one redacted when it was saved: keep what was replaced.
        prepared = replace(prepared, redactions=list(review.redactions))
    review = services.revise(
        review,
        author=user,
        expected_version=payload.version,
        prepared=prepared,
        title=payload.title,
        description=payload.description,
        tags=payload.tags,
        redact_secrets=payload.redact_secrets,
        note=payload.note,
    )
    if payload.status is not None:
        review = services.update_fields(
            review, expected_version=review.version, actor=user, status=payload.status
        )
    return review


@api.delete(
    "/reviews/{slug}",
    response={204: None, 403: Detail, 404: Detail},
    tags=["reviews"],
    summary="Delete a review",
)
def delete_review(request: HttpRequest, slug: str) -> Status:
    """Author or staff only. A soft delete: the review leaves every list and permalink, and its
    author or staff restore it (with its revisions and comments) in the web UI's Recently
    deleted."""
    review = get_review(slug)
    require_editor(review, request.auth)  # type: ignore[attr-defined]
    services.soft_delete(review, by=request.auth)  # type: ignore[attr-defined]
    return Status(204, None)


# --- comments ------------------------------------------------------------------------------


def _comment(c: Comment) -> dict[str, Any]:
    return {
        "id": c.pk,
        "author": c.author.get_username(),
        "body": c.body,
        "created": c.created,
        "revision": c.revision.number if c.revision else None,
        "line": c.line,
        "line_text": c.line_text,
        "reply_to": c.parent_id,
        "resolved": c.resolved_at is not None,
    }


@api.get(
    "/reviews/{slug}/comments",
    response={200: list[CommentOut], 404: Detail},
    tags=["comments"],
    summary="List a review's comments",
)
def list_comments(request: HttpRequest, slug: str) -> list[dict[str, Any]]:
    """Oldest first."""
    review = get_review(slug)
    comments = review.comments.select_related("author", "revision").order_by("created", "pk")
    return [_comment(c) for c in comments]


@api.post(
    "/reviews/{slug}/comments",
    response={201: CommentOut, 404: Detail},
    tags=["comments"],
    summary="Comment on a review",
)
def add_comment(request: HttpRequest, slug: str, payload: CommentIn) -> Status:
    """Any logged-in user comments; plain text, rendered escaped in the web UI."""
    review = get_review(slug)
    parent = None
    if payload.reply_to is not None:
        parent = review.comments.filter(pk=payload.reply_to).first()
        if parent is None:
            raise invalid(("body", "payload", "reply_to"), "no comment with this id here")
    try:
        comment = services.add_comment(
            review,
            author=request.auth,  # type: ignore[attr-defined]
            body=services.normalise_newlines(payload.body),
            line=payload.line,
            parent=parent,
        )
    except ValueError as exc:
        raise invalid(("body", "payload", "line"), str(exc)) from None
    return Status(201, _comment(comment))


@api.delete(
    "/reviews/{slug}/comments/{comment_id}",
    response={204: None, 403: Detail, 404: Detail},
    tags=["comments"],
    summary="Delete a comment",
)
def delete_comment(request: HttpRequest, slug: str, comment_id: int) -> Status:
    """The comment's author or staff only."""
    review = get_review(slug)
    comment = Comment.objects.filter(review=review, pk=comment_id).first()
    if comment is None:
        raise HttpError(404, "No comment with this id on this review.")
    require_comment_owner(comment, request.auth)  # type: ignore[attr-defined]
    comment.delete()
    return Status(204, None)


# --- reviewers and verdicts ----------------------------------------------------------------


@api.post(
    "/reviews/{slug}/reviewers",
    response={200: ReviewOut, 403: Detail, 404: Detail},
    tags=["reviews"],
    summary="Request reviewers",
)
def request_reviewers(request: HttpRequest, slug: str, payload: ReviewersIn) -> dict[str, Any]:
    """Author or staff. Ask users (or a group, `@team`, expanded to its members) to review; the
    author is skipped unless self-approval is allowed. Unknown names are a 422."""
    review = get_review(slug)
    user = request.auth  # type: ignore[attr-defined]
    require_editor(review, user)
    people, unknown = services.users_named(payload.reviewers)
    if unknown:
        raise invalid(
            ("body", "payload", "reviewers"), f"no user or team named {', '.join(unknown)}"
        )
    services.request_review(review, by=user, reviewers=people)
    return _fresh(review)


@api.post(
    "/reviews/{slug}/verdicts",
    response={201: ReviewOut, 403: Detail, 404: Detail},
    tags=["reviews"],
    summary="Approve or request changes",
)
def give_verdict(request: HttpRequest, slug: str, payload: VerdictIn) -> Status:
    """Anyone but the author (unless self-approval is allowed) approves the latest revision or
    requests changes; the review's status follows (see the README's review workflow)."""
    review = get_review(slug)
    try:
        services.give_verdict(
            review,
            reviewer=request.auth,  # type: ignore[attr-defined]
            verdict=payload.verdict,
            body=services.normalise_newlines(payload.body),
        )
    except services.NotAllowed as exc:
        raise HttpError(403, str(exc)) from None
    return Status(201, _fresh(review))
