// The confirmation page of one booking, and "My bookings" with cancel.
import { request } from "./api.js";
import { requireSession } from "./auth.js";
import { h, clear, notify, clearNotice, focus, formatDateTime, formatMoney } from "./dom.js";

const PAGE = 20;
const STATUS_WORDS = { confirmed: "Confirmed", cancelled: "Cancelled", cancelled_by_airline: "Cancelled by the airline" };
const flights = new Map(); // flight id → flight, fetched once per page load

async function flightOf(id) {
  if (!flights.has(id)) {
    const { data } = await request("GET", `/flights/${id}`, { auth: false });
    flights.set(id, data);
  }
  return flights.get(id);
}

function flightLine(flight) {
  return `${flight.number}, ${flight.origin} to ${flight.destination}, departs ${formatDateTime(flight.departure_at)}`;
}

function passengerFacts(booking) {
  return h("dl", { class: "facts" },
    booking.passengers.flatMap((p) => [h("dt", {}, `Seat ${p.seat}`), h("dd", {}, p.name)]));
}

function statusBadge(status) {
  const cls = status === "confirmed" ? "badge badge-confirmed" : "badge badge-cancelled";
  return h("span", { class: cls }, STATUS_WORDS[status] || status);
}

/** Remembered so the confirmation can be drawn at once after booking, without another request. */
const justBooked = new Map();

export function rememberBooking(booking) {
  justBooked.set(booking.id, booking);
}

export function createConfirmationView(view) {
  const messages = view.querySelector(".messages");
  const body = view.querySelector("#confirmation");
  const slot = h("div");
  view.insertBefore(slot, body);

  return {
    async show(bookingId) {
      clear(body);
      clearNotice(messages);
      try {
        await requireSession(slot, "Sign in to see this booking.");
        const booking = justBooked.get(bookingId) || (await request("GET", `/bookings/${bookingId}`)).data;
        const flight = await flightOf(booking.flight_id);
        clear(body, h("div", { class: "confirmation-card" },
          h("p", {}, "Your booking reference"),
          h("p", { class: "reference", id: "booking-reference" }, booking.reference),
          h("dl", { class: "facts" },
            h("dt", {}, "Status"), h("dd", {}, statusBadge(booking.status)),
            h("dt", {}, "Flight"), h("dd", {}, flightLine(flight)),
            h("dt", {}, "Arrives"), h("dd", {}, formatDateTime(flight.arrival_at)),
            h("dt", {}, "Total"), h("dd", {}, formatMoney(booking.total_fare))),
          h("h2", {}, "Passengers"),
          passengerFacts(booking)),
          h("p", { class: "next-steps" },
            h("a", { href: "#/bookings" }, "See all my bookings"), " · ", h("a", { href: "#/" }, "Book another flight")));
      } catch (error) {
        notify(messages, "error", error.message);
      }
    },
    hide() {},
  };
}

export function createBookingsView(view) {
  const messages = view.querySelector(".messages");
  const list = view.querySelector("#bookings-list");
  const more = view.querySelector("#bookings-more");
  const slot = h("div");
  view.insertBefore(slot, list);
  let offset = 0;

  more.addEventListener("click", () => load(false));

  async function load(fresh) {
    if (fresh) {
      offset = 0;
      clear(list);
    }
    try {
      const { data } = await request("GET", "/bookings", { query: { limit: PAGE, offset } });
      for (const booking of data.items) list.append(await bookingCard(booking));
      offset += data.items.length;
      more.hidden = offset >= data.total;
      if (!data.total) list.append(h("li", { class: "empty" }, "You have no bookings yet. ", h("a", { href: "#/" }, "Find a flight"), "."));
    } catch (error) {
      notify(messages, "error", error.message);
    }
  }

  async function bookingCard(booking) {
    let flight = null;
    try {
      flight = await flightOf(booking.flight_id);
    } catch {
      // the booking still shows, without the flight's details
    }
    const actions = h("div", { class: "actions" });
    const card = h("li", { class: "card", "data-reference": booking.reference },
      h("div", {},
        h("h3", {}, `Reference ${booking.reference} `, statusBadge(booking.status)),
        h("p", {}, flight ? flightLine(flight) : `Flight ${booking.flight_id}`),
        passengerFacts(booking),
        h("p", {}, `Total ${formatMoney(booking.total_fare)}`)),
      actions);
    if (booking.status === "confirmed") offerCancel(actions, booking, card);
    return card;
  }

  // Cancelling takes two presses: "Cancel booking", then "Yes, cancel" (or "Keep it").
  function offerCancel(actions, booking, card) {
    const ask = h("button", {
      type: "button", class: "secondary",
      onclick: () => {
        const yes = h("button", { type: "button", class: "danger", onclick: () => cancel(booking, card) }, `Yes, cancel ${booking.reference}`);
        const keep = h("button", { type: "button", onclick: () => { offerCancel(actions, booking, card); focus(actions.querySelector("button")); } }, "Keep it");
        clear(actions, yes, keep);
        focus(yes);
      },
    }, `Cancel booking ${booking.reference}`);
    clear(actions, ask);
  }

  async function cancel(booking, card) {
    try {
      const { data } = await request("DELETE", `/bookings/${booking.id}`);
      card.replaceWith(await bookingCard(data));
      notify(messages, "success", `Booking ${data.reference} is cancelled and its seats are free again.`);
    } catch (error) {
      notify(messages, "error", error.message);
    }
  }

  return {
    async show() {
      clearNotice(messages);
      clear(list);
      more.hidden = true;
      try {
        await requireSession(slot, "Sign in to see your bookings.");
      } catch {
        return;
      }
      await load(true);
    },
    hide() {},
  };
}
