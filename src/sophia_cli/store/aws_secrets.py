"""AWS Secrets Manager: the `aws` secrets backend and the reader of `aws-sm://` values.

Region, credentials and endpoint come from the usual AWS settings (AWS_REGION, AWS_PROFILE,
AWS_ACCESS_KEY_ID…, an instance or pod role; AWS_ENDPOINT_URL for a local endpoint). boto3 is
imported only here and only when a secret is read or written, so `sophia --help` never pays
for it. Values read are cached for the life of the process; nothing here logs a value, and
botocore's own debug log (which prints response bodies) is kept quiet.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sophia_cli.core.env.aws_refs import PREFIX, AwsReference, variable_of
from sophia_cli.core.errors import (
    ConfigError,
    NotFoundError,
    PermissionDeniedError,
    ServiceUnavailableError,
    SophiaError,
)

EXPIRY_TAG = "sophia:expires-at"
MANAGED_TAG = "sophia:managed"
# A deleted secret can be restored for this long (the shortest window AWS allows).
RECOVERY_DAYS = 7
_CONNECT_TIMEOUT_S = 3
_READ_TIMEOUT_S = 10
_DENIED = {
    "AccessDeniedException",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "ExpiredTokenException",
    "InvalidClientTokenId",
}

# Per process: one client per (region, endpoint), and every secret string read.
_clients: dict[tuple[str, str | None, str | None], Any] = {}
_values: dict[tuple[str, str], str | None] = {}


@dataclass(frozen=True)
class StoredEntry:
    """One of our secrets as Secrets Manager lists it (never its value)."""

    name: str
    updated_at: datetime
    expires_at: datetime | None


def _client() -> Any:
    import boto3
    from botocore.config import Config

    for noisy in ("botocore", "boto3", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # AWS_REGION is what EKS, ECS and Lambda set; botocore itself reads AWS_DEFAULT_REGION.
    session = boto3.session.Session(region_name=os.environ.get("AWS_REGION") or None)
    region = session.region_name
    if not region:
        raise ConfigError(
            "no AWS region is set for AWS Secrets Manager",
            hint="Set AWS_REGION (e.g. eu-central-1) or AWS_DEFAULT_REGION, or a region in your "
            "AWS profile.",
        )
    # botocore finds the endpoint (AWS_ENDPOINT_URL…) itself; these only key the client cache.
    key = (
        region,
        os.environ.get("AWS_ENDPOINT_URL_SECRETS_MANAGER") or os.environ.get("AWS_ENDPOINT_URL"),
        os.environ.get("AWS_PROFILE"),
    )
    if key not in _clients:
        config = Config(
            connect_timeout=_CONNECT_TIMEOUT_S,
            read_timeout=_READ_TIMEOUT_S,
            retries={"max_attempts": 2, "mode": "standard"},
        )
        _clients[key] = session.client("secretsmanager", config=config)
    return _clients[key]


def _where(client: Any) -> str:
    return f"AWS Secrets Manager ({client.meta.region_name}, {client.meta.endpoint_url})"


def translate(exc: Exception, client: Any, secret: str | None = None) -> SophiaError:
    """One clear error for a botocore failure: what went wrong and what to do."""
    from botocore.exceptions import (
        ClientError,
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        PartialCredentialsError,
        ReadTimeoutError,
    )

    where = _where(client)
    subject = f"secret {secret}" if secret else "the secrets"
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return ConfigError(
            f"no AWS credentials to read {subject} from {where}",
            hint="Set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run with an "
            "IAM role (instance profile, IRSA).",
        )
    if isinstance(exc, EndpointConnectionError | ConnectTimeoutError | ReadTimeoutError):
        return ServiceUnavailableError(
            f"{where} is unreachable",
            hint="Check the network and AWS_REGION; AWS_ENDPOINT_URL must name a running endpoint.",
        )
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code == "ResourceNotFoundException":
            return NotFoundError(
                f"no {subject} in {where}",
                hint="Create it with `sophia secrets set` (SOPHIA_SECRETS_BACKEND=aws) or check "
                "the name.",
            )
        if code in _DENIED or code == "DecryptionFailure":
            return PermissionDeniedError(
                f"AWS refused access to {subject} in {where} ({code})",
                hint="Grant secretsmanager:GetSecretValue (and kms:Decrypt for a customer key) "
                "on it to the role or user in use.",
            )
        message = str(exc.response.get("Error", {}).get("Message", "")).splitlines()
        return ServiceUnavailableError(
            f"{where} failed on {subject}: {code} {message[0] if message else ''}".rstrip(),
            hint="Run again with --debug for details.",
        )
    return ServiceUnavailableError(f"{where} failed on {subject}: {type(exc).__name__}")


def _call(client: Any, secret: str | None, method: str, **kwargs: Any) -> Any:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return getattr(client, method)(**kwargs)
    except (BotoCoreError, ClientError) as exc:
        raise translate(exc, client, secret) from exc


def _error_code(exc: BaseException) -> str:
    cause = exc.__cause__
    response = getattr(cause, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


def read_string(secret: str) -> str | None:
    """The SecretString of `secret`; None when it does not exist (or awaits deletion)."""
    client = _client()
    key = (client.meta.endpoint_url, secret)
    if key in _values:
        return _values[key]
    try:
        answer = _call(client, secret, "get_secret_value", SecretId=secret)
    except NotFoundError:
        answer = None
    except ServiceUnavailableError as exc:
        if _error_code(exc) != "InvalidRequestException":  # marked for deletion
            raise
        answer = None
    if answer is not None and "SecretString" not in answer:
        raise ConfigError(
            f"secret {secret} in {_where(client)} holds binary data, not text",
            hint="Store the value as a SecretString.",
        )
    value = None if answer is None else str(answer["SecretString"])
    _values[key] = value
    return value


def resolve(reference: AwsReference) -> str:
    """The value an `aws-sm://` reference names; a clear error when it cannot be read."""
    value = read_string(reference.secret_id)
    if value is None:
        raise NotFoundError(
            f"no secret {reference.secret_id} in {_where(_client())}",
            hint="Create it (`sophia secrets set` with SOPHIA_SECRETS_BACKEND=aws, or the AWS "
            "console) or fix the name in the reference.",
        )
    key = reference.json_key
    if key is None:
        return value
    try:
        data = json.loads(value)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise ConfigError(
            f"secret {reference.secret_id} is not a JSON object, so it has no key {key!r}",
            hint=f"Write aws-sm://{reference.secret_id} (without #{key}) to read the whole value.",
        )
    if key not in data:
        raise NotFoundError(
            f"secret {reference.secret_id} has no key {key!r}",
            hint="Check the key after # against the secret's JSON keys.",
        )
    found = data[key]
    return found if isinstance(found, str) else json.dumps(found)


def forget_cache() -> None:
    """Drop every value read (tests; a long-lived process after a rotation)."""
    _values.clear()
    _clients.clear()


class AwsSecretStore:
    """The `aws` backend of `sophia secrets`: variable NAME is the secret `sophia/NAME`."""

    label = "AWS Secrets Manager"

    def __init__(self) -> None:
        self._client = _client()
        self.description = (
            f"{self._client.meta.region_name}, {self._client.meta.endpoint_url}, names {PREFIX}*"
        )

    def get(self, name: str) -> str | None:
        return read_string(PREFIX + name)

    def set(self, name: str, value: str) -> None:
        secret = PREFIX + name
        try:
            described = _call(self._client, secret, "describe_secret", SecretId=secret)
        except NotFoundError:
            tags = [{"Key": MANAGED_TAG, "Value": "true"}]
            _call(self._client, secret, "create_secret", Name=secret, SecretString=value, Tags=tags)
        else:
            if described.get("DeletedDate"):
                # Deleted within its recovery window: bring it back, then write the new value.
                _call(self._client, secret, "restore_secret", SecretId=secret)
            _call(self._client, secret, "put_secret_value", SecretId=secret, SecretString=value)
        _values[(self._client.meta.endpoint_url, secret)] = value

    def delete(self, name: str) -> bool:
        """Schedule `name` for deletion (restorable for RECOVERY_DAYS); False when absent."""
        secret = PREFIX + name
        if self.get(name) is None:
            return False
        window = {"RecoveryWindowInDays": RECOVERY_DAYS}
        _call(self._client, secret, "delete_secret", SecretId=secret, **window)
        _values[(self._client.meta.endpoint_url, secret)] = None
        return True

    def set_expiry(self, name: str, expires_at: datetime) -> None:
        """Record when a kept previous value stops being valid (as a tag on the secret)."""
        secret = PREFIX + name
        tags = [{"Key": EXPIRY_TAG, "Value": expires_at.isoformat()}]
        _call(self._client, secret, "tag_resource", SecretId=secret, Tags=tags)

    def entries(self) -> list[StoredEntry]:
        """Every secret under the prefix that holds a variable (one paged listing)."""
        found: list[StoredEntry] = []
        token: str | None = None
        while True:
            extra = {"NextToken": token} if token else {}
            page = _call(
                self._client,
                None,
                "list_secrets",
                Filters=[{"Key": "name", "Values": [PREFIX]}],
                MaxResults=100,
                **extra,
            )
            for item in page.get("SecretList", []):
                variable = variable_of(str(item.get("Name", "")))
                if variable is None or item.get("DeletedDate"):
                    continue
                found.append(
                    StoredEntry(
                        name=variable,
                        updated_at=_utc(item.get("LastChangedDate") or item.get("CreatedDate")),
                        expires_at=_expiry(item.get("Tags") or []),
                    )
                )
            token = page.get("NextToken")
            if not token:
                return found


def _utc(moment: Any) -> datetime:
    if isinstance(moment, datetime):
        return moment.astimezone(UTC)
    return datetime.now(UTC)


def _expiry(tags: list[dict[str, str]]) -> datetime | None:
    for tag in tags:
        if tag.get("Key") == EXPIRY_TAG:
            try:
                return datetime.fromisoformat(tag["Value"]).astimezone(UTC)
            except (KeyError, ValueError):
                return None
    return None
