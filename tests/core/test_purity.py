"""The core is pure: no module under gateway/core brings in HTTP, a carrier, a database driver, mail or the store."""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "gateway" / "core"
FORBIDDEN = ("aiohttp", "twilio", "aiosqlite", "asyncpg", "sqlite3", "psycopg",
             "gateway.stores", "gateway.web", "gateway.mail", "gateway.carriers")

def core_modules() -> list[str]:
    names = []
    for path in sorted(CORE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


@functools.cache
def imported_alone(module: str) -> frozenset[str]:
    """``sys.modules`` of a fresh interpreter that imported ``module`` and nothing else."""
    code = f"import importlib, json, sys; importlib.import_module({module!r}); print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    return frozenset(json.loads(result.stdout))


@pytest.mark.parametrize("module, forbidden", [pytest.param(m, f, id=f"{m}-{f}") for m in core_modules() for f in FORBIDDEN])
def test_a_core_module_alone_imports_none_of(module, forbidden):
    loaded = sorted(name for name in imported_alone(module) if name == forbidden or name.startswith(forbidden + "."))
    assert loaded == [], f"importing {module} loads {', '.join(loaded)}"


@pytest.mark.parametrize("forbidden", FORBIDDEN)
def test_no_core_source_names(forbidden):
    """``git grep "from gateway.stores|import aiohttp|import twilio" gateway/core``, for every forbidden name and
    both forms of import, also inside functions (which importing a module does not run)."""
    statement = re.compile(rf"^\s*(?:from|import)\s+{re.escape(forbidden)}\b", re.MULTILINE)
    found = [f"{path.relative_to(ROOT)}:{source[:match.start()].count(chr(10)) + 1}"
             for path in sorted(CORE.rglob("*.py")) for source in [path.read_text()]
             for match in statement.finditer(source)]
    assert found == [], f"{forbidden} imported at {', '.join(found)}"


def test_the_check_sees_what_a_module_imports():
    """The subprocess reports what it loaded: a module known to need aiohttp shows it."""
    assert "aiohttp" in imported_alone("gateway.web.app")
