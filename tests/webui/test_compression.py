"""Large answers travel compressed to clients that accept gzip."""

from __future__ import annotations

import gzip

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: shop-{i}}}
spec:
  selector: {{matchLabels: {{app: shop-{i}}}}}
  template:
    metadata: {{labels: {{app: shop-{i}}}}}
    spec:
      containers:
      - {{name: app, image: "shop:1", resources: {{requests: {{cpu: 100m, memory: 64Mi}}}}}}
      - {{name: proxy, image: "envoyproxy/envoy:v1.30", ports: [{{containerPort: 9901}}]}}
"""


def test_it_gzips_a_large_analysis_for_a_client_that_accepts_it(client: Client) -> None:
    text = "---\n".join(DEPLOYMENT.format(i=i) for i in range(20))
    data = {"manifest": text, "kubernetes_version": "1.37", "api_defaults": "on"}
    plain = client.post(reverse("analyze"), data)
    packed = client.post(reverse("analyze"), data, HTTP_ACCEPT_ENCODING="gzip")
    assert plain.status_code == packed.status_code == 200
    assert "Content-Encoding" not in plain
    assert packed["Content-Encoding"] == "gzip"
    html = gzip.decompress(packed.content).decode()
    assert "shop-19" in html and len(packed.content) * 5 < len(html)


def test_it_gzips_the_api_answer_too(client: Client) -> None:
    text = "---\n".join(DEPLOYMENT.format(i=i) for i in range(20))
    answer = client.post(
        "/api/v1/analyze",
        text,
        content_type="application/yaml",
        HTTP_ACCEPT_ENCODING="gzip",
    )
    assert answer.status_code == 200 and answer["Content-Encoding"] == "gzip"
    assert b'"shop-19"' in gzip.decompress(answer.content)
