"""Keyboard-only booking, visible focus, and a phone-width screen."""

from __future__ import annotations

import re
from typing import Any

from tests.web.conftest import PASSWORD, PageFactory, Site, save_screenshot

ACTIVE = """() => {
  const e = document.activeElement;
  return e ? (e.getAttribute('aria-label') || e.labels?.[0]?.textContent || e.textContent || '').trim() : '';
}"""


def active_name(page: Any) -> str:
    name: str = page.evaluate(ACTIVE)
    return re.sub(r"\s+", " ", name)


def tab_to(page: Any, pattern: str, limit: int = 40) -> str:
    """Press Tab until the focused element's accessible name matches `pattern` (a regex)."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        name = active_name(page)
        if re.search(pattern, name):
            return name
        seen.append(name)
    raise AssertionError(f"Tab never reached {pattern!r}; went through {seen}")


def focus_ring(page: Any) -> dict[str, str]:
    ring: dict[str, str] = page.evaluate(
        "() => { const e = document.activeElement; const s = getComputedStyle(e);"
        " return {style: s.outlineStyle, width: s.outlineWidth,"
        " matches: String(e.matches(':focus-visible'))}; }"
    )
    return ring


def test_booking_with_the_keyboard_only(site: Site, open_page: PageFactory) -> None:
    flight = site.flight(number="BK3003", rows=4, seat_letters="ABCD")
    email, me = site.register()
    _, other = site.register()
    site.book(other, flight["id"], ["1A"])
    w = open_page(site.url)
    page = w.page
    page.locator("#search-results li").first.wait_for()
    kb = page.keyboard

    tab_to(page, r"^Skip to content$")
    tab_to(page, r"^From")
    kb.type(flight["origin"])
    kb.press("Tab")
    kb.type(flight["destination"])
    kb.press("Enter")
    page.get_by_role("heading", name="1 flight found").wait_for()
    tab_to(page, r"^Choose seats on BK3003")
    kb.press("Enter")

    # Focus lands on the flight's heading; one Tab enters the seat map at its first free seat.
    page.locator("#cabin button.seat").first.wait_for()
    assert active_name(page).startswith("BK3003")
    kb.press("Tab")
    assert active_name(page) == "Seat 1B, aisle, available"
    ring = focus_ring(page)
    assert ring["matches"] == "true" and ring["style"] != "none" and float(ring["width"].rstrip("px")) >= 2, (
        ring
    )
    # Arrow keys move within the map: right, right, down → 2D; Enter picks it, Space un-picks and re-picks.
    for key in ("ArrowRight", "ArrowRight", "ArrowDown"):
        kb.press(key)
    assert active_name(page) == "Seat 2D, window, available"
    kb.press("Enter")
    assert active_name(page) == "Seat 2D, window, selected"
    kb.press("Space")
    assert active_name(page) == "Seat 2D, window, available"
    kb.press("Space")
    kb.press("ArrowUp")
    kb.press("Home")
    assert active_name(page) == "Seat 1A, window, taken"
    kb.press("Enter")
    page.get_by_text("Seat 1A is taken. Please pick another seat.").wait_for()
    # The whole map is one tab stop: the next Tab leaves it for the booking panel.
    tab_to(page, r"^Hold 1 seat$", limit=3)
    kb.press("Enter")

    # Signing in inline: focus is put in the email field.
    page.locator(".auth-panel").wait_for()
    assert active_name(page) == "Email"
    kb.type(email)
    kb.press("Tab")
    kb.type(PASSWORD)
    kb.press("Enter")

    # The hold goes ahead; focus moves to the passenger name; Enter books.
    page.locator("#hold-countdown").wait_for()
    assert active_name(page) == "Passenger name, seat 2D (window)"
    kb.type("Margaret Hamilton")
    kb.press("Enter")
    page.get_by_role("heading", name="Booking confirmed").wait_for()
    reference = page.locator("#booking-reference").inner_text()
    [booking] = site.get("/bookings", me)["items"]
    assert booking["reference"] == reference
    assert booking["passengers"] == [{"seat": "2D", "name": "Margaret Hamilton"}]


def test_phone_width(site: Site, open_page: PageFactory) -> None:
    flight = site.flight(number="BK3100", rows=6, seat_letters="ABCDEFGHJK")  # a wide 3-4-3 cabin
    w = open_page(
        f"{site.url}/#/flight/{flight['id']}",
        viewport={"width": 360, "height": 740},
        is_mobile=True,
        has_touch=True,
    )
    page = w.page
    page.locator("#cabin button.seat").first.wait_for()
    # Nothing sticks out sideways: the page itself never scrolls horizontally.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    boxes = [page.locator(f'#cabin button[data-seat="1{x}"]').bounding_box() for x in "ABCDEFGHJK"]
    assert all(b["width"] >= 24 and b["height"] >= 24 for b in boxes)  # WCAG 2.5.8 target size
    assert all(b["x"] >= 0 and b["x"] + b["width"] <= 360 for b in boxes)
    assert page.locator('#cabin .cabin-row[aria-label="Row 1"] .aisle').count() == 2
    page.locator('#cabin button[data-seat="1E"]').tap()
    assert page.get_by_role("button", name="Seat 1E, middle, selected").is_visible()
    assert page.get_by_role("button", name="Hold 1 seat").is_visible()
    save_screenshot(page, "phone.png", full_page=True)
