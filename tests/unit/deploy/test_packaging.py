"""The image installs medpay as a wheel (`pip install .`, not editable): every data file the code reads from its
own package directories must be declared as package data, or it is missing in production only."""

from __future__ import annotations

import tomllib
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
DOCS = {".md"}  # read by people, not by the code


def _declared() -> dict[str, list[str]]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        return tomllib.load(f)["tool"]["setuptools"]["package-data"]  # type: ignore[no-any-return]


def _packaged(path: Path, declared: dict[str, list[str]]) -> bool:
    for package, patterns in declared.items():
        base = ROOT if package == "*" else ROOT / package.replace(".", "/")
        if package != "*" and base not in path.parents:
            continue
        # "*" applies in every package: the file's own directory; others from the package's directory down
        relative = path.name if package == "*" else path.relative_to(base).as_posix()
        if any(fnmatch(relative, p) or fnmatch(relative, p.removeprefix("**/")) for p in patterns):
            return True
    return False


def test_every_data_file_in_the_packages_is_declared_package_data() -> None:
    declared = _declared()
    files = [p for top in ("libs", "services") for p in (ROOT / top).rglob("*")
             if p.is_file() and p.suffix not in {".py", ".pyc"} | DOCS and "__pycache__" not in p.parts]
    assert any(p.name == "default_ruleset.toml" for p in files)  # the review's packaged rules are among them
    missing = sorted(str(p.relative_to(ROOT)) for p in files if not _packaged(p, declared))
    assert missing == []
