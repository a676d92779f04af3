// The page's entry point: hash routes (#/, #/flight/7, #/booking/12, #/bookings, #/admin), the
// account corner and the "service unavailable" banner.
import { onServiceStatus, onSessionChange, refreshUser, session } from "./api.js";
import { closeAuthPanel, renderAccount } from "./auth.js";
import { createAdminView } from "./admin.js";
import { createBookingsView, createConfirmationView, rememberBooking } from "./bookings.js";
import { h, clear, focus } from "./dom.js";
import { createFlightView } from "./flight.js";
import { createSearchView } from "./search.js";

const $ = (id) => document.getElementById(id);

const views = {
  search: { el: $("view-search") },
  flight: { el: $("view-flight") },
  confirmation: { el: $("view-confirmation") },
  bookings: { el: $("view-bookings") },
  admin: { el: $("view-admin") },
};
views.search.impl = createSearchView(views.search.el);
views.flight.impl = createFlightView(views.flight.el, {
  onBooked: (booking) => {
    rememberBooking(booking);
    location.hash = `#/booking/${booking.id}`;
  },
});
views.confirmation.impl = createConfirmationView(views.confirmation.el);
views.bookings.impl = createBookingsView(views.bookings.el);
views.admin.impl = createAdminView(views.admin.el, { onChange: () => views.search.impl.reload() });

const ROUTES = [
  [/^#?\/?$/, "search"],
  [/^#\/flight\/(\d+)$/, "flight"],
  [/^#\/booking\/(\d+)$/, "confirmation"],
  [/^#\/bookings$/, "bookings"],
  [/^#\/admin$/, "admin"],
];

let current = null;

function route() {
  const hash = location.hash;
  // In-page anchors such as the skip link are not routes.
  if (hash && !hash.startsWith("#/")) return;
  let name = "search";
  let param = null;
  for (const [pattern, view] of ROUTES) {
    const match = hash.match(pattern);
    if (match) {
      name = view;
      param = match[1] ? Number(match[1]) : null;
      break;
    }
  }
  closeAuthPanel();
  if (current && current !== name) {
    views[current].impl.hide();
    views[current].el.hidden = true;
  }
  const first = current === null;
  current = name;
  const { el, impl } = views[name];
  el.hidden = false;
  for (const link of document.querySelectorAll(".top nav a")) {
    if (link.getAttribute("href") === (hash || "#/")) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const shown = impl.show(param);
  // Move focus to the new view's heading so keyboard and screen-reader users start there.
  if (!first) focus(el.querySelector("h1"));
  return shown;
}

function updateAccount() {
  const value = session();
  renderAccount($("account"), { onSignOut: route, onSignIn: route });
  $("nav-admin").hidden = !(value && value.user && value.user.is_admin);
}

// --- the 503 banner ----------------------------------------------------------------------------
let bannerTimer = null;

onServiceStatus((status) => {
  const banner = $("service-status");
  clearInterval(bannerTimer);
  if (!status) {
    banner.replaceChildren();
    return;
  }
  let left = status.retryAfter;
  const text = h("p");
  const draw = () => {
    if (status.retrying) {
      clear(text, left > 0
        ? `The booking service is briefly unavailable. Trying again in ${left} ${left === 1 ? "second" : "seconds"}…`
        : "The booking service is briefly unavailable. Trying again now…");
    } else {
      clear(text, left > 0
        ? `The booking service is briefly unavailable. Please try again in ${left} ${left === 1 ? "second" : "seconds"}.`
        : "The booking service should be back: please try again.");
    }
  };
  draw();
  clear(banner, h("div", { class: "notice notice-warning" }, text));
  bannerTimer = setInterval(() => {
    left -= 1;
    draw();
    if (left <= 0) clearInterval(bannerTimer);
  }, 1000);
});

onSessionChange(updateAccount);
window.addEventListener("hashchange", route);

updateAccount();
route();
if (session()) refreshUser().catch(() => updateAccount());
