"""Configuration: strict keys, clear one-line errors."""

from __future__ import annotations

import pytest

from dialer.settings.config import ConfigError, load, parse

MINIMAL = '[sip]\ntrunk = "127.0.0.1:5060"\ncaller_id = "+31201234567"\n'


def test_minimal_config_gets_the_documented_defaults() -> None:
    cfg = parse(MINIMAL)
    assert cfg.database.url == "sqlite:///var/belblok.db"
    assert (cfg.sip.transport, cfg.sip.local_port, cfg.sip.ring_timeout_s) == ("udp", 0, 30.0)
    assert cfg.numbers.default_region == "NL"
    assert cfg.recording.dir == "var/recordings"
    assert cfg.sip.registrar_address is None
    assert (cfg.sip.rtp_port_range, cfg.sip.clock_rate) == ((16384, 32767), 16000)


def test_media_settings_reach_the_worker() -> None:
    from dialer.calls.telephony import worker_settings

    cfg = parse(MINIMAL + 'rtp_ports = "20000-29999"\nclock_rate = 8000\n')
    settings = worker_settings(cfg)
    assert (settings.rtp_ports, settings.clock_rate) == ((20000, 29999), 8000)


@pytest.mark.parametrize(("text", "message"), [
    (MINIMAL + "[sip.extra]\n", "[sip] extra: unknown key"),
    (MINIMAL.replace('trunk = "127.0.0.1:5060"\n', ""), "[sip] trunk: missing"),
    (MINIMAL + "[bogus]\nx = 1\n", "[bogus]: unknown key"),
    (MINIMAL.replace("udp", "x") + 'transport = "sctp"\n', "[sip] transport"),
    (MINIMAL.replace("127.0.0.1:5060", "no-port"), "is not host:port"),
    (MINIMAL.replace("+31201234567", "0201234567"), "is not an E.164 number"),
    (MINIMAL + '[numbers]\ndefault_region = "XX"\n', "is not a region code"),
    ("[sip\n", "not valid TOML"),
    (MINIMAL + 'rtp_ports = "40000"\n', "is not a port range"),
    (MINIMAL + 'rtp_ports = "40000-40100"\n', "at least 256 ports"),
    (MINIMAL + 'rtp_ports = "80-20000"\n', "within 1024-65535"),
    (MINIMAL + "clock_rate = 44100\n", "[sip] clock_rate"),
])
def test_bad_configs_are_refused_with_where_and_why(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse(text, "belblok.toml")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    assert str(caught.value).startswith("belblok.toml: ")


def test_password_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = parse(MINIMAL.replace("[sip]\n", '[sip]\nusername = "alice"\npassword_env = "SIP_PW"\n'))
    monkeypatch.setenv("SIP_PW", "s3cret")
    assert cfg.sip.secret() == "s3cret"
    assert cfg.sip.registrar_address == "127.0.0.1:5060"
    monkeypatch.delenv("SIP_PW")
    with pytest.raises(ConfigError, match="SIP_PW is not set"):
        cfg.sip.secret()


def test_password_and_password_env_together_are_refused() -> None:
    with pytest.raises(ConfigError, match="either password or password_env"):
        parse(MINIMAL + 'password = "a"\npassword_env = "B"\n')


def test_register_false_only_answers_challenges() -> None:
    cfg = parse(MINIMAL + 'username = "alice"\npassword = "x"\nregister = false\n')
    assert cfg.sip.registrar_address is None


def test_config_path_from_environment(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "other.toml"
    path.write_text(MINIMAL.replace("5060", "5070"))
    monkeypatch.setenv("BELBLOK_CONFIG", str(path))
    assert load().sip.trunk == "127.0.0.1:5070"


def test_missing_file_says_what_to_do(tmp_path) -> None:
    with pytest.raises(ConfigError, match="pass --config FILE or set BELBLOK_CONFIG"):
        load(tmp_path / "nope.toml")


def test_shipped_default_config_is_valid() -> None:
    from pathlib import Path

    cfg = load(Path(__file__).resolve().parent.parent / "config" / "belblok.toml")
    assert cfg.sip.caller_id.startswith("+")
