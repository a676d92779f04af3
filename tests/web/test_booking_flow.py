"""The whole flow in a browser: search → seat map → pick → hold → names → book → confirmation →
"my bookings" → cancel, with inline registration; and the admin form that creates and cancels flights."""

from __future__ import annotations

import re
import secrets

from tests.web.conftest import (
    PASSWORD,
    PageFactory,
    Site,
    open_flight,
    save_screenshot,
    seat,
    sign_in_from_header,
)


def test_search_pick_hold_book_and_cancel(site: Site, open_page: PageFactory) -> None:
    # Real airport codes for the screenshot in the docs; no other test flies this route.
    flight = site.flight(
        number="BK2041", origin="LHR", destination="EDI", rows=8, seat_letters="ABCDEF", fare="129.00"
    )
    _, other = site.register()
    site.book(other, flight["id"], ["1A", "1B", "2C", "4D", "4E", "6F"])  # someone else was first
    w = open_page(site.url)
    page = w.page

    # Search by origin, destination and UTC date.
    search = page.locator("#search-form")
    search.get_by_label("From").fill(flight["origin"].lower())
    search.get_by_label("To").fill(flight["destination"])
    search.get_by_label("Departure date").fill("2031-06-01")
    search.get_by_role("button", name="Search flights").click()
    page.get_by_role("heading", name="1 flight found").wait_for()
    results = page.locator("#search-results li")
    assert results.count() == 1
    assert "Fare 129.00 · 42 of 48 seats free" in results.first.inner_text()
    results.first.get_by_role("link", name=re.compile("^Choose seats on BK2041")).click()

    # The cabin: rows x letters with the aisle between C and D, taken seats marked, the fare shown.
    page.locator("#cabin button.seat").first.wait_for()
    assert page.locator("#cabin button.seat").count() == 48
    assert (
        page.get_by_role("heading", level=1).inner_text()
        == f"BK2041: {flight['origin']} to {flight['destination']}"
    )
    assert "Fare 129.00 per seat" in page.locator("#flight-summary").inner_text()
    assert page.get_by_role("button", name="Seat 1A, window, taken").is_visible()
    assert page.get_by_role("button", name="Seat 2C, aisle, taken").get_attribute("aria-disabled") == "true"
    assert page.get_by_role("button", name="Seat 3D, aisle, available").is_visible()
    assert page.get_by_role("button", name="Seat 3B, middle, available").is_visible()
    row3 = page.get_by_role("group", name="Row 3")
    assert [b.get_attribute("data-seat") for b in row3.get_by_role("button").all()] == [
        f"3{x}" for x in "ABCDEF"
    ]
    assert row3.locator(".aisle").count() == 1
    # Taken looks different from available: another background, and a cross instead of the letter.
    taken_bg = seat(page, "1A").evaluate("e => getComputedStyle(e).backgroundImage")
    free_bg = seat(page, "3A").evaluate("e => getComputedStyle(e).backgroundImage")
    assert taken_bg != free_bg
    assert seat(page, "1A").inner_text() == "\u2715" and seat(page, "3A").inner_text() == "A"

    # Picking a taken seat explains instead of selecting it.
    seat(page, "1A").click(force=True)  # aria-disabled, but a person can still press it
    page.get_by_text("Seat 1A is taken. Please pick another seat.").wait_for()
    seat(page, "3A").click()
    seat(page, "3B").click()
    assert (
        page.get_by_role("button", name="Seat 3A, window, selected").get_attribute("aria-pressed") == "true"
    )
    assert "Total 258.00 for 2 seats" in page.locator("#panel").inner_text()
    save_screenshot(page, "seat-map.png", full_page=True)

    # Hold: not signed in yet, so the page asks inline; this traveller creates an account there.
    page.get_by_role("button", name="Hold 2 seats").click()
    panel = page.locator(".auth-panel")
    panel.get_by_role("button", name="New here? Create an account").click()
    email = f"new{secrets.token_hex(4)}@example.com"
    panel.get_by_label("Email").fill(email)
    panel.get_by_label("Password").fill("short")
    panel.get_by_role("button", name="Create account").click()
    page.get_by_text("Password: should have at least 8 characters.").wait_for()
    panel.get_by_label("Password").fill(PASSWORD)
    panel.get_by_role("button", name="Create account").click()

    # The hold: seats shown held, a countdown to expiry, one name field per seat.
    countdown = page.locator("#hold-countdown")
    countdown.wait_for()
    minutes, seconds = map(int, countdown.inner_text().split(":"))
    assert 9 * 60 <= minutes * 60 + seconds <= 10 * 60
    assert page.get_by_role("button", name="Seat 3A, window, held for you").is_visible()
    assert page.get_by_text(f"Signed in as {email}").is_visible()
    page.wait_for_function(
        "(before) => document.querySelector('#hold-countdown').textContent !== before",
        arg=countdown.inner_text(),
    )
    page.get_by_role("button", name="Book 2 seats").click()
    page.get_by_text("Please enter a passenger name for seats 3A and 3B.").wait_for()
    page.get_by_label("Passenger name, seat 3A (window)").fill("Ada Lovelace")
    page.get_by_label("Passenger name, seat 3B (middle)").fill("Alan Turing")
    page.get_by_role("button", name="Book 2 seats").click()

    # Confirmation with the reference; the booking is in the API.
    page.get_by_role("heading", name="Booking confirmed").wait_for()
    reference = page.locator("#booking-reference").inner_text()
    assert re.fullmatch(r"[A-Z2-9]{8}", reference)
    save_screenshot(page, "confirmation.png", full_page=True)
    me = site.login(email, PASSWORD)
    [booking] = site.get("/bookings", me)["items"]
    assert booking["reference"] == reference
    assert booking["status"] == "confirmed"
    assert booking["total_fare"] == "258.00"
    assert {(p["seat"], p["name"]) for p in booking["passengers"]} == {
        ("3A", "Ada Lovelace"),
        ("3B", "Alan Turing"),
    }
    assert not site.seat_available(flight["id"])["3A"]

    # My bookings → cancel (two presses) → the API says cancelled and the seats are free again.
    page.get_by_role("link", name="See all my bookings").click()
    card = page.locator(f'li[data-reference="{reference}"]')
    card.wait_for()
    assert "Ada Lovelace" in card.inner_text() and "Confirmed" in card.inner_text()
    card.get_by_role("button", name=f"Cancel booking {reference}").click()
    card.get_by_role("button", name="Keep it").click()
    assert site.get(f"/bookings/{booking['id']}", me)["status"] == "confirmed"
    page.locator(f'li[data-reference="{reference}"]').get_by_role(
        "button", name=f"Cancel booking {reference}"
    ).click()
    page.get_by_role("button", name=f"Yes, cancel {reference}").click()
    page.get_by_text(f"Booking {reference} is cancelled and its seats are free again.").wait_for()
    assert "Cancelled" in page.locator(f'li[data-reference="{reference}"]').inner_text()
    assert site.get(f"/bookings/{booking['id']}", me)["status"] == "cancelled"
    assert site.seat_available(flight["id"])["3A"]


def test_admin_creates_a_flight(site: Site, open_page: PageFactory) -> None:
    w = open_page(f"{site.url}/#/admin")
    page = w.page
    page.locator(".auth-panel").get_by_label("Email").fill("admin@example.com")
    page.locator(".auth-panel").get_by_label("Password").fill("admin-password-1")
    page.locator(".auth-panel").get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_role("heading", name="Create a flight").wait_for()
    assert page.get_by_role("link", name="Admin").is_visible()

    # A mistake first: the API's 422 comes back in plain words, naming the field.
    form = page.locator("#flight-form")
    form.get_by_label("Flight number").fill("BK7")
    form.get_by_label("From (airport code)").fill("MMX")
    form.get_by_label("To (airport code)").fill("MMX")
    form.get_by_label("Departure (UTC)").fill("2031-07-02T10:15")
    form.get_by_label("Arrival (UTC)").fill("2031-07-02T12:45")
    form.get_by_label("Seat rows").fill("12")
    form.get_by_label("Seat letters").fill("abcd")
    form.get_by_label("Fare per seat").fill("75.50")
    w.allowed_statuses.add(422)
    form.get_by_role("button", name="Create flight").click()
    page.get_by_text("Destination must differ from origin.").wait_for()

    form.get_by_label("To (airport code)").fill("MMY")
    form.get_by_role("button", name="Create flight").click()
    page.get_by_text("Flight BK7 (MMX to MMY) was created.").wait_for()
    created = [f for f in site.get("/flights", {})["items"] if f["number"] == "BK7" and f["origin"] == "MMX"]
    assert len(created) == 1
    assert created[0]["departure_at"].startswith("2031-07-02T10:15")
    assert (created[0]["rows"], created[0]["seat_letters"], created[0]["fare"]) == (12, "ABCD", "75.50")

    page.get_by_role("link", name="Open the seat map of BK7").click()
    page.locator("#cabin button.seat").first.wait_for()
    assert page.locator("#cabin button.seat").count() == 48
    assert page.get_by_role("button", name="Seat 1B, aisle, available").is_visible()


def test_admin_cancels_a_flight(site: Site, open_page: PageFactory) -> None:
    flight = site.flight(number="BK4090")
    w = open_page(f"{site.url}/#/admin")
    page = w.page
    sign = page.locator(".auth-panel")
    sign.get_by_label("Email").fill("admin@example.com")
    sign.get_by_label("Password").fill("admin-password-1")
    sign.get_by_role("button", name="Sign in", exact=True).click()
    card = page.locator(f'#admin-flights li[data-flight-id="{flight["id"]}"]')
    card.get_by_role("button", name="Cancel flight BK4090").click()
    page.get_by_role("button", name="Yes, cancel flight BK4090").click()
    page.get_by_text("Flight BK4090 is cancelled.").wait_for()
    assert site.get(f"/flights/{flight['id']}")["status"] == "cancelled"
    assert "Cancelled" in page.locator(f'#admin-flights li[data-flight-id="{flight["id"]}"]').inner_text()


def test_sign_in_from_the_header_and_out(site: Site, open_page: PageFactory) -> None:
    email, _ = site.register()
    w = open_page(site.url)
    page = w.page
    w.allowed_statuses.add(401)
    page.get_by_role("button", name="Sign in", exact=True).click()
    panel = page.locator(".auth-panel")
    panel.get_by_label("Email").fill(email)
    panel.get_by_label("Password").fill("wrong-password")
    panel.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_text("Incorrect email or password.").wait_for()
    panel.get_by_label("Password").fill(PASSWORD)
    panel.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_text(f"Signed in as {email}").wait_for()
    # The token is in this tab's sessionStorage (not localStorage, not a cookie).
    assert page.evaluate("JSON.parse(sessionStorage.getItem('booking.session')).token")
    assert page.evaluate("localStorage.length") == 0
    assert page.context.cookies() == []
    page.reload()
    page.get_by_text(f"Signed in as {email}").wait_for()
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Sign in", exact=True).wait_for()
    assert page.evaluate("sessionStorage.getItem('booking.session')") is None
    sign_in_from_header(page, email)

    # Holding and then releasing gives the seat back at once.
    flight = site.flight()
    open_flight(page, site, flight["id"])
    seat(page, "1A").click()
    page.get_by_role("button", name="Hold 1 seat").click()
    page.locator("#hold-countdown").wait_for()
    assert not site.seat_available(flight["id"])["1A"]
    assert seat(page, "1B").get_attribute("aria-disabled") == "true"  # nothing else while holding
    page.get_by_role("button", name="Release seats").click()
    page.get_by_text("Seat 1A released.").wait_for()
    assert site.seat_available(flight["id"])["1A"]
    page.get_by_role("button", name="Seat 1A, window, available").wait_for()
