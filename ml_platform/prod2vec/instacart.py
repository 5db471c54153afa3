"""Instacart orders and products: loaders for the public layout and a seeded generator.

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

The generator exists because the data may not be redistributed: tests, demos and benchmarks need
baskets with the structure that makes product vectors learnable — aisles within departments,
complements bought together, staples in many baskets, a long popularity tail, and users who
re-order their own favourites.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ml_platform.core.errors import InvalidInputError
from ml_platform.datasets.rows import RowLocator

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


# --- generator ----------------------------------------------------------------------------

# (department, aisle, share of purchased items, product nouns): a subset of Instacart's 134
# aisles, with shares close to the real ones (produce ~29%, dairy & eggs ~17%, …).
_AISLES: tuple[tuple[str, str, float, tuple[str, ...]], ...] = (
    ("produce", "fresh fruits", 11.0, ("Banana", "Strawberries", "Hass Avocado", "Large Lemon",
     "Limes", "Blueberries", "Raspberries", "Gala Apple", "Honeycrisp Apple", "Seedless Grapes",
     "Navel Orange", "Bartlett Pear", "Cantaloupe", "Mango", "Kiwi")),
    ("produce", "fresh vegetables", 10.5, ("Yellow Onion", "Garlic", "Cucumber", "Zucchini",
     "Broccoli Crown", "Red Bell Pepper", "Jalapeno Pepper", "Carrots", "Sweet Potato",
     "Roma Tomato", "Russet Potato", "Celery", "Cilantro", "Asparagus", "Red Onion")),
    ("produce", "packaged vegetables fruits", 5.5, ("Baby Spinach", "Spring Mix", "Baby Carrots",
     "Grape Tomatoes", "Kale", "Romaine Hearts", "Baby Arugula", "Green Beans", "Mushrooms")),
    ("produce", "fresh herbs", 0.8, ("Basil", "Italian Parsley", "Mint", "Dill", "Thyme")),
    ("dairy eggs", "yogurt", 4.5, ("Greek Yogurt", "Whole Milk Yogurt", "Vanilla Yogurt",
     "Strawberry Yogurt", "Blueberry Yogurt", "Plain Nonfat Yogurt", "Kids Yogurt Tubes")),
    ("dairy eggs", "packaged cheese", 3.0, ("Shredded Mozzarella", "Sharp Cheddar",
     "String Cheese", "Grated Parmesan", "Mexican Blend Shredded Cheese", "Swiss Slices",
     "Feta Crumbles", "Pepper Jack")),
    ("dairy eggs", "milk", 2.7, ("Whole Milk", "Reduced Fat 2% Milk", "Fat Free Milk",
     "Chocolate Milk", "Lactose Free Milk")),
    ("dairy eggs", "eggs", 1.6, ("Large Brown Eggs", "Large White Eggs", "Cage Free Eggs",
     "Pasture Raised Eggs")),
    ("dairy eggs", "soy lactosefree", 2.0, ("Unsweetened Almond Milk", "Vanilla Almond Milk",
     "Coconut Milk Beverage", "Oat Milk", "Soy Milk")),
    ("dairy eggs", "butter", 0.9, ("Unsalted Butter", "Salted Butter", "Spreadable Butter")),
    ("dairy eggs", "cream", 1.0, ("Half & Half", "Heavy Whipping Cream", "Coffee Creamer",
     "Sour Cream")),
    ("snacks", "chips pretzels", 2.2, ("Tortilla Chips", "Potato Chips", "Kettle Chips",
     "Pretzel Twists", "Pita Chips", "Veggie Straws")),
    ("snacks", "crackers", 1.4, ("Wheat Crackers", "Sea Salt Crackers", "Cheddar Crackers",
     "Rice Crackers", "Graham Crackers")),
    ("snacks", "energy granola bars", 1.3, ("Chewy Granola Bars", "Protein Bars", "Fruit & Nut Bars",
     "Oat Bars")),
    ("snacks", "candy chocolate", 1.1, ("Dark Chocolate Bar", "Milk Chocolate Bar",
     "Peanut Butter Cups", "Gummy Bears", "Mint Chocolate")),
    ("snacks", "nuts seeds dried fruit", 1.0, ("Roasted Almonds", "Cashews", "Trail Mix",
     "Dried Mango", "Pistachios")),
    ("snacks", "popcorn jerky", 0.7, ("Sea Salt Popcorn", "Butter Popcorn", "Beef Jerky")),
    ("beverages", "water seltzer sparkling water", 2.6, ("Sparkling Water", "Lime Sparkling Water",
     "Spring Water", "Grapefruit Sparkling Water", "Mineral Water")),
    ("beverages", "refrigerated", 1.6, ("Orange Juice", "Kombucha", "Cold Brew Coffee",
     "Lemonade", "Green Juice")),
    ("beverages", "soft drinks", 1.2, ("Cola", "Diet Cola", "Ginger Ale", "Lemon Lime Soda",
     "Root Beer")),
    ("beverages", "coffee", 0.9, ("Ground Coffee", "Whole Bean Coffee", "Coffee Pods",
     "French Roast Coffee")),
    ("beverages", "tea", 0.6, ("Green Tea", "Chamomile Tea", "Earl Grey Tea", "Chai Tea")),
    ("frozen", "frozen produce", 1.6, ("Frozen Blueberries", "Frozen Broccoli Florets",
     "Frozen Peas", "Frozen Mixed Berries", "Frozen Sweet Corn")),
    ("frozen", "frozen meals", 1.3, ("Cheese Pizza", "Chicken Burrito", "Mac & Cheese Bowl",
     "Vegetable Lasagna", "Pad Thai Bowl")),
    ("frozen", "ice cream ice", 1.2, ("Vanilla Ice Cream", "Chocolate Ice Cream",
     "Mint Chip Ice Cream", "Fruit Bars", "Ice Cubes")),
    ("frozen", "frozen breakfast", 0.6, ("Waffles", "Breakfast Burrito", "Pancakes")),
    ("pantry", "spreads", 0.9, ("Creamy Peanut Butter", "Crunchy Peanut Butter",
     "Almond Butter", "Strawberry Jam", "Grape Jelly", "Honey", "Hazelnut Spread")),
    ("pantry", "baking ingredients", 1.1, ("All Purpose Flour", "Granulated Sugar",
     "Brown Sugar", "Baking Soda", "Baking Powder", "Vanilla Extract", "Chocolate Chips")),
    ("pantry", "oils vinegars", 0.7, ("Extra Virgin Olive Oil", "Canola Oil",
     "Balsamic Vinegar", "Apple Cider Vinegar", "Avocado Oil")),
    ("pantry", "spices seasonings", 0.8, ("Sea Salt", "Black Pepper", "Ground Cumin",
     "Garlic Powder", "Taco Seasoning", "Chili Powder")),
    ("pantry", "condiments", 0.6, ("Ketchup", "Yellow Mustard", "Mayonnaise", "Hot Sauce",
     "Dijon Mustard")),
    ("pantry", "salad dressing toppings", 0.5, ("Ranch Dressing", "Caesar Dressing",
     "Croutons", "Balsamic Vinaigrette")),
    ("pantry", "asian foods", 0.6, ("Soy Sauce", "Sriracha", "Coconut Milk", "Rice Noodles",
     "Teriyaki Sauce")),
    ("bakery", "bread", 1.8, ("Whole Wheat Bread", "Sourdough Bread", "Multigrain Bread",
     "English Muffins", "Hamburger Buns", "Hot Dog Buns", "Bagels")),
    ("bakery", "breakfast bakery", 0.6, ("Blueberry Muffins", "Croissants", "Cinnamon Rolls")),
    ("bakery", "tortillas flat bread", 0.8, ("Flour Tortillas", "Corn Tortillas", "Naan",
     "Pita Bread")),
    ("deli", "lunch meat", 1.0, ("Sliced Turkey Breast", "Black Forest Ham", "Genoa Salami",
     "Roast Beef")),
    ("deli", "preserved dips spreads", 1.3, ("Hummus", "Salsa", "Guacamole", "Spinach Dip",
     "Tzatziki")),
    ("deli", "prepared meals", 0.6, ("Rotisserie Chicken", "Chicken Salad", "Sushi Roll")),
    ("canned goods", "canned meals beans", 0.9, ("Black Beans", "Garbanzo Beans",
     "Refried Beans", "Kidney Beans", "Chili With Beans")),
    ("canned goods", "soup broth bouillon", 1.0, ("Chicken Broth", "Vegetable Broth",
     "Tomato Soup", "Chicken Noodle Soup", "Lentil Soup")),
    ("canned goods", "canned jarred vegetables", 0.7, ("Diced Tomatoes", "Tomato Paste",
     "Crushed Tomatoes", "Sweet Corn", "Green Chiles")),
    ("dry goods pasta", "dry pasta", 0.9, ("Spaghetti", "Penne Rigate", "Elbow Macaroni",
     "Fusilli", "Linguine")),
    ("dry goods pasta", "pasta sauce", 0.8, ("Marinara Sauce", "Tomato Basil Sauce",
     "Alfredo Sauce", "Vodka Sauce", "Pesto")),
    ("dry goods pasta", "grains rice dried goods", 0.9, ("Jasmine Rice", "Brown Rice",
     "Quinoa", "Basmati Rice", "Red Lentils")),
    ("breakfast", "cereal", 1.3, ("Honey Nut Cereal", "Corn Flakes", "Granola",
     "Toasted Oat Cereal", "Bran Flakes")),
    ("breakfast", "hot cereal pancake mixes", 0.5, ("Old Fashioned Oats", "Pancake Mix",
     "Maple Syrup", "Instant Oatmeal")),
    ("meat seafood", "poultry counter", 0.9, ("Boneless Skinless Chicken Breast",
     "Chicken Thighs", "Ground Turkey", "Chicken Drumsticks")),
    ("meat seafood", "hot dogs bacon sausage", 0.8, ("Uncured Bacon", "Beef Hot Dogs",
     "Italian Sausage", "Breakfast Sausage")),
    ("meat seafood", "meat counter", 0.6, ("Ground Beef", "Ribeye Steak", "Pork Chops")),
    ("meat seafood", "seafood counter", 0.3, ("Atlantic Salmon Fillet", "Raw Shrimp",
     "Cod Fillet")),
    ("household", "paper goods", 0.8, ("Paper Towels", "Toilet Paper", "Facial Tissues",
     "Napkins")),
    ("household", "cleaning products", 0.6, ("All Purpose Cleaner", "Dish Soap",
     "Laundry Detergent", "Dishwasher Detergent")),
    ("household", "food storage", 0.3, ("Sandwich Bags", "Aluminum Foil", "Plastic Wrap")),
    ("personal care", "oral hygiene", 0.4, ("Toothpaste", "Mouthwash", "Dental Floss")),
    ("personal care", "body lotions soap", 0.5, ("Hand Soap", "Body Wash", "Body Lotion")),
    ("personal care", "hair care", 0.4, ("Shampoo", "Conditioner")),
    ("babies", "baby food formula", 0.9, ("Apple Banana Puree", "Sweet Potato Puree",
     "Infant Formula", "Baby Yogurt Melts", "Veggie Puffs")),
    ("babies", "diapers wipes", 0.4, ("Diapers Size 3", "Diapers Size 4", "Baby Wipes")),
    ("alcohol", "beers coolers", 0.3, ("IPA", "Lager", "Hard Seltzer")),
    ("alcohol", "white wines", 0.2, ("Sauvignon Blanc", "Chardonnay", "Pinot Grigio")),
    ("international", "latino foods", 0.4, ("Taco Shells", "Enchilada Sauce", "Tostadas")),
    ("pets", "cat food care", 0.2, ("Dry Cat Food", "Wet Cat Food", "Cat Litter")),
    ("pets", "dog food care", 0.2, ("Dry Dog Food", "Dog Treats")),
)  # fmt: skip

# Meals and errands: the aisles of products bought together as complements (one product of
# each aisle per mission), e.g. pasta + sauce + parmesan, tortilla chips + salsa.
_THEMES = (
    ("dry pasta", "pasta sauce", "packaged cheese"),
    ("tortillas flat bread", "preserved dips spreads", "packaged cheese", "canned meals beans"),
    ("chips pretzels", "preserved dips spreads", "soft drinks"),
    ("bread", "spreads", "spreads"),
    ("bread", "lunch meat", "packaged cheese", "condiments"),
    ("cereal", "milk", "fresh fruits"),
    ("baking ingredients", "baking ingredients", "eggs", "butter"),
    ("hot dogs bacon sausage", "bread", "condiments"),
    ("packaged vegetables fruits", "salad dressing toppings", "fresh vegetables"),
    ("coffee", "cream"),
    ("baby food formula", "diapers wipes"),
    ("popcorn jerky", "candy chocolate", "soft drinks"),
    ("asian foods", "fresh vegetables", "poultry counter", "grains rice dried goods"),
    ("soup broth bouillon", "crackers"),
    ("cat food care", "cat food care"),
    ("dog food care", "dog food care"),
    ("latino foods", "meat counter", "fresh vegetables", "packaged cheese"),
    ("hot cereal pancake mixes", "hot cereal pancake mixes", "fresh fruits"),
    ("yogurt", "fresh fruits", "cereal"),
    ("seafood counter", "fresh vegetables", "oils vinegars"),
    ("paper goods", "cleaning products"),
    ("beers coolers", "chips pretzels"),
    ("white wines", "packaged cheese", "crackers"),
    ("oral hygiene", "body lotions soap", "hair care"),
    ("canned jarred vegetables", "dry pasta", "fresh herbs"),
    ("frozen breakfast", "hot cereal pancake mixes"),
)

_BRANDS = (
    "Organic", "Kirkland Signature", "365 Everyday Value", "Trader's Choice", "Green Valley",
    "Good & Gather", "Simple Truth", "Nature's Promise", "Happy Farms", "Sunny Acres",
    "Blue Ridge", "Golden Hills", "Harvest Moon", "Earthbound", "Pacific Coast", "Wholesome",
    "Country Crock", "Stonyfield", "Bonne Maman", "Lakeside", "Old Mill", "Maple Grove",
)  # fmt: skip
_VARIANTS = (
    "", "", "", "Family Size", "Original", "Light", "Classic", "Low Sodium", "Gluten Free",
    "Value Pack", "Mini", "Extra Large", "No Sugar Added", "Whole Grain", "Reduced Fat",
)  # fmt: skip

# Staples: in many baskets whoever the shopper (Instacart's top products by orders).
STAPLES = {
    "Banana": 2.5, "Strawberries": 3.0, "Hass Avocado": 2.5, "Large Lemon": 2.5, "Limes": 2.5,
    "Whole Milk": 1.5, "Sparkling Water": 1.5, "Large Brown Eggs": 1.5, "Baby Spinach": 1.2,
}  # fmt: skip
_ZIPF_EXPONENT = 1.2
_POPULARITY_SIGMA = 0.8  # lognormal noise on the Zipf popularity
_MEAN_BASKET = 10.1  # Instacart: mean 10.1, median 8 products per order
_BASKET_DISPERSION = 2.5  # negative binomial shape: a long tail of big baskets
_MISSIONS_PER_PRODUCT = 0.25
_USER_MISSIONS = (2, 8)  # favourite missions per user
_MISSIONS_PER_ORDER = 1.0  # expected favourite missions in an order
_MISSION_ITEM_KEPT = 0.8  # a mission's product is in the basket with this probability
_SAME_AISLE = 0.3  # a new product comes from the previous one's aisle (shopping aisle by aisle)
# Dirichlet concentration of a user's aisle shares around the crowd's: low, so each user shops
# a subset of aisles (no baby food without a baby, no cat litter without a cat)
_AISLE_TASTE_CONCENTRATION = 12.0
_REORDER_TARGET = 0.59  # Instacart: 59% of prior order_products are re-orders


def generate_instacart(
    n_orders: int = 30_000,
    n_products: int = 3_000,
    orders_per_user: float = 12.0,
    seed: int = 42,
) -> InstacartDataset:
    """Instacart-like orders: every user's orders in sequence, each basket built as a shopper
    would — favourite missions (complements from different aisles), re-orders of their own
    past products, and new products from the aisles they like, often several from one aisle.

    `n_orders` counts the orders with products; a third of users also get a final `test`
    order without products, as in the public data.
    """
    if n_orders < 100 or n_products < len(_AISLES) * 2:
        raise InvalidInputError(
            f"n_orders={n_orders} must be ≥ 100 and n_products={n_products} ≥ {len(_AISLES) * 2}"
        )
    rng = np.random.default_rng(seed)
    products, popularity = _catalogue(rng, n_products)
    aisle_of = products["aisle_id"].to_numpy() - 1
    n_aisles = len(_AISLES)
    members = [np.flatnonzero(aisle_of == a) for a in range(n_aisles)]
    shelf = _Shelf.build(aisle_of, popularity)
    aisle_share = np.array([a[2] for a in _AISLES]) / sum(a[2] for a in _AISLES)
    missions, mission_weight = _missions(rng, products, popularity, members, n_products)

    counts = _orders_per_user(rng, n_orders, orders_per_user)
    order_rows: list[tuple] = []
    item_rows: list[np.ndarray] = []
    order_id = 0
    for user, n_user_orders in enumerate(counts, start=1):
        taste = rng.dirichlet(_AISLE_TASTE_CONCENTRATION * aisle_share)
        taste_cumulative = np.cumsum(taste)
        favourite = rng.choice(
            len(missions),
            size=rng.integers(*_USER_MISSIONS, endpoint=True),
            replace=False,
            p=mission_weight,
        )
        size_mean = _MEAN_BASKET * rng.lognormal(0, 0.45)
        cadence = rng.uniform(4, 30)
        # 1 + negative binomial: mean size_mean, a long tail of big baskets
        success = _BASKET_DISPERSION / (_BASKET_DISPERSION + size_mean - 1)
        bought = np.zeros(0, dtype=np.int64)  # every product the user bought, with repeats
        owned = np.zeros(n_products, dtype=bool)
        for number in range(1, n_user_orders + 1):
            size = 1 + int(rng.negative_binomial(_BASKET_DISPERSION, success))
            basket = _basket(
                rng, size, number, bought, owned, taste_cumulative, favourite, missions, shelf
            )
            reordered = owned[basket].astype(np.int64)
            bought = np.concatenate([bought, basket])
            owned[basket] = True
            order_id += 1
            days = np.nan if number == 1 else float(min(30, round(rng.gamma(2.0, cadence / 2))))
            order_rows.append((order_id, user, number, days))
            positions = np.arange(1, len(basket) + 1)
            item_rows.append(
                np.column_stack([np.full(len(basket), order_id), basket, positions, reordered])
            )
        if rng.random() < 1 / 3:  # a `test` order: the public data withholds its products
            order_id += 1
            order_rows.append((order_id, user, n_user_orders + 1, float(round(cadence))))

    orders = pd.DataFrame(order_rows, columns=["order_id", "user_id", "order_number", "days"])
    last = orders.groupby("user_id")["order_number"].transform("max")
    has_products = orders["order_id"].isin(np.concatenate([r[:1, 0] for r in item_rows]))
    eval_set = np.where(orders["order_number"] < last, "prior", "train")
    eval_set = np.where((orders["order_number"] == last) & ~has_products, "test", eval_set)
    # A user whose last order is `test` has no `train` order, as in the public data.
    orders = pd.DataFrame(
        {
            "order_id": orders["order_id"].astype("int64"),
            "user_id": orders["user_id"].astype("int64"),
            "eval_set": pd.Series(eval_set, dtype="str"),
            "order_number": orders["order_number"].astype("int64"),
            "order_dow": rng.choice(7, len(orders), p=_DOW).astype("int64"),
            "order_hour_of_day": rng.choice(24, len(orders), p=_HOURS).astype("int64"),
            "days_since_prior_order": orders["days"].astype("float64"),
        }
    )
    items = np.concatenate(item_rows)
    order_products = pd.DataFrame(items, columns=list(ORDER_PRODUCT_COLUMNS)).astype("int64")
    order_products["product_id"] = products["product_id"].to_numpy()[order_products["product_id"]]
    return InstacartDataset(orders, order_products, products)


# Instacart's orders by day of week (0 = Sunday, busiest) and by hour (10:00–16:00 peak).
_DOW = np.array([0.19, 0.18, 0.14, 0.13, 0.12, 0.12, 0.12])
_HOURS = np.array([0.7, 0.4, 0.2, 0.2, 0.2, 0.3, 0.9, 2.8, 5.3, 7.6, 8.5, 8.4, 8.1, 8.1, 8.3,
                   8.2, 7.8, 6.2, 4.9, 3.8, 3.0, 2.4, 1.9, 1.3])  # fmt: skip
_HOURS = _HOURS / _HOURS.sum()
_DOW = _DOW / _DOW.sum()


def _catalogue(rng: np.random.Generator, n_products: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Products spread over the aisles by the aisles' shares (at least 2 each), named
    brand + variant + noun, with lognormal popularity and a few staples boosted far above."""
    share = np.array([a[2] for a in _AISLES])
    per_aisle = np.maximum(2, np.floor(share / share.sum() * n_products)).astype(int)
    per_aisle[np.argmax(per_aisle)] += n_products - per_aisle.sum()
    departments = list(dict.fromkeys(a[0] for a in _AISLES))
    names, aisle_ids, department_ids, popularity = [], [], [], []
    for aisle_id, ((department, _, _, nouns), count) in enumerate(
        zip(_AISLES, per_aisle, strict=True), start=1
    ):
        taken: set[str] = set()
        for rank in range(count):
            noun = nouns[rank % len(nouns)]
            while True:
                brand = _BRANDS[rng.integers(len(_BRANDS))] if rank >= len(nouns) else ""
                variant = _VARIANTS[rng.integers(len(_VARIANTS))] if rank >= len(nouns) else ""
                name = " ".join(part for part in (brand, variant, noun) if part)
                if name not in taken or len(taken) > 10 * len(nouns) * len(_BRANDS):
                    break
            if name in taken:
                name = f"{name} #{rank}"
            taken.add(name)
            names.append(name)
            aisle_ids.append(aisle_id)
            department_ids.append(departments.index(department) + 1)
            # Zipf over the aisle's products, the plain nouns (Banana, Whole Milk) first: a few
            # best sellers take most of an aisle's sales, a long tail sells rarely
            noise = rng.lognormal(0, _POPULARITY_SIGMA)  # staples sell steadily: no noise
            weight = STAPLES.get(name, noise)
            popularity.append(weight / (rank + 1) ** _ZIPF_EXPONENT)
    popularity = np.array(popularity)
    order = rng.permutation(n_products)  # ids carry no aisle order, as in the real catalogue
    products = pd.DataFrame(
        {
            "product_id": np.arange(1, n_products + 1, dtype=np.int64),
            "product_name": pd.Series(np.array(names, dtype=object)[order], dtype="str"),
            "aisle_id": np.array(aisle_ids, dtype=np.int64)[order],
            "department_id": np.array(department_ids, dtype=np.int64)[order],
        }
    )
    products["aisle"] = pd.Series([_AISLES[a - 1][1] for a in products["aisle_id"]], dtype="str")
    products["department"] = pd.Series(
        [departments[d - 1] for d in products["department_id"]], dtype="str"
    )
    return products, popularity[order]


def _missions(
    rng: np.random.Generator,
    products: pd.DataFrame,
    popularity: np.ndarray,
    members: list[np.ndarray],
    n_products: int,
) -> tuple[list[np.ndarray], np.ndarray]:
    """Sets of specific products bought together (this pasta with that sauce), one per theme
    draw; weights are lognormal, so some pairings are far more common than others."""
    aisle_index = {a[1]: i for i, a in enumerate(_AISLES)}
    n = max(len(_THEMES), int(_MISSIONS_PER_PRODUCT * n_products))
    # a theme is as common as its aisles are (geometric mean of their shares): pasta night
    # far more often than cat food
    share = np.array([[_AISLES[aisle_index[a]][2] for a in t] for t in _THEMES], dtype=object)
    theme_weight = np.array([np.exp(np.mean(np.log(s))) for s in share])
    missions = []
    for theme in rng.choice(len(_THEMES), size=n, p=theme_weight / theme_weight.sum()):
        picks = []
        for aisle in _THEMES[theme]:
            candidates = members[aisle_index[aisle]]
            weights = np.sqrt(popularity[candidates])
            picks.append(rng.choice(candidates, p=weights / weights.sum()))
        missions.append(np.unique(picks))
    weight = rng.lognormal(0, 1.0, n)
    return missions, weight / weight.sum()


def _orders_per_user(rng: np.random.Generator, n_orders: int, mean: float) -> np.ndarray:
    """Instacart users have 4–100 orders (with products: 3–99), long-tailed; sums to n_orders."""
    n_users = max(1, round(n_orders / mean))
    counts = np.minimum(3 + np.floor(rng.exponential(mean - 3, n_users)), 99).astype(int)
    counts = np.maximum(3, np.round(counts * n_orders / counts.sum())).astype(int)
    while (difference := n_orders - counts.sum()) != 0:
        users = rng.integers(n_users, size=abs(difference))
        np.add.at(counts, users, np.sign(difference))
        counts = np.clip(counts, 1, 99)
    return counts


def _basket(
    rng: np.random.Generator,
    size: int,
    number: int,
    bought: np.ndarray,
    owned: np.ndarray,
    taste_cumulative: np.ndarray,
    favourite: np.ndarray,
    missions: list[np.ndarray],
    shelf: "_Shelf",
) -> np.ndarray:
    """One order's products (row positions in the catalogue), in add-to-cart order."""
    picked: list[int] = []
    for mission in favourite[rng.random(len(favourite)) < _MISSIONS_PER_ORDER / len(favourite)]:
        chosen = missions[mission][rng.random(len(missions[mission])) < _MISSION_ITEM_KEPT]
        picked.extend(chosen.tolist())
    # Re-orders: a share of the basket from the user's own history, favourites weighted by how
    # often they were bought; the share grows as the history does, towards Instacart's 59%.
    if len(bought):
        share = min(0.85, _REORDER_TARGET * 1.25 * (1 - np.exp(-(number - 1) / 3)))
        n_again = rng.binomial(max(0, size - len(picked)), share)
        if n_again:
            picked.extend(bought[rng.integers(len(bought), size=n_again)].tolist())
    basket = np.array(list(dict.fromkeys(picked)), dtype=np.int64)
    while len(basket) < size:
        # New products: an aisle from the user's taste, or (shopping aisle by aisle) the
        # previous product's aisle again; then a product of that aisle by popularity.
        wanted = 2 * (size - len(basket))
        aisles = np.searchsorted(taste_cumulative, rng.random(wanted) * taste_cumulative[-1])
        aisles = np.minimum(aisles, len(taste_cumulative) - 1)
        fresh = np.flatnonzero((rng.random(wanted) >= _SAME_AISLE) | (np.arange(wanted) == 0))
        aisles = aisles[fresh[np.searchsorted(fresh, np.arange(wanted), side="right") - 1]]
        new = shelf.pick(aisles, rng.random(wanted))
        basket = np.array(list(dict.fromkeys([*basket.tolist(), *new.tolist()]))[:size])
    # re-orders are added to the cart first in Instacart; the rest in the order picked
    return basket[np.argsort(~owned[basket], kind="stable")]


@dataclass(frozen=True)
class _Shelf:
    """Products by aisle with their cumulative popularity, for vectorised draws: aisle `a`
    occupies [a, a + 1) of one sorted array, so one searchsorted serves every aisle."""

    positions: np.ndarray  # catalogue rows, grouped by aisle
    cumulative: np.ndarray  # aisle + cumulative share within the aisle

    @classmethod
    def build(cls, aisle_of: np.ndarray, popularity: np.ndarray) -> "_Shelf":
        positions = np.argsort(aisle_of, kind="stable")
        aisles, weights = aisle_of[positions], popularity[positions]
        totals = np.bincount(aisles, weights=weights)
        within = np.cumsum(weights) - np.repeat(np.cumsum(totals) - totals, np.bincount(aisles))
        return cls(positions, aisles + within / totals[aisles])

    def pick(self, aisles: np.ndarray, uniform: np.ndarray) -> np.ndarray:
        index = np.searchsorted(self.cumulative, aisles + uniform * (1 - 1e-9))
        return self.positions[np.minimum(index, len(self.positions) - 1)]
