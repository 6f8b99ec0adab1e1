"""Every hook of dextcore/hookspecs.py is documented in docs/hooks.md.

Adding a hookspec without a ``## `name` `` section — one that shows its
signature, names each parameter and says whether it is firstresult — fails
here.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from dextcore import hookspecs

HOOKS_MD = Path(__file__).resolve().parents[2] / "docs" / "hooks.md"
SPEC_ATTR = hookspecs.PROJECT + "_spec"


def _hookspecs() -> dict[str, tuple[inspect.Signature, bool]]:
    found = {}
    for name, obj in vars(hookspecs).items():
        opts = getattr(obj, SPEC_ATTR, None)
        if opts is not None and callable(obj):
            found[name] = (inspect.signature(obj), bool(opts.get("firstresult")))
    return found


def _sections() -> dict[str, str]:
    text = HOOKS_MD.read_text(encoding="utf-8")
    parts = re.split(r"^## `([A-Za-z_0-9]+)`[ \t]*$", text, flags=re.M)
    # parts = [preamble, name1, body1, name2, body2, ...]
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


HOOKS = _hookspecs()


def test_hookspecs_were_found():
    # Guards the test itself: pluggy marks specs with the ``dextcore_spec`` attribute.
    assert {"register_connectors", "authenticate", "status_changed", "alert"} <= set(HOOKS)


@pytest.mark.parametrize("name", sorted(HOOKS))
def test_hook_has_a_section_naming_every_parameter(name):
    sections = _sections()
    assert name in sections, f"docs/hooks.md has no '## `{name}`' section for the hookspec {name}"
    body = sections[name]
    signature, firstresult = HOOKS[name]
    assert f"def {name}(" in body, f"the section of {name} does not show its signature"
    for parameter in signature.parameters:
        assert re.search(rf"\b{re.escape(parameter)}\b", body), (
            f"the section of {name} never mentions its parameter {parameter!r}")
    stated = re.search(r"\*\*firstresult:\*\* (yes|no)\b", body)
    assert stated, f"the section of {name} does not say whether it is firstresult"
    assert (stated.group(1) == "yes") == firstresult, f"the section of {name} states firstresult wrongly"
    assert "@hookimpl" in body, f"the section of {name} has no example implementation"


def test_no_section_documents_a_hook_that_does_not_exist():
    stale = set(_sections()) - set(HOOKS)
    assert not stale, f"docs/hooks.md documents hooks that are not in hookspecs.py: {sorted(stale)}"


def test_every_python_block_of_the_page_compiles():
    blocks = re.findall(r"```python\n(.*?)```", HOOKS_MD.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) >= 2 * len(HOOKS)  # a signature and an example per hook
    for number, block in enumerate(blocks, 1):
        try:
            compile(block, f"docs/hooks.md python block {number}", "exec")
        except SyntaxError as exc:
            raise AssertionError(f"python block {number} of docs/hooks.md does not compile: {exc}") from None
