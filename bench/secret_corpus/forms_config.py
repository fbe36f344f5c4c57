"""In-sample forms for configuration files: .env, templates, Kubernetes, Compose, CI,
service-account JSON, Terraform and JSON settings."""

from __future__ import annotations

import hashlib
import json

from bench.secret_corpus.builder import FileBuilder, FormContext
from bench.secret_corpus.planting import Render, fake, mixed, plant
from bench.secret_corpus.syntax import dq, env_value, escaped_pem, hcl_string, indent, yaml_value


def _sha256_of(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def dotenv(ctx: FormContext) -> FileBuilder:
    b = FileBuilder(
        ctx.path(
            ctx.rng.choice(
                [
                    ".env",
                    ".env.production",
                    "services/{name}/.env",
                    "deploy/.env.{name}",
                    "services/{name}/.env.local",
                ]
            )
        ),
        "dotenv",
    )
    b.add("# Runtime configuration — loaded by python-dotenv / docker compose")
    export = ctx.rng.random() < 0.3
    style = ctx.rng.choice(["auto", "auto", "double", "single"])

    def render(name: str, value: str) -> str:
        return ("export " if export else "") + f"{name}={env_value(value, style)}"

    filler = [
        "APP_ENV=production",
        "LOG_LEVEL=info",
        "PORT=8000",
        "",
        "# --- integrations ---",
        "SENTRY_ENVIRONMENT=prod",
        "FEATURE_FLAGS=ask,sync",
        "TZ=UTC",
    ]
    mixed(b, ctx, render, ctx.rng.randint(3, 7), ctx.rng.randint(3, 6), filler)
    if ctx.rng.random() < 0.3:
        token = ctx.take("private_key")
        b.secret(f'{ctx.name(token)}="{escaped_pem(token.value)}"', token)
    if ctx.rng.random() < 0.4:
        token = ctx.take("gcp_service_account")
        b.secret(f"GOOGLE_CREDENTIALS='{json.dumps(json.loads(token.written))}'", token)
    return b


def env_example(ctx: FormContext) -> FileBuilder:
    """The committed template: every value a placeholder, a reference or a harmless default."""
    b = FileBuilder(
        ctx.path(
            ctx.rng.choice(
                [
                    ".env.example",
                    "services/{name}/.env.example",
                    ".env.sample",
                    "deploy/{name}.env.template",
                ]
            )
        ),
        "env_example",
    )
    b.add("# Copy to .env and fill in. Never commit real values.")
    for _ in range(ctx.rng.randint(6, 12)):
        fake(b, ctx, lambda name, value: f"{name}={env_value(value)}")
    return b


def k8s_manifests(ctx: FormContext) -> FileBuilder:
    b = FileBuilder(
        ctx.path(
            "deploy/k8s/{name}-secrets.yaml"
            if ctx.rng.random() < 0.6
            else "k8s/overlays/prod/{name}-{n}.yaml"
        ),
        "k8s",
    )
    b.add(
        "apiVersion: v1",
        "kind: Secret",
        "metadata:",
        "  name: sophia-runtime",
        "  labels:",
        "    app.kubernetes.io/name: sophia",
        "type: Opaque",
        "stringData:",
    )
    plain = ctx.rng.random() < 0.5
    render: Render = lambda name, value: f"  {name}: {yaml_value(value, plain)}"  # noqa: E731
    mixed(b, ctx, render, ctx.rng.randint(2, 5), ctx.rng.randint(1, 3), [])
    if ctx.rng.random() < 0.7:
        token = ctx.take("private_key")
        b.secret(f"  tls.key: |\n{indent(token.value, 4)}", token)
    if ctx.rng.random() < 0.4:
        token = ctx.take("gcp_service_account")
        b.secret(f"  gcp-sa.json: |\n{indent(token.written, 4)}", token)
    if ctx.rng.random() < 0.5:
        cert = ctx.decoy("private_key", kinds=("certificate",))
        b.decoy(f"  tls.crt: |\n{indent(cert.value, 4)}", cert)
    b.add(
        "---",
        "apiVersion: apps/v1",
        "kind: Deployment",
        "metadata:",
        "  name: sophia-api",
        "spec:",
        "  template:",
        "    spec:",
        "      containers:",
        "        - name: api",
        "          image: ghcr.io/acme/sophia:1.8.2",
        "          env:",
    )

    def env_item(name: str, value: str) -> str:
        return f"            - name: {name}\n              value: {dq(value)}"

    plant(b, ctx, env_item)
    fake(b, ctx, env_item)
    ref = ctx.custom_decoy("password", "env_reference", "secretKeyRef", "DB_PASSWORD")
    b.decoy(
        indent(
            "- name: DB_PASSWORD\n  valueFrom:\n    secretKeyRef:\n"
            "      name: sophia-runtime\n      key: DB_PASSWORD",
            12,
        ),
        ref,
    )
    return b


def docker_compose(ctx: FormContext) -> FileBuilder:
    b = FileBuilder(
        ctx.path("docker-compose.yml" if ctx.rng.random() < 0.3 else "deploy/compose.{name}.yml"),
        "compose",
    )
    b.add("services:", "  db:", "    image: postgres:18", "    environment:")
    pw = ctx.take("password")
    b.secret(f"      POSTGRES_PASSWORD: {dq(pw.value)}", pw)
    b.add("      POSTGRES_DB: sophia", "  cache:", "    image: redis:7")
    rpw = ctx.take("password")
    b.secret(f'    command: ["redis-server", "--requirepass", {dq(rpw.value)}]', rpw)
    digest = ctx.decoy("generic_secret")
    b.decoy(
        f"  worker:\n    image: ghcr.io/acme/worker@sha256:{_sha256_of(digest.value)}"
        if digest.kind == "hash"
        else "  worker:\n    image: ghcr.io/acme/worker:2.1\n    labels:\n"
        f"      {digest.name.lower()}: {dq(digest.value)}",
        digest,
    )
    b.add("  api:", "    build: .", "    ports:", '      - "8000:8000"', "    environment:")
    list_style = ctx.rng.random() < 0.5
    render: Render = (
        (lambda n, v: f"      - {n}={v}") if list_style else (lambda n, v: f"      {n}: {dq(v)}")
    )
    mixed(
        b,
        ctx,
        render,
        ctx.rng.randint(2, 5),
        ctx.rng.randint(2, 4),
        ["      - LOG_LEVEL=info" if list_style else "      LOG_LEVEL: info"],
    )
    return b


def github_workflow(ctx: FormContext) -> FileBuilder:
    b = FileBuilder(ctx.path(".github/workflows/{name}.yml"), "ci_workflow")
    sha = ctx.custom_decoy("github", "hash", "actions/checkout", "uses")
    b.add(
        "name: nightly-sync",
        "on:",
        "  schedule:",
        '    - cron: "0 3 * * *"',
        "jobs:",
        "  sync:",
        "    runs-on: ubuntu-latest",
        "    env:",
    )
    render: Render = lambda name, value: f"      {name}: {dq(value)}"  # noqa: E731
    mixed(b, ctx, render, ctx.rng.randint(1, 3), 1, ["      PYTHONUNBUFFERED: '1'"])
    b.decoy(
        "      OPENAI_API_KEY: ${{ secrets.OPENAI_API_KEY }}",
        ctx.custom_decoy(
            "openai", "env_reference", "${{ secrets.OPENAI_API_KEY }}", "OPENAI_API_KEY"
        ),
    )
    b.add("    steps:")
    b.decoy(f"      - uses: actions/checkout@{ctx.rng.randbytes(20).hex()}", sha)
    b.add("      - run: pip install -r requirements.lock", "      - name: notify")
    token = ctx.take_any(
        families=[
            "slack_token",
            "github",
            "gitlab",
            "jwt",
            "hubspot",
            "asana",
            "openrouter",
            "anthropic",
        ]
    )
    b.secret(
        f'        run: |\n          curl -fsS -H "Authorization: Bearer {token.text}" https://api.example.com/v1/ping',
        token,
    )
    hook = ctx.take("slack_webhook")
    b.secret(f'      - run: curl -X POST -d \'{{"text":"sync done"}}\' {hook.value}', hook)
    return b


def gcp_credentials(ctx: FormContext) -> FileBuilder:
    b = FileBuilder(
        ctx.path(
            ctx.rng.choice(
                [
                    "credentials/{name}-sa.json",
                    "secrets/gcp-{name}.json",
                    "deploy/{name}-service-account-{n}.json",
                ]
            )
        ),
        "gcp_json",
    )
    token = ctx.take("gcp_service_account")
    b.secret(token.written, token)
    return b


def gcp_lookalike(ctx: FormContext) -> FileBuilder:
    """Workload-identity federation config: a credentials file with no secret in it."""
    b = FileBuilder(ctx.path("credentials/{name}-wif-{n}.json"), "gcp_json")
    number = ctx.rng.randint(10**11, 10**12 - 1)
    fake_doc = ctx.custom_decoy("gcp_service_account", "config_value", "external_account", "type")
    b.decoy(
        "{\n"
        + '  "type": "external_account",\n'
        + f'  "audience": "//iam.googleapis.com/projects/{number}/locations/global/'
        + 'workloadIdentityPools/github/providers/acme",\n'
        '  "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",\n  "token_url": "https://sts.googleapis.com/v1/token",\n'
        '  "credential_source": {"file": "/var/run/secrets/tokens/gcp-ksa/token"}\n}',
        fake_doc,
    )
    return b


def terraform(ctx: FormContext) -> FileBuilder:
    b = FileBuilder(
        ctx.path(
            "infra/{name}.tf" if ctx.rng.random() < 0.6 else "terraform/modules/{name}/main.tf"
        ),
        "terraform",
    )
    key_id, secret = ctx.take_aws_pair()
    b.add('provider "aws" {', '  region     = "eu-central-1"')
    b.secret(f"  access_key = {hcl_string(key_id.value)}", key_id)
    b.secret(f"  secret_key = {hcl_string(secret.value)}", secret)
    b.add(
        "}",
        "",
        'resource "aws_db_instance" "warehouse" {',
        '  engine         = "postgres"',
        '  instance_class = "db.t4g.medium"',
        '  username       = "sophia"',
    )
    pw = ctx.take("password")
    b.secret(f"  password       = {hcl_string(pw.value)}", pw)
    b.decoy(
        "  kms_key_id     = var.kms_key_id",
        ctx.custom_decoy("aws", "env_reference", "var.kms_key_id", "kms_key_id"),
    )
    b.add("}", "")
    for _ in range(ctx.rng.randint(1, 3)):
        token = ctx.take_any()
        b.add(
            f'variable "{ctx.name(token).lower()}" {{', "  type      = string", "  sensitive = true"
        )
        b.secret(f"  default   = {hcl_string(token.text)}", token)
        b.add("}")
    lookalike = ctx.decoy()
    b.add(f'variable "{lookalike.name.lower()}" {{', "  type    = string")
    b.decoy(f"  default = {hcl_string(lookalike.value)}", lookalike)
    b.add("}")
    if ctx.rng.random() < 0.5:
        token = ctx.take("private_key")
        b.add("", 'resource "tls_locally_signed_cert" "bridge" {')
        b.secret(f"  ca_private_key_pem = <<EOT\n{token.value.strip()}\nEOT", token)
        b.add('  allowed_uses = ["server_auth"]', "}")
    return b


def json_config(ctx: FormContext) -> FileBuilder:
    b = FileBuilder(
        ctx.path(
            "config/{name}.production.json" if ctx.rng.random() < 0.5 else "config/{name}-{n}.json"
        ),
        "json_config",
    )
    b.add("{", '  "service": "sophia",', '  "integrations": {')
    mixed(
        b,
        ctx,
        lambda n, v: f"    {dq(n.lower())}: {dq(v)},",
        ctx.rng.randint(2, 4),
        ctx.rng.randint(2, 3),
        ['    "timeout_ms": 10000,'],
    )
    b.add('    "retries": 3', "  },")
    if ctx.rng.random() < 0.5:
        token = ctx.take("private_key")
        b.add('  "github_app": {', f'    "app_id": {ctx.rng.randint(100000, 999999)},')
        b.secret(f'    "private_key": "{escaped_pem(token.value)}"', token)
        b.add("  },")
    b.add('  "version": 3', "}")
    return b
