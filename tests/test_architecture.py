"""The map stays true: no import circle among the project's packages (the layers themselves are import-linter's
contract in pyproject.toml, run by `make test`), and reading the channel registry loads no channel library."""

from __future__ import annotations

import subprocess
import sys

import grimp

PACKAGES = ("server", "channels", "jobs", "knowledge", "agents", "bot", "config")


def test_no_import_circle() -> None:
    # TYPE_CHECKING imports count too: a circle there is still two modules that cannot be read apart.
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    circles = sorted(
        (module, imported)
        for module in graph.modules
        for imported in graph.find_modules_directly_imported_by(module)
        if graph.find_shortest_chain(importer=imported, imported=module)
    )
    assert circles == []


def test_reading_the_channel_registry_loads_no_channel_library() -> None:
    code = ("import sys; from server.settings import CHANNELS; "
            "print(CHANNELS.types, [m for m in ('aiogram', 'slack_bolt', 'slack_sdk', 'aiosmtpd', 'postmarker') "
            "if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['http', 'console', 'telegram', 'slack', 'email'] []"
