"""Importing apps named on the command line as ``MODULE:APP``."""

from __future__ import annotations

import importlib
import os
import sys

from handlers.app import App, AppDefinitionError


def load_app(target: str) -> App | type[App]:
    """Import ``package.module:AppClass`` (or an app instance) and return it."""
    module_name, sep, attr_path = target.partition(":")
    if not sep or not module_name or not attr_path:
        raise AppDefinitionError(
            f"{target!r} is not MODULE:APP (for example handlers.examples.welcome:WelcomeApp)"
        )
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # let users name modules of the current project
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise AppDefinitionError(f"cannot import module {module_name!r}: {exc}") from None
    obj: object = module
    for part in attr_path.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise AppDefinitionError(
                f"module {module_name!r} has no attribute {attr_path!r}"
            ) from None
    if isinstance(obj, App) or (isinstance(obj, type) and issubclass(obj, App)):
        return obj
    raise AppDefinitionError(f"{target} is {obj!r}, not a handlers.App subclass or instance")
