"""The sections of the configuration file, each validated strictly with errors that say what to fix."""

from __future__ import annotations

import os
import re
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_HOST_PORT = re.compile(r"^[A-Za-z0-9.\-]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


class ConfigError(ValueError):
    """The configuration cannot be used; the message says where and why."""


class Section(BaseModel):
    """A [section] of the file: unknown keys are errors, values never change after loading."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseConfig(Section):
    """[database]: where the call log lives."""

    url: str = "sqlite:///var/belblok.db"


class SipConfig(Section):
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
    rtp_ports: str = "16384-32767"  # the UDP range the workers' RTP/RTCP sockets are taken from
    clock_rate: Literal[8000, 16000] = 16000  # the bridge's and the recordings' rate: 8000 is cheaper, narrowband

    @field_validator("rtp_ports")
    @classmethod
    def _port_range(cls, value: str) -> str:
        low, sep, high = value.partition("-")
        if not (sep and low.strip().isdigit() and high.strip().isdigit()):
            raise ValueError(f"{value!r} is not a port range such as '16384-32767'")
        first, last = int(low), int(high)
        if not 1024 <= first < last <= 65535 or last - first < 256:
            raise ValueError(f"{value!r}: the range must lie within 1024-65535 and hold at least 256 ports")
        return f"{first}-{last}"

    @property
    def rtp_port_range(self) -> tuple[int, int]:
        """The first and last RTP port."""
        first, _, last = self.rtp_ports.partition("-")
        return int(first), int(last)

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


class NumbersConfig(Section):
    """[numbers]: how national number forms are read."""

    default_region: str = "NL"

    @field_validator("default_region")
    @classmethod
    def _region(cls, value: str) -> str:
        import phonenumbers

        if value.upper() not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"{value!r} is not a region code such as 'NL' or 'BE'")
        return value.upper()


class RecordingConfig(Section):
    """[recording]: whether and where calls are recorded, and what happens to the files."""

    dir: str = "var/recordings"
    policy: Literal["all", "none", "on_demand"] = "all"
    announcement: str = ""  # WAV played to the debtor on answer, e.g. config/announcement-nl.wav
    format: Literal["opus", "mp3"] = "opus"
    min_silence_s: float = Field(3.0, gt=0)
    retention_days: int = Field(0, ge=0)  # 0 = keep


class AgentConfig(Section):
    """[agent]: defaults for the agent's own phone."""

    line: str = ""


_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class TeamConfig(Section):
    """[team]: where the team works, which language it speaks, which contact rules it follows."""

    name: str = "Belblok"
    country: str = "NL"
    timezone: str = "Europe/Amsterdam"
    language: str = ""  # "" = Dutch where the team's country is NL or BE, else English
    currency: str = "EUR"
    policy: str = "nl-b2b"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a time zone such as 'Europe/Amsterdam'") from None
        return value

    @property
    def ui_language(self) -> str:
        """The default UI language: nl for Dutch and Belgian teams, otherwise en."""
        if self.language:
            return self.language
        return "nl" if self.country.upper() in ("NL", "BE") else "en"


class BlockConfig(Section):
    """[[blocks]]: a weekly reserved calling block in the team's time zone."""

    days: list[str]
    start: str
    end: str

    @field_validator("days")
    @classmethod
    def _days(cls, value: list[str]) -> list[str]:
        bad = [d for d in value if d.lower() not in _DAYS]
        if bad or not value:
            raise ValueError(f"days must be some of {', '.join(_DAYS)}; got {value!r}")
        return [d.lower() for d in value]

    @field_validator("start", "end")
    @classmethod
    def _time(cls, value: str) -> str:
        if not _HHMM.match(value):
            raise ValueError(f"{value!r} is not a time like '09:30'")
        return value

    @model_validator(mode="after")
    def _order(self) -> BlockConfig:
        if self.start >= self.end:
            raise ValueError(f"a block must end after it starts ({self.start}–{self.end})")
        return self


class QueueConfig(Section):
    """[queue]: what is worth a call and how long a claim on a dossier lasts."""

    min_amount: Decimal = Decimal("25.00")
    claim_minutes: int = Field(15, gt=0)
    power_delay_s: float = Field(10.0, ge=0)

    @field_validator("min_amount", mode="before")
    @classmethod
    def _exact(cls, value: object) -> object:
        # TOML gives 25.00 as a float; go through its shortest text so 0.1 stays 0.1.
        return Decimal(repr(value)).quantize(Decimal("0.01")) if isinstance(value, float) else value


class RetryRule(Section):
    """[retry.OUTCOME]: when an unsuccessful outcome may be tried again."""

    delay_minutes: int = Field(60, ge=0)
    max_per_day: int = Field(3, ge=0)
    max_total: int = Field(10, ge=0)


class CallerIdConfig(Section):
    """[caller_id]: when to withhold the caller ID (where the policy allows it)."""

    withhold_after_no_answers: int = Field(2, ge=0)  # 0 = never


class WebConfig(Section):
    """[web]: the panel's address and its sessions."""

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    session_hours: float = Field(12.0, gt=0)
    secure_cookies: bool = True
    login_max_failures: int = Field(5, ge=1, le=1000)  # per account, within login_lockout_minutes
    login_max_failures_per_address: int = Field(20, ge=1, le=100_000)  # per client address (offices share one)
    login_lockout_minutes: int = Field(15, ge=1, le=1440)
    public_url: str = ""  # how people reach the panel (https://belblok.example.nl): addresses Belblok hands out

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        if value and not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?(/[^\s?#]*)?", value):
            raise ValueError("public_url is the panel's address as people reach it, e.g. https://belblok.example.nl")
        return value.rstrip("/")


class SmtpConfig(Section):
    """[smtp]: how confirmation e-mails leave (empty host: they stay in the outbox)."""

    host: str = ""
    port: int = Field(25, ge=1, le=65535)
    username: str = ""
    password: str = ""
    password_env: str = ""
    starttls: bool = False
    use_tls: bool = False
    from_address: str = "debiteuren@example.invalid"
    from_name: str = ""
    timeout_s: float = Field(10.0, gt=0)

    def secret(self) -> str:
        """The SMTP password, from the environment when `password_env` names a variable."""
        if not self.password_env:
            return self.password
        value = os.environ.get(self.password_env)
        if value is None:
            raise ConfigError(f"[smtp] password_env: the environment variable {self.password_env} is not set")
        return value


class CallbacksConfig(Section):
    """[callbacks]: reminders and grace for appointment call-backs."""

    remind_minutes: int = Field(5, ge=0)
    grace_minutes: int = Field(10, ge=0)


class IncomingConfig(Section):
    """[incoming]: the team number's reception (incoming calls put through or turned into return calls)."""

    enabled: bool = False
    port: int = Field(0, ge=0, le=65535)  # where it listens; 0 = any (the registration tells the trunk)
    greeting: str = ""  # WAV; "" = config/return-call-{nl,en}.wav by the team's language
    ask_timeout_s: float = Field(15.0, gt=0, le=60)  # the caller rings this long at most before a route (else the greeting)
    transfer_timeout_s: float = Field(20.0, gt=0, le=120)  # the agent's desk must take it within this
