"""Configuration: one TOML file, validated strictly, with errors that say what to fix."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import ValidationError, field_validator

from .sections import (
    AgentConfig,
    BlockConfig,
    CallbacksConfig,
    CallerIdConfig,
    ConfigError,
    DatabaseConfig,
    IncomingConfig,
    NumbersConfig,
    QueueConfig,
    RecordingConfig,
    RetryRule,
    Section,
    SipConfig,
    SmtpConfig,
    TeamConfig,
    WebConfig,
)
from .supervision import DEFAULT_PAUSE_CODES, PauseCode, ReportsConfig, WallboardConfig

__all__ = ["DEFAULT_PATH", "ENV_VAR", "AgentConfig", "BlockConfig", "CallbacksConfig", "CallerIdConfig", "Config",
           "ConfigError", "DatabaseConfig", "IncomingConfig", "NumbersConfig", "QueueConfig", "RecordingConfig",
           "RetryRule", "SipConfig", "SmtpConfig", "TeamConfig", "WebConfig", "load", "parse", "resolve_path"]

DEFAULT_PATH = Path("config/belblok.toml")
ENV_VAR = "BELBLOK_CONFIG"

_RETRY_DEFAULTS = {
    "no_answer": RetryRule(delay_minutes=120, max_per_day=2, max_total=8),
    "busy": RetryRule(delay_minutes=15, max_per_day=4, max_total=12),
    "unavailable": RetryRule(delay_minutes=60, max_per_day=3, max_total=10),
    "network_error": RetryRule(delay_minutes=5, max_per_day=5, max_total=20),
}


class Config(Section):
    """The whole configuration file."""

    database: DatabaseConfig = DatabaseConfig()
    sip: SipConfig
    numbers: NumbersConfig = NumbersConfig()
    recording: RecordingConfig = RecordingConfig()
    agent: AgentConfig = AgentConfig()
    team: TeamConfig = TeamConfig()
    blocks: list[BlockConfig] = []
    queue: QueueConfig = QueueConfig()
    retry: dict[Literal["no_answer", "busy", "unavailable", "network_error"], RetryRule] = {}
    caller_id: CallerIdConfig = CallerIdConfig()
    web: WebConfig = WebConfig()
    smtp: SmtpConfig = SmtpConfig()
    callbacks: CallbacksConfig = CallbacksConfig()
    incoming: IncomingConfig = IncomingConfig()
    pause_codes: list[PauseCode] = list(DEFAULT_PAUSE_CODES)
    wallboard: WallboardConfig = WallboardConfig()
    reports: ReportsConfig = ReportsConfig()

    @field_validator("pause_codes")
    @classmethod
    def _unique_codes(cls, codes: list[PauseCode]) -> list[PauseCode]:
        seen = [c.code for c in codes]
        twice = sorted({c for c in seen if seen.count(c) > 1})
        if twice:
            raise ValueError(f"pause code {', '.join(twice)} is listed more than once")
        return codes

    def pause_code(self, code: str) -> PauseCode | None:
        """The configured pause code `code`, or None."""
        return next((c for c in self.pause_codes if c.code == code), None)

    def retry_rule(self, outcome: str) -> RetryRule | None:
        """The retry rule for an outcome (configured, else the default), or None if it is never retried."""
        base = _RETRY_DEFAULTS.get(outcome)
        configured = self.retry.get(outcome)  # type: ignore[call-overload]
        if configured is None:
            return base
        if base is None:
            return configured
        return base.model_copy(update=configured.model_dump(exclude_unset=True))


def _describe(error: dict) -> str:
    loc = [str(part) for part in error["loc"]]
    where = f"[{loc[0]}] {'.'.join(loc[1:])}" if len(loc) > 1 else f"[{loc[0]}]" if loc else ""
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"{where}: unknown key"
    if kind == "missing":
        return f"{where}: missing (required)"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}"


def parse(text: str, source: str = "<config>") -> Config:
    """Parse and validate TOML text."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(_describe(e) for e in exc.errors())
        raise ConfigError(f"{source}: {problems}") from None


def resolve_path(explicit: str | os.PathLike[str] | None) -> Path:
    """The config file to use: --config, then $BELBLOK_CONFIG, then config/belblok.toml."""
    if explicit:
        return Path(explicit)
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    return DEFAULT_PATH


def load(explicit: str | os.PathLike[str] | None = None) -> Config:
    """Load the configuration file, or raise ConfigError saying what to do."""
    path = resolve_path(explicit)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"no configuration file at {path}: pass --config FILE or set {ENV_VAR}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    return parse(text, str(path))
