"""What prod2vec publishes to the serving app: the asset whose stored value is the served product
index (`<asset>.<format extension>` in the object store, written by the object-store IO manager).
The product's Definitions must hold an asset of this name (`ml_platform_tests/prod2vec/
test_contract.py`); serving imports nothing else of the product."""

INDEX_ASSET = "prod2vec_index"
