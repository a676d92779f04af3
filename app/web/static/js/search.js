// Searching flights by origin, destination and UTC departure date.
import { request } from "./api.js";
import { h, clear, notify, clearNotice, focus, formatDateTime, formatMoney } from "./dom.js";

const PAGE = 20;
const AIRPORT = /^[A-Z]{3}$/;

export function flightCard(flight, ...actions) {
  const cancelled = flight.status === "cancelled";
  const name = `${flight.number}, ${flight.origin} to ${flight.destination}, ${formatDateTime(flight.departure_at)}`;
  return h("li", { class: "card", "data-flight-id": flight.id },
    h("div", {},
      h("h3", {}, `${flight.number} · ${flight.origin} → ${flight.destination} `,
        cancelled ? h("span", { class: "badge badge-cancelled" }, "Cancelled") : null),
      h("p", {}, `Departs ${formatDateTime(flight.departure_at)}`),
      h("p", {}, `Arrives ${formatDateTime(flight.arrival_at)}`),
      h("p", {}, `Fare ${formatMoney(flight.fare)} · ${flight.seats_available} of ${flight.seats_total} seats free`)),
    h("div", { class: "actions" },
      cancelled ? null : h("a", { class: "button-link", href: `#/flight/${flight.id}`, "aria-label": `Choose seats on ${name}` }, "Choose seats"),
      ...actions));
}

export function createSearchView(view) {
  const form = view.querySelector("#search-form");
  const messages = view.querySelector(".messages");
  const results = view.querySelector("#search-results");
  const resultsTitle = view.querySelector("#results-title");
  const more = view.querySelector("#search-more");
  const origin = form.elements.origin;
  const destination = form.elements.destination;
  const date = form.elements.date;
  let query = {};
  let offset = 0;

  for (const input of [origin, destination]) {
    input.addEventListener("input", () => {
      input.value = input.value.toUpperCase();
      input.removeAttribute("aria-invalid");
    });
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const wanted = { origin: origin.value.trim().toUpperCase(), destination: destination.value.trim().toUpperCase(), date: date.value };
    for (const [input, value, label] of [[origin, wanted.origin, "From"], [destination, wanted.destination, "To"]]) {
      if (value && !AIRPORT.test(value)) {
        input.setAttribute("aria-invalid", "true");
        notify(messages, "error", `${label}: please enter a three-letter airport code, such as LHR.`);
        focus(input);
        return;
      }
    }
    query = wanted;
    await load(true);
  });

  more.addEventListener("click", () => load(false));

  async function load(fresh) {
    if (fresh) offset = 0;
    clearNotice(messages);
    try {
      const { data } = await request("GET", "/flights", { query: { ...query, limit: PAGE, offset }, auth: false });
      const filtered = query.origin || query.destination || query.date;
      clear(resultsTitle, filtered ? `${data.total} ${data.total === 1 ? "flight" : "flights"} found` : "Upcoming flights");
      if (fresh) clear(results);
      for (const flight of data.items) results.append(flightCard(flight));
      offset += data.items.length;
      more.hidden = offset >= data.total;
      if (!data.total) {
        results.append(h("li", { class: "empty" }, filtered ? "No flights match. Try another date or airport." : "No flights are scheduled yet."));
      }
    } catch (error) {
      notify(messages, "error", error.message);
    }
  }

  return {
    async show() {
      // Fresh each time: seat counts change while the traveller is elsewhere.
      await load(true);
    },
    hide() {},
    reload: () => load(true),
  };
}
