// Inline sign-in and registration: one small form, shown where it is needed (before holding seats,
// on "My bookings", or from the header), that resolves a promise once the traveller is signed in.
import { register, session, signIn, signOut, ApiError } from "./api.js";
import { h, clear, notify, focus } from "./dom.js";

let panel = null; // {element, resolve, reject}

/** The current session, or a sign-in form in `slot` that resolves with the session once used. */
export function requireSession(slot, reason) {
  const current = session();
  if (current) return Promise.resolve(current);
  return new Promise((resolve, reject) => {
    showAuthPanel(slot, reason, resolve, reject);
  });
}

export function closeAuthPanel() {
  if (!panel) return;
  panel.element.remove();
  const { reject } = panel;
  panel = null;
  reject(new ApiError(401, "Sign-in was cancelled."));
}

export function showAuthPanel(slot, reason, resolve = () => {}, reject = () => {}) {
  if (panel) {
    const previous = panel;
    panel = null;
    previous.element.remove();
    previous.reject(new ApiError(401, "Sign-in was replaced."));
  }
  let mode = "signin";
  const messages = h("div", { class: "messages", "aria-live": "polite" });
  const title = h("h2", { id: "auth-title", tabindex: "-1" });
  const email = h("input", { id: "auth-email", name: "email", type: "email", autocomplete: "username", required: true });
  const password = h("input", {
    id: "auth-password", name: "password", type: "password", autocomplete: "current-password",
    required: true, minlength: "8", maxlength: "128", "aria-describedby": "auth-password-hint",
  });
  const passwordHint = h("span", { id: "auth-password-hint", class: "hint" });
  const submit = h("button", { type: "submit", class: "primary" });
  const switchButton = h("button", { type: "button", class: "linkish", onclick: () => setMode(mode === "signin" ? "register" : "signin") });
  const cancel = h("button", { type: "button", class: "linkish", onclick: closeAuthPanel }, "Not now");

  function setMode(next) {
    mode = next;
    clear(title, mode === "signin" ? "Sign in" : "Create an account");
    clear(submit, mode === "signin" ? "Sign in" : "Create account");
    clear(switchButton, mode === "signin" ? "New here? Create an account" : "Have an account? Sign in");
    password.setAttribute("autocomplete", mode === "signin" ? "current-password" : "new-password");
    clear(passwordHint, mode === "signin" ? "" : "(8 to 128 characters)");
    messages.replaceChildren();
  }

  const form = h("form", { novalidate: true, onsubmit: onSubmit },
    h("div", { class: "field" }, h("label", { for: "auth-email" }, "Email"), email),
    h("div", { class: "field" }, h("label", { for: "auth-password" }, "Password ", passwordHint), password),
    h("div", { class: "field field-submit" }, submit));

  async function onSubmit(event) {
    event.preventDefault();
    const address = email.value.trim();
    if (!address || !password.value) {
      notify(messages, "error", "Please enter your email and password.");
      focus(address ? password : email);
      return;
    }
    if (mode === "register" && password.value.length < 8) {
      notify(messages, "error", "Password: should have at least 8 characters.");
      focus(password);
      return;
    }
    submit.disabled = true;
    try {
      const value = mode === "signin" ? await signIn(address, password.value) : await register(address, password.value);
      const done = panel;
      panel = null;
      element.remove();
      if (done) done.resolve(value);
    } catch (error) {
      let message = error.message;
      if (error.status === 409 && mode === "register") message = "That email is already registered. Sign in instead.";
      if (error.status === 401 && mode === "signin") message = "Incorrect email or password.";
      notify(messages, "error", message);
      focus(password);
    } finally {
      submit.disabled = false;
    }
  }

  const element = h("section", { class: "auth-panel", "aria-labelledby": "auth-title" },
    title, reason ? h("p", {}, reason) : null, messages, form,
    h("p", { class: "auth-switch" }, switchButton, " ", cancel));
  setMode("signin");
  panel = { element, resolve, reject };
  slot.append(element);
  focus(email);
  return element;
}

export function renderAccount(container, { onSignOut, onSignIn }) {
  const current = session();
  if (current) {
    const who = current.user ? current.user.email : "signed in";
    clear(container,
      h("span", { class: "who" }, "Signed in as ", h("strong", {}, who)),
      h("button", { type: "button", onclick: () => { signOut(); onSignOut(); } }, "Sign out"));
  } else {
    clear(container, h("button", {
      type: "button",
      onclick: () => showAuthPanel(document.getElementById("auth-slot"), null, onSignIn),
    }, "Sign in"));
  }
}
