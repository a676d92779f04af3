// Talking to the booking API: the token, error messages in plain words, and 503 + Retry-After.
//
// The access token lives in sessionStorage: it survives a reload of the tab but not closing it, and
// other tabs and sites cannot read it. The Content-Security-Policy (only this origin's scripts, none
// inline) is what keeps injected script away from it. It is dropped when the API says it expired.

const TOKEN_KEY = "booking.session";
const MAX_RETRY_AFTER = 60;
const GET_RETRIES = 3;

export class ApiError extends Error {
  constructor(status, message, { detail = null, retryAfter = null } = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.detail = detail;
    this.retryAfter = retryAfter;
  }
}

// --- session -----------------------------------------------------------------------------------
const listeners = new Set();

export function onSessionChange(fn) {
  listeners.add(fn);
}

export function session() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(TOKEN_KEY) || "null");
    if (saved && saved.token && saved.expiresAt > Date.now()) return saved;
  } catch {
    // unreadable: treat as signed out
  }
  return null;
}

function saveSession(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, JSON.stringify(value));
  else sessionStorage.removeItem(TOKEN_KEY);
  for (const fn of listeners) fn(value);
}

export async function signIn(email, password) {
  const form = new URLSearchParams({ username: email, password });
  const { data } = await request("POST", "/auth/token", { form, auth: false });
  // A minute early, so a request never leaves with a token about to expire.
  const value = { token: data.access_token, expiresAt: Date.now() + (data.expires_in - 60) * 1000, user: null };
  sessionStorage.setItem(TOKEN_KEY, JSON.stringify(value));
  const me = await request("GET", "/auth/me");
  value.user = me.data;
  saveSession(value);
  return value;
}

export async function register(email, password) {
  await request("POST", "/auth/register", { json: { email, password }, auth: false });
  return signIn(email, password);
}

export function signOut() {
  saveSession(null);
}

export async function refreshUser() {
  const current = session();
  if (!current) return null;
  const { data } = await request("GET", "/auth/me");
  const value = { ...current, user: data };
  saveSession(value);
  return value;
}

// --- 503 ---------------------------------------------------------------------------------------
const unavailableListeners = new Set();

/** fn({retryAfter, retrying}) when the API answers 503; fn(null) when it answers again. */
export function onServiceStatus(fn) {
  unavailableListeners.add(fn);
}

function serviceStatus(value) {
  for (const fn of unavailableListeners) fn(value);
}

export function retryAfterSeconds(headerValue) {
  if (!headerValue) return 5;
  const seconds = Number(headerValue);
  let wait = Number.isFinite(seconds) ? seconds : (Date.parse(headerValue) - Date.now()) / 1000;
  if (!Number.isFinite(wait)) wait = 5;
  return Math.min(MAX_RETRY_AFTER, Math.max(1, Math.ceil(wait)));
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// --- requests ----------------------------------------------------------------------------------
/**
 * request("GET", "/flights", {query, json, form, headers, auth, etag})
 * → {status, data, headers, notModified, serverOffset}. Throws ApiError with a plain-words message.
 * GETs that meet a 503 wait Retry-After seconds and try again (a few times); other methods throw
 * at once with `retryAfter` set, so the page can say when to try again.
 */
export async function request(method, path, options = {}) {
  const { query, json, form, headers = {}, auth = true, etag = null } = options;
  let url = path;
  if (query) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== "") params.set(k, v);
    const qs = params.toString();
    if (qs) url += `?${qs}`;
  }
  const init = { method, headers: { Accept: "application/json", ...headers }, cache: "no-store" };
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (form) {
    init.body = form;
  }
  if (etag) init.headers["If-None-Match"] = etag;
  if (auth) {
    const current = session();
    if (current) init.headers.Authorization = `Bearer ${current.token}`;
  }

  for (let attempt = 0; ; attempt += 1) {
    let response;
    try {
      response = await fetch(url, init);
    } catch {
      throw new ApiError(0, "Could not reach the booking service. Check your connection and try again.");
    }
    if (response.status === 503) {
      const retryAfter = retryAfterSeconds(response.headers.get("Retry-After"));
      await response.text();
      if (method === "GET" && attempt < GET_RETRIES) {
        serviceStatus({ retryAfter, retrying: true });
        await sleep(retryAfter * 1000);
        continue;
      }
      serviceStatus({ retryAfter, retrying: false });
      throw new ApiError(503, unavailableMessage(retryAfter), { retryAfter });
    }
    serviceStatus(null);
    const serverOffset = clockOffset(Date.parse(response.headers.get("Date") || ""), Date.now());
    if (response.status === 304) {
      // Read the (empty) body: a response left unread is reported as an aborted request.
      await response.text();
      return { status: 304, data: null, headers: response.headers, notModified: true, serverOffset };
    }
    const text = await response.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
    if (response.ok) {
      return { status: response.status, data, headers: response.headers, notModified: false, serverOffset };
    }
    const detail = data && typeof data === "object" ? data.detail : null;
    if (response.status === 401 && auth && session()) {
      signOut();
      throw new ApiError(401, "Your sign-in has expired. Please sign in again.", { detail });
    }
    throw new ApiError(response.status, plainMessage(response.status, detail), { detail });
  }
}

/**
 * How far the server's clock is ahead of this one (ms), from a response's Date header, so a hold's
 * countdown is right even when this computer's clock is off. Date has whole seconds and servers may
 * cache it for a second, so it reads 0-2 s early: the estimate takes the middle of that, and within
 * 2 s of this clock it takes the clocks as equal (a synced clock is better than the estimate).
 */
export function clockOffset(serverDateMs, localMs) {
  if (!Number.isFinite(serverDateMs)) return 0;
  const offset = serverDateMs + 1000 - localMs;
  return Math.abs(offset) <= 2000 ? 0 : offset;
}

export function unavailableMessage(seconds) {
  return `The booking service is briefly unavailable. Please try again in ${seconds} ${seconds === 1 ? "second" : "seconds"}.`;
}

// --- errors in plain words ---------------------------------------------------------------------
const FIELD_NAMES = {
  email: "Email",
  password: "Password",
  username: "Email",
  origin: "From",
  destination: "To",
  date: "Departure date",
  number: "Flight number",
  departure_at: "Departure",
  arrival_at: "Arrival",
  rows: "Seat rows",
  seat_letters: "Seat letters",
  fare: "Fare",
  seats: "Seats",
  passengers: "Passengers",
  name: "Passenger name",
  seat: "Seat",
  hold_id: "Hold",
  flight_id: "Flight",
};

function sentence(text) {
  const t = String(text).trim();
  if (!t) return t;
  const capital = t[0].toUpperCase() + t.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

/** One FastAPI/pydantic validation error as "Field: what is wrong." */
export function describeValidationError(error) {
  const loc = (error.loc || []).filter((part) => !["body", "query", "path", "header"].includes(part));
  const named = [...loc].reverse().find((part) => typeof part === "string" && FIELD_NAMES[part]);
  let msg = String(error.msg || "is not valid")
    .replace(/^Value error, /, "")
    .replace(/^Assertion failed, /, "")
    .replace(/^String should/, "should")
    .replace(/^Input should/, "should")
    .replace(/^Field required$/, "is required")
    .replace(/^value is not a valid email address: /, "");
  if (/^should match pattern/.test(msg) && named) msg = "is not in the expected format";
  return sentence(named ? `${FIELD_NAMES[named]}: ${msg}` : msg);
}

const STATUS_WORDS = {
  400: "The request was not understood.",
  401: "Please sign in first.",
  403: "Your account is not allowed to do that.",
  404: "That was not found. It may have been removed.",
  405: "This server does not support that action yet.",
  409: "That conflicts with the current state. Please refresh and try again.",
  413: "That request is too large.",
  422: "Some details are not valid.",
  429: "Too many requests. Please wait a moment and try again.",
};

export function plainMessage(status, detail) {
  if (Array.isArray(detail) && detail.length) {
    return detail.map(describeValidationError).join(" ");
  }
  if (typeof detail === "string" && detail.trim()) {
    if (detail === "Not Found") return STATUS_WORDS[404];
    if (detail === "Method Not Allowed") return STATUS_WORDS[405];
    return sentence(detail);
  }
  if (STATUS_WORDS[status]) return STATUS_WORDS[status];
  return status >= 500 ? "Something went wrong on our side. Please try again." : `The request failed (HTTP ${status}).`;
}

/** Seat labels named in a 409 detail such as "seats not available: 1A, 1B". */
export function seatsInDetail(detail) {
  if (typeof detail !== "string") return [];
  return detail.match(/\b[1-9][0-9]{0,2}[A-Z]\b/g) || [];
}

/** A random Idempotency-Key, so a retried booking never books twice. */
export function newIdempotencyKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
