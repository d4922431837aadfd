"""A small feature repository using our store subclasses, and `feast serve` on it, for each online profile."""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from feast import FeatureStore

from contract.feature_store import FEATURES2
from ops.topology import feature_server
from tests.fixtures.cassandra import fresh_keyspace, render_cassandra_yaml
from tests.fixtures.platform import TINY_RAW as RAW
from tests.fixtures.platform import apply_repo, copy_feature_repo
from tests.fixtures.processes import free_port, running
from training.offline_sources import write_offline_sources
from training.tokenizer import SmsTokenizer


@dataclass(frozen=True)
class Served:
    url: str
    repo: Path

    def store(self) -> FeatureStore:
        return FeatureStore(repo_path=str(self.repo))


def build_repo(target: Path, *, fs_yaml_text: str | None = None, offline_options: str = "") -> Path:
    """Copy feature_repo/ with three messages' sources and apply it; `offline_options` extends offline_store."""
    repo = copy_feature_repo(target, fs_yaml_text=fs_yaml_text)
    if offline_options:
        yaml = repo / "feature_store.yaml"
        marker = "  ledger_path: data/offline_ledger.db\n"
        yaml.write_text(yaml.read_text().replace(marker, marker + offline_options))
    write_offline_sources(RAW, repo, SmsTokenizer(vocab_size=20, min_count=1).fit(RAW["text"].tolist()))
    apply_repo(repo)
    return repo


def v2_directory(repo: Path) -> Path:
    return repo / FEATURES2.source_path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """The embedded profile (SQLite online), compaction fanout 2 so that a few writes already compact."""
    return build_repo(tmp_path / "feature_repo", offline_options="  compaction_fanout: 2\n")


@pytest.fixture(scope="module", params=["sqlite", pytest.param("cassandra", marks=pytest.mark.cassandra)])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`feast serve` (PYTHONOPTIMIZE=1, own process group, as ops/topology.py defines it) per online profile."""
    fs_yaml_text = None
    if request.param == "cassandra":
        keyspace = fresh_keyspace(request.getfixturevalue("cassandra_session"))
        fs_yaml_text = render_cassandra_yaml(request.getfixturevalue("cassandra_endpoint"), keyspace)
    root = tmp_path_factory.mktemp(f"served_{request.param}")
    repo = build_repo(root / "feature_repo", fs_yaml_text=fs_yaml_text)
    with running(feature_server(port=free_port(), repo=repo), root / "run") as service:
        yield Served(url=service.url, repo=repo)
