"""Layers point down (DESIGN): screening's models and services import nothing from referrals/,
and config/, the ground floor holding the outbox, imports no app. Read from the source, so an
import tucked inside a function counts too (the hand-over to routing used to be three of
those); screening tells referrals what happened through outbox events instead."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(path: Path, root: Path = ROOT) -> set[str]:
    """Every module `path` imports, at any depth (relative imports resolved to their app)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = ".".join(path.relative_to(root).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                found.add(".".join([*base, node.module or ""]).strip("."))
            else:
                found.add(node.module or "")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name | ast.Attribute)
            and getattr(node.func, "id", getattr(node.func, "attr", "")) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            found.add(str(node.args[0].value))
    return found


def _reaching(paths: list[Path], apps: tuple[str, ...], root: Path = ROOT) -> dict[str, list[str]]:
    hits = {}
    for path in paths:
        wrong = sorted(
            module
            for module in imported_modules(path, root)
            if any(module == app or module.startswith(f"{app}.") for app in apps)
        )
        if wrong:
            hits[str(path.relative_to(root))] = wrong
    return hits


SCREENING_LOWER_LAYER = sorted(
    [ROOT / "screening" / "models.py", ROOT / "screening" / "events.py"]
    + list((ROOT / "screening" / "services").rglob("*.py"))
)


def test_the_check_sees_imports_inside_functions(tmp_path):
    probe = tmp_path / "screening" / "services" / "probe.py"
    probe.parent.mkdir(parents=True)
    probe.write_text(
        "def hand_over():\n"
        "    from referrals.services import routing_request\n"
        "    import referrals.models\n"
        "    from ..models import Case\n"
    )
    assert _reaching([probe], ("referrals",), root=tmp_path) == {
        "screening/services/probe.py": ["referrals.models", "referrals.services"]
    }
    assert "screening.models" in imported_modules(probe, root=tmp_path)


def test_screening_models_and_services_import_nothing_from_referrals():
    assert len(SCREENING_LOWER_LAYER) > 5  # the services package is read, not skipped
    assert _reaching(SCREENING_LOWER_LAYER, ("referrals",)) == {}


@pytest.mark.parametrize("module", ["outbox.py", "models.py", "retention.py"])
def test_config_imports_no_app(module):
    assert _reaching([ROOT / "config" / module], ("screening", "referrals", "indicators")) == {}
