"""scripts/compact_offline_parts.py: a thin CLI over the offline store's compaction."""

import importlib.util
import json
from pathlib import Path

import pytest
from feast import FeatureStore

from contract.paths import PROJECT_ROOT
from tests.feast_ext.checks import live_id_counts, live_parts
from tests.feast_ext.conftest import build_repo, v2_directory
from tests.feast_ext.test_offline_store import push


def load_script() -> object:
    path = PROJECT_ROOT / "scripts" / "compact_offline_parts.py"
    spec = importlib.util.spec_from_file_location("compact_offline_parts", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_compact_leaves_one_part_per_tier_and_every_row_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = build_repo(tmp_path / "feature_repo", offline_options="  compaction_fanout: 2\n")
    store = FeatureStore(repo_path=str(repo))
    for index in range(6):
        push(store, [f"cli{index}"])
    monkeypatch.setenv("FEATURE_REPO_PATH", str(repo))
    assert load_script().main([]) == 0  # type: ignore[attr-defined]
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result[str(v2_directory(repo))] == len(live_parts(repo)) <= 3  # 9 rows, fanout 2
    counts = live_id_counts(repo)
    assert [counts[f"cli{index}"] for index in range(6)] == [1] * 6
