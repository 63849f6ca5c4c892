"""The call guide and objections are data in config/callguide, in Dutch and English, filled in per dossier."""

from __future__ import annotations

from pathlib import Path

import pytest

from dialer.dossiers.callguide import (
    CallGuideError,
    dial_blocker,
    fill,
    guide_values,
    load_guide,
    parse_guide,
)

GUIDES = Path(__file__).resolve().parent.parent / "config" / "callguide"


@pytest.mark.parametrize("language", ["nl", "en"])
def test_the_guide_walks_the_handbook_and_answers_the_five_objections(language: str) -> None:
    guide = load_guide(language, GUIDES)
    assert guide.language == language
    assert len(guide.steps) >= 10 and len(guide.stance) == 3
    assert [o.key for o in guide.objections] == ["never_received", "waiting_for_payment", "paid_this_morning",
                                                 "bank_error", "goods_not_received"]
    assert {o.task for o in guide.objections} == {None, "send_invoice_copy", "check_payment"}
    assert load_guide("nl", GUIDES).steps[0].key == load_guide("en", GUIDES).steps[0].key


def test_placeholders_are_filled_from_the_dossier() -> None:
    dossier = {"invoices": [
        {"number": "F-1", "date": "2026-09-01", "due_date": "2026-10-01", "open_amount": "0.00", "days_overdue": 0,
         "disputed": False, "currency": "EUR"},
        {"number": "F-2", "date": "2026-09-10", "due_date": "2026-10-10", "open_amount": "100.00", "days_overdue": 44,
         "disputed": False, "currency": "EUR"}]}
    values = guide_values(dossier, agent="anna", team="Debiteuren")
    assert values["invoice"] == "F-2" and values["term"] == "30"
    guide = fill(load_guide("en", GUIDES), values)
    assert "this is anna from Debiteuren" in guide.steps[0].say and "F-2" in guide.steps[0].say
    assert "{" not in guide.steps[0].say
    assert "{term}" not in guide.steps[4].say and "30 days" in guide.steps[4].say


def test_a_broken_guide_file_says_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(CallGuideError, match="steps"):
        parse_guide({"title": "x"}, "nl")
    (tmp_path / "nl.toml").write_text('title = "x"\n[[steps]]\nkey = "a"\ntitle = "A"\n')
    with pytest.raises(CallGuideError, match="say"):
        load_guide("nl", tmp_path)


def test_an_edited_guide_is_read_again_and_a_missing_language_falls_back_to_english(tmp_path: Path) -> None:
    (tmp_path / "en.toml").write_text('title = "Guide"\n[[steps]]\nkey = "a"\ntitle = "A"\nsay = "Hello"\n')
    assert (load_guide("nl", tmp_path).language, load_guide("nl", tmp_path).steps[0].say) == ("en", "Hello")
    (tmp_path / "en.toml").write_text('title = "Guide"\n[[steps]]\nkey = "a"\ntitle = "A"\nsay = "Good morning"\n')
    assert load_guide("en", tmp_path).steps[0].say == "Good morning"  # a changed size is a changed file
    (tmp_path / "nl.toml").mkdir()  # not a file: still English
    assert load_guide("nl", tmp_path).language == "en"


def test_debtors_that_must_not_be_phoned() -> None:
    assert dial_blocker({"do_not_call": False, "written_only": False, "insolvent": False}) is None
    assert dial_blocker({"do_not_call": False, "written_only": True, "insolvent": False}) == "written_only"
