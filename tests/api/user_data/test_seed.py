"""The sample inboxes: June 2019, fiona and max, one obvious spam, idempotent."""

from pathlib import Path

import pytest

from api.common.settings import BaseServiceSettings
from api.common.storage import StoredSms, make_stores
from api.user_data.seed import sample_messages, seed_sample_inboxes, seed_uuid
from scripts.init_user_data import main


def test_sample_messages_are_june_2019_time_uuids() -> None:
    messages = sample_messages()
    assert 8 <= len(messages) <= 12
    assert {user for user, _ in messages} == {"fiona", "max"}
    for _, sms in messages:
        assert sms.sms_id.version == 1
        assert (sms.received_at.year, sms.received_at.month) == (2019, 6)
    assert any("WINNER" in sms.sms_text for _, sms in messages)


def test_seed_uuid_is_stable_and_keyed() -> None:
    at = sample_messages()[0][1].received_at
    assert seed_uuid(at, "a") == seed_uuid(at, "a") != seed_uuid(at, "b")


def test_seeding_twice_does_not_duplicate(tmp_path: Path) -> None:
    stores = make_stores(BaseServiceSettings(sqlite_path=tmp_path / "app.db"))
    seed_sample_inboxes(stores.sms)
    seed_sample_inboxes(stores.sms)
    fiona = stores.sms.list("fiona", limit=100)
    assert len(fiona) == sum(1 for user, _ in sample_messages() if user == "fiona")
    assert fiona[0].received_at > fiona[-1].received_at
    stores.close()


def test_script_seeds_configured_store(tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("STORAGE_BACKEND", "sqlite")
    monkeypatch.setenv("SQLITE_PATH", str(tmp_path / "app.db"))
    assert main([]) == 0
    assert main([]) == 0
    assert "10 sample messages for fiona, max" in capsys.readouterr().out
    stores = make_stores(BaseServiceSettings(sqlite_path=tmp_path / "app.db"))
    assert len(stores.sms.list("max", limit=100)) == 5
    stores.close()


def test_seeding_over_another_message_raises(tmp_path: Path) -> None:
    stores = make_stores(BaseServiceSettings(sqlite_path=tmp_path / "app.db"))
    user, sms = sample_messages()[0]
    stores.sms.add(user, StoredSms(sms_id=sms.sms_id, sender_id="intruder", sms_text="not the sample"))
    with pytest.raises(ValueError, match="already holds another message"):
        seed_sample_inboxes(stores.sms)
    stores.close()
