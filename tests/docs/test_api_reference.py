"""docs/api.md is generated from the docstrings and must be current."""

from __future__ import annotations

import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GENERATOR = REPO / "docs" / "gen_api.py"
API_MD = REPO / "docs" / "api.md"


def _generator():
    spec = importlib.util.spec_from_file_location("dextcore_docs_gen_api", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_api_reference_is_up_to_date():
    assert API_MD.read_text(encoding="utf-8") == _generator().render(), (
        "docs/api.md is out of date with the docstrings: run `python docs/gen_api.py` and commit the result")


def test_api_reference_covers_the_facade_and_every_exported_name():
    import importlib

    gen = _generator()
    text = API_MD.read_text(encoding="utf-8")
    assert "#### `Dextcore.open`" in text and "#### `Connections.create`" in text
    for module_name in gen.MODULES:
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", ()):
            if not isinstance(getattr(module, name), type(importlib)):
                assert f"### `{module_name}.{name}`" in text, f"{module_name}.{name} is missing from docs/api.md"
