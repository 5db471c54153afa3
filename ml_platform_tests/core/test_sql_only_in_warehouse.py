"""One SQL layer: only `ml_platform/core/warehouse.py` imports SQLAlchemy or a database driver,
touches the engine, or holds SQL in its string literals. Everything else describes queries with
the warehouse's `Select` and conditions, so quoting, parameters, dialects and UTC live in one
place (the labelling UI's unqualified `ORDER BY tweet_id` that 500'd on SQLite lived in a
second layer).

An AST scan, not a grep: docstrings and comments may talk about SQL; string literals that are
SQL (plain or f-strings), imports and `.engine()` / `.read_sql(...)` calls may not.
"""

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "ml_platform"
WAREHOUSE = Path("core/warehouse.py")

DRIVERS = ("sqlalchemy", "psycopg2", "psycopg", "sqlite3", "duckdb")
# Keywords in capitals (how SQL is written here; prose does not capitalise "select … from"),
# plus statements no sentence contains in any case.
SQL = [
    re.compile(r"\bSELECT\b[\s\S]*\bFROM\b"),
    re.compile(r"\bDELETE\s+FROM\b"),
    re.compile(r"\bUPDATE\s+\S+\s+SET\b"),
    re.compile(r"\b(ORDER|GROUP)\s+BY\b"),
    re.compile(r"\bJOIN\b[\s\S]*\bON\b"),
    re.compile(r"\bWHERE\b[\s\S]*(=|<|>|\bIS\b|\bIN\b|\bLIKE\b)"),
    re.compile(r"\binsert\s+(or\s+\w+\s+)?into\b", re.IGNORECASE),
    re.compile(
        r"\b(create|drop|alter)\s+(unique\s+|temporary\s+|temp\s+)?(table|index|schema|view)\b",
        re.IGNORECASE,
    ),
    re.compile(r"\bfrom\s+stdin\b", re.IGNORECASE),
    re.compile(r"[\w.\"]+\s*(=|<>|!=|<=|>=|<|>)\s*:[A-Za-z_]\w*"),  # a bound :parameter
]


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the string constants that are docstrings (prose about the code)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _literal_text(node: ast.AST) -> str | None:
    """A string literal's text; an f-string's constant parts with `?` where values go."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "?" for v in node.values)
    return None


def violations(source: str) -> list[str]:
    """What in `source` speaks SQL or reaches the database itself, one line each."""
    tree = ast.parse(source)
    docstrings = _docstrings(tree)
    inside_fstring = {
        id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
            for name in names:
                if name and name.split(".")[0] in DRIVERS:
                    found.append(f"line {node.lineno}: imports {name}")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("engine", "read_sql")
        ):
            found.append(f"line {node.lineno}: calls .{node.func.attr}()")
        elif id(node) not in docstrings and id(node) not in inside_fstring:
            text = _literal_text(node)
            if text is not None and any(p.search(text) for p in SQL):
                found.append(f"line {node.lineno}: SQL in a string: {text[:70]!r}")
    return found


def _modules() -> list[Path]:
    return sorted(p.relative_to(PACKAGE) for p in PACKAGE.rglob("*.py"))


def test_no_module_but_the_warehouse_speaks_sql_or_touches_the_engine():
    offenders = {
        str(path): found
        for path in _modules()
        if path != WAREHOUSE and (found := violations((PACKAGE / path).read_text()))
    }
    assert not offenders, f"SQL outside core/warehouse.py (use its Select/TableSpec): {offenders}"


def test_the_warehouse_is_where_the_sql_is():
    assert violations((PACKAGE / WAREHOUSE).read_text()), "the scan no longer sees any SQL"


@pytest.mark.parametrize(
    "source",
    [
        "import sqlalchemy as sa",
        "from sqlalchemy.dialects import postgresql",
        "import psycopg2.extras",
        "rows = warehouse.engine().connect()",
        "frame = warehouse.read_sql('x')",
        'q = f"SELECT {cols} FROM {table} WHERE id = :id"',
        'q = "SELECT tweet_id FROM t"',
        'where = "source = :source"',
        'sql = f"INSERT INTO {t} ({c}) VALUES (1)"',
        'ddl = "create unique index if not exists ix on t (a)"',
        'sql = "... ORDER BY t.tweet_id"',
        'copy = f"COPY {t} FROM STDIN WITH (FORMAT csv)"',
    ],
)
def test_the_scan_catches_sql_in_literals_imports_and_engine_use(source):
    assert violations(source)


@pytest.mark.parametrize(
    "source",
    [
        '"""Select the rows from the landing table, then order by id."""',
        'def f():\n    """Runs INSERT … SELECT … ON CONFLICT DO NOTHING on PostgreSQL."""',
        'message = "select a queue from the list"',
        'log.info("rows where the label is missing: %d", n)',
        'raise ValueError(f"since is {since}, expected before {latest}")',
        "# SELECT * FROM t WHERE id = :id\nx = 1",
        'text = "Update the model, then set the threshold"',
    ],
)
def test_the_scan_leaves_prose_alone(source):
    assert violations(source) == []
