"""Our registry store (feast_ext/registry.py) parses the registry file again only when it changes.

Through the SDK, on the embedded profile's feature_store.yaml as `make up` uses it: a push leaves the
registry's cached proto the same object (with Feast's own store every push parsed the file again), and a
change another process applies is still seen by the next read that asks for fresh state.
"""

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from feast import FeatureStore
from feast.data_source import PushMode

from contract.feature_store import ENTITY_KEY, FEATURES2, PUSH_SOURCE, V2_LENGTH
from feast_ext.registry import UnchangedFileRegistryStore

NEW_DESCRIPTION = "changed by another process"
# A second process edits one feature service's description and applies it, as `feast apply` would.
APPLY_CHANGE = f"""
import sys
from feast import FeatureStore
store = FeatureStore(repo_path=sys.argv[1])
service = store.get_feature_service({FEATURES2.online_service!r})
service.description = {NEW_DESCRIPTION!r}
store.apply([service])
"""


def push_one(store: FeatureStore, sms_id: str) -> None:
    row = {ENTITY_KEY: [sms_id], "event_timestamp": [datetime.now(UTC)], "features": [[2] * V2_LENGTH]}
    store.push(PUSH_SOURCE, pd.DataFrame(row), to=PushMode.ONLINE)


def test_the_embedded_profile_uses_it(repo: Path) -> None:
    assert isinstance(FeatureStore(repo_path=str(repo)).registry._registry_store, UnchangedFileRegistryStore)


def test_a_push_does_not_parse_the_registry_again(repo: Path) -> None:
    store = FeatureStore(repo_path=str(repo))
    push_one(store, "registry-a")
    before = store.registry.cached_registry_proto
    for number in range(3):
        push_one(store, f"registry-b{number}")
    assert store.registry.cached_registry_proto is before
    assert store.get_online_features([f"{FEATURES2.view}:features"], [{ENTITY_KEY: "registry-b2"}]).to_dict()[
        "features"
    ] == [[2] * V2_LENGTH]


def test_a_change_applied_elsewhere_is_read(repo: Path) -> None:
    store = FeatureStore(repo_path=str(repo))
    push_one(store, "registry-c")
    before = store.registry.cached_registry_proto
    subprocess.run([sys.executable, "-c", APPLY_CHANGE, str(repo)], check=True, timeout=120)
    fresh = store.registry.get_feature_service(FEATURES2.online_service, store.project, allow_cache=False)
    assert fresh.description == NEW_DESCRIPTION
    assert store.registry.cached_registry_proto is not before


def test_a_write_through_it_is_read_back(repo: Path) -> None:
    store = FeatureStore(repo_path=str(repo))
    service = store.get_feature_service(FEATURES2.online_service)
    service.description = NEW_DESCRIPTION
    store.apply([service])
    again = FeatureStore(repo_path=str(repo)).get_feature_service(FEATURES2.online_service)
    assert again.description == NEW_DESCRIPTION
    assert store.registry.get_feature_service(FEATURES2.online_service, store.project).description == NEW_DESCRIPTION
