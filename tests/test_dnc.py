"""The team's do-not-call list: imported whole or not at all, and checked at the moment of dialling."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from tests.conftest import run_cli
from tests.test_queue_fixtures import T0, add_debtor, make_config
from tests.webfixtures import *  # noqa: F401,F403
from tests.webfixtures import MakeClient, bearer, seeded, web_config

ROOT = Path(__file__).resolve().parent.parent


def listed(path: Path, tmp_path: Path) -> list[str]:
    proc = run_cli("--config", str(path), "dnc", "list", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    return [row["number"] for row in json.loads(proc.stdout)]


def queue(path: Path, tmp_path: Path) -> dict:
    proc = run_cli("--config", str(path), "queue", "--agent", "anna", "--at", T0.isoformat(), "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_a_file_of_numbers_goes_on_the_list_whole_or_not_at_all(engine: Engine, db_url: str, tmp_path: Path) -> None:
    _, path = make_config(tmp_path, db_url=db_url)
    bad = tmp_path / "bad.txt"
    bad.write_text("+31 20 111 0001\n020-1110002\nnot a number\n")
    refused = run_cli("--config", str(path), "import", "dnc", str(bad), cwd=tmp_path)
    assert refused.returncode == 1 and "row 3" in refused.stderr and "nothing imported" in refused.stderr
    assert listed(path, tmp_path) == []
    good = tmp_path / "dnc.txt"
    good.write_text("# opt-outs of November\n+31 20 111 0001\n020-1110002   # by phone\n\n020 111 0001\n")
    done = run_cli("--config", str(path), "import", "dnc", str(good), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "2 number(s) added" in done.stdout
    assert listed(path, tmp_path) == ["+31201110001", "+31201110002"]
    again = run_cli("--config", str(path), "import", "dnc", str(good), cwd=tmp_path)
    assert "0 number(s) added, 2 already on it" in again.stdout


def test_a_csv_column_and_the_bel_me_niet_export(engine: Engine, db_url: str, tmp_path: Path) -> None:
    _, path = make_config(tmp_path, db_url=db_url)
    crm = tmp_path / "crm.csv"
    crm.write_text("naam;Telefoon;reden\nJansen;0612345670;klacht\nSmit;+32 470 12 34 56;verzoek\n")
    assert run_cli("--config", str(path), "import", "dnc", str(crm), "--shape", "csv", "--column", "telefoon",
                   cwd=tmp_path).returncode == 0
    register = tmp_path / "belmeniet.csv"
    register.write_text("Telefoonnummer\n0201110003\n0101234567\n")
    assert run_cli("--config", str(path), "import", "dnc", str(register), "--shape", "belmeniet",
                   cwd=tmp_path).returncode == 0
    assert listed(path, tmp_path) == ["+31101234567", "+31201110003", "+31612345670", "+32470123456"]
    wrong = run_cli("--config", str(path), "import", "dnc", str(crm), "--shape", "csv", "--column", "nummer",
                    cwd=tmp_path)
    assert wrong.returncode == 1 and "no column 'nummer'" in wrong.stderr


def test_the_queue_and_belblok_dial_refuse_a_barred_number(engine: Engine, db_url: str, tmp_path: Path) -> None:
    _, path = make_config(tmp_path, db_url=db_url)
    with Session(engine) as s, s.begin():
        add_debtor(s, "BARRED", phones=[("Piet", "credit_manager", "+31612000001", "direct")])
        add_debtor(s, "TWO", phones=[("Ans", "credit_manager", "+31612000002", "direct"),
                                     ("Bas", "owner", "+31612000003", "direct")])
    for number in ("+31612000001", "+31612000002"):
        assert run_cli("--config", str(path), "dnc", "add", number, cwd=tmp_path).returncode == 0
    data = queue(path, tmp_path)
    (barred,) = [x for x in data["excluded"] if x["debtor"] == "BARRED"]
    assert barred["rules"] == ["dnc_list"]
    (two,) = [e for e in data["entries"] if e["debtor"] == "TWO"]
    assert two["number"] == "+31612000003"  # the other contact's number, not the barred one
    dial = run_cli("--config", str(path), "dial", "BARRED", cwd=tmp_path)
    assert dial.returncode != 0 and "dnc_list" in dial.stderr, dial.stderr
    assert run_cli("--config", str(path), "dnc", "remove", "06 1200 0001", cwd=tmp_path).returncode == 0
    assert "BARRED" in [e["debtor"] for e in queue(path, tmp_path)["entries"]]
    missing = run_cli("--config", str(path), "dnc", "remove", "+31612000001", cwd=tmp_path)
    assert missing.returncode == 1 and "not on the do-not-call list" in missing.stderr


async def test_the_panel_refuses_to_dial_a_barred_number(engine: Engine, db_url: str, tmp_path: Path,
                                                         make_client: MakeClient) -> None:
    from dialer.core.clock import utcnow
    from dialer.dossiers.donotcall import add_numbers
    from dialer.storage.database import session_factory

    seeded(engine)
    with session_factory(engine).begin() as s:
        add_numbers(s, ["+31201110001"], source="test", now=utcnow())
    client = await make_client(web_config(db_url, tmp_path))
    refused = await client.post("/api/v1/calls", json={"debtor_ref": "D-1001", "number": "+31201110001"},
                                headers=bearer(engine, "demo"))
    assert refused.status == 409
    assert (await refused.json())["reason"] == "dnc_list"
