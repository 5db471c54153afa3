"""The package's import rules, read from the source (every import, including those inside
functions), so a product stays something one can change without reading the others:

- `core/` imports nothing of ml_platform outside `core/`: it is product-free.
- A product (recommender, prod2vec, similar_users, entity_matching, tweets) imports no other
  product and no app.
- An app (serving, labelling) imports a product only through `<product>.contract`, and no other
  app.
- `demo_data/` (the seeded generators) may import `core/` and products' formats and contracts,
  never their Dagster wiring or an app.
- A product imports `demo_data` only where it wires its embedded default data — its own
  generator, from `ALLOWED_DEMO_DATA`; the rest of a product never sees a generator.

The top-level wiring (`ml_platform/cli.py`, `definitions.py`, `demo.py`) may import anything.
"""

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "ml_platform"
PRODUCTS = ("recommender", "prod2vec", "similar_users", "entity_matching", "tweets")
APPS = ("serving", "labelling")
# Dagster wiring of a product: what demo_data must not reach into.
WIRING = ("assets", "definitions", "jobs", "sensors", "schedules", "resources", "checks")
# importing module → the one demo_data module it may import (its product's default data)
ALLOWED_DEMO_DATA = {
    "ml_platform.recommender.resources": "ml_platform.demo_data.movielens",
    "ml_platform.prod2vec.resources": "ml_platform.demo_data.instacart",
    "ml_platform.similar_users.resources": "ml_platform.demo_data.learners",
    "ml_platform.tweets.assets": "ml_platform.demo_data.tweets",  # the generated landing source
}


@dataclass(frozen=True)
class Import:
    importer: str  # dotted module name
    imported: str  # dotted module name (for `from x import y`: x.y when x.y is a module, else x)
    line: int

    def __str__(self) -> str:
        return f"{self.importer}:{self.line} imports {self.imported}"


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, root: Path) -> list[Import]:
    """Every `ml_platform…` import in the file, relative ones resolved."""
    importer = module_name(path, root)
    package = importer if path.name == "__init__.py" else importer.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            names = [f"{base}.{alias.name}" for alias in node.names]
            names = [n if _is_module(n, root) else base for n in names]
        else:
            continue
        found += [Import(importer, n, node.lineno) for n in names if _top(n) == root.name]
    return found


def _is_module(name: str, root: Path) -> bool:
    relative = Path(*name.split(".")[1:])
    return (root / relative).with_suffix(".py").is_file() or (root / relative).is_dir()


def _top(name: str) -> str:
    return name.split(".")[0]


def _area(name: str) -> str | None:
    """`core`, a product, an app, `demo_data`, or None for the top-level wiring."""
    parts = name.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in _AREAS) else None


_AREAS = {"core", "demo_data", *PRODUCTS, *APPS}


def violation(found: Import) -> str | None:
    """Why the import breaks a rule, or None when it keeps them."""
    source, target = _area(found.importer), _area(found.imported)
    if source is None or target is None or source == target:
        return None
    submodule = found.imported.split(".")[2] if found.imported.count(".") >= 2 else None
    if source == "core":
        return "core/ is product-free: it imports only core/"
    if source in PRODUCTS:
        if target in PRODUCTS:
            return "a product never imports another product"
        if target in APPS:
            return "a product never imports an app"
        if target == "demo_data" and ALLOWED_DEMO_DATA.get(found.importer) != found.imported:
            return (
                "a product imports demo_data only where it wires its own default data "
                "(ALLOWED_DEMO_DATA)"
            )
    if source in APPS:
        if target in PRODUCTS and submodule != "contract":
            return "an app imports a product only through <product>.contract"
        if target in APPS:
            return "an app never imports another app"
        if target == "demo_data":
            return "an app never imports demo_data"
    if source == "demo_data":
        if target in APPS:
            return "demo_data never imports an app"
        if target in PRODUCTS and (submodule is None or submodule in WIRING):
            return "demo_data imports products' formats and contracts, not their wiring"
    return None


def violations(root: Path) -> list[str]:
    return [
        f"{found}: {why}"
        for path in sorted(root.rglob("*.py"))
        for found in imports_of(path, root)
        if (why := violation(found)) is not None
    ]


def test_the_package_keeps_its_import_rules():
    assert violations(PACKAGE) == []


def test_every_allowed_demo_data_import_is_still_needed():
    """An allowance nobody uses would let a future import through unnoticed."""
    used = {
        (found.importer, found.imported)
        for path in PACKAGE.rglob("*.py")
        for found in imports_of(path, PACKAGE)
    }
    assert set(ALLOWED_DEMO_DATA.items()) <= used


def test_every_subpackage_is_an_area_the_rules_know():
    """A new package (say a shared `datasets/` again) must be placed in the rules first."""
    packages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert packages <= _AREAS, packages - _AREAS


def test_every_app_facing_product_publishes_a_contract():
    for product in PRODUCTS:
        assert (PACKAGE / product / "contract.py").is_file(), product


def write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    for parent in [path.parent, *path.parent.parents]:
        if parent == root.parent:
            break
        (parent / "__init__.py").touch()
    path.write_text(text)


@pytest.mark.parametrize(
    ("relative", "text", "why"),
    [
        ("core/rows.py", "from ml_platform.tweets import parsing", "core/ is product-free"),
        ("core/x.py", "import ml_platform.serving.app", "core/ is product-free"),
        ("tweets/a.py", "from ml_platform.recommender.contract import X", "another product"),
        ("tweets/a.py", "from ml_platform.labelling import sources", "never imports an app"),
        ("tweets/golden.py", "from ml_platform.demo_data import tweets", "default data"),
        ("recommender/resources.py", "from ml_platform.demo_data import tweets", "default data"),
        ("serving/a.py", "from ml_platform.tweets.tables import T", "through <product>.contract"),
        ("serving/a.py", "from ml_platform.tweets import classifier", "through <product>.contract"),
        ("serving/a.py", "import ml_platform.tweets", "through <product>.contract"),
        ("labelling/a.py", "from ml_platform.serving import app", "another app"),
        ("labelling/a.py", "def f():\n    from ml_platform.demo_data import x", "demo_data"),
        ("demo_data/x.py", "from ml_platform.tweets.assets import A", "not their wiring"),
        ("demo_data/x.py", "from ml_platform.labelling import store", "never imports an app"),
        ("tweets/sub/a.py", "from ...recommender import model", "another product"),
    ],
)
def test_a_broken_rule_is_reported_naming_the_module_and_line(tmp_path, relative, text, why):
    root = tmp_path / "ml_platform"
    for module in ("tweets/parsing.py", "tweets/tables.py", "tweets/classifier.py",
                   "tweets/assets.py", "recommender/model.py", "recommender/contract.py",
                   "demo_data/tweets.py", "demo_data/x.py", "serving/app.py",
                   "labelling/sources.py", "labelling/store.py"):  # fmt: skip
        write(root, module, "")
    write(root, relative, "\n" + text + "\n")

    found = violations(root)

    assert len(found) == 1 and why in found[0], found
    assert found[0].startswith(f"ml_platform.{relative[:-3].replace('/', '.')}:")


@pytest.mark.parametrize(
    ("relative", "text"),
    [
        ("serving/a.py", "from ml_platform.tweets.contract import TweetTables"),
        ("serving/a.py", "from ml_platform.tweets import contract"),
        ("labelling/a.py", "from ml_platform.core.warehouse import Warehouse"),
        ("demo_data/x.py", "from ml_platform.tweets.parsing import json_lines"),
        ("recommender/resources.py", "from ml_platform.demo_data.movielens import g"),
        ("tweets/a.py", "from . import parsing\nfrom .parsing import json_lines"),
        (
            "demo.py",
            "from ml_platform.demo_data.persons import g\nimport ml_platform.tweets.assets",
        ),
    ],
)
def test_imports_the_rules_allow_are_not_reported(tmp_path, relative, text):
    root = tmp_path / "ml_platform"
    for module in ("tweets/parsing.py", "tweets/contract.py", "tweets/assets.py",
                   "demo_data/movielens.py", "demo_data/persons.py", "core/warehouse.py"):  # fmt: skip
        write(root, module, "")
    write(root, relative, text + "\n")

    assert violations(root) == []
