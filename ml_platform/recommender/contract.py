"""What the recommender publishes to the serving app: the asset whose stored value is the served
model (`<asset>.<format extension>` in the object store, written by the object-store IO manager).
The product's Definitions must hold an asset of this name (`ml_platform_tests/recommender/
test_contract.py`); serving imports nothing else of the product."""

MODEL_ASSET = "recommender_model"
