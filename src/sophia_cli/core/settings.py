"""The one model of every environment variable sophia reads.

Each field carries its documentation as metadata (section, description, example, whether it
is a secret, whether production requires it, deprecated names it replaces). `.env.example`,
`sophia env check` and the README are generated from or checked against this model.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from sophia_cli.core.environment import Environment
from sophia_cli.core.errors import ConfigError

PLACEHOLDER = "CHANGEME"

__all__ = ["Environment", "Section", "Settings", "load_settings", "setting"]


class Section(StrEnum):
    """Groups of settings, in the order they appear in generated files."""

    CORE = "core"
    STORES = "stores"
    SERVER = "server"
    LLM = "llm"
    SQUAD = "squad"
    SOURCES = "sources"
    ASK = "ask"


def setting(
    default: Any,
    *,
    section: Section,
    description: str,
    example: str,
    secret: bool = False,
    required_in_production: bool = False,
    deprecated_names: Sequence[str] = (),
    ge: float | None = None,
    le: float | None = None,
) -> Any:
    """Declare a settings field together with the metadata the tooling needs.

    `ge`/`le` bound numbers, so `env check` reports SOPHIA_PORT=99999 before `serve` fails.
    """
    extra: dict[str, Any] = {
        "section": section.value,
        "example": example,
        "secret": secret,
        "required_in_production": required_in_production,
        "deprecated_names": list(deprecated_names),
    }
    return Field(default=default, description=description, json_schema_extra=extra, ge=ge, le=le)


class Settings(BaseSettings):
    """Every variable sophia reads, with types, defaults and documentation."""

    model_config = SettingsConfigDict(
        env_prefix="",
        case_sensitive=False,
        extra="ignore",
        env_file_encoding="utf-8",
        validate_default=True,
    )

    # core
    sophia_env: Environment = setting(
        Environment.DEVELOPMENT,
        section=Section.CORE,
        description="Deployment environment: development or production.",
        example="development",
    )
    sophia_home: Path | None = setting(
        None,
        section=Section.CORE,
        description="Folder for local state and the embedded servers (default: user data dir).",
        example="/var/lib/sophia",
    )
    sophia_keyring_backend: Literal["system", "cryptfile"] = setting(
        "system",
        section=Section.CORE,
        description=(
            "Where `sophia secrets` keeps secrets: system (the OS keyring) or cryptfile "
            "(an encrypted file under SOPHIA_HOME, for headless machines)."
        ),
        example="system",
    )
    sophia_secrets_backend: Literal["keyring", "aws"] = setting(
        "keyring",
        section=Section.CORE,
        description=(
            "Where `sophia secrets` keeps secrets and where unset secrets are read from: "
            "keyring (SOPHIA_KEYRING_BACKEND) or aws (AWS Secrets Manager, names sophia/NAME; "
            "region and credentials from the usual AWS settings)."
        ),
        example="keyring",
    )
    sophia_keyring_password: SecretStr | None = setting(
        None,
        section=Section.CORE,
        description="Password of the cryptfile keyring; export it, never commit it.",
        example="<a long passphrase>",
        secret=True,
    )

    # stores
    database_url: SecretStr | None = setting(
        None,
        section=Section.STORES,
        description="PostgreSQL warehouse; unset uses the embedded PostgreSQL server.",
        example="postgresql://user:password@ep-example-123.eu-central-1.aws.neon.tech/sophia",
        secret=True,
        required_in_production=True,
    )
    database_direct_url: SecretStr | None = setting(
        None,
        section=Section.STORES,
        description=(
            "Direct (unpooled) PostgreSQL URL used for migrations when DATABASE_URL goes "
            "through a pooler; unset migrates through DATABASE_URL (safe through a pooler too)."
        ),
        example="postgresql://user:password@ep-example-123.eu-central-1.aws.neon.tech/sophia",
        secret=True,
    )
    database_pooling: Literal["auto", "transaction", "session"] = setting(
        "auto",
        section=Section.STORES,
        description=(
            "How DATABASE_URL is pooled: transaction (PgBouncer transaction mode, Neon's "
            "-pooler host, Supabase's pooler, RDS Proxy: no server-side prepared statements), "
            "session (a direct server: statements run 5 times are prepared), or auto "
            "(transaction unless the URL is the embedded server)."
        ),
        example="auto",
    )
    database_pool_max: int = setting(
        10,
        section=Section.STORES,
        description="Largest number of pooled PostgreSQL connections per process.",
        example="10",
        ge=1,
    )
    redis_url: SecretStr | None = setting(
        None,
        section=Section.STORES,
        description="Redis for cache, budget counters and rate limits; unset uses embedded Valkey.",
        example="rediss://default:password@redis.example.com:6379/0",
        secret=True,
        required_in_production=True,
    )
    redis_cluster: bool = setting(
        False,
        section=Section.STORES,
        description=(
            "REDIS_URL is one node of a Redis Cluster (ElastiCache cluster mode, Redis "
            "Enterprise OSS cluster API); `?cluster=true` on the URL says the same."
        ),
        example="false",
    )
    redis_key_prefix: str = setting(
        "sophia:",
        section=Section.STORES,
        description="Prefix of every Redis key sophia writes, so one Redis can be shared.",
        example="sophia:",
    )
    milvus_uri: str | None = setting(
        None,
        section=Section.STORES,
        description="Milvus server for search; unset uses Milvus Lite in a file under SOPHIA_HOME.",
        example="http://milvus.example.com:19530",
    )
    milvus_token: SecretStr | None = setting(
        None,
        section=Section.STORES,
        description="Token for a Milvus server that requires authentication.",
        example="root:Milvus",
        secret=True,
    )

    search_embedding: str = setting(
        "wordllama",
        section=Section.STORES,
        description="Search's dense vectors: wordllama (offline, weights in the wheel), squad, "
        "or squad:<model>; a change forces `sophia db reindex`.",
        example="wordllama",
    )
    search_fusion: Literal["rrf", "weighted"] = setting(
        "weighted",
        section=Section.STORES,
        description="How hybrid search fuses BM25 and dense: weighted scores or rrf (ranks).",
        example="weighted",
    )
    search_dense_weight: float = setting(
        0.5,
        section=Section.STORES,
        description="Weight of the dense ranking in hybrid fusion (BM25 gets 1 minus it).",
        example="0.5",
    )
    search_dense_floor: float = setting(
        0.2,
        section=Section.STORES,
        description="Cosine similarity under which a dense match is no hit (0 keeps all).",
        example="0.2",
    )
    sentry_dsn: SecretStr | None = setting(
        None,
        section=Section.CORE,
        description=(
            "Sentry DSN: unexpected errors of the CLI, the API and sync are sent there, "
            "secrets scrubbed, release sophia@<version>; unset sends nothing."
        ),
        example="https://<key>@o0.ingest.sentry.io/0",
        secret=True,
    )

    # server
    jwt_secret: SecretStr | None = setting(
        None,
        section=Section.SERVER,
        description="HS256 signing secret for API tokens; at least 64 random characters.",
        example="<64+ random characters, e.g. from `openssl rand -hex 32`>",
        secret=True,
        required_in_production=True,
    )
    jwt_secret_previous: SecretStr | None = setting(
        None,
        section=Section.SERVER,
        description="The previous JWT secret, still accepted for verification during rotation.",
        example="<the secret that JWT_SECRET replaced>",
        secret=True,
    )
    jwt_max_ttl_days: float = setting(
        90.0,
        section=Section.SERVER,
        description="Longest lifetime of an API token; longer ones are not issued or accepted.",
        example="90",
        ge=0,
    )
    sophia_port: int = setting(
        8000,
        section=Section.SERVER,
        description="Port the unified API listens on.",
        example="8000",
        ge=1,
        le=65535,
    )
    sophia_legacy_port: int = setting(
        8003,
        section=Section.SERVER,
        description="Legacy (Bridge) port still checked and optionally served during migration.",
        example="8003",
        ge=1,
        le=65535,
    )
    sophia_metrics_port: int | None = setting(
        None,
        section=Section.SERVER,
        description=(
            "Port that serves /metrics alone (then not on the API port); unset serves /metrics "
            "on the API port, open in development and admin-scoped in production."
        ),
        example="9100",
        ge=1,
        le=65535,
    )
    rate_limit_per_minute: int = setting(
        120,
        section=Section.SERVER,
        description=(
            "Requests allowed per subject and route per minute, shared by all replicas; 0 = off."
        ),
        example="120",
        ge=0,
    )
    sophia_max_body_bytes: int = setting(
        1_048_576,
        section=Section.SERVER,
        description="Largest request body the API accepts, in bytes (413 beyond); 0 = no limit.",
        example="1048576",
        ge=0,
    )
    sophia_token_concurrency: int = setting(
        8,
        section=Section.SERVER,
        description=(
            "Requests one token may have in progress per worker (429 beyond), so one caller "
            "cannot take every thread; 0 = no limit."
        ),
        example="8",
        ge=0,
    )
    sophia_public_url: str | None = setting(
        None,
        section=Section.SERVER,
        description=(
            "Base URL of the BI page in sign-in links (`sophia serve`, `sophia token issue "
            "--link`); unset: http://127.0.0.1:<SOPHIA_PORT>."
        ),
        example="https://bi.example.com",
    )
    sophia_link_ttl_hours: float = setting(
        12.0,
        section=Section.SERVER,
        description=(
            "Lifetime of the admin token in the sign-in link `sophia serve` prints at start "
            "(not in production unless `--link`)."
        ),
        example="12",
        ge=0,
    )
    mcp_context_urls: str = setting(
        "http://127.0.0.1:8081,http://127.0.0.1:8082,http://127.0.0.1:8084",
        section=Section.SERVER,
        description="Comma-separated MCP context servers that `sophia doctor` checks.",
        example="http://127.0.0.1:8081,http://127.0.0.1:8082,http://127.0.0.1:8084",
    )

    # llm
    openai_api_key: SecretStr | None = setting(
        None,
        section=Section.LLM,
        description="OpenAI API key for the litellm squad.",
        example="sk-proj-...",
        secret=True,
    )
    anthropic_api_key: SecretStr | None = setting(
        None,
        section=Section.LLM,
        description="Anthropic API key for the litellm squad.",
        example="sk-ant-api03-...",
        secret=True,
    )
    litellm_api_key: SecretStr | None = setting(
        None,
        section=Section.LLM,
        description="Key of a LiteLLM proxy, when the squad goes through one.",
        example="sk-litellm-...",
        secret=True,
        deprecated_names=("OPENROUTER_API_KEY",),
    )
    litellm_api_base: str | None = setting(
        None,
        section=Section.LLM,
        description="Base URL of a LiteLLM proxy, when the squad goes through one.",
        example="https://litellm.example.com/v1",
        deprecated_names=("OPENROUTER_BASE_URL", "OPENROUTER_API_BASE"),
    )
    aimlapi_api_key: SecretStr | None = setting(
        None,
        section=Section.LLM,
        description="AIMLAPI key for the secondary (OpenAI-compatible) squad.",
        example="<aimlapi key>",
        secret=True,
    )
    portkey_api_key: SecretStr | None = setting(
        None,
        section=Section.LLM,
        description="Portkey gateway key, when calls are observed through Portkey.",
        example="<portkey key>",
        secret=True,
    )

    # squad
    primary_squad: str = setting(
        "litellm",
        section=Section.SQUAD,
        description="Name of the squad that serves LLM calls first.",
        example="litellm",
        deprecated_names=("OPENROUTER_SQUAD",),
    )
    sophia_squads_file: Path | None = setting(
        None,
        section=Section.SQUAD,
        description="YAML file of squads and deployments replacing the built-in one.",
        example="/etc/sophia/squads.yaml",
    )
    squad_daily_budget_usd: float = setting(
        100.0,
        section=Section.SQUAD,
        description="Most the squad may spend per UTC day, in US dollars.",
        example="100",
        ge=0,
    )
    squad_cache_ttl_s: int = setting(
        3600,
        section=Section.SQUAD,
        description="Seconds an LLM response stays in the Redis cache.",
        example="3600",
        ge=0,
    )
    squad_alert_webhook: SecretStr | None = setting(
        None,
        section=Section.SQUAD,
        description="Slack-style incoming webhook that receives budget alerts.",
        example="https://hooks.slack.com/services/T000/B000/XXXX",
        secret=True,
    )

    # sources
    slack_bot_token: SecretStr | None = setting(
        None,
        section=Section.SOURCES,
        description="Slack bot token (xoxb-...); scopes channels:*, groups:*, users:read(.email).",
        example="xoxb-1234-5678-abcdef",
        secret=True,
        required_in_production=True,
    )
    slack_api_base: str = setting(
        "https://slack.com/api",
        section=Section.SOURCES,
        description="Base URL of the Slack Web API.",
        example="https://slack.com/api",
    )
    asana_pat_token: SecretStr | None = setting(
        None,
        section=Section.SOURCES,
        description="Asana personal access token.",
        example="2/1234567890/1234567890:abcdef",
        secret=True,
        required_in_production=True,
    )
    asana_api_base: str = setting(
        "https://app.asana.com/api/1.0",
        section=Section.SOURCES,
        description="Base URL of the Asana API.",
        example="https://app.asana.com/api/1.0",
    )
    hubspot_api_key: SecretStr | None = setting(
        None,
        section=Section.SOURCES,
        description="HubSpot private app access token (pat-...).",
        example="pat-na1-00000000-0000-0000-0000-000000000000",
        secret=True,
        required_in_production=True,
    )
    hubspot_api_base: str = setting(
        "https://api.hubapi.com",
        section=Section.SOURCES,
        description="Base URL of the HubSpot API.",
        example="https://api.hubapi.com",
    )
    gong_access_key: SecretStr | None = setting(
        None,
        section=Section.SOURCES,
        description="Gong API access key.",
        example="<gong access key>",
        secret=True,
        required_in_production=True,
    )
    gong_access_key_secret: SecretStr | None = setting(
        None,
        section=Section.SOURCES,
        description="Gong API access key secret.",
        example="<gong access key secret>",
        secret=True,
        required_in_production=True,
    )
    gong_api_base: str = setting(
        "https://api.gong.io",
        section=Section.SOURCES,
        description="Base URL of the Gong API.",
        example="https://api.gong.io",
    )
    sync_rate_limits: Literal["published", "off"] = setting(
        "published",
        section=Section.SOURCES,
        description="Client-side rate limits of `sophia sync`: published (each API's) or off.",
        example="published",
    )
    hubspot_rate_limit_per_10s: int = setting(
        100,
        section=Section.SOURCES,
        description="HubSpot general requests per 10 s (100 Free/Starter, 190 Pro/Enterprise).",
        example="100",
        ge=1,
    )
    asana_rate_limit_per_min: int = setting(
        150,
        section=Section.SOURCES,
        description="Asana requests per minute for this token (150 free, 1500 paid).",
        example="150",
        ge=1,
    )
    sync_max_attempts: int = setting(
        8,
        section=Section.SOURCES,
        description="Attempts per API request before a transient failure fails the stream.",
        example="8",
        ge=1,
    )
    sync_http_timeout_s: float = setting(
        30.0,
        section=Section.SOURCES,
        description="Timeout of one API request made by `sophia sync`, in seconds.",
        example="30",
        ge=0,
    )
    sync_text_index: bool = setting(
        True,
        section=Section.SOURCES,
        description="Index synced text (messages, transcripts, tasks) into Milvus for search.",
        example="true",
    )
    slack_lookback_days: float = setting(
        15.0,
        section=Section.SOURCES,
        description="Days of Slack history the look-back sweep re-reads (edits, deletes, replies).",
        example="15",
        ge=0,
    )
    slack_sweep_hours: float = setting(
        24.0,
        section=Section.SOURCES,
        description="Hours between Slack look-back sweeps; other runs read new messages only.",
        example="24",
    )
    asana_subtask_events: bool = setting(
        True,
        section=Section.SOURCES,
        description="Read each parent task's Asana events every run (subtask edits arrive at once; "
        "one request per parent). false: subtask edits wait for the sweep.",
        example="true",
    )
    slack_app_regime: Literal["internal", "limited"] = setting(
        "internal",
        section=Section.SOURCES,
        description="Slack rate regime: internal (50/min) or limited (non-Marketplace: 1/min, 15).",
        example="internal",
    )
    slack_rate_minute_s: float = setting(
        60.0,
        section=Section.SOURCES,
        description="Seconds in one of Slack's rate-limit minutes (the sandbox compresses it).",
        example="60",
    )
    gong_lookback_days: float = setting(
        3.0,
        section=Section.SOURCES,
        description="Days of Gong calls re-read each run, for late calls and transcripts.",
        example="3",
        ge=0,
    )
    hubspot_index_lag_s: float = setting(
        60.0,
        section=Section.SOURCES,
        description="Seconds HubSpot's search index may lag writes: each run reads changes "
        "up to its start minus this.",
        example="60",
    )
    hubspot_lookback_minutes: float = setting(
        5.0,
        section=Section.SOURCES,
        description="Minutes before the bookmark each HubSpot run re-reads, for writes the "
        "search index showed late.",
        example="5",
    )
    hubspot_reconcile_hours: float = setting(
        24.0,
        section=Section.SOURCES,
        description="Hours between HubSpot reconciliations (every record listed: merged and "
        "deleted ids archived, deal companies refreshed); --full always reconciles.",
        example="24",
    )
    asana_sweep_hours: float = setting(
        24.0,
        section=Section.SOURCES,
        description="Hours between full Asana task sweeps that mark deleted tasks.",
        example="24",
        ge=0,
    )
    sync_stale_hours: float = setting(
        26.0,
        section=Section.SOURCES,
        description="Hours after which `sophia doctor` calls a source's last good sync stale.",
        example="26",
        ge=0,
    )

    # ask
    sophia_semantic_file: Path | None = setting(
        None,
        section=Section.ASK,
        description="YAML file adding or replacing metrics, dimensions and models of `ask`.",
        example="/etc/sophia/semantic.yaml",
    )
    ask_week_start: Literal["monday", "sunday"] = setting(
        "monday",
        section=Section.ASK,
        description="First day of a week for `ask` time phrases and weekly buckets.",
        example="monday",
    )
    ask_fiscal_year_start_month: int = setting(
        1,
        section=Section.ASK,
        description="Month (1-12) the fiscal year starts; quarters and years follow it.",
        example="1",
        ge=1,
        le=12,
    )
    ask_row_limit: int = setting(
        1000,
        section=Section.ASK,
        description="Most rows `ask` and `query` return; longer results are truncated.",
        example="1000",
        ge=1,
    )
    ask_max_result_bytes: int = setting(
        5_000_000,
        section=Section.ASK,
        description="Most bytes of rows one `query` (or model-written SQL) may return.",
        example="5000000",
        ge=1,
    )
    ask_statement_timeout_ms: int = setting(
        15000,
        section=Section.ASK,
        description="Statement timeout for `ask` and `query` SQL, in milliseconds.",
        example="15000",
        ge=0,
    )
    ask_cache_ttl_s: int = setting(
        86400,
        section=Section.ASK,
        description="Seconds an answer stays cached in Redis (a new sync invalidates sooner).",
        example="86400",
        ge=0,
    )

    @field_validator("*", mode="before")
    @classmethod
    def _placeholder_is_unset(cls, value: Any, info: ValidationInfo) -> Any:
        # A template placeholder or an empty value is never a real value: treat it as unset,
        # so the embedded defaults apply in development and production checks report it.
        if isinstance(value, str) and value.strip() in (PLACEHOLDER, ""):
            assert info.field_name is not None
            return cls.model_fields[info.field_name].default
        return value

    @property
    def home(self) -> Path:
        """The resolved data folder: SOPHIA_HOME or the platform's user data dir."""
        if self.sophia_home is not None:
            return self.sophia_home.expanduser()
        import platformdirs

        return Path(platformdirs.user_data_dir("sophia", appauthor=False))

    @property
    def is_production(self) -> bool:
        return self.sophia_env is Environment.PRODUCTION

    def secret_value(self, name: str) -> str | None:
        """The plain value of a secret field, or None when unset."""
        value = getattr(self, name)
        if value is None:
            return None
        if isinstance(value, SecretStr):
            return value.get_secret_value()
        return str(value)


def load_settings(env_files: Sequence[Path] = (), **overrides: Any) -> Settings:
    """Build settings from env files (later files win) and the process environment.

    The process environment wins over every file. Raises ConfigError naming the variable
    when a value has the wrong type.
    """
    files = tuple(path for path in env_files if path.is_file())
    try:
        return Settings(_env_file=files or None, **overrides)
    except ValidationError as exc:
        raise _config_error(exc) from exc


def _config_error(exc: ValidationError) -> ConfigError:
    first = exc.errors()[0]
    name = ".".join(str(part) for part in first["loc"]).upper() or "settings"
    return ConfigError(
        f"{name}: {first['msg']} (got {first.get('input')!r:.60})"
        if not _is_secret(name)
        else f"{name}: {first['msg']}",
        hint=f"Fix {name} in your environment or env file; `sophia env check` lists all problems.",
    )


def _is_secret(env_name: str) -> bool:
    info = Settings.model_fields.get(env_name.lower())
    extra = info.json_schema_extra if info is not None else None
    return isinstance(extra, dict) and bool(extra.get("secret"))
