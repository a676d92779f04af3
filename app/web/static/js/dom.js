// Small DOM helpers. Text always goes in as text nodes, never parsed as HTML, so API data cannot inject markup.

/**
 * h("button", {class: "primary", type: "button", onclick: fn, "aria-label": "…"}, "text", child…)
 * Keys starting with "on" become event listeners; `hidden`/`disabled` are boolean properties;
 * anything else is an attribute (null/false leaves it out).
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "hidden" || key === "disabled" || key === "required") {
      el[key] = Boolean(value);
    } else if (key === "value") {
      el.value = value;
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** Show one notice in `container` (a live region), replacing what was there. kind: info|success|warning|error */
export function notify(container, kind, ...content) {
  const notice = h("div", { class: `notice notice-${kind}`, role: kind === "error" ? "alert" : null }, h("p", {}, ...content));
  clear(container, notice);
  return notice;
}

export function clearNotice(container) {
  container.replaceChildren();
}

/** Move keyboard focus to `el` (headings get tabindex=-1 so they can take it) without scrolling jumps. */
export function focus(el) {
  if (!el) return;
  if (!el.hasAttribute("tabindex") && !/^(A|BUTTON|INPUT|SELECT|TEXTAREA)$/.test(el.tagName)) {
    el.setAttribute("tabindex", "-1");
  }
  el.focus({ preventScroll: false });
}

const UTC_DATE_TIME = new Intl.DateTimeFormat("en-GB", {
  weekday: "short", day: "numeric", month: "short", year: "numeric",
  hour: "2-digit", minute: "2-digit", timeZone: "UTC", hour12: false,
});
const UTC_TIME = new Intl.DateTimeFormat("en-GB", {
  hour: "2-digit", minute: "2-digit", second: "2-digit", timeZone: "UTC", hour12: false,
});

export function formatDateTime(iso) {
  return `${UTC_DATE_TIME.format(new Date(iso))} UTC`;
}

export function formatTime(date) {
  return `${UTC_TIME.format(date)} UTC`;
}

/** Fares are decimal strings from the API ("100.00"); the API has no currency, so none is shown. */
export function formatMoney(value) {
  const n = Number(value);
  return Number.isFinite(n) ? n.toFixed(2) : String(value);
}

export function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}

/** "1A", "1A and 1B", "1A, 1B and 2C" */
export function listSeats(seats) {
  const s = [...seats];
  if (s.length <= 1) return s.join("");
  return `${s.slice(0, -1).join(", ")} and ${s[s.length - 1]}`;
}

/** mm:ss for a number of seconds (never negative). */
export function clock(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}
