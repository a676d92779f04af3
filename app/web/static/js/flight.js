// One flight: the live seat map, picking seats, the hold with its countdown, passenger names and
// the booking. The seat map is polled with If-None-Match, so an unchanged map costs a bodiless 304.
import { request, seatsInDetail, newIdempotencyKey } from "./api.js";
import { requireSession } from "./auth.js";
import { h, clear, notify, clearNotice, focus, formatDateTime, formatTime, formatMoney, plural, listSeats, clock } from "./dom.js";
import { SeatMap, seatPosition } from "./seatmap.js";

export const POLL_MS = 3000;
const MAX_SEATS = 9; // the API's limit per hold or booking
const LOW_SECONDS = 60;

export function createFlightView(view, { onBooked }) {
  const title = view.querySelector("#flight-title");
  const summary = view.querySelector("#flight-summary");
  const messages = view.querySelector(".messages");
  const cabin = view.querySelector("#cabin");
  const panel = view.querySelector("#panel");
  const panelTitle = view.querySelector("#panel-title");

  let state = null; // per flight: {flight, map, etag, selected:Set, hold, ...}
  let pollTimer = null;
  let tickTimer = null;
  let visible = false;
  let polling = false;

  const seatMap = new SeatMap(cabin, {
    label: "Seat map",
    describedBy: "cabin-help",
    stateOf: (seat) => seatState(seat),
    onPick: (seat) => pick(seat),
  });

  function seatState(seat) {
    if (!state || !state.map) return "available";
    if (state.hold && state.hold.seats.includes(seat)) return "held";
    if (state.selected.has(seat)) return "selected";
    const info = state.seatIndex.get(seat);
    return info && info.available ? "available" : "taken";
  }

  function closed() {
    if (!state || !state.flight) return null;
    if (state.flight.status === "cancelled") return "This flight has been cancelled, so its seats cannot be booked.";
    if (Date.parse(state.flight.departure_at) <= Date.now()) return "This flight has already departed.";
    return null;
  }

  // --- showing the view --------------------------------------------------------------------------
  async function show(flightId) {
    visible = true;
    if (!state || state.flightId !== flightId) {
      stopTicking();
      state = { flightId, flight: null, map: null, etag: null, seatIndex: new Map(), selected: new Set(), hold: null, bookingKeys: new Map(), warnedLow: false };
      seatMap.layout = null;
      clear(title, "Choose your seats");
      clear(summary);
      clear(cabin);
      clear(panel);
      clearNotice(messages);
    }
    try {
      const { data } = await request("GET", `/flights/${flightId}`);
      if (state.flightId !== flightId) return;
      state.flight = data;
      seatMap.label = `Seat map of flight ${data.number}`;
      clear(title, `${data.number}: ${data.origin} to ${data.destination}`);
      clear(summary, `Departs ${formatDateTime(data.departure_at)}, arrives ${formatDateTime(data.arrival_at)}. `,
        `Fare ${formatMoney(data.fare)} per seat.`);
      await refreshMap();
      renderPanel();
      const reason = closed();
      if (reason) notify(messages, "warning", reason);
    } catch (error) {
      notify(messages, "error", error.message);
    }
    schedulePoll();
  }

  function hide() {
    visible = false;
    clearTimeout(pollTimer);
    pollTimer = null;
  }

  // --- the live seat map ---------------------------------------------------------------------------
  async function refreshMap({ force = false } = {}) {
    const current = state;
    const { data, notModified, headers } = await request("GET", `/flights/${current.flightId}/seats`, { etag: force ? null : current.etag });
    if (state !== current || notModified) return []; // another flight was opened meanwhile, or no change
    state.etag = headers.get("ETag");
    state.map = data;
    state.seatIndex = new Map(data.seats.map((s) => [s.seat, s]));
    // Seats picked here but taken by someone else meanwhile are dropped from the selection.
    const lost = [...state.selected].filter((seat) => !state.seatIndex.get(seat)?.available);
    for (const seat of lost) state.selected.delete(seat);
    seatMap.locked = Boolean(state.hold) || Boolean(closed());
    seatMap.render(data);
    if (lost.length && !state.hold) {
      notify(messages, "warning", `${lost.length === 1 ? "Seat" : "Seats"} ${listSeats(lost)} ${lost.length === 1 ? "was" : "were"} just taken by someone else, so ${lost.length === 1 ? "it is" : "they are"} no longer in your pick.`);
      renderPanel();
    }
    return lost;
  }

  function schedulePoll() {
    clearTimeout(pollTimer);
    if (!visible) return;
    pollTimer = setTimeout(poll, POLL_MS);
  }

  async function poll() {
    if (!visible || !state) return;
    if (!document.hidden && !polling) {
      polling = true;
      try {
        await refreshMap();
      } catch {
        // A failed refresh is retried at the next tick; 503s show the service banner.
      } finally {
        polling = false;
      }
    }
    schedulePoll();
  }

  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && visible) poll();
  });

  // --- picking -------------------------------------------------------------------------------------
  function pick(seat) {
    if (!state || !state.map) return;
    const reason = closed();
    if (reason) {
      notify(messages, "warning", reason);
      return;
    }
    if (state.hold) {
      notify(messages, "info", "Your seats are on hold. Book them or release them before picking others.");
      return;
    }
    const current = seatState(seat);
    if (current === "taken") {
      notify(messages, "info", `Seat ${seat} is taken. Please pick another seat.`);
      return;
    }
    if (current === "selected") {
      state.selected.delete(seat);
    } else {
      if (state.selected.size >= MAX_SEATS) {
        notify(messages, "info", `You can hold up to ${MAX_SEATS} seats at a time.`);
        return;
      }
      state.selected.add(seat);
    }
    clearNotice(messages);
    seatMap.update(seat);
    renderPanel();
  }

  function sortedSelection() {
    const order = state.map ? state.map.seats.map((s) => s.seat) : [];
    return [...state.selected].sort((a, b) => order.indexOf(a) - order.indexOf(b));
  }

  function describe(seat) {
    return `${seat} (${seatPosition(seat.slice(-1), state.map.seat_letters)})`;
  }

  // --- the side panel ------------------------------------------------------------------------------
  function renderPanel() {
    if (!state || !state.flight || !state.map) return;
    if (state.hold) {
      renderHoldPanel();
      return;
    }
    clear(panelTitle, "Your seats");
    const seats = sortedSelection();
    if (!seats.length) {
      clear(panel, h("p", {}, closed() || `Pick up to ${MAX_SEATS} seats on the map.`),
        h("p", { class: "hint" }, `Fare ${formatMoney(state.flight.fare)} per seat.`));
      return;
    }
    const total = Number(state.flight.fare) * seats.length;
    clear(panel,
      h("ul", { class: "seat-list" }, seats.map((s) => h("li", {}, `Seat ${describe(s)}`))),
      h("p", { class: "total" }, `Total ${formatMoney(total)} for ${plural(seats.length, "seat")}`),
      h("p", { class: "hint" }, "Holding keeps the seats for you for a few minutes while you enter the passenger names."),
      h("div", { class: "panel-actions" },
        h("button", { type: "button", class: "primary", id: "hold-button", onclick: holdSeats }, `Hold ${plural(seats.length, "seat")}`),
        h("button", { type: "button", onclick: clearSelection }, "Clear")),
      h("div", { id: "auth-inline" }));
  }

  function clearSelection() {
    const seats = [...state.selected];
    state.selected.clear();
    seats.forEach((s) => seatMap.update(s));
    renderPanel();
    seatMap.focusSeat(seats[0]);
  }

  async function holdSeats() {
    const seats = sortedSelection();
    if (!seats.length) return;
    const flightId = state.flightId;
    try {
      await requireSession(panel.querySelector("#auth-inline") || panel, "Sign in or create an account to hold your seats.");
    } catch {
      return; // sign-in cancelled
    }
    if (!state || state.flightId !== flightId) return;
    const button = panel.querySelector("#hold-button");
    if (button) button.disabled = true;
    clearNotice(messages);
    try {
      const { data, serverOffset } = await request("POST", `/flights/${flightId}/holds`, { json: { seats } });
      startHold(data, serverOffset);
    } catch (error) {
      if (button) button.disabled = false;
      await holdFailed(error, seats);
    }
  }

  async function holdFailed(error, seats) {
    if (error.status !== 409) {
      notify(messages, "error", error.message);
      if (error.status === 401) renderPanel();
      return;
    }
    // Someone else won at least one of the seats: show which, with the map as it is now.
    const named = seatsInDetail(error.detail).filter((s) => seats.includes(s));
    let lostNow = [];
    try {
      lostNow = await refreshMap({ force: true });
    } catch {
      // the message below still names the seats from the 409
    }
    const lost = [...new Set([...named, ...lostNow])].filter((s) => seats.includes(s));
    for (const seat of lost) state.selected.delete(seat);
    seatMap.refresh();
    renderPanel();
    if (lost.length) {
      notify(messages, "error",
        `Sorry, ${lost.length === 1 ? "seat" : "seats"} ${listSeats(lost)} ${lost.length === 1 ? "was" : "were"} just taken by someone else. `,
        `The map now shows ${lost.length === 1 ? "it" : "them"} as taken; please pick another seat.`);
      seatMap.focusSeat(lost[0]);
    } else {
      notify(messages, "error", error.message);
    }
  }

  // --- the hold ------------------------------------------------------------------------------------
  function startHold(hold, serverOffset) {
    const expiresAt = Date.parse(hold.expires_at);
    const now = Date.now() + serverOffset;
    state.hold = { ...hold, expiresAt, serverOffset, ttlSeconds: Math.max(1, Math.round((expiresAt - now) / 1000)) };
    state.selected.clear();
    state.warnedLow = false;
    seatMap.setLocked(true);
    renderHoldPanel();
    startTicking();
    const first = panel.querySelector("input");
    focus(first);
  }

  function remainingSeconds() {
    return (state.hold.expiresAt - (Date.now() + state.hold.serverOffset)) / 1000;
  }

  function renderHoldPanel() {
    const hold = state.hold;
    clear(panelTitle, "Held for you");
    const inputs = hold.seats.map((seat) => {
      const id = `passenger-${seat}`;
      const previous = panel.querySelector(`#${CSS.escape(id)}`);
      return h("div", { class: "field" },
        h("label", { for: id }, `Passenger name, seat ${describe(seat)}`),
        h("input", { id, name: id, "data-seat": seat, autocomplete: seat === hold.seats[0] ? "name" : "off", maxlength: "100", required: true, value: previous ? previous.value : "" }));
    });
    const total = Number(state.flight.fare) * hold.seats.length;
    const countdown = h("span", { class: "countdown", id: "hold-countdown", role: "timer", "aria-live": "off" }, clock(remainingSeconds()));
    clear(panel,
      h("p", {}, `${hold.seats.length === 1 ? "Seat" : "Seats"} ${listSeats(hold.seats)} ${hold.seats.length === 1 ? "is" : "are"} yours until ${formatTime(new Date(hold.expiresAt - hold.serverOffset))}.`),
      h("p", {}, "Time left to book: ", countdown),
      h("form", { id: "passenger-form", novalidate: true, onsubmit: book },
        inputs,
        h("p", { class: "total" }, `Total ${formatMoney(total)} for ${plural(hold.seats.length, "seat")}`),
        h("div", { class: "panel-actions" },
          h("button", { type: "submit", class: "primary", id: "book-button" }, `Book ${plural(hold.seats.length, "seat")}`),
          h("button", { type: "button", id: "release-button", onclick: release }, "Release seats"))));
  }

  function startTicking() {
    stopTicking();
    tick();
    tickTimer = setInterval(tick, 250);
  }

  function stopTicking() {
    clearInterval(tickTimer);
    tickTimer = null;
  }

  function tick() {
    if (!state || !state.hold) return stopTicking();
    const left = remainingSeconds();
    const el = panel.querySelector("#hold-countdown");
    if (el) {
      el.textContent = clock(left);
      el.classList.toggle("is-low", left <= LOW_SECONDS);
    }
    if (left <= LOW_SECONDS && !state.warnedLow && state.hold.ttlSeconds > LOW_SECONDS) {
      state.warnedLow = true;
      notify(messages, "warning", "Less than a minute left to book your held seats.");
    }
    if (left <= 0) holdExpired();
  }

  async function holdExpired() {
    const hold = state.hold;
    if (!hold) return;
    stopTicking();
    state.hold = null;
    seatMap.setLocked(Boolean(closed()));
    const minutes = hold.ttlSeconds >= 120 ? `${Math.round(hold.ttlSeconds / 60)} minutes` : plural(hold.ttlSeconds, "second");
    const n = hold.seats.length;
    renderPanel();
    notify(messages, "warning",
      `Your hold on ${n === 1 ? "seat" : "seats"} ${listSeats(hold.seats)} expired at ${formatTime(new Date(hold.expiresAt - hold.serverOffset))}, so nothing was booked. `,
      `Seats are held for ${minutes} so that unused seats go back on sale. `,
      `${n === 1 ? "It is" : "They are"} free again unless someone else took ${n === 1 ? "it" : "them"}: pick seats and hold them again.`);
    focus(panelTitle);
    try {
      await refreshMap({ force: true });
    } catch {
      // the next poll redraws the map
    }
  }

  async function release() {
    const hold = state.hold;
    if (!hold) return;
    try {
      await request("DELETE", `/holds/${encodeURIComponent(hold.id)}`);
    } catch (error) {
      if (error.status !== 404) {
        notify(messages, "error", error.message);
        return;
      }
    }
    stopTicking();
    state.hold = null;
    seatMap.setLocked(Boolean(closed()));
    renderPanel();
    notify(messages, "info", `${hold.seats.length === 1 ? "Seat" : "Seats"} ${listSeats(hold.seats)} released.`);
    focus(panelTitle);
    await refreshMap({ force: true }).catch(() => {});
  }

  // --- booking -------------------------------------------------------------------------------------
  async function book(event) {
    event.preventDefault();
    const hold = state.hold;
    if (!hold) return;
    const inputs = [...panel.querySelectorAll("#passenger-form input")];
    const missing = inputs.filter((input) => !input.value.trim());
    inputs.forEach((input) => input.setAttribute("aria-invalid", String(missing.includes(input))));
    if (missing.length) {
      notify(messages, "error", `Please enter a passenger name for ${missing.length === 1 ? "seat" : "seats"} ${listSeats(missing.map((i) => i.dataset.seat))}.`);
      focus(missing[0]);
      return;
    }
    const passengers = inputs.map((input) => ({ seat: input.dataset.seat, name: input.value.trim() }));
    const body = { hold_id: hold.id, passengers };
    // The same body keeps the same Idempotency-Key, so retrying after a lost answer cannot book twice.
    const bodyKey = JSON.stringify(body);
    if (!state.bookingKeys.has(bodyKey)) state.bookingKeys.set(bodyKey, newIdempotencyKey());
    const button = panel.querySelector("#book-button");
    button.disabled = true;
    clearNotice(messages);
    try {
      const { data } = await request("POST", "/bookings", { json: body, headers: { "Idempotency-Key": state.bookingKeys.get(bodyKey) } });
      stopTicking();
      state.hold = null;
      seatMap.setLocked(Boolean(closed()));
      state.etag = null;
      renderPanel();
      onBooked(data);
    } catch (error) {
      button.disabled = false;
      if (error.status === 409 && /hold/i.test(String(error.detail))) {
        await holdExpired();
      } else if (error.status === 404) {
        stopTicking();
        state.hold = null;
        seatMap.setLocked(Boolean(closed()));
        renderPanel();
        notify(messages, "warning", "This hold no longer exists (it may have been released in another tab). Please pick your seats again.");
        await refreshMap({ force: true }).catch(() => {});
      } else {
        notify(messages, "error", error.message);
      }
    }
  }

  return { show, hide };
}
