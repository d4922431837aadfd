"""Which model serves which version: the declared built-ins (training.versions) and plugins.

`SPAM_MODEL_PLUGINS="package.module:ClassName,..."` names plugin classes. A plugin class declares
`version` (its route name, which must not be a built-in's), `artifact_dir` (relative to the models
directory: a directory `training.artifacts.save_artifact` wrote) and a classmethod
`from_artifact(artifact)`; what that returns must satisfy `SpamModel`. The registry loads the artifact
itself, so the sha256 check applies to plugins as to built-ins, and an instance reporting another hash
is refused. README "Writing a model plugin" shows one.
"""

import importlib
from collections.abc import Sequence
from pathlib import Path

from api.model_serving.models import DeclaredModel, SpamModel, load_checked_artifact
from training.versions import VERSIONS

# The Protocol's data members and methods, for a message that names what a plugin lacks.
PROTOCOL_ATTRIBUTES: tuple[str, ...] = tuple(SpamModel.__annotations__)
PROTOCOL_METHODS: tuple[str, ...] = tuple(
    name for name, value in vars(SpamModel).items() if callable(value) and not name.startswith("_")
)


class PluginError(RuntimeError):
    """A plugin that cannot be served; the message names it."""


def unknown_version_message(version: str) -> str:
    return f"unknown model version {version!r}; known versions: {', '.join(VERSIONS)}"


def load_builtin(version: str, models_dir: Path) -> SpamModel:
    if version not in VERSIONS:
        raise ValueError(unknown_version_message(version))
    try:
        return DeclaredModel.load(VERSIONS[version], models_dir)
    except Exception as exc:
        raise RuntimeError(f"cannot load model {version} from {models_dir}: {exc}") from exc


def _plugin_class(path: str) -> type:
    module_name, _, class_name = path.partition(":")
    if not module_name or not class_name:
        raise PluginError(f"plugin {path!r}: expected package.module:ClassName")
    try:
        return getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise PluginError(f"plugin {path!r} cannot be imported: {exc}") from exc


def _missing_members(model: object) -> list[str]:
    missing = [name for name in PROTOCOL_ATTRIBUTES if not hasattr(model, name)]
    return missing + [f"{name}()" for name in PROTOCOL_METHODS if not callable(getattr(model, name, None))]


def load_plugin(path: str, models_dir: Path) -> SpamModel:
    """Import, check and load the plugin class at `path` (package.module:ClassName)."""
    plugin = _plugin_class(path)
    version = getattr(plugin, "version", None)
    if not isinstance(version, str) or not version:
        raise PluginError(f"plugin {path!r} declares no version name")
    if version in VERSIONS:
        raise PluginError(f"plugin {path!r}: version {version!r} clashes with a built-in version")
    if not isinstance(getattr(plugin, "artifact_dir", None), str | Path) or not callable(
        getattr(plugin, "from_artifact", None)
    ):
        raise PluginError(f"plugin {path!r} needs an artifact_dir and a from_artifact classmethod")
    try:
        artifact = load_checked_artifact(version, models_dir / plugin.artifact_dir)
    except Exception as exc:
        raise PluginError(f"plugin {path!r}: cannot load its artifact: {exc}") from exc
    model = plugin.from_artifact(artifact)
    if missing := _missing_members(model):
        raise PluginError(f"plugin {path!r} does not satisfy SpamModel: it lacks {', '.join(missing)}")
    if model.version != version or model.artifact_sha256 != artifact.sha256:
        raise PluginError(f"plugin {path!r} must report its declared version and its artifact's sha256")
    return model


def load_models(versions: Sequence[str], models_dir: Path, plugins: Sequence[str] = ()) -> list[SpamModel]:
    """Load (and hash-check) every built-in version, then every plugin; errors name the culprit."""
    if unknown := [version for version in versions if version not in VERSIONS]:
        raise ValueError(unknown_version_message(unknown[0]))  # before any artifact is read
    models = [load_builtin(version, models_dir) for version in versions]
    for path in plugins:
        model = load_plugin(path, models_dir)
        if model.version in {loaded.version for loaded in models}:
            raise PluginError(f"plugin {path!r}: version {model.version!r} is served twice")
        models.append(model)
    return models
