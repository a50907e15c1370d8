"""Secrets are taken out of a manifest before it is stored; everything else stays as written."""

from __future__ import annotations

import json
import re

import pytest

from advisor.core.analyze import analyze_text
from advisor.core.redact import REDACTED, Redacted, Redaction, mask, redact, secret_word
from advisor.core.yamlload import load_documents
from tests.conftest import CORPUS, ROOT

SECRET = """\
apiVersion: v1
kind: Secret
metadata:
  name: db-creds   # rotated monthly
type: Opaque
data:
  password: aHVudGVyMg==
  username: 'YWRtaW4='
stringData:
  dsn: "postgres://admin:hunter2@db:5432/app"
  tls.key: |-
    -----BEGIN PRIVATE KEY-----
    MIIEvQIBADANBgkqhkiG9w0BAQEFAASC
    -----END PRIVATE KEY-----
  note: plain text
    folded over two lines
"""
SECRET_VALUES = [
    "aHVudGVyMg==",
    "YWRtaW4=",
    "hunter2",
    "BEGIN PRIVATE KEY",
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
    "END PRIVATE KEY",
    "plain text",
    "folded over",
]

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      initContainers:
      - name: migrate
        env:
        - name: DB_PASSWORD
          value: s3cr3t-pw
      containers:
      - name: app
        image: example/app:1.0
        env:
        - name: LOG_LEVEL
          value: debug
        - name: GITHUB_TOKEN
          value: "ghp_abcdef"
        - name: KEY_PREFIX
          value: app-
        - name: API_KEY
          value: 'k-123'
        - name: DB_USER_PASSWORD
          valueFrom:
            secretKeyRef:
              name: db-creds
              key: password
"""


def loaded(text: str) -> list:
    """Load every document, failing the test on a syntax error."""
    documents = load_documents(text)
    assert [d.error for d in documents] == [None] * len(documents)
    return [d.value for d in documents]


def env_of(deployment: dict, container: str) -> dict:
    spec = deployment["spec"]["template"]["spec"]
    pods = spec["containers"] + spec["initContainers"]
    (found,) = [c for c in pods if c["name"] == container]
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in found["env"]}


def test_it_replaces_every_data_and_string_data_value_of_a_secret() -> None:
    result = redact(SECRET)
    for value in SECRET_VALUES:
        assert value not in result.text
    (secret,) = loaded(result.text)
    assert secret["data"] == {"password": REDACTED, "username": REDACTED}
    assert list(secret["stringData"]) == ["dsn", "tls.key", "note"]
    assert set(secret["stringData"].values()) == {REDACTED}
    assert secret["metadata"] == {"name": "db-creds"}


def test_it_changes_nothing_but_the_secret_values() -> None:
    expected = """\
apiVersion: v1
kind: Secret
metadata:
  name: db-creds   # rotated monthly
type: Opaque
data:
  password: REDACTED
  username: 'REDACTED'
stringData:
  dsn: "REDACTED"
  tls.key: REDACTED



  note: REDACTED

"""
    assert redact(SECRET).text == expected


def test_it_redacts_env_values_whose_names_look_secret() -> None:
    result = redact(DEPLOYMENT)
    for value in ("s3cr3t-pw", "ghp_abcdef", "k-123"):
        assert value not in result.text
    (deployment,) = loaded(result.text)
    assert env_of(deployment, "migrate") == {"DB_PASSWORD": REDACTED}
    app = env_of(deployment, "app")
    assert app["GITHUB_TOKEN"] == app["API_KEY"] == REDACTED
    assert app["LOG_LEVEL"] == "debug"
    assert app["KEY_PREFIX"] == "app-"


def test_it_leaves_value_from_references_alone() -> None:
    result = redact(DEPLOYMENT)
    (deployment,) = loaded(result.text)
    reference = env_of(deployment, "app")["DB_USER_PASSWORD"]
    assert reference == {"secretKeyRef": {"name": "db-creds", "key": "password"}}
    assert result.text.endswith(DEPLOYMENT[DEPLOYMENT.index("        - name: DB_USER_PASSWORD") :])


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("DB_PASSWORD", True),
        ("MYSQL_ROOT_PASS", True),
        ("dbPassword", True),
        ("GITHUB_TOKEN", True),
        ("CLIENT_SECRET", True),
        ("API_KEY", True),
        ("apiKey", True),
        ("AWS_ACCESS_KEY_ID", True),
        ("SSH_PRIVATE_KEY", True),
        ("AWS_CREDENTIALS", True),
        ("BASIC_AUTH", True),
        ("LOG_LEVEL", False),
        ("KEY_PREFIX", False),
        ("KEYCLOAK_URL", False),
        ("AUTH_URL", False),
        ("PASSENGER_COUNT", False),
        ("TLS_CERT", False),
        ("DB_PASSWORD_FILE", False),
        ("PGPASSWORD", True),
        ("ADMINPASSWORD", True),
        ("AUTHTOKEN", True),
        ("HTPASSWD", True),
        ("SSH_KEY", True),
        ("SSHKEY", True),
        ("clientSecret", True),
        ("REDIS_PWD", True),
        ("TLS_KEY_FILE", False),
        ("TOKEN_URL", False),
        ("SECRET_NAME", False),
        ("TOKENIZER_MODEL", False),
        ("MONKEY", False),
    ],
)
def test_it_tells_secret_env_names_from_harmless_ones(name: str, secret: bool) -> None:
    assert bool(secret_word(name)) is secret
    text = f"kind: Pod\napiVersion: v1\nspec:\n  containers:\n  - env:\n    - name: {name}\n"
    result = redact(text + "      value: xyzzy\n")
    assert ("xyzzy" not in result.text) is secret


def test_it_keeps_comments_and_other_documents_byte_for_byte() -> None:
    config = "# the app's settings\napiVersion: v1\nkind: ConfigMap\ndata:\n  mode: shown\n"
    text = f"{config}---\n{SECRET}--- # the workload\n{DEPLOYMENT}"
    result = redact(text)
    first, second, third = result.text.split("---")
    assert first == config
    assert second == "\n" + redact(SECRET).text
    assert third == " # the workload\n" + redact(DEPLOYMENT).text


@pytest.mark.parametrize(
    "header",
    ["|", "|-", "|+", ">", ">-", "|2", "|4-", ">+2"],
)
def test_it_removes_every_line_of_a_block_scalar_secret(header: str) -> None:
    text = (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: tls\nstringData:\n"
        f"  tls.key: {header}  # PEM\n"
        "      -----BEGIN PRIVATE KEY-----\n"
        "      MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n"
        "\n"
        "      -----END PRIVATE KEY-----\n"
        "  tls.crt: Y2VydA==\n"
        "type: kubernetes.io/tls\n"
    )
    result = redact(text)
    assert "PRIVATE KEY" not in result.text
    assert "MIIEvQ" not in result.text
    # The key's lines stay, blank: every line after it keeps its number.
    assert "  tls.key: REDACTED  # PEM\n\n\n\n\n  tls.crt: REDACTED\ntype: kubernetes.io/tls\n" in (
        result.text
    )
    assert result.text.count("\n") == text.count("\n")
    (secret,) = loaded(result.text)
    assert secret["type"] == "kubernetes.io/tls"


@pytest.mark.parametrize(
    ("written", "replaced"),
    [
        ("plain-value", "REDACTED"),
        ("'single ''quoted'''", "'REDACTED'"),
        ('"double \\" quoted"', '"REDACTED"'),
        ('"double quoted\n    over two lines"', '"REDACTED"\n'),
        ("plain over\n    two lines", "REDACTED\n"),
        ("!!binary aGk=", "REDACTED"),
        ("abc#not-a-comment", "REDACTED"),
        ("value  # a comment", "REDACTED  # a comment"),
        ("\n    on-the-next-line", "\n    REDACTED"),
    ],
    ids=[
        "plain",
        "single",
        "double",
        "double-2-lines",
        "plain-2-lines",
        "tag",
        "hash",
        "comment",
        "next-line",
    ],
)
def test_it_redacts_a_value_in_any_scalar_style(written: str, replaced: str) -> None:
    text = f"apiVersion: v1\nkind: Secret\ndata:\n  pw: {written}\n  after: x\n"
    result = redact(text)
    assert (
        result.text == f"apiVersion: v1\nkind: Secret\ndata:\n  pw: {replaced}\n  after: REDACTED\n"
    )


def test_it_redacts_inside_flow_style_env_and_data() -> None:
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
        "  - name: app\n"
        "    env: [{name: DB_PASSWORD, value: hunter2}, {name: LOG_LEVEL, value: info}]\n"
        "---\n"
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n"
        'data: {password: aGk=, "user": "Ym9i"}  # flow\n'
    )
    result = redact(text)
    assert "env: [{name: DB_PASSWORD, value: REDACTED}, {name: LOG_LEVEL, value: info}]" in (
        result.text
    )
    assert 'data: {password: REDACTED, "user": "REDACTED"}  # flow\n' in result.text
    _, secret = loaded(result.text)
    assert secret["data"] == {"password": REDACTED, "user": REDACTED}


def test_it_keeps_a_json_manifest_valid_json() -> None:
    manifest = {
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "s"},
                "data": {"password": "aGk=", "pin": 1234},
            },
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "p"},
                "spec": {"containers": [{"name": "c", "env": [{"name": "TOKEN", "value": "t0k"}]}]},
            },
        ],
    }
    text = json.dumps(manifest, indent=4)
    result = redact(text)
    secret, pod = json.loads(result.text)["items"]
    assert secret["data"] == {"password": REDACTED, "pin": REDACTED}
    assert pod["spec"]["containers"][0]["env"] == [{"name": "TOKEN", "value": REDACTED}]
    assert [r.path for r in result.redactions] == [
        "Secret/s data.password",
        "Secret/s data.pin",
        "Pod/p spec.containers[0].env[TOKEN].value",
    ]


def test_it_keeps_crlf_line_endings() -> None:
    text = SECRET.replace("\n", "\r\n")
    result = redact(text)
    assert result.text == redact(SECRET).text.replace("\n", "\r\n")
    assert "\n" not in result.text.replace("\r\n", "")


def test_it_keeps_a_byte_order_mark() -> None:
    result = redact("\ufeff" + SECRET)
    assert result.text == "\ufeff" + redact(SECRET).text


def test_it_redacts_the_corpus_secret_and_keeps_the_workloads() -> None:
    path = CORPUS / "argoproj__argo-workflows__test__e2e__azure__deploy-azurite.yaml"
    text = path.read_text()
    result = redact(text)
    key = "RWJ5OHZkTTAyeE5PY3FGbHFVd0pQTGxtRXRsQ0RYSjFPVXpGVDUwdVNSWjZJRnN1RnEyVVZFckN6NEk2dHEv"
    assert key in text
    assert key not in result.text
    assert result.redactions == (
        Redaction(1, 9, "Secret/azurite-credentials data.account-access-key", "Secret data"),
    )
    before, after = analyze_text(text), analyze_text(result.text)
    assert after.errors == ()
    names = [(w.workload.kind, w.workload.name) for w in after.workloads]
    assert names == [(w.workload.kind, w.workload.name) for w in before.workloads]
    assert names == [("Deployment", "azurite")]


def test_it_redacts_an_unparseable_document_that_holds_a_secret_in_place() -> None:
    broken = "apiVersion: v1\nkind: Secret\ndata:\n  password: [aGk=\n"
    text = f"kind: ConfigMap\napiVersion: v1\n---\n{broken}---\nkind: Service\napiVersion: v1\n"
    result = redact(text)
    assert "aGk=" not in result.text
    assert result.text == text.replace("[aGk=", REDACTED)
    assert [(r.document, r.line, r.path) for r in result.redactions] == [(2, 7, "document text")]
    assert result.redactions[0].reason.startswith("does not parse")


def test_it_redacts_an_unparseable_env_value_whose_name_looks_secret() -> None:
    text = "kind: Pod\nspec:\n  containers:\n  - env:\n    - name: DB_PASSWORD\n      value: [x\n"
    result = redact(text)
    assert result.text == text.replace("[x", REDACTED)
    assert [(r.document, r.line) for r in result.redactions] == [(1, 6)]


def test_it_redacts_every_line_of_a_secret_block_in_an_unparseable_document() -> None:
    text = (
        "kind: Secret\nstringData:\n  tls.key: |\n    -----BEGIN PRIVATE KEY-----\n"
        "    MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n    -----END PRIVATE KEY-----\n"
        "  token: abc\nspec: [\n"
    )
    result = redact(text)
    assert "MIIEvQ" not in result.text and "abc" not in result.text
    assert result.text.count("\n") == text.count("\n")
    assert result.text.startswith("kind: Secret\nstringData:\n  tls.key: |\n    REDACTED\n")


def test_it_keeps_an_unparseable_document_without_secrets() -> None:
    text = "kind: ConfigMap\ndata:\n  a: [1\n---\nkind: Pod\n"
    result = redact(text)
    assert result.text == text
    assert result.redactions == ()


def test_it_redacts_a_document_with_duplicate_keys_line_by_line() -> None:
    duplicated = "apiVersion: v1\nkind: Secret\ndata:\n  password: Zmlyc3Q=\n  password: c2Vjb25k\n"
    text = f"{duplicated}---\n{SECRET}"
    result = redact(text)
    assert "Zmlyc3Q=" not in result.text  # the first of two equal keys is not in the tree
    assert "c2Vjb25k" not in result.text
    assert result.text.startswith(
        duplicated.replace("Zmlyc3Q=", REDACTED).replace("c2Vjb25k", REDACTED)
    )
    assert result.text.endswith(redact(SECRET).text)
    assert [(r.document, r.line) for r in result.redactions[:2]] == [(1, 4), (1, 5)]


def test_it_removes_a_document_whose_secret_it_cannot_place_at_all() -> None:
    # A merge key hides where the value is written, and the line scanner cannot see it.
    text = "kind: Pod\nspec:\n  base: &b {name: DB_PASSWORD, value: hunter2}\n  env:\n  - <<: *b\n"
    result = redact(text)
    assert "hunter2" not in result.text
    assert result.text.count("\n") == text.count("\n")


def test_it_redacts_an_anchored_value_and_its_aliases() -> None:
    text = (
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - env:\n"
        "    - {name: DB_PASSWORD, value: &pw hunter2}\n"
        "  - env:\n"
        "    - {name: DB_PASSWORD, value: *pw}\n"
    )
    result = redact(text)
    assert "hunter2" not in result.text
    assert "value: &pw REDACTED" in result.text
    (pod,) = loaded(result.text)
    assert [c["env"][0]["value"] for c in pod["spec"]["containers"]] == [REDACTED, REDACTED]


def test_it_redacts_a_secret_even_without_api_version_or_metadata() -> None:
    result = redact("kind: Secret\nstringData:\n  password: hunter2\n")
    assert result.text == "kind: Secret\nstringData:\n  password: REDACTED\n"
    assert result.redactions == (
        Redaction(1, 3, "Secret stringData.password", "Secret stringData"),
    )


def test_it_redacts_secrets_inside_a_list() -> None:
    text = (
        "apiVersion: v1\nkind: List\nitems:\n"
        "- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: a\n  data:\n    k: djE=\n"
        "- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: b\n  stringData:\n    k: v2\n"
    )
    result = redact(text)
    assert [(r.line, r.path, r.reason) for r in result.redactions] == [
        (9, "Secret/a data.k", "Secret data"),
        (15, "Secret/b stringData.k", "Secret stringData"),
    ]
    assert "djE=" not in result.text
    assert "v2" not in result.text


def test_it_reports_document_numbers_and_lines_of_the_redacted_text() -> None:
    text = f"{SECRET}---\n{DEPLOYMENT}"
    result = redact(text)
    lines = result.text.splitlines()
    assert [(r.document, r.line) for r in result.redactions] == [
        (1, 7),
        (1, 8),
        (1, 10),
        (1, 11),
        (1, 15),
        (2, 29),
        (2, 37),
        (2, 41),
    ]
    for redaction in result.redactions:
        assert REDACTED in lines[redaction.line - 1]
    assert lines[10] == "  tls.key: REDACTED"  # the PEM's three lines are left blank
    assert lines[11:14] == ["", "", ""]
    assert lines[28].strip() == "value: REDACTED"
    assert len(lines) == len(text.splitlines())
    assert result.redactions[5].path == (
        "Deployment/web spec.template.spec.initContainers[0].env[DB_PASSWORD].value"
    )
    assert result.redactions[5].reason == "env var name looks secret (PASSWORD)"


def test_it_is_idempotent() -> None:
    text = f"{SECRET}---\n{DEPLOYMENT}---\nkind: Secret\ndata: {{a: [1\n"
    once = redact(text)
    twice = redact(once.text)
    assert once.redactions
    assert twice.text == once.text
    assert twice.redactions == ()


def test_it_changes_nothing_without_secrets() -> None:
    text = (
        "# nothing to hide\napiVersion: v1\nkind: ConfigMap\ndata:\n  url: https://example.com/x\n"
        "  secretName: tls\n  key: tls.crt\n  token-ttl: 5m\n"
    )
    assert redact(text) == Redacted(text, ())


EVERY_FORM = (ROOT / "tests/fixtures/secrets/every-form.yaml").read_text()
LEAKS = [*sorted(set(re.findall(r"LEAK\d\d", EVERY_FORM))), "TEVBSzAx", "TEVBSzAy"]


def test_it_redacts_every_form_of_secret_a_manifest_carries() -> None:
    result = redact(EVERY_FORM)
    assert len(LEAKS) == 27
    assert [leak for leak in LEAKS if leak in result.text] == []


def test_it_keeps_every_line_where_it_was_and_the_harmless_text_as_written() -> None:
    result = redact(EVERY_FORM)
    before, after = EVERY_FORM.splitlines(), result.text.splitlines()
    assert len(after) == len(before)
    changed = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    assert all(REDACTED in after[i] or not after[i].strip() for i in changed)
    for kept in (
        "            secretKeyRef: {name: app-creds, key: password}",
        "          value: /etc/tls/tls.key",
        '        args: ["--listen=:8080", "--password=REDACTED", "--token", "REDACTED",'
        ' "--api-key", "REDACTED"]',
        "    spring.datasource.url=jdbc:postgresql://db:5432/app",
        "    -----BEGIN OPENSSH PRIVATE KEY-----",
        "  database-url: postgres://app:REDACTED@db:5432/app?sslmode=require",
        "  callback: https://example.com/cb?access_token=REDACTED&page=1",
        '        command: ["sh", "-c", "mysql -h db -u root -pREDACTED app < /schema.sql"]',
    ):
        assert kept in after
    assert [r.line for r in result.redactions] == sorted({r.line for r in result.redactions})
    for redaction in result.redactions:
        assert REDACTED in after[redaction.line - 1]


def test_it_leaves_the_analysis_of_a_redacted_manifest_where_it_was() -> None:
    def findings(text: str) -> list[tuple[str, int | None, str]]:
        report = analyze_text(text)
        assert report.errors == ()
        return [(f.rule, f.line, f.container) for w in report.workloads for f in w.findings]

    assert findings(redact(EVERY_FORM).text) == findings(EVERY_FORM)


def test_it_is_idempotent_on_every_form() -> None:
    once = redact(EVERY_FORM)
    assert redact(once.text) == Redacted(once.text, ())


@pytest.mark.parametrize(
    "harmless",
    [
        "psql -h db -p 5432 -U app",
        "--password-file=/run/secrets/pw",
        "--token-ttl=5m",
        "password: $(DB_PASSWORD)",
        "postgres://app:${DB_PASSWORD}@db/app",
        "https://user@example.com/repo.git",
        "docker run -u 1000:1000 busybox",
        "key: tls.crt",
    ],
)
def test_it_leaves_references_ports_and_paths_alone(harmless: str) -> None:
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
        f"  - name: c\n    image: busybox\n    command: [sh, -c, {json.dumps(harmless)}]\n"
    )
    assert redact(text) == Redacted(text, ())


def test_it_redacts_a_credential_written_inside_an_escaped_string_whole() -> None:
    # The password is written with an escape, so it cannot be masked where it is: the whole
    # value goes instead.
    text = 'kind: ConfigMap\napiVersion: v1\ndata:\n  url: "postgres://u:p\\u0061ss@db/app"\n'
    result = redact(text)
    assert result.text == 'kind: ConfigMap\napiVersion: v1\ndata:\n  url: "REDACTED"\n'


def test_it_redacts_inside_the_last_applied_configuration_only_when_it_holds_secrets() -> None:
    applied = '{"kind":"Pod","apiVersion":"v1","metadata":{"name":"p"}}'
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n"
        f"    kubectl.kubernetes.io/last-applied-configuration: '{applied}'\n"
    )
    assert redact(text).text == text
    with_token = text.replace('"name":"p"}', '"name":"p","annotations":{"x/token":"LEAK"}}')
    result = redact(with_token)
    assert "LEAK" not in result.text
    assert "last-applied-configuration: 'REDACTED'" in result.text


def test_it_masks_copies_of_what_it_replaced_in_other_documents() -> None:
    result = redact(EVERY_FORM)
    analysis = {"message": "runs mysql -pLEAK14 at start", "args": ["LEAK15"], "ok": "debug"}
    assert mask(analysis, result.values) == {
        "message": "runs mysql -pREDACTED at start",
        "args": [REDACTED],
        "ok": "debug",
    }
    assert not re.search(r"LEAK\d\d", repr(result))  # no secret in a log or a traceback


def test_it_redacts_a_secret_written_as_json_on_one_line_that_does_not_parse() -> None:
    deep = "[" * 200 + "]" * 200  # deeper than the loader allows
    text = (
        '{"kind": "List", "items": [{"apiVersion": "v1", "kind": "Secret", "metadata": {"name":'
        ' "s"}, "type": "Opaque", "data": {"app": "c2VjcmV0"}}, {"kind": "Pod", "x": '
        + deep
        + "}]}"
    )
    result = redact(text)
    assert "c2VjcmV0" not in result.text
    assert result.text == text.replace("c2VjcmV0", REDACTED)
    assert result.redactions[0].reason.startswith("does not parse")


@pytest.mark.parametrize(
    "value",
    ["'''c2VjcmV0'", "'it''s c2VjcmV0'", "'# c2VjcmV0'", '"say \\"c2VjcmV0\\""', "c2VjcmV0"],
)
def test_it_reads_escaped_quotes_in_a_secret_that_does_not_parse(value: str) -> None:
    text = f"{{kind: Secret, data: {{app: {value}}}, x: [[[[" + "[" * 200 + "\n"
    assert "c2VjcmV0" not in redact(text).text


def test_it_redacts_a_block_env_value_in_a_document_that_does_not_parse() -> None:
    text = (
        "kind: Pod\nspec:\n  containers:\n  - env:\n    - name: DB_PASSWORD\n      value: |-\n"
        "        line one\n        hunter2\n    - name: LOG_LEVEL\n      value: info\n  x: [\n"
    )
    result = redact(text)
    assert "hunter2" not in result.text and "line one" not in result.text
    assert "value: info" in result.text
    assert result.text.count("\n") == text.count("\n")


def test_it_redacts_a_quoted_value_folded_over_lines_in_text_that_does_not_parse() -> None:
    text = (
        "kind: Pod\nspec:\n  containers:\n  - env: [{name: DB_PASSWORD, value: 'line one\n\n"
        "      hunter2'}, {name: MODE, value: fast}]\n  x: [\n"
    )
    result = redact(text)
    assert "hunter2" not in result.text and "line one" not in result.text
    assert "value: fast" in result.text
    assert result.text.count("\n") == text.count("\n")
