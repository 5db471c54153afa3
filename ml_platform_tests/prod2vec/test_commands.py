"""`ml-platform prod2vec evaluate` as a person with Instacart files uses it."""

import json

import pytest

from ml_platform.cli import main
from ml_platform.demo_data.instacart import generate_instacart
from ml_platform.prod2vec.instacart import write_instacart

REQUIRED = {
    "hr_at_10",
    "mrr",
    "popularity_hr_at_10",
    "cooccurrence_hr_at_10",
    "gensim_hr_at_10",
    "pairs_per_second",
    "train_seconds",
}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("instacart")
    return write_instacart(folder, generate_instacart(2_000, 400, seed=13))


def test_evaluate_prints_the_figures_as_json_beside_the_baselines_and_gensim(files, capsys):
    code = main(
        [
            "prod2vec",
            "evaluate",
            "--orders",
            str(files["orders"]),
            "--order-products",
            str(files["order_products__prior"]),
            str(files["order_products__train"]),
            "--products",
            str(files["products"]),
            "--aisles",
            str(files["aisles"]),
            "--epochs",
            "2",
            "--json",
        ]
    )

    assert code == 0
    figures = json.loads(capsys.readouterr().out)
    assert REQUIRED <= set(figures)
    assert all(0 <= figures[k] <= 1 for k in REQUIRED if k.endswith(("hr_at_10", "mrr")))
    assert figures["pairs_per_second"] > 0 and figures["epochs"] == 2
    assert "aisle_share_at_10" in figures


def test_evaluate_without_products_leaves_out_the_aisle_test(files, capsys):
    code = main(
        [
            "prod2vec",
            "evaluate",
            "--orders",
            str(files["orders"]),
            "--order-products",
            str(files["order_products__prior"]),
            "--epochs",
            "1",
            "--no-gensim",
        ]
    )

    out = capsys.readouterr().out
    assert code == 0
    assert "popularity" in out and "co-occurrence" in out and "aisle" not in out


def test_a_basket_of_an_unknown_order_is_an_error_naming_the_file(files, tmp_path, capsys):
    bad = tmp_path / "order_products__prior.csv"
    bad.write_text("order_id,product_id,add_to_cart_order,reordered\n999999,1,1,0\n")

    code = main(
        ["prod2vec", "evaluate", "--orders", str(files["orders"]), "--order-products", str(bad)]
    )

    assert code == 2
    assert f"{bad}: 1 order_products row(s) name 1 order id(s) missing" in capsys.readouterr().err


@pytest.mark.parametrize("content", ["", "order_id,user_id,eval_set,order_number\n"])
def test_an_empty_orders_file_is_an_error_naming_it_before_any_reader_or_tensorflow_starts(
    files, tmp_path, content
):
    """Issue 12 item 14: an empty orders.csv once aborted with exit 134 in pyarrow's thread
    teardown; the error must come from plain Python, name the file, and load neither."""
    import subprocess
    import sys

    empty = tmp_path / "orders.csv"
    empty.write_text(content)
    script = (
        "import sys\n"
        "from ml_platform.cli import main\n"
        f"code = main(['prod2vec', 'evaluate', '--orders', {str(empty)!r}, "
        f"'--order-products', {str(files['order_products__prior'])!r}])\n"
        "print(sorted(m for m in ('pyarrow.csv', 'tensorflow') if m in sys.modules))\n"
        "sys.exit(code)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], check=False, capture_output=True, text=True
    )

    assert run.returncode == 2, run.stderr
    assert f"{empty}: file" in run.stderr
    assert run.stdout.strip() == "[]"
