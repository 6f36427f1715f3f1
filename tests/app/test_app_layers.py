"""The app's layers, read from the source: views and CLI call services; services hold the queries."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "app"
QUERY_CALLS = {"execute", "scalar", "scalars", "query"}
# What a view may take from SQLAlchemy: its errors, and a loaded object's own state.
NOT_QUERIES = ("sqlalchemy.exc", "sqlalchemy.inspect")


def modules(folder: str) -> list[Path]:
    return sorted((APP / folder).rglob("*.py"))


def imported(path: Path) -> set[str]:
    """Return what ``path`` imports: ``module`` for ``import module``, ``module.name`` for each
    ``from module import name``."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def session_queries(path: Path) -> list[str]:
    """Return the ``db.session.execute(...)``-style calls in ``path``, as ``line: call``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in QUERY_CALLS
            and ast.unparse(node.func.value) in ("db.session", "database.session")
        ):
            found.append(f"{node.lineno}: {ast.unparse(node.func)}")
    return found


def test_layers_the_source_folders_exist():
    assert len(modules("services")) >= 10
    assert len(modules("views")) >= 5
    assert len(modules("cli")) >= 3


@pytest.mark.parametrize("path", modules("services"), ids=lambda p: p.name)
def test_layers_services_take_settings_as_arguments_not_from_flask(path):
    """No service reads ``current_app`` (or anything else of Flask's): settings come as arguments."""
    assert sorted(n for n in imported(path) if n == "flask" or n.startswith("flask.")) == []


@pytest.mark.parametrize("path", modules("views") + modules("cli"), ids=lambda p: p.name)
def test_layers_views_and_cli_leave_queries_to_services(path):
    reach = sorted(
        name
        for name in imported(path)
        if (name == "sqlalchemy" or name.startswith("sqlalchemy."))
        and not name.startswith(NOT_QUERIES)
    )
    assert reach == [], f"{path.name} builds queries"
    assert session_queries(path) == [], f"{path.name} runs queries"


@pytest.mark.parametrize("path", modules("services"), ids=lambda p: p.name)
def test_layers_services_are_below_views_and_cli(path):
    """No service imports a view or a command, so calls run one way: down."""
    assert not {n for n in imported(path) if n.startswith(("app.views", "app.cli"))}


@pytest.mark.parametrize("path", modules("services"), ids=lambda p: p.name)
def test_layers_services_are_below_the_live_layer(path):
    """No service imports the live layer (app/live): it reads the services, not the other way."""
    assert not {n for n in imported(path) if n.startswith("app.live")}


@pytest.mark.parametrize("path", modules("live"), ids=lambda p: p.name)
def test_layers_live_layer_sits_beside_the_views_not_in_them(path):
    """The live layer (page cache, parts, stamp, stream) imports services and models, never a view
    or a command: the views import it."""
    assert not {n for n in imported(path) if n.startswith(("app.views", "app.cli"))}


def test_layers_the_live_layer_is_its_own_room():
    assert [p.name for p in modules("live")] == [
        "__init__.py",
        "cache.py",
        "parts.py",
        "stamp.py",
        "stream.py",
    ]
    assert not (APP / "services" / "live.py").exists()
    assert not {"pages.py", "parts.py", "streams.py"} & {p.name for p in modules("views")}
