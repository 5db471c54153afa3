"""A seeded Instacart generator: orders and products in `prod2vec.instacart`'s shape.

It exists because the data may not be redistributed: tests, demos and benchmarks need baskets
with the structure that makes product vectors learnable — aisles within departments, complements
bought together, staples in many baskets, a long popularity tail, and users who re-order their
own favourites.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml_platform.core.errors import InvalidInputError
from ml_platform.prod2vec.instacart import ORDER_PRODUCT_COLUMNS, InstacartDataset

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
