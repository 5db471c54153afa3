"""The apps' first pages in headless chromium with no network beyond loopback, as on an
air-gapped cluster: the serving app's `/docs` lists its routes, and the labelling sign-in page
has its stylesheet. Screenshots: `docs/screenshots/serving_docs.png` and
`labelling_sign_in.png` (refreshed with ML_PLATFORM_UPDATE_SCREENSHOTS=1)."""

from playwright.sync_api import Page, Response

from ml_platform.core.storage import ObjectStore
from ml_platform.labelling.app import create_app as create_labelling_app
from ml_platform.serving import ServingSettings
from ml_platform.serving import create_app as create_serving_app
from ml_platform_tests.labelling import data

# as Swagger UI prints them: one operation per route of each product's router
SERVING_ROUTES = [
    "/products/{product_id}/similar",
    "/products/similar",
    "/recommendations/{user_id}",
    "/recommendations",
    "/score",
    "/users/{user_handle}/similar",
    "/v1/models/tweet_classifier:predict",
]


def loaded(page: Page, url: str) -> dict[str, Response]:
    """Open `url`; every response the page received, by URL."""
    responses: dict[str, Response] = {}
    page.on("response", lambda response: responses.setdefault(response.url, response))
    page.goto(url, wait_until="networkidle")
    return responses


def test_serving_docs_show_every_route_without_internet(
    serve, browser_page, blocked_requests, screenshots, tmp_path
):
    settings = ServingSettings(object_store=ObjectStore(base_uri=str(tmp_path / "storage")))
    base = serve(create_serving_app(settings))
    page = browser_page

    responses = loaded(page, f"{base}/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=15_000)

    shown = page.locator(".opblock-summary-path").all_inner_texts()
    assert set(SERVING_ROUTES) <= {path.replace("\u200b", "") for path in shown}, shown
    assert page.locator(".opblock-summary-path", has_text="/score").first.is_visible()
    script = responses[f"{base}/docs-assets/swagger-ui-bundle.js"]
    assert script.status == 200 and "javascript" in script.headers["content-type"]
    assert blocked_requests == []  # nothing beyond loopback was even asked for
    page.screenshot(path=str(screenshots / "serving_docs.png"))
    assert (screenshots / "serving_docs.png").stat().st_size > 10_000


def test_labelling_sign_in_page_is_styled_without_a_token_or_internet(
    sqlite_warehouse, serve, browser_page, blocked_requests, screenshots
):
    settings, _ = data.settings(sqlite_warehouse)
    base = serve(create_labelling_app(settings))
    page = browser_page

    responses = loaded(page, f"{base}/")

    assert page.locator("#signin").is_visible()
    stylesheet = responses[f"{base}/static/labelling.css"]
    assert stylesheet.status == 200
    assert stylesheet.headers["content-type"].startswith("text/css")
    # labelling.css's colours and margins, not the browser's defaults (transparent, 8px, black)
    body = page.evaluate(
        "() => { const s = getComputedStyle(document.body);"
        " return [s.backgroundColor, s.margin, s.color]; }"
    )
    assert body == ["rgb(246, 247, 249)", "0px", "rgb(29, 35, 42)"]
    assert blocked_requests == []
    page.screenshot(path=str(screenshots / "labelling_sign_in.png"))
    assert (screenshots / "labelling_sign_in.png").stat().st_size > 5_000
