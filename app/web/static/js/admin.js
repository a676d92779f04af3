// Admins: create flights (POST /flights) and cancel them (POST /flights/{id}/cancel).
import { request } from "./api.js";
import { requireSession } from "./auth.js";
import { h, clear, notify, clearNotice, focus } from "./dom.js";
import { flightCard } from "./search.js";

/** A datetime-local value ("2031-05-01T09:00"), read as UTC, in the API's ISO form. */
export function utcIso(localValue) {
  if (!localValue) return "";
  const withSeconds = localValue.length === 16 ? `${localValue}:00` : localValue;
  return `${withSeconds}Z`;
}

export function createAdminView(view, { onChange }) {
  const messages = view.querySelector(".messages");
  const form = view.querySelector("#flight-form");
  const list = view.querySelector("#admin-flights");
  const body = view.querySelector("#admin-body");
  const slot = h("div");
  view.insertBefore(slot, body);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const f = form.elements;
    for (const input of form.querySelectorAll("input")) input.removeAttribute("aria-invalid");
    const empty = [...form.querySelectorAll("input[required]")].find((input) => !input.value.trim());
    if (empty) {
      empty.setAttribute("aria-invalid", "true");
      notify(messages, "error", `${empty.labels[0].firstChild.textContent.trim()}: please fill this in.`);
      focus(empty);
      return;
    }
    const body = {
      number: f.number.value.trim().toUpperCase(),
      origin: f.origin.value.trim().toUpperCase(),
      destination: f.destination.value.trim().toUpperCase(),
      departure_at: utcIso(f.departure_at.value),
      arrival_at: utcIso(f.arrival_at.value),
      rows: Number(f.rows.value),
      seat_letters: f.seat_letters.value.trim().toUpperCase(),
      fare: f.fare.value.trim(),
    };
    const submit = form.querySelector("button[type=submit]");
    submit.disabled = true;
    try {
      const { data } = await request("POST", "/flights", { json: body });
      notify(messages, "success", `Flight ${data.number} (${data.origin} to ${data.destination}) was created. `,
        h("a", { href: `#/flight/${data.id}` }, `Open the seat map of ${data.number}`), ".");
      form.reset();
      onChange();
      await loadFlights();
    } catch (error) {
      notify(messages, "error", error.message);
    } finally {
      submit.disabled = false;
    }
  });

  async function loadFlights() {
    try {
      const { data } = await request("GET", "/flights", { query: { limit: 100 }, auth: false });
      clear(list, data.items.map((flight) => adminCard(flight)));
      if (!data.items.length) list.append(h("li", { class: "empty" }, "No upcoming flights."));
    } catch (error) {
      notify(messages, "error", error.message);
    }
  }

  function adminCard(flight) {
    const actions = h("span", { class: "actions" });
    const card = flightCard(flight, actions);
    if (flight.status !== "cancelled") offerCancel(actions, flight, card);
    return card;
  }

  // Cancelling a flight cancels its bookings too, so it takes two presses.
  function offerCancel(actions, flight, card) {
    clear(actions, h("button", {
      type: "button",
      onclick: () => {
        const yes = h("button", { type: "button", class: "danger", onclick: () => cancel(flight, card) }, `Yes, cancel flight ${flight.number}`);
        const keep = h("button", { type: "button", onclick: () => { offerCancel(actions, flight, card); focus(actions.querySelector("button")); } }, "Keep it");
        clear(actions, yes, keep);
        focus(yes);
      },
    }, `Cancel flight ${flight.number}`));
  }

  async function cancel(flight, card) {
    try {
      const { data } = await request("POST", `/flights/${flight.id}/cancel`);
      card.replaceWith(adminCard(data));
      notify(messages, "success", `Flight ${data.number} is ${data.status === "cancelled" ? "cancelled" : data.status}.`);
      onChange();
    } catch (error) {
      notify(messages, "error", error.message);
    }
  }

  return {
    async show() {
      clearNotice(messages);
      body.hidden = true;
      let current;
      try {
        current = await requireSession(slot, "Sign in with an admin account to manage flights.");
      } catch {
        return;
      }
      if (!current.user || !current.user.is_admin) {
        notify(messages, "error", "Only admins can manage flights. Your account is not an admin account.");
        return;
      }
      body.hidden = false;
      await loadFlights();
    },
    hide() {},
  };
}
