"""Every view loads without a console error, an uncaught exception, a failed request or an error
answer (the CSP would show up here as console errors if it blocked anything); a 503 from the API
shows a retry message that uses Retry-After; and the page's pure helpers, run in the browser."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, PageFactory, Site, sign_in_from_header

UNAVAILABLE = json.dumps({"detail": "database temporarily unavailable; retry shortly"})


@pytest.mark.parametrize("signed_in", [False, True], ids=["signed-out", "admin"])
def test_every_view_loads_cleanly(site: Site, open_page: PageFactory, signed_in: bool) -> None:
    flight = site.flight()
    _, other = site.register()
    booking = site.book(other, flight["id"], ["2B"])
    session = site.session(ADMIN_EMAIL, ADMIN_PASSWORD) if signed_in else None
    views = ["/", "/#/bookings", "/#/admin", f"/#/flight/{flight['id']}", f"/#/booking/{booking['id']}"]
    for path in views:
        # A fresh tab for each view, loaded until the network is quiet; open_page then checks that
        # none had a console error, uncaught exception, failed request or HTTP error.
        w = open_page(site.url + path, session=session)
        w.page.wait_for_load_state("networkidle")
        w.page.locator("main h1:visible").wait_for()
        assert w.problems() == [], path
        assert {status for status, _ in w.responses} <= {200, 304}, path
        urls = {url for _, url in w.responses}
        assert all(url.startswith(site.url) for url in urls), "only this origin is ever contacted"
        assert any(url.endswith("/static/favicon.svg") for url in urls)
        if signed_in:
            assert w.page.get_by_text(f"Signed in as {ADMIN_EMAIL}").is_visible()
            assert w.page.get_by_role("link", name="Admin").is_visible()
    if signed_in:
        assert w.page.locator("#booking-reference").inner_text() == booking["reference"]


def test_503_shows_a_retry_message_using_retry_after(site: Site, open_page: PageFactory) -> None:
    flight = site.flight()
    w = open_page("about:blank")
    page = w.page
    w.allowed_statuses.add(503)
    answered: list[str] = []

    def unavailable_twice(route: Any) -> None:
        if len(answered) < 2:
            answered.append(route.request.url)
            route.fulfill(
                status=503, headers={"Retry-After": "1", "Content-Type": "application/json"}, body=UNAVAILABLE
            )
        else:
            route.continue_()

    # The flight list answers 503 twice (as the API does while the database is unreachable), then works.
    page.route("**/flights?*", unavailable_twice)
    page.goto(site.url)
    page.get_by_text("The booking service is briefly unavailable. Trying again in 1 second…").wait_for()
    page.locator("#search-results li").first.wait_for(timeout=15_000)
    assert len(answered) == 2
    assert page.locator("#service-status").inner_text() == ""

    # A hold (not retried by itself) that meets a 503 says when to try again, and trying then works.
    email, _ = site.register()
    sign_in_from_header(page, email)
    page.goto(f"{site.url}/#/flight/{flight['id']}")
    page.locator('#cabin button[data-seat="1A"]').click()
    held: list[str] = []

    def hold_unavailable(route: Any) -> None:
        if not held:
            held.append(route.request.url)
            route.fulfill(status=503, headers={"Retry-After": "3"}, body=UNAVAILABLE)
        else:
            route.continue_()

    page.route("**/holds", hold_unavailable)
    page.get_by_role("button", name="Hold 1 seat").click()
    page.get_by_role("alert").get_by_text(
        "The booking service is briefly unavailable. Please try again in 3 seconds."
    ).wait_for()
    assert "Pick up to" not in page.locator("#panel").inner_text()  # the pick is kept for the retry
    page.wait_for_timeout(3000)
    page.get_by_role("button", name="Hold 1 seat").click()
    page.locator("#hold-countdown").wait_for()


def test_page_helpers(site: Site, open_page: PageFactory) -> None:
    """The pure functions of the page's modules, imported in the browser as the page imports them."""
    w = open_page(site.url)
    result = w.page.evaluate((Path(__file__).parent / "page_helpers.js").read_text())
    assert result["blocks"] == {
        "A": ["A"],
        "AB": ["A", "B"],
        "ABC": ["A", "BC"],
        "ABCD": ["AB", "CD"],
        "ABCDE": ["AB", "CDE"],
        "ABCDEF": ["ABC", "DEF"],
        "ABCDEFG": ["AB", "CDE", "FG"],
        "ABCDEFGH": ["AB", "CDEF", "GH"],
        "ABCDEFGHJ": ["ABC", "DEF", "GHJ"],
        "ABCDEFGHJK": ["ABC", "DEFG", "HJK"],
    }
    assert result["positions"] == [
        "window",
        "middle",
        "aisle",
        "aisle",
        "middle",
        "middle",
        "aisle",
        "aisle",
        "middle",
        "window",
    ]
    assert result["six"] == ["window", "middle", "aisle", "aisle", "middle", "window"]
    assert result["name"] == "Seat 12A, window, available"
    assert result["retry"][:5] == [5, 5, 1, 60, 5]
    assert 9 <= result["retry"][5] <= 11  # an HTTP date
    assert result["offsets"] == [0, 0, 0, 601000]
    assert result["messages"] == [
        "Seats not available: 1A, 1B.",
        "Password: should have at least 8 characters.",
        "Destination must differ from origin.",
        "From: is not in the expected format.",
        "Passenger name: is required.",
        "That was not found. It may have been removed.",
        "This server does not support that action yet.",
        "Something went wrong on our side. Please try again.",
        "Your account is not allowed to do that.",
    ]
    assert result["seats"] == [["1A", "12C"], []]
    assert result["iso"] == "2031-05-01T09:00:00Z"
