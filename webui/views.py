"""Thin views: read the request, call the core, render a page or its htmx fragment."""

from __future__ import annotations

import dataclasses
import json
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import NON_FIELD_ERRORS, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from advisor.core.analyze import Report, analyze
from advisor.core.debug import kubectl_commands
from advisor.core.errors import InputError
from advisor.core.fixes import FixError, fix
from advisor.core.intake import parse
from advisor.core.matrix import QUESTIONS, answers_from_mapping, recommend
from advisor.core.patterns import PATTERNS, starter_manifest
from advisor.core.report import to_dict
from advisor.core.rules import REGISTRY
from advisor.core.versions import parse_version
from webui import budget, limits, presenters, services
from webui.forms import AnalyzeForm, StarterForm


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Show what the tool does and the two ways in."""
    return render(request, "home.html", {"patterns": PATTERNS.values()})


def _too_big(request: HttpRequest) -> HttpResponse:
    form = AnalyzeForm()
    message = limits.too_large_message()
    template = "analyze.html#result" if request.htmx else "analyze.html"
    return render(request, template, {"form": form, "too_big": message}, status=413)


def _analysis_limited(request: HttpRequest, limited: limits.Limited) -> HttpResponse:
    """Over the analysis rate limit: 429, the message beside the box, the text kept."""
    form = AnalyzeForm(request.POST, request.FILES)
    form.add_error(None, limited.message)
    template = "analyze.html#result" if request.htmx else "analyze.html"
    return limited.apply(render(request, template, {"form": form}, status=429))


@limits.too_large_response(_too_big)
@require_http_methods(["GET", "POST"])
def analyze_view(request: HttpRequest) -> HttpResponse:
    """Analyse a pasted or uploaded manifest; htmx gets just the result fragment."""
    if request.method == "GET":
        return render(request, "analyze.html", {"form": AnalyzeForm()})
    if (limited := limits.check_analysis(request)) is not None:
        return _analysis_limited(request, limited)
    try:
        form = AnalyzeForm(request.POST, request.FILES)
        valid = form.is_valid()
    except RequestDataTooBig:
        return _too_big(request)
    # A preview (the review editor's) shows the result without the analyser's own controls.
    context: dict[str, Any] = {"form": form, "static_view": request.POST.get("preview") == "1"}
    status = 413 if form.has_error(NON_FIELD_ERRORS, "too_big") else 400
    if valid:
        report = run_analysis(form.cleaned_data)
        context |= result_context(report, form.cleaned_data["text"])
        status = budget.status_of(report)  # 413/422 over the budget, the message in the result
    template = "analyze.html#result" if request.htmx else "analyze.html"
    return render(request, template, context, status=status)


def run_analysis(data: dict[str, Any]) -> Report:
    """Analyse the form's manifest with its options and the team's image catalogue."""
    return services.analyse(
        data["text"],
        kubernetes_version=data["kubernetes_version"],
        api_defaults=data["api_defaults"],
        assumptions=data["assumptions"],
    )


# Many workloads (README "Many workloads on one page"): above this many, the result opens on a
# summary table and each workload's detail and charts are rendered only when it is opened, from
# the report kept in Django's cache under an unguessable id for RESULT_SECONDS.
RESULT_KEY = "advisor:result:"
RESULT_SECONDS = 3600


def inline_limit() -> int:
    """How many workloads are rendered in full up front (ADVISOR_INLINE_WORKLOADS, default 12)."""
    return int(settings.ADVISOR_INLINE_WORKLOADS)


def result_context(report: Report, text: str) -> dict[str, Any]:
    if len(report.workloads) > inline_limit():
        token = secrets.token_urlsafe(18)
        _keep(token, report)
        return {
            "report": report,
            "summary": presenters.summary(report),
            "detail_url": reverse("analyze-workload", args=[token, 0]).removesuffix("0/"),
            "workloads": [],
            "lines": [],  # the text is in the box; line links select the line there
        }
    return {
        "report": report,
        "workloads": presenters.workload_views(report),
        "lines": presenters.manifest_lines(text),
    }


def _keep(token: str, report: Report) -> dict[str, Any]:
    """Keep a result for its workloads' details: the JSON document (plain data, picklable for
    any cache backend) and the debug commands, which need the pod template it leaves out."""
    kept = {
        "snapshot": to_dict(report),
        "commands": [kubectl_commands(w.workload) for w in report.workloads],
    }
    cache.set(RESULT_KEY + token, kept, RESULT_SECONDS)
    return kept


def _one_workload(
    request: HttpRequest,
    snapshot: dict[str, Any],
    index: int,
    commands: Any = None,
    **extra: Any,
) -> HttpResponse:
    try:
        view = presenters.workload_view_from_snapshot(snapshot, index)
    except IndexError:
        raise Http404("no such workload") from None
    if commands is not None:
        view = dataclasses.replace(view, commands=tuple(commands[index]))
    context = {"w": view, "wl": view.report.workload, "form": AnalyzeForm()}
    return render(request, "_result.html#workload", context | extra)


@require_http_methods(["GET", "POST"])
def analyze_workload(request: HttpRequest, token: str, index: int) -> HttpResponse:
    """One workload of a many-workload result, rendered when the user opens it.

    The result is read from the cache; if it is gone (expired, or kept by another worker's
    per-process cache), the answer asks the page to POST the analyser's form here, and the
    manifest is analysed again and kept under the same id.
    """
    kept = cache.get(RESULT_KEY + token)
    if kept is None and request.method == "POST":
        if (limited := limits.check_analysis(request)) is not None:
            return limited.apply(_lazy_problem(limited.message, 429))
        form = AnalyzeForm(request.POST, request.FILES)
        if not form.is_valid():
            return _lazy_problem("The manifest in the box could not be analysed again.", 400)
        report = run_analysis(form.cleaned_data)
        kept = _keep(token, report)
    if kept is None:
        # Not a message: the page posts the form (htmx "load") and the workload renders.
        url = reverse("analyze-workload", args=[token, index])
        return HttpResponse(
            f'<div class="lazy-slot" hx-post="{url}" hx-include="#analyze-form" '
            'hx-trigger="load" hx-swap="outerHTML"><p class="muted">Analysing again…</p></div>'
        )
    return _one_workload(request, kept["snapshot"], index, kept["commands"])


def _lazy_problem(message: str, status: int) -> HttpResponse:
    html = format_html('<div class="alert error" role="alert">{}</div>', message)
    return HttpResponse(html, status=status)


@login_required
@require_GET
def review_workload(request: HttpRequest, slug: str, index: int) -> HttpResponse:
    """One workload of a saved review's stored analysis, rendered when the reader opens it."""
    from webui import reviews  # the review pages import these views' helpers

    review = reviews._review_for(request, slug)
    revision = _int(request.GET.get("revision"))
    snapshot = review.snapshot
    if revision is not None:
        found = review.revisions.filter(number=revision).first()
        if found is None:
            raise Http404("no such revision")
        snapshot = found.snapshot
    return _one_workload(request, snapshot, index, review_view=True)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _fix_error(request: HttpRequest, form: AnalyzeForm, message: str, status: int) -> HttpResponse:
    template = "fix.html#fix" if request.htmx else "fix.html"
    return render(request, template, {"form": form, "fix_error": message}, status=status)


def _fix_too_big(request: HttpRequest) -> HttpResponse:
    """The fix fragment (it goes where the fix would have), not the analyser's result."""
    return _fix_error(request, AnalyzeForm(), limits.too_large_message(), 413)


@limits.too_large_response(_fix_too_big)
@require_POST
def fix_view(request: HttpRequest) -> HttpResponse:
    """Show the patched manifest and its diff for one fixable finding."""
    if (limited := limits.check_analysis(request)) is not None:
        return limited.apply(_fix_error(request, AnalyzeForm(), limited.message, 429))
    try:
        form = AnalyzeForm(request.POST)
        valid = form.is_valid()
    except RequestDataTooBig:
        return _fix_too_big(request)
    context: dict[str, Any] = {"form": form}
    status = 400
    if valid:
        try:
            context["fix"] = _apply_fix(form.cleaned_data, request.POST.get("fix", ""))
            status = 200
        except (FixError, InputError, ValueError) as exc:
            context["fix_error"] = str(exc)
            status = budget.status_for(str(exc))  # 413/422 past a limit of the budget
    template = "fix.html#fix" if request.htmx else "fix.html"
    return render(request, template, context, status=status)


def _apply_fix(data: dict[str, Any], raw: str) -> Any:
    try:
        target = json.loads(raw)
    except json.JSONDecodeError:
        raise ValueError("the fix request is incomplete") from None
    if not isinstance(target, dict) or target.get("rule") not in REGISTRY:
        raise ValueError("the fix request names no known rule")
    text = data["text"]
    document = target.get("document")
    if target.get("hpa"):
        found = [h for h in parse(text).hpas if h.name == target["hpa"]]
        if not found:
            raise ValueError(f"no HorizontalPodAutoscaler named {target['hpa']!r} in the manifest")
        document = found[0].document
    if not isinstance(document, int):
        raise ValueError("the fix request names no document")
    return fix(
        text,
        rule=target["rule"],
        document=document,
        container=target.get("container"),
        hpa=target.get("hpa"),
        kubernetes_version=parse_version(data["kubernetes_version"]),
        budget=budget.budget(),
    )


@require_GET
def questionnaire(request: HttpRequest) -> HttpResponse:
    """Ask the decision matrix's questions; the recommendation updates as answers change."""
    context: dict[str, Any] = {"questions": _questions(request.GET)}
    starter = StarterForm(request.GET if "app_name" in request.GET else None)
    context["starter_form"] = starter
    if request.GET.get("need"):
        try:
            answers = answers_from_mapping(request.GET.dict())
            context |= _recommendation(answers, starter)
            context["assumed"] = _assumed(request.GET)
        except ValueError as exc:
            context["error"] = str(exc)
    template = "questionnaire.html#recommendation" if request.htmx else "questionnaire.html"
    return render(request, template, context)


def _questions(params: Any) -> list[dict[str, Any]]:
    """Each question with the user's answer; nothing is chosen for them up front."""
    return [{"q": q, "value": params.get(q.id, "")} for q in QUESTIONS]


def _assumed(params: Any) -> list[tuple[str, str]]:
    """The questions left unanswered and the value the recommendation took for each."""
    out = []
    for q in QUESTIONS:
        if q.id != "need" and not params.get(q.id) and q.default:
            label = dict(q.choices).get(q.default, q.default)
            out.append((q.text, label))
    return out


def _recommendation(answers: Any, starter: StarterForm) -> dict[str, Any]:
    recommendation = recommend(answers)
    names = (
        starter.cleaned_data
        if starter.is_bound and starter.is_valid()
        else {name: field.initial for name, field in starter.fields.items()}
    )
    try:
        manifest = starter_manifest(
            recommendation.pattern,
            workload=answers.manifest_kind,
            kubernetes_version=answers.kubernetes_version,
            **names,
        )
    except ValueError as exc:
        manifest, names = "", {"error": str(exc)}
    return {
        "recommendation": recommendation,
        "pattern": PATTERNS[recommendation.pattern],
        "alternatives": [(PATTERNS[p], why) for p, why in recommendation.alternatives],
        "starter": manifest,
        "starter_error": names.get("error"),
        "version": f"{answers.kubernetes_version[0]}.{answers.kubernetes_version[1]}",
    }


@require_GET
def rules(request: HttpRequest) -> HttpResponse:
    """List every rule from the registry, one anchor per id."""
    areas: dict[str, list[Any]] = {}
    for r in REGISTRY.values():
        areas.setdefault(r.area, []).append(r)
    return render(request, "rules.html", {"areas": areas, "count": len(REGISTRY)})


@require_GET
def patterns(request: HttpRequest) -> HttpResponse:
    return render(request, "patterns.html", {"patterns": PATTERNS.values()})


@require_GET
def pattern_detail(request: HttpRequest, pattern_id: str) -> HttpResponse:
    """One pattern: what it is, when to use it, pitfalls, an example and its timelines."""
    pattern = PATTERNS.get(pattern_id)
    if pattern is None:
        raise Http404("no such pattern")
    report = analyze([(f"{pattern.id}.yaml", pattern.example_yaml)])
    context = {"pattern": pattern, "static_view": True} | result_context(
        report, pattern.example_yaml
    )
    return render(request, "pattern.html", context)
