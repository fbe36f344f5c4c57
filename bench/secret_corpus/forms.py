"""The in-sample forms: file templates and contexts where the corpus plants its secrets.

Each form writes one realistic file and mixes ordinary lines, secrets (in that format's
usual places) and look-alikes written in the very same contexts, so that only the value
tells them apart. The held-out set (outside the repository) has different templates.
"""

from __future__ import annotations

from bench.secret_corpus.builder import Form
from bench.secret_corpus.forms_code import (
    django_settings,
    dockerfile,
    js_config,
    lock_and_styles,
    markdown_doc,
    notebook,
    pem_file,
    public_material,
    python_settings,
    shell_script,
)
from bench.secret_corpus.forms_config import (
    docker_compose,
    dotenv,
    env_example,
    gcp_credentials,
    gcp_lookalike,
    github_workflow,
    json_config,
    k8s_manifests,
    terraform,
)

# Forms that plant no secret: the generator uses them to top up the look-alikes.
for _form in (env_example, gcp_lookalike, public_material, lock_and_styles):
    _form.decoys_only = True  # type: ignore[attr-defined]

FORMS: list[Form] = [
    dotenv,
    dotenv,
    env_example,
    python_settings,
    django_settings,
    k8s_manifests,
    docker_compose,
    github_workflow,
    gcp_credentials,
    gcp_lookalike,
    terraform,
    shell_script,
    notebook,
    markdown_doc,
    dockerfile,
    js_config,
    pem_file,
    public_material,
    json_config,
    lock_and_styles,
]
