"""Seats changing under the page: another traveller's booking shows up by itself (conditional GET
with an ETag), two browsers racing for one seat get exactly one confirmation, and a hold that runs
out while the page is open is explained."""

from __future__ import annotations

import time

from tests.web.conftest import (
    SHORT_HOLD_SECONDS,
    PageFactory,
    Site,
    open_flight,
    save_screenshot,
    seat,
    sign_in_from_header,
)

TAKEN = "Seat {}, {}, taken"


def test_a_seat_taken_elsewhere_turns_taken_without_reload(site: Site, open_page: PageFactory) -> None:
    flight = site.flight()
    w = open_page(site.url)
    page = w.page
    open_flight(page, site, flight["id"])
    seat(page, "5A").click()
    assert seat(page, "5A").get_attribute("aria-label") == "Seat 5A, window, selected"
    url = f"{site.url}/flights/{flight['id']}/seats"
    page.wait_for_event("response", lambda r: r.url == url and r.status == 304)  # a poll, nothing changed

    _, other = site.register()
    site.book(other, flight["id"], ["5A", "7F"])
    started = time.monotonic()
    page.get_by_role("button", name=TAKEN.format("7F", "window")).wait_for(timeout=15_000)
    page.get_by_role("button", name=TAKEN.format("5A", "window")).wait_for(timeout=5_000)
    assert time.monotonic() - started < 12  # polls every 3 s; slack for a busy machine
    page.get_by_text("Seat 5A was just taken by someone else, so it is no longer in your pick.").wait_for()
    assert "Pick up to 9 seats" in page.locator("#panel").inner_text()

    seat_map_answers = [
        status for status, url in w.responses if url.endswith(f"/flights/{flight['id']}/seats")
    ]
    assert 304 in seat_map_answers, seat_map_answers  # unchanged polls cost a bodiless 304
    assert seat_map_answers.count(200) >= 2  # the first load and the change


def test_two_browsers_race_for_one_seat(site: Site, open_page: PageFactory) -> None:
    flight = site.flight()
    travellers = []
    for _ in range(2):
        email, _headers = site.register()
        w = open_page(site.url)
        sign_in_from_header(w.page, email)
        open_flight(w.page, site, flight["id"])
        seat(w.page, "4C").click()
        assert w.page.get_by_role("button", name="Hold 1 seat").is_enabled()
        w.allowed_statuses.add(409)  # the loser's hold is refused
        travellers.append((email, w))

    # Both press "Hold" together; the database lets exactly one claim the seat.
    for _, w in travellers:
        w.page.get_by_role("button", name="Hold 1 seat").click(no_wait_after=True)
    outcomes = []
    for _, w in travellers:
        w.page.locator("#hold-countdown, .notice-error").first.wait_for()
        outcomes.append(w.page.locator("#hold-countdown").count() == 1)
    assert sorted(outcomes) == [False, True], outcomes
    (_winner_email, winner), (loser_email, loser) = sorted(
        travellers, key=lambda t: t[1].page.locator("#hold-countdown").count(), reverse=True
    )

    # The loser is told which seat went, and sees it taken; nothing of theirs is held.
    loser.page.get_by_text("Sorry, seat 4C was just taken by someone else.").wait_for()
    assert loser.page.get_by_role("button", name=TAKEN.format("4C", "aisle")).is_visible()
    assert "Pick up to 9 seats" in loser.page.locator("#panel").inner_text()

    winner.page.get_by_label("Passenger name, seat 4C (aisle)").fill("Grace Hopper")
    winner.page.get_by_role("button", name="Book 1 seat").click()
    winner.page.get_by_role("heading", name="Booking confirmed").wait_for()
    assert loser.page.get_by_role("heading", name="Booking confirmed").count() == 0

    confirmed = [
        b
        for b in site.get("/bookings", site.admin)["items"]
        if b["flight_id"] == flight["id"] and b["status"] == "confirmed"
    ]
    assert [[p["seat"] for p in b["passengers"]] for b in confirmed] == [["4C"]]
    assert site.get("/bookings", site.login(loser_email, "traveller-pass-1"))["total"] == 0


def test_a_hold_that_expires_while_the_page_is_open(short_hold_site: Site, open_page: PageFactory) -> None:
    site = short_hold_site
    flight = site.flight()
    email, me = site.register()
    w = open_page(site.url)
    page = w.page
    sign_in_from_header(page, email)
    open_flight(page, site, flight["id"])
    seat(page, "2A").click()
    page.get_by_role("button", name="Hold 1 seat").click()
    page.locator("#hold-countdown").wait_for()
    assert page.get_by_role("button", name="Seat 2A, window, held for you").is_visible()
    assert not site.seat_available(flight["id"])["2A"]
    save_screenshot(page, "hold.png")

    # The countdown reaches zero: the page says what happened, and the seat is free again.
    page.get_by_text("Your hold on seat 2A expired at").wait_for(timeout=(SHORT_HOLD_SECONDS + 10) * 1000)
    text = page.locator("#view-flight .messages").inner_text()
    assert "so nothing was booked" in text
    assert f"Seats are held for {SHORT_HOLD_SECONDS} seconds so that unused seats go back on sale." in text
    assert page.locator("#hold-countdown").count() == 0
    page.get_by_role("button", name="Seat 2A, window, available").wait_for()
    assert site.seat_available(flight["id"])["2A"]
    assert site.get("/bookings", me)["total"] == 0


def test_booking_after_the_server_expired_the_hold_is_explained(
    short_hold_site: Site, open_page: PageFactory
) -> None:
    """The page's clock is stopped, so its countdown never fires: the 409 from the API explains it."""
    site = short_hold_site
    flight = site.flight()
    email, me = site.register()
    w = open_page(site.url)
    page = w.page
    w.allowed_statuses.add(409)
    sign_in_from_header(page, email)
    open_flight(page, site, flight["id"])
    seat(page, "3F").click()
    page.clock.install()
    page.get_by_role("button", name="Hold 1 seat").click()
    page.locator("#hold-countdown").wait_for()
    page.clock.pause_at(time.time() + 0.5)  # seconds since the epoch
    page.get_by_label("Passenger name, seat 3F (window)").fill("Katherine Johnson")
    time.sleep(SHORT_HOLD_SECONDS + 1)
    assert site.seat_available(flight["id"])["3F"]  # the server already let it go
    page.get_by_role("button", name="Book 1 seat").click()
    page.get_by_text("Your hold on seat 3F expired at").wait_for()
    assert page.locator("#hold-countdown").count() == 0
    assert site.get("/bookings", me)["total"] == 0
