"""The whole analysis everywhere: saved reviews render it from the snapshot, and a file with
hundreds of workloads opens on a summary whose details render when opened."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from advisor.core.analyze import analyze
from advisor.core.report import to_dict
from bench.generate import TEMPLATE
from tests.conftest import CORPUS
from webui import charts, presenters, services

pytestmark = pytest.mark.django_db

LEGACY_JOB = (
    CORPUS / "kubernetes__website__content__en__examples__application__job__job-sidecar-legacy.yaml"
).read_text()
HTMX = {"HTTP_HX_REQUEST": "true"}


def deployments(count: int) -> str:
    return "".join(TEMPLATE.format(i=i, ns=i % 17) for i in range(count))


@pytest.fixture
def reader() -> Client:
    client = Client()
    client.force_login(User.objects.create_user("ada", password="pw-ada-123456"))
    return client


def make_review(text: str = LEGACY_JOB):
    user = User.objects.get_or_create(username="author")[0]
    prepared = services.prepare(kind="manifest", manifest=text, kubernetes_version="1.37")
    return services.create_review(author=user, title="Job review", prepared=prepared)


@pytest.mark.parametrize(
    "path", sorted(p for p in CORPUS.iterdir() if p.name not in ("INDEX.tsv", "LICENSES.md"))[:30]
)
def test_a_snapshot_reads_back_to_the_same_charts_and_document(path) -> None:
    report = analyze([("manifest", path.read_text(errors="replace"))])
    back = presenters.report_from_snapshot(json.loads(json.dumps(to_dict(report))))
    assert to_dict(back) == to_dict(report)
    for original, stored in zip(report.workloads, back.workloads, strict=True):
        assert charts.workload_charts(stored) == charts.workload_charts(original)


def test_a_review_shows_the_whole_analysis_from_its_snapshot(reader: Client, monkeypatch) -> None:
    review = make_review()

    def no_analysis(*args, **kwargs):
        raise AssertionError("looking at a review must not analyse again")

    monkeypatch.setattr(services, "analyse", no_analysis)
    html = reader.get(review.get_absolute_url()).content.decode()
    # recommendation, containers, findings with their fix button, resources, four charts
    assert "Recommendation" in html and "Move &#x27;logshipper&#x27;" in html
    assert 'class="containers"' in html and "logshipper" in html
    assert "classic-sidecar-blocks-job" in html and "Show the fix" in html
    assert "Effective resources" in html and "QoS class" in html
    for key in ("resources-cpu", "resources-memory", "startup", "shutdown"):
        assert f'data-figure="chart-0-{key}"' in html
    assert "Simulation assumptions" in html
    # the manifest with line anchors the findings link to
    assert 'id="L15"' in html and 'href="#L15"' in html
    # nothing that only belongs to the analyser
    assert "What if?" not in html and "Save as a design review" not in html


def test_a_fix_on_a_review_page_posts_the_stored_manifest(reader: Client) -> None:
    review = make_review()
    html = reader.get(review.get_absolute_url()).content.decode()
    form = re.search(r'<form id="analyze-form".*?</form>', html, re.S).group(0)
    assert "logshipper" in form and 'name="kubernetes_version" value="1.37"' in form
    value = re.search(r'name="fix" value="([^"]+)"', html).group(1).replace("&quot;", '"')
    answer = reader.post(
        reverse("fix"), {"manifest": review.manifest, "kubernetes_version": "1.37", "fix": value}
    )
    assert "restartPolicy: Always" in answer.content.decode()


def test_many_workloads_open_on_a_summary_under_a_megabyte() -> None:
    text = deployments(300)
    response = Client().post(
        reverse("analyze"),
        {"manifest": text, "kubernetes_version": "1.37", "api_defaults": "on"},
        **HTMX,
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert len(response.content) <= 1_000_000
    assert html.count("<tr data-severity") == 300
    assert html.count("data-open=") == 300  # each name opens its detail
    assert 'class="chart"' not in html  # no chart up front
    assert "Summary of 300 workloads" in html
    # totals: each Deployment has an app, an init, a native sidecar and a log shipper
    assert re.search(r"<dt>Workloads</dt><dd>300</dd>", html)
    first = re.search(r'<a href="([^"]+)" data-open', html).group(1)
    detail = Client().get(first).content.decode()
    assert 'data-figure="chart-0-startup"' in detail and "web-0" in detail
    assert "kubectl get pods -n team-0" in detail  # the debug panel is kept too
    last = Client().get(first.replace("/0/", "/299/")).content.decode()
    assert "web-299" in last and 'data-figure="chart-299-shutdown"' in last


def test_an_expired_result_is_analysed_again_from_the_box() -> None:
    url = reverse("analyze-workload", args=["expired-or-another-worker", 1])
    answer = Client().get(url).content.decode()
    assert f'hx-post="{url}"' in answer and 'hx-include="#analyze-form"' in answer
    data = {"manifest": deployments(20), "kubernetes_version": "1.37", "api_defaults": "on"}
    detail = Client().post(url, data, **HTMX).content.decode()
    assert "web-1" in detail and 'data-figure="chart-1-startup"' in detail
    assert 'data-figure="chart-1-startup"' in Client().get(url).content.decode()  # kept again
    bad = Client().post(reverse("analyze-workload", args=["other", 0]), {"manifest": ""})
    assert bad.status_code == 400 and "could not be analysed" in bad.content.decode()


def test_a_review_with_many_workloads_opens_on_its_summary(reader: Client, settings) -> None:
    settings.ADVISOR_INLINE_WORKLOADS = 3
    review = make_review(deployments(5))
    html = reader.get(review.get_absolute_url()).content.decode()
    assert html.count("<tr data-severity") == 5 and 'class="chart"' not in html
    url = re.search(r'<a href="([^"]+)" data-open', html).group(1)
    assert url == reverse("review-workload", args=[review.slug, 0])
    detail = reader.get(url).content.decode()
    assert 'data-figure="chart-0-startup"' in detail and "web-0" in detail
    assert "Debug this pod" not in detail  # the snapshot has no pod template to build it from
    assert Client().get(url).status_code == 302  # reviews need an account


def test_comparing_revisions_shows_the_timelines_before_and_after(reader: Client) -> None:
    review = make_review()
    user = review.author
    patched = LEGACY_JOB.replace(
        "      restartPolicy: Never",
        "      restartPolicy: Never\n      terminationGracePeriodSeconds: 90",
    ).replace(
        "          command: ['sh', '-c', 'tail",
        "          resources: {requests: {cpu: 300m}}\n          command: ['sh', '-c', 'tail",
    )
    assert patched != LEGACY_JOB
    prepared = services.prepare(kind="manifest", manifest=patched, kubernetes_version="1.37")
    services.revise(review, author=user, expected_version=review.version, prepared=prepared)
    html = reader.get(reverse("review-history", args=[review.slug])).content.decode()
    assert "Before and after" in html
    for side in ("a", "b"):
        for name in ("startup", "shutdown", "resources-cpu"):
            assert f'data-figure="cmp-0-{side}-{name}"' in html
    assert "cpu 300m" in html  # the pod request after
