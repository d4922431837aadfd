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
# The one file that may import more than its package: feast serve's hook gives Feast's app the offline `/docs`
# of api.common.docs. .feastignore keeps it out of `feast apply` (test_feast_apply_imports_no_ml_code).
ALLOWED_FILES: dict[str, set[str]] = {"feature_repo/static_artifacts.py": {"api"}}


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
    files = {str(path.relative_to(PROJECT_ROOT)): path for path in (PROJECT_ROOT / package).rglob("*.py")}
    bad = {name: sorted(_imported_packages(path) - allowed - ALLOWED_FILES.get(name, set()))
           for name, path in files.items()}
    assert {path: names for path, names in bad.items() if names} == {}


def _modules_loaded_by(code: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys; print(' '.join(sys.modules))"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return set(result.stdout.split())


def test_feast_apply_imports_no_ml_code() -> None:
    # What feast apply imports: from the repository, on sys.path, every .py file that .feastignore leaves.
    loaded = _modules_loaded_by(
        "import os, sys\nfrom pathlib import Path\nfrom feast.repo_operations import parse_repo\n"
        f"os.chdir({str(FEATURE_REPO_DIR)!r}); sys.path.insert(0, os.getcwd()); parse_repo(Path.cwd())"
    )
    assert {"entities", "sources", "views", "services"} <= loaded
    assert "static_artifacts" not in loaded
    assert not {"sklearn", "training", "api"} & {name.split(".")[0] for name in loaded}


def test_contract_needs_only_the_standard_library_and_pyarrow() -> None:
    loaded = _modules_loaded_by("import contract.feature_store, contract.paths, contract.routes")
    assert not {"sklearn", "pandas", "feast", "training", "api"} & {name.split(".")[0] for name in loaded}
