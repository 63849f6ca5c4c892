"""Configuration: one TOML file, validated strictly, with errors that say what to fix."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

DEFAULT_PATH = Path("config/belblok.toml")
ENV_VAR = "BELBLOK_CONFIG"

_HOST_PORT = re.compile(r"^[A-Za-z0-9.\-]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


class ConfigError(ValueError):
    """The configuration cannot be used; the message says where and why."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseConfig(_Section):
    """[database]: where the call log lives."""

    url: str = "sqlite:///var/belblok.db"


class SipConfig(_Section):
    """[sip]: the trunk every outbound INVITE goes to, and who we say we are."""

    trunk: str
    transport: Literal["udp", "tcp"] = "udp"
    local_port: int = Field(0, ge=0, le=65535)
    caller_id: str
    username: str = ""
    password: str = ""
    password_env: str = ""
    register_: bool = Field(True, alias="register")  # `register` is taken by pydantic
    registrar: str = ""
    realm: str = "*"
    ring_timeout_s: float = Field(30.0, gt=0, le=600)
    response_timeout_s: float = Field(4.0, gt=0, le=60)

    @field_validator("trunk", "registrar")
    @classmethod
    def _host_port(cls, value: str) -> str:
        if value and not _HOST_PORT.match(value):
            raise ValueError(f"{value!r} is not host:port (e.g. 'sip.example.net:5060')")
        return value

    @field_validator("caller_id")
    @classmethod
    def _e164(cls, value: str) -> str:
        if not _E164.match(value):
            raise ValueError(f"{value!r} is not an E.164 number (e.g. '+31201234567')")
        return value

    @model_validator(mode="after")
    def _one_password(self) -> SipConfig:
        if self.password and self.password_env:
            raise ValueError("set either password or password_env, not both")
        return self

    def secret(self) -> str:
        """The SIP password, read from the environment when `password_env` names a variable."""
        if not self.password_env or not self.username:
            return self.password
        value = os.environ.get(self.password_env)
        if value is None:
            raise ConfigError(f"[sip] password_env: the environment variable {self.password_env} is not set")
        return value

    @property
    def registrar_address(self) -> str | None:
        """Where to register, or None when this trunk needs no registration."""
        if not self.username or not self.register_:
            return None
        return self.registrar or self.trunk


class NumbersConfig(_Section):
    """[numbers]: how national number forms are read."""

    default_region: str = "NL"

    @field_validator("default_region")
    @classmethod
    def _region(cls, value: str) -> str:
        import phonenumbers

        if value.upper() not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"{value!r} is not a region code such as 'NL' or 'BE'")
        return value.upper()


class RecordingConfig(_Section):
    """[recording]: where call recordings are written."""

    dir: str = "var/recordings"


class AgentConfig(_Section):
    """[agent]: defaults for the agent's own phone."""

    line: str = ""


class Config(_Section):
    """The whole configuration file."""

    database: DatabaseConfig = DatabaseConfig()
    sip: SipConfig
    numbers: NumbersConfig = NumbersConfig()
    recording: RecordingConfig = RecordingConfig()
    agent: AgentConfig = AgentConfig()


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
