"""The whole loop in a real browser (Debian's chromium, driven by playwright): sign in, label
tweets and entity pairs by keyboard, and find the labels where the products read them."""

import dagster as dg
from playwright.sync_api import Page

from ml_platform.entity_matching import batches
from ml_platform.entity_matching.resources import MatchingPolicy
from ml_platform.entity_matching.sensors import em_feedback_sensor
from ml_platform.labelling.app import create_app
from ml_platform.labelling.store import LabelStore
from ml_platform.tweets import golden
from ml_platform_tests.labelling import data


def current_item(page: Page) -> str:
    return page.get_attribute("#labelling", "data-item") or ""


def press(page: Page, key: str) -> None:
    """A shortcut, then the next page the app navigates to."""
    with page.expect_navigation():
        page.keyboard.press(key)


def test_keyboard_labels_reach_golden_labels_and_em_feedback_and_request_a_retrain(
    postgres_warehouse, serve, browser_page, blocked_requests, screenshots
):
    warehouse = postgres_warehouse
    tweets = data.tweets(40)
    names = data.land_tweets(warehouse, tweets)
    queue = data.land_pairs(warehouse, pairs=12)
    settings, tokens = data.settings(warehouse, random_share=0.2)
    base = serve(create_app(settings))
    page = browser_page

    page.goto(f"{base}/queues/tweets")  # not signed in: the sign-in form, then back here
    page.fill("#token", tokens["alice"])
    with page.expect_navigation():
        page.click("#signin")
    assert page.url == f"{base}/queues/tweets", page.content()

    # the most uncertain tweet comes first, and its markup is text, never markup
    assert current_item(page) == str(data.FIRST_TWEET_ID)
    assert page.inner_text("#tweet-text") == data.MARKUP
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#item a").evaluate_all("els => els.map(e => e.href)") == [
        "https://arxiv.org/abs/2401.00001"
    ]  # the javascript: link is not a link
    page.screenshot(path=str(screenshots / "labelling_tweets.png"))

    pressed: dict[str, str] = {}
    undone = None
    for step in range(20):
        item = current_item(page)
        assert item not in pressed  # never the same tweet twice
        key = "1" if tweets.set_index(tweets["tweet_id"].astype(str)).loc[item, "is_ai"] else "0"
        if step == 3:
            page.fill("#note", "sarcastic, but about AI")
            page.keyboard.press("Escape")
        press(page, key)
        pressed[item] = key
        if step == 9:  # change of mind: undo shows the tweet again, label it the other way
            press(page, "u")
            undone = current_item(page)
            assert undone == item
            pressed[item] = "0" if key == "1" else "1"
            press(page, pressed[item])
    assert len(pressed) == 20

    page.goto(f"{base}/queues/pairs")
    page.screenshot(path=str(screenshots / "labelling_pairs.png"), full_page=True)
    truth = {(s, t) for s, t in zip(queue["source_id"], queue["target_id"])}
    true_pairs = set(zip(queue["source_id"].head(6), queue["target_id"].head(6)))
    pair_labels: dict[tuple[str, str], str] = {}
    for _ in range(5):
        source_id, target_id = current_item(page).split("|")
        assert (source_id, target_id) in truth
        assert page.locator("table.comparison tbody tr").count() >= 8  # field by field
        key = "m" if (source_id, target_id) in true_pairs else "n"
        press(page, key)
        pair_labels[(source_id, target_id)] = "1" if key == "m" else "0"

    page.goto(f"{base}/dashboard")
    page.screenshot(path=str(screenshots / "dashboard.png"), full_page=True)
    assert page.inner_text("#total") == str(int((tweets["probability"] >= 0.5).sum()))
    assert all((screenshots / f"{name}.png").stat().st_size > 10_000
               for name in ("labelling_tweets", "labelling_pairs", "dashboard"))  # fmt: skip
    assert blocked_requests == []  # the UI needs nothing beyond its own server

    # the label store: every action a row, nothing overwritten
    store = LabelStore(warehouse)
    rows = store.rows(queue="tweets", annotator="alice")
    assert (rows["action"] == "label").sum() == 21 and (rows["action"] == "retract").sum() == 1
    current = store.current("tweets")
    assert dict(zip(current["item_id"], current["label"])) == pressed
    noted = current[current["note"].notna()]
    assert list(noted["note"]) == ["sarcastic, but about AI"]

    # golden labels: 21 judgements and the undo's withdrawal, resolving to the 20 pressed
    stored = golden.read(warehouse, names.golden)
    assert len(stored) == 22 and stored["label"].isna().sum() == 1
    assert set(stored["annotator"]) == {"alice"}
    resolved = golden.resolve(stored)
    assert dict(zip(resolved["tweet_id"].astype(str), resolved["label"].astype(str))) == pressed

    # entity-match feedback: the 5 pairs, stamped so the existing sensor sees them
    feedback = warehouse.read_table(batches.LANDING_FEEDBACK)
    assert {
        (s, t): str(label)
        for s, t, label in zip(feedback["source_id"], feedback["target_id"], feedback["label"])
    } == pair_labels
    assert len(feedback) == 5
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(
            instance=instance,
            resources={"warehouse": warehouse, "policy": MatchingPolicy(retrain_after_labels=5)},
        )
        result = em_feedback_sensor(context)
    assert isinstance(result, dg.SensorResult), result
    assert [r.partition_key for r in result.run_requests] == [data.BATCH]
