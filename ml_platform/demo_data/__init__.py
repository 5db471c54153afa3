"""Seeded generators of each product's input data, one module per product's format: the public
data sets may not be redistributed, so tests, demos, benchmarks and the embedded defaults run on
these. Generators build data in the shape the product's parser returns and write it in the
public layout through the product's writer; products' own code never depends on them, only their
default-data wiring (see `ml_platform_tests/test_import_rules.py`)."""
