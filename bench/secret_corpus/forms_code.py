"""In-sample forms for code and docs: Python and Django settings, shell, notebooks,
Markdown, Dockerfiles, JS/TS config, PEM files, certificates, lock files and styles."""

from __future__ import annotations

import base64
import json

from bench.secret_corpus.builder import FileBuilder, FormContext
from bench.secret_corpus.planting import Render, fake, mixed
from bench.secret_corpus.syntax import dq, env_value, split_token


def python_settings(ctx: FormContext) -> FileBuilder:
    b = FileBuilder(
        ctx.path("src/{name}/config.py" if ctx.rng.random() < 0.5 else "app/settings_{n}.py"),
        "python_settings",
    )
    b.add(
        '"""Settings for the service (read once at import)."""',
        "",
        "import os",
        "",
        "TIMEOUT_SECONDS = 30",
        "",
    )
    render: Render = lambda name, value: f"{name} = {dq(value)}"  # noqa: E731
    mixed(
        b,
        ctx,
        render,
        ctx.rng.randint(2, 5),
        ctx.rng.randint(2, 4),
        ["RETRIES = 3", "BATCH_SIZE = 500", 'DEFAULT_MODEL = "gpt-4o-mini"'],
    )
    token = ctx.take_any()
    b.secret(f'{ctx.name(token)} = os.environ.get("{ctx.name(token)}", {dq(token.text)})', token)
    decoy = ctx.decoy()
    b.decoy(f'{decoy.name} = os.environ.get("{decoy.name}", {dq(decoy.value)})', decoy)
    env_name = ctx.rng.choice(["OPENAI_API_KEY", "SLACK_BOT_TOKEN", "DB_PASSWORD"])
    ref = ctx.custom_decoy("generic_secret", "env_reference", f"os.environ[{env_name!r}]", env_name)
    b.decoy(f'{env_name} = os.environ["{env_name}"]', ref)
    if ctx.rng.random() < 0.6:
        token = ctx.take_any()
        head, tail = split_token(token.text)
        b.secret(f"{ctx.name(token)} = (\n    {dq(head)}\n    {dq(tail)}\n)", token, marker=head)
    b.add("", "CLIENTS = {")
    for _ in range(ctx.rng.randint(1, 3)):
        token = ctx.take_any()
        b.secret(f'    "{token.family}": {{"api_key": {dq(token.text)}, "timeout": 10}},', token)
    # Under an "api_key" key only a placeholder-like value is a fair look-alike.
    lookalike = ctx.decoy(kinds=("placeholder", "env_reference", "doc_example", "masked"))
    b.decoy(f'    "fallback": {{"api_key": {dq(lookalike.value)}, "timeout": 10}},', lookalike)
    b.add("}")
    if ctx.rng.random() < 0.4:
        token = ctx.take("private_key")
        b.secret(f'SIGNING_KEY = """{token.value.strip()}\n"""', token)
    return b


def django_settings(ctx: FormContext) -> FileBuilder:
    b = FileBuilder(
        ctx.path(
            "{name}/settings/production.py"
            if ctx.rng.random() < 0.6
            else "{name}_site/settings_{n}.py"
        ),
        "django_settings",
    )
    b.add(
        "from .base import *  # noqa: F401,F403",
        "",
        "DEBUG = False",
        'ALLOWED_HOSTS = ["bi.example.com"]',
    )
    key = ctx.take("django_secret_key")
    quote = ctx.rng.choice(["'", '"'])
    b.secret(f"SECRET_KEY = {quote}{key.value}{quote}", key)
    b.decoy(
        "SECRET_KEY_FALLBACKS = []",
        ctx.custom_decoy("django_secret_key", "config_value", "[]", "SECRET_KEY_FALLBACKS"),
    )
    db = ctx.take("password")
    b.add(
        "",
        "DATABASES = {",
        '    "default": {',
        '        "ENGINE": "django.db.backends.postgresql",',
        '        "NAME": "sophia",',
        '        "USER": "sophia",',
    )
    b.secret(f'        "PASSWORD": {dq(db.value)},', db)
    b.add('        "HOST": "db.internal",', '        "PORT": 5432,', "    }", "}", "")
    b.add(
        "AUTH_PASSWORD_VALIDATORS = [",
        '    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},',
        "]",
    )
    b.add('EMAIL_HOST = "smtp.sendgrid.net"', 'EMAIL_HOST_USER = "apikey"')
    mail = ctx.take("sendgrid") if ctx.rng.random() < 0.5 else ctx.take("password")
    b.secret(f"EMAIL_HOST_PASSWORD = {dq(mail.value)}", mail)
    if ctx.rng.random() < 0.5:
        key_id, secret = ctx.take_aws_pair()
        b.secret(f"AWS_ACCESS_KEY_ID = {dq(key_id.value)}", key_id)
        b.secret(f"AWS_SECRET_ACCESS_KEY = {dq(secret.value)}", secret)
    fake(b, ctx, lambda name, value: f"{name} = {dq(value)}")
    return b


def shell_script(ctx: FormContext) -> FileBuilder:
    b = FileBuilder(
        ctx.path("scripts/{name}.sh" if ctx.rng.random() < 0.6 else "bin/{name}-{n}.sh"), "shell"
    )
    b.add("#!/usr/bin/env bash", "set -euo pipefail", "")
    mixed(
        b,
        ctx,
        lambda n, v: f"export {n}={env_value(v, 'single')}",
        ctx.rng.randint(1, 3),
        ctx.rng.randint(1, 3),
        ['cd "$(dirname "$0")/.."'],
    )
    b.decoy(
        'export DB_PASSWORD="${DB_PASSWORD:?set DB_PASSWORD}"',
        ctx.custom_decoy(
            "password", "env_reference", "${DB_PASSWORD:?set DB_PASSWORD}", "DB_PASSWORD"
        ),
    )
    url = ctx.take("database_url")
    b.secret(f"psql {env_value(url.text, 'double')} -c 'select 1'", url)
    token = ctx.take_any(
        families=[
            "github",
            "gitlab",
            "hubspot",
            "asana",
            "openai",
            "anthropic",
            "openrouter",
            "sendgrid",
            "jwt",
        ]
    )
    b.secret(
        f"curl -fsS -H 'Authorization: Bearer {token.text}' https://api.example.com/v1/sync", token
    )
    path = ctx.decoy("private_key", kinds=("path",))
    b.decoy(f"ssh -i {path.value} deploy@bastion.internal 'systemctl restart sophia'", path)
    return b


def notebook(ctx: FormContext) -> FileBuilder:
    b = FileBuilder(ctx.path("notebooks/{name}-exploration-{n}.ipynb"), "notebook")
    b.add(
        "{",
        ' "cells": [',
        "  {",
        '   "cell_type": "code",',
        '   "execution_count": 1,',
        '   "metadata": {},',
        '   "outputs": [],',
        '   "source": [',
    )
    b.add('    "import openai\\n",')
    for _ in range(ctx.rng.randint(1, 3)):
        token = ctx.take_any()
        b.secret(
            f"    {json.dumps(f'{ctx.name(token).lower()} = {dq(token.text)}' + chr(10))},", token
        )
    lookalike = ctx.decoy()
    b.decoy(
        f"    {json.dumps(f'{lookalike.name.lower()} = {dq(lookalike.value)}' + chr(10))},",
        lookalike,
    )
    b.add(
        '    "client = openai.OpenAI()"',
        "   ]",
        "  }",
        " ],",
        ' "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},',
        ' "nbformat": 4,',
        ' "nbformat_minor": 5',
        "}",
    )
    return b


def markdown_doc(ctx: FormContext) -> FileBuilder:
    b = FileBuilder(
        ctx.path("docs/{name}.md" if ctx.rng.random() < 0.6 else "docs/runbooks/{name}-{n}.md"),
        "markdown",
    )
    b.add(
        "# " + ctx.rng.choice(["Getting started", "Runbook: rotating credentials", "Local dev"]),
        "",
        "Set the variables below, then run `sophia doctor`.",
        "",
        "```sh",
    )
    mixed(
        b,
        ctx,
        lambda n, v: f"export {n}={env_value(v, 'single')}",
        ctx.rng.randint(1, 3),
        ctx.rng.randint(2, 4),
        [],
    )
    b.add("```", "", "| variable | example |", "| --- | --- |")
    lookalike = ctx.decoy()
    b.decoy(f"| `{lookalike.name}` | `{lookalike.value}` |", lookalike)
    b.add("", "If the webhook fails, post to it directly:", "")
    token = ctx.take("slack_webhook") if ctx.rng.random() < 0.5 else ctx.take_any()
    b.secret(
        "    curl -X POST -H 'Content-type: application/json' "
        + f'--data \'{{"text":"hi"}}\' {token.text}'
        if token.family == "slack_webhook"
        else f"The staging key is `{token.text}` (rotate after the demo).",
        token,
    )
    return b


def dockerfile(ctx: FormContext) -> FileBuilder:
    b = FileBuilder(
        ctx.path("Dockerfile" if ctx.rng.random() < 0.3 else "docker/{name}.Dockerfile"),
        "dockerfile",
    )
    digest = ctx.custom_decoy("generic_secret", "hash", ctx.rng.randbytes(32).hex(), "FROM")
    b.decoy(f"FROM python:3.12-slim@sha256:{digest.value}", digest)
    npm = ctx.take("package_token")
    if npm.value.startswith("npm_"):
        b.secret(
            f'RUN echo "//registry.npmjs.org/:_authToken={npm.value}" > /root/.npmrc && npm ci', npm
        )
    else:
        b.secret(
            f"ARG PIP_EXTRA_INDEX_URL=https://__token__:{npm.value}@pypi.internal.example.com/simple",
            npm,
        )
    b.decoy(
        "RUN --mount=type=secret,id=npm_token NPM_TOKEN=$(cat /run/secrets/npm_token) npm ci",
        ctx.custom_decoy("package_token", "env_reference", "/run/secrets/npm_token", "NPM_TOKEN"),
    )
    mixed(
        b,
        ctx,
        lambda n, v: f"ENV {n}={env_value(v, 'double')}",
        ctx.rng.randint(1, 3),
        ctx.rng.randint(1, 2),
        ["WORKDIR /app", "COPY . ."],
    )
    b.add('CMD ["sophia", "serve"]')
    return b


def js_config(ctx: FormContext) -> FileBuilder:
    ts = ctx.rng.random() < 0.5
    b = FileBuilder(
        ctx.path("web/src/config/{name}.ts" if ts else "config/{name}.config.js"), "js_config"
    )
    b.add("// Integration settings", "export const config = {")
    mixed(
        b,
        ctx,
        lambda n, v: f"  {n[0].lower() + n.title().replace('_', '')[1:]}: {dq(v)},",
        ctx.rng.randint(2, 4),
        ctx.rng.randint(2, 3),
        ["  timeoutMs: 10000,", "  brandColor: '#1f6feb',"],
    )
    token = ctx.take_any()
    b.secret(f"  fallbackKey: process.env.{ctx.name(token)} ?? {dq(token.text)},", token)
    b.decoy(
        f"  apiKey: process.env.{ctx.rng.choice(['OPENAI_API_KEY', 'STRIPE_SECRET_KEY'])},",
        ctx.custom_decoy("openai", "env_reference", "process.env", "apiKey"),
    )
    b.add("};", "")
    token = ctx.take_any()
    head, tail = split_token(token.text)
    b.secret(
        f"const legacyKey{': string' if ts else ''} =\n  {dq(head)} +\n  {dq(tail)};",
        token,
        marker=head,
    )
    colour = ctx.custom_decoy(
        "generic_secret", "css_colour", "#" + ctx.rng.randbytes(3).hex(), "accent"
    )
    b.decoy(f"export const accent = {dq(colour.value)};", colour)
    return b


def pem_file(ctx: FormContext) -> FileBuilder:
    b = FileBuilder(
        ctx.path(
            ctx.rng.choice(
                [
                    "deploy/keys/{name}_id_rsa",
                    "certs/{name}.key",
                    "ops/ssh/{name}-deploy-key-{n}",
                    "config/jwt/{name}-private.pem",
                ]
            )
        ),
        "pem_file",
    )
    token = ctx.take("private_key")
    b.secret(token.value.strip(), token)
    return b


def public_material(ctx: FormContext) -> FileBuilder:
    """Certificates, public keys and authorized_keys: key-shaped, but public."""
    b = FileBuilder(
        ctx.path(
            ctx.rng.choice(
                ["certs/{name}.crt", "deploy/keys/{name}.pub.pem", "ops/ssh/authorized_keys_{n}"]
            )
        ),
        "pem_file",
    )
    kind = (
        "public_key"
        if "authorized" in b.path
        else ("certificate" if b.path.endswith(".crt") else "public_key_pem")
    )
    for _ in range(ctx.rng.randint(1, 2)):
        lookalike = ctx.decoy("private_key", kinds=(kind,))
        b.decoy(lookalike.value, lookalike)
    return b


def lock_and_styles(ctx: FormContext) -> FileBuilder:
    """Files full of hashes and colours that no scanner should report."""
    if ctx.rng.random() < 0.5:
        b = FileBuilder(
            ctx.path(
                "web/package-lock.json"
                if ctx.rng.random() < 0.3
                else "packages/{name}-{n}/package-lock.json"
            ),
            "lockfile",
        )
        b.add("{", '  "name": "sophia-web",', '  "lockfileVersion": 3,', '  "packages": {')
        for i in range(ctx.rng.randint(3, 6)):
            lookalike = ctx.custom_decoy(
                "package_token",
                "lock_integrity",
                "sha512-" + base64.b64encode(ctx.rng.randbytes(64)).decode(),
                "integrity",
            )
            b.add(
                f'    "node_modules/pkg-{i}": {{',
                f'      "version": "1.{i}.0",',
                f'      "resolved": "https://registry.npmjs.org/pkg-{i}/-/pkg-{i}-1.{i}.0.tgz",',
            )
            b.decoy(f'      "integrity": "{lookalike.value}"', lookalike)
            b.add("    },")
        b.add('    "": {}', "  }", "}")
        return b
    b = FileBuilder(ctx.path("web/static/{name}-{n}.css"), "stylesheet")
    for i in range(ctx.rng.randint(3, 6)):
        colour = ctx.custom_decoy(
            "generic_secret", "css_colour", "#" + ctx.rng.randbytes(3).hex(), "color"
        )
        b.add(f".panel-{i} {{")
        b.decoy(f"  color: {colour.value};", colour)
        b.add("}")
    return b
