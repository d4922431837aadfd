"""Who may import whom (docs/design.md, "Rooms"): checked on the source, and on what `feast apply` loads."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from contract.paths import FEATURE_REPO_DIR, PROJECT_ROOT

PROJECT_PACKAGES = {"contract", "feature_repo", "training", "api", "batch", "feast_ext", "ops", "scripts", "tests"}
ALLOWED: dict[str, set[str]] = {
    "contract": set(),
    "feature_repo": {"contract"},
    "feast_ext": {"contract"},
    "training": {"contract"},
    "api": {"contract", "training"},
    "batch": {"contract", "training", "api"},
}


def _imported_packages(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & PROJECT_PACKAGES


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_what_it_may(package: str) -> None:
    allowed = ALLOWED[package] | {package}
    bad = {
        str(path.relative_to(PROJECT_ROOT)): sorted(_imported_packages(path) - allowed)
        for path in (PROJECT_ROOT / package).rglob("*.py")
    }
    assert {path: names for path, names in bad.items() if names} == {}


def _modules_loaded_by(code: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys; print(' '.join(sys.modules))"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return set(result.stdout.split())


def test_feast_apply_imports_no_ml_code() -> None:
    # feast apply puts the repository on sys.path and imports every definition module.
    loaded = _modules_loaded_by(
        f"import sys; sys.path.insert(0, {str(FEATURE_REPO_DIR)!r})\nimport entities, sources, views, services"
    )
    assert "views" in loaded
    assert not {"sklearn", "training", "api"} & {name.split(".")[0] for name in loaded}


def test_contract_needs_only_the_standard_library_and_pyarrow() -> None:
    loaded = _modules_loaded_by("import contract.feature_store, contract.paths, contract.routes")
    assert not {"sklearn", "pandas", "feast", "training", "api"} & {name.split(".")[0] for name in loaded}
