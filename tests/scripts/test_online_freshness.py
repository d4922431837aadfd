"""`scripts/online_store_sampler.py` and `scripts/feature_store_explorer.py` show each view's freshness,
on SQLite and on the Cassandra profile (emulator, or CASSANDRA_HOSTS)."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from feast import FeatureStore

from feast_ext.freshness import age, view_freshness
from scripts import feature_store_explorer, online_store_sampler
from tests.scripts.conftest import OnlineRepo


def test_view_freshness_finds_the_newest_event_and_counts_entities(online_repo: OnlineRepo) -> None:
    store = FeatureStore(repo_path=str(online_repo.repo))
    v1, v2 = view_freshness(store, ["sms_features1", "sms_features2"])
    assert (v1.view, v1.entities, v1.newest_event) == ("sms_features1", 3, online_repo.v1_event)
    assert (v2.view, v2.entities, v2.newest_event) == ("sms_features2", 4, online_repo.pushed_at)
    now = datetime.now(UTC)
    assert timedelta(minutes=5) <= timedelta(seconds=v2.event_age_seconds(now)) < timedelta(minutes=6)


def test_view_freshness_write_time_is_recorded_by_cassandra_only(online_repo: OnlineRepo) -> None:
    store = FeatureStore(repo_path=str(online_repo.repo))
    (v2,) = view_freshness(store, ["sms_features2"])
    if online_repo.profile == "sqlite":  # Feast leaves created_ts empty for sources without a created column
        assert v2.newest_write is None
    else:  # WRITETIME of the push, which happened while the fixture ran
        assert 0 <= v2.write_age_seconds(datetime.now(UTC)) < 300


def test_sampler_prints_each_views_freshness(online_repo: OnlineRepo, capsys: pytest.CaptureFixture[str]) -> None:
    assert online_store_sampler.main([online_repo.pushed_id, "sms1", "--repo", str(online_repo.repo)]) == 0
    out = capsys.readouterr().out
    assert "== sms_features2: 2 of 2 ids found\n" in out
    assert "== sms_features1: 1 of 2 ids found\n" in out
    event = re.escape(online_repo.pushed_at.isoformat())
    fresh = rf"\n  freshness: 4 entities online; newest event {event} \(5\.\d min old\)"
    assert re.search(rf"== sms_features2.*{fresh}", out)
    v1_event = re.escape(online_repo.v1_event.isoformat())
    old = rf"\n  freshness: 3 entities online; newest event {v1_event} \(\d+\.\d years old\)"
    assert re.search(rf"== sms_features1.*{old}", out)


def test_explorer_prints_each_views_freshness(online_repo: OnlineRepo, capsys: pytest.CaptureFixture[str]) -> None:
    assert feature_store_explorer.main(["--repo", str(online_repo.repo)]) == 0
    out = capsys.readouterr().out
    written = "write time not recorded" if online_repo.profile == "sqlite" else r"newest write \S+ \(\d+ s ago\)"
    event = re.escape(online_repo.pushed_at.isoformat())
    assert re.search(rf"  sms_features2 \(.*\n    online: 4 entities online; newest event {event} .*; {written}", out)
    assert re.search(r"  sms_labels \(.*\n    online: 3 entities online; ", out)


@pytest.mark.parametrize(
    ("seconds", "text"), [(None, "unknown"), (42.4, "42 s"), (450, "7.5 min"), (3 * 86400, "3.0 days")]
)
def test_age_rounds_to_one_unit(seconds: float | None, text: str) -> None:
    assert age(seconds) == text
