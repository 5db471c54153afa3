"""Instacart orders and products: loaders and a writer for the public layout.

The public "Instacart Online Grocery Shopping" data ships as

- `orders.csv(order_id, user_id, eval_set, order_number, order_dow, order_hour_of_day,
  days_since_prior_order)` — `eval_set` is prior/train/test; a user's first order has no
  `days_since_prior_order`; `test` orders come without products;
- `order_products__prior.csv` / `order_products__train.csv(order_id, product_id,
  add_to_cart_order, reordered)`;
- `products.csv(product_id, product_name, aisle_id, department_id)`, `aisles.csv(aisle_id,
  aisle)`, `departments.csv(department_id, department)`;

and some public samples ship one joined orders × products file instead (`load_joined`). All load
to one shape: `orders` (the columns above; `days_since_prior_order` float, NaN for a first
order), `order_products` (the columns above, int64) and `products` (+ `aisle`, `department`
names, '' when their files are absent). Errors name the file, the line (header = line 1) and the
column.

The seeded generator of the same shape lives in `ml_platform.demo_data.instacart`.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ml_platform.core.errors import InvalidInputError
from ml_platform.core.rows import RowLocator

ORDER_COLUMNS = (
    "order_id", "user_id", "eval_set", "order_number", "order_dow", "order_hour_of_day",
    "days_since_prior_order",
)  # fmt: skip
ORDER_PRODUCT_COLUMNS = ("order_id", "product_id", "add_to_cart_order", "reordered")
PRODUCT_COLUMNS = ("product_id", "product_name", "aisle_id", "department_id")
PRODUCT_OUTPUT_COLUMNS = (*PRODUCT_COLUMNS, "aisle", "department")
EVAL_SETS = ("prior", "train", "test")
ORDER_PRODUCT_FILES = ("order_products__prior.csv", "order_products__train.csv")
_ORDER_INTEGERS = ("order_id", "user_id", "order_number", "order_dow", "order_hour_of_day")


@dataclass(frozen=True)
class InstacartDataset:
    """Orders, the products in each, and the catalogue, in the common shape described above."""

    orders: pd.DataFrame
    order_products: pd.DataFrame
    products: pd.DataFrame


# --- loaders ------------------------------------------------------------------------------


def load_orders(path: str | Path) -> pd.DataFrame:
    """`orders.csv`: ids unique, `eval_set` one of prior/train/test, days empty or 0–30 days."""
    path = Path(path)
    frame, rows = _read(path, ORDER_COLUMNS)
    orders = pd.DataFrame({name: _integers(rows, frame[name], name) for name in _ORDER_INTEGERS})
    orders.insert(2, "eval_set", frame["eval_set"].astype("str"))
    rows.fail_on_first(
        ~orders["eval_set"].isin(EVAL_SETS),
        f"column 'eval_set' is '{{value}}', expected one of {list(EVAL_SETS)}",
        orders["eval_set"],
    )
    days = frame["days_since_prior_order"]
    parsed = pd.to_numeric(days.where(days != ""), errors="coerce")
    rows.fail_on_first(
        (days != "") & ~parsed.between(0, 365),
        "column 'days_since_prior_order' is '{value}', expected empty or days 0–365",
        days,
    )
    orders["days_since_prior_order"] = parsed.astype("float64")
    rows.fail_on_first(
        orders["order_id"].duplicated(),
        "column 'order_id' repeats order {value}; ids must be unique",
        orders["order_id"],
    )
    return orders[list(ORDER_COLUMNS)]


def load_order_products(*paths: str | Path) -> pd.DataFrame:
    """`order_products__*.csv` files, concatenated; each (order, product) may appear once."""
    if not paths:
        raise InvalidInputError("no order_products file given")
    parts = []
    for path in map(Path, paths):
        frame, rows = _read(path, ORDER_PRODUCT_COLUMNS)
        part = pd.DataFrame({name: _integers(rows, frame[name], name) for name in frame.columns})
        rows.fail_on_first(
            ~part["reordered"].isin([0, 1]),
            "column 'reordered' is {value}, expected 0 or 1",
            part["reordered"],
        )
        repeated = part.duplicated(["order_id", "product_id"])
        rows.fail_on_first(
            repeated,
            "order {value} lists the same product twice; each (order_id, product_id) must "
            "appear once",
            part["order_id"],
        )
        parts.append(part)
    order_products = pd.concat(parts, ignore_index=True)
    if len(parts) > 1:
        repeated = order_products.duplicated(["order_id", "product_id"])
        if repeated.any():
            order = int(order_products.loc[repeated, "order_id"].iloc[0])
            raise InvalidInputError(
                f"{', '.join(map(str, paths))}: order {order} appears in more than one file"
            )
    return order_products


def load_products(
    path: str | Path, aisles: str | Path | None = None, departments: str | Path | None = None
) -> pd.DataFrame:
    """`products.csv` (+ aisle and department names when their files are given)."""
    path = Path(path)
    frame, rows = _read(path, PRODUCT_COLUMNS)
    products = pd.DataFrame(
        {
            "product_id": _integers(rows, frame["product_id"], "product_id"),
            "product_name": frame["product_name"].astype("str"),
            "aisle_id": _integers(rows, frame["aisle_id"], "aisle_id"),
            "department_id": _integers(rows, frame["department_id"], "department_id"),
        }
    )
    rows.fail_on_first(
        products["product_id"].duplicated(),
        "column 'product_id' repeats product {value}; ids must be unique",
        products["product_id"],
    )
    rows.fail_on_first(
        products["product_name"] == "", "column 'product_name' is empty, expected a name"
    )
    products["aisle"] = _names(aisles, "aisle_id", "aisle", products["aisle_id"], path)
    products["department"] = _names(
        departments, "department_id", "department", products["department_id"], path
    )
    return products


def load_joined(path: str | Path) -> InstacartDataset:
    """One orders × products file (a row per product in an order, order columns repeated).

    Needs `order_id, user_id, order_number, product_id`; the other order and product columns
    are taken when present (`eval_set` defaults to prior, `add_to_cart_order` to the row order
    within the order, `reordered` to whether the user bought the product in an earlier order).
    Products are only known when `product_name` is present; otherwise `products` is empty.
    """
    path = Path(path)
    required = ("order_id", "user_id", "order_number", "product_id")
    frame, rows = _read(path, required, optional=True)
    known_integers = {*_ORDER_INTEGERS, *ORDER_PRODUCT_COLUMNS, "aisle_id", "department_id"}
    integers = [c for c in frame.columns if c in known_integers]
    parsed = frame.assign(**{c: _integers(rows, frame[c], c) for c in integers})
    if "eval_set" not in parsed:
        parsed["eval_set"] = "prior"
    if "days_since_prior_order" in parsed:
        days = parsed["days_since_prior_order"]
        parsed["days_since_prior_order"] = pd.to_numeric(days.where(days != ""), errors="coerce")
    for column in ("order_dow", "order_hour_of_day"):
        if column not in parsed:
            parsed[column] = 0
    if "days_since_prior_order" not in parsed:
        parsed["days_since_prior_order"] = np.nan
    order_level = [c for c in ORDER_COLUMNS if c != "order_id"]
    conflicting = parsed.groupby("order_id")[order_level].transform("nunique", dropna=False)
    rows.fail_on_first(
        (conflicting > 1).any(axis=1),
        "order {value} has different order columns on different rows",
        parsed["order_id"],
    )
    orders = parsed.drop_duplicates("order_id")[list(ORDER_COLUMNS)].reset_index(drop=True)
    orders = orders.astype({"eval_set": "str", "days_since_prior_order": "float64"})
    if "add_to_cart_order" not in parsed:
        parsed["add_to_cart_order"] = parsed.groupby("order_id").cumcount() + 1
    if "reordered" not in parsed:
        parsed["reordered"] = _reordered(parsed)
    rows.fail_on_first(
        parsed.duplicated(["order_id", "product_id"]),
        "order {value} lists the same product twice",
        parsed["order_id"],
    )
    order_products = parsed[list(ORDER_PRODUCT_COLUMNS)].reset_index(drop=True)
    if "product_name" in parsed:
        catalogue = parsed.drop_duplicates("product_id")
        products = pd.DataFrame(
            {
                "product_id": catalogue["product_id"],
                "product_name": catalogue["product_name"].astype("str"),
                "aisle_id": catalogue.get("aisle_id", 0),
                "department_id": catalogue.get("department_id", 0),
                "aisle": catalogue.get("aisle", "").astype("str"),
                "department": catalogue.get("department", "").astype("str"),
            }
        ).reset_index(drop=True)
    else:
        products = empty_products()
    return InstacartDataset(orders, order_products, products)


def load_instacart(directory: str | Path) -> InstacartDataset:
    """An Instacart folder: the separate files, or else the one joined `*.csv` it holds."""
    directory = Path(directory)
    if not (directory / "orders.csv").is_file():
        csvs = sorted(directory.glob("*.csv"))
        if len(csvs) != 1:
            raise InvalidInputError(
                f"{directory}: expected orders.csv, order_products__*.csv and products.csv, or "
                f"a single joined file; found {[p.name for p in csvs]}"
            )
        dataset = load_joined(csvs[0])
    else:
        files = [directory / n for n in ORDER_PRODUCT_FILES if (directory / n).is_file()]
        if not files:
            raise InvalidInputError(f"{directory}: no {' or '.join(ORDER_PRODUCT_FILES)}")
        optional = {n: directory / f"{n}.csv" for n in ("aisles", "departments")}
        dataset = InstacartDataset(
            load_orders(directory / "orders.csv"),
            load_order_products(*files),
            load_products(
                directory / "products.csv",
                *(p if p.is_file() else None for p in optional.values()),
            ),
        )
    validate_dataset(dataset, origin=str(directory))
    return dataset


def validate_dataset(dataset: InstacartDataset, origin: str = "order_products") -> None:
    """Fail when a basket names an order or a product the other files lack."""
    unknown_orders = ~dataset.order_products["order_id"].isin(dataset.orders["order_id"])
    if unknown_orders.any():
        missing = dataset.order_products.loc[unknown_orders, "order_id"].unique()
        raise InvalidInputError(
            f"{origin}: {int(unknown_orders.sum())} order_products row(s) name {len(missing)} "
            f"order id(s) missing from orders, e.g. {sorted(missing.tolist())[:5]}"
        )
    if dataset.products.empty:
        return
    unknown = ~dataset.order_products["product_id"].isin(dataset.products["product_id"])
    if unknown.any():
        missing = dataset.order_products.loc[unknown, "product_id"].unique()
        raise InvalidInputError(
            f"{origin}: {int(unknown.sum())} order_products row(s) name {len(missing)} "
            f"product id(s) missing from products, e.g. {sorted(missing.tolist())[:5]}"
        )


def _read(
    path: Path, names: tuple[str, ...], *, optional: bool = False
) -> tuple[pd.DataFrame, RowLocator]:
    """All values as stripped strings (pyarrow's reader: the real files hold 32 M rows).

    The header must hold `names`; with `optional`, other columns are kept too."""
    if not path.is_file():
        raise InvalidInputError(f"{path}: file not found")
    _require_rows(path)
    try:
        frame = pd.read_csv(path, engine="pyarrow", dtype=str, keep_default_na=False)
    except Exception as error:  # pyarrow raises its own ArrowInvalid for malformed lines
        raise InvalidInputError(f"{path}: not a readable CSV file: {error}") from error
    found = [str(c).strip() for c in frame.columns]
    missing = [c for c in names if c not in found]
    if missing:
        raise InvalidInputError(
            f"{path}: column(s) {missing} are missing; expected {list(names)}, "
            f"columns found: {found}"
        )
    frame = frame.set_axis(found, axis=1)
    if not optional:
        frame = frame[list(names)]
    if frame.empty:
        raise InvalidInputError(f"{path}: file has no rows")
    return frame.apply(lambda column: column.str.strip()), RowLocator(str(path), first_line=2)


def _require_rows(path: Path) -> None:
    """An empty or header-only file fails here, in plain Python, before pyarrow's reader starts
    its threads: a process that then raised and exited at once sometimes aborted in their
    teardown ("terminate called without an active exception", exit 134) instead of saying
    what was wrong."""
    with path.open("rb") as file:
        lines = (line for line in file if line.strip())
        if next(lines, None) is None:
            raise InvalidInputError(f"{path}: file is empty, expected a header and rows")
        if next(lines, None) is None:
            raise InvalidInputError(f"{path}: file has no rows, only a header")


def _integers(rows: RowLocator, values: pd.Series, column: str) -> pd.Series:
    """Like `RowLocator.ids` (every Instacart integer is an id, count or index: never
    negative), parsed by pyarrow's C++ cast: these files run to tens of millions of rows. Only
    when a value does not parse or is negative does the slow path run, to name it."""
    try:
        parsed = pc.cast(pa.array(values, type=pa.string()), pa.int64())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return rows.ids(values, column)
    if len(parsed) and pc.min(parsed).as_py() < 0:
        return rows.ids(values, column)
    return pd.Series(parsed.to_numpy(zero_copy_only=False), index=values.index, dtype="int64")


def _names(
    path: str | Path | None, id_column: str, name_column: str, ids: pd.Series, products: Path
) -> pd.Series:
    if path is None:
        return pd.Series("", index=ids.index, dtype="str")
    path = Path(path)
    frame, rows = _read(path, (id_column, name_column))
    table = pd.Series(
        frame[name_column].to_numpy(), index=_integers(rows, frame[id_column], id_column)
    )
    rows.fail_on_first(
        pd.Series(table.index.duplicated()),
        f"column '{id_column}' repeats id {{value}}",
        frame[id_column],
    )
    unknown = ~ids.isin(table.index)
    if unknown.any():
        raise InvalidInputError(
            f"{products}: {int(unknown.sum())} product(s) name {id_column} "
            f"{sorted(ids[unknown].unique().tolist())[:5]} missing from {path}"
        )
    return pd.Series(table.reindex(ids).to_numpy(), index=ids.index, dtype="str")


def _reordered(rows: pd.DataFrame) -> pd.Series:
    """1 where the user bought the product in an earlier order (by order_number)."""
    first = rows.groupby(["user_id", "product_id"])["order_number"].transform("min")
    return (rows["order_number"] > first).astype("int64")


def empty_products() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "product_id": pd.Series(dtype="int64"),
            "product_name": pd.Series(dtype="str"),
            "aisle_id": pd.Series(dtype="int64"),
            "department_id": pd.Series(dtype="int64"),
            "aisle": pd.Series(dtype="str"),
            "department": pd.Series(dtype="str"),
        }
    )


def placeholder_catalogue(product_ids: pd.Series) -> pd.DataFrame:
    """A catalogue for products known only by id, as some real exports carry: "product <id>"
    names, one aisle and one department (id 1, named 'missing')."""
    ids = np.unique(np.asarray(product_ids, dtype=np.int64))
    return pd.DataFrame(
        {
            "product_id": ids,
            "product_name": [f"product {i}" for i in ids],
            "aisle_id": np.ones(len(ids), np.int64),
            "department_id": np.ones(len(ids), np.int64),
            "aisle": "missing",
            "department": "missing",
        }
    )


# --- writer -------------------------------------------------------------------------------


def write_instacart(
    directory: str | Path, dataset: InstacartDataset, layout: str = "files"
) -> dict[str, Path]:
    """The public layout (`files`: orders, order_products__prior/train, products, aisles,
    departments) or one joined orders × products file (`joined`: `orders_products.csv`)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    orders, products = dataset.orders, dataset.products
    if layout == "joined":
        path = directory / "orders_products.csv"
        joined = dataset.order_products.merge(orders, on="order_id").merge(
            products, on="product_id"
        )
        joined[[*ORDER_COLUMNS, *ORDER_PRODUCT_COLUMNS[1:], *PRODUCT_OUTPUT_COLUMNS[1:]]].to_csv(
            path, index=False
        )
        return {"joined": path}
    if layout != "files":
        raise InvalidInputError(f"layout is '{layout}', expected 'files' or 'joined'")
    paths = {
        name: directory / f"{name}.csv" for name in ("orders", "products", "aisles", "departments")
    }
    orders.to_csv(paths["orders"], index=False)
    products[list(PRODUCT_COLUMNS)].to_csv(paths["products"], index=False)
    for level in ("aisle", "department"):
        table = products[[f"{level}_id", level]].drop_duplicates().sort_values(f"{level}_id")
        table.to_csv(paths[f"{level}s"], index=False)
    eval_set = dataset.order_products["order_id"].map(orders.set_index("order_id")["eval_set"])
    for name, part in (("prior", "prior"), ("train", "train")):
        paths[f"order_products__{name}"] = directory / f"order_products__{name}.csv"
        dataset.order_products[eval_set == part].to_csv(
            paths[f"order_products__{name}"], index=False
        )
    return paths
