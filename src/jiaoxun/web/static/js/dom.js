// Building elements from data without innerHTML: what callers typed never becomes markup;
// and the start every page shares.

import { api } from "./api.js";
import { switchLanguage, t, translate } from "./i18n.js";

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value == null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name === "style") node.style.cssText = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** Replace a node's children, leaving out the false, null and empty ones of conditionals. */
export function fill(node, ...children) {
  node.replaceChildren(...children.flat().filter((c) => c != null && c !== false && c !== ""));
  return node;
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

export function $$(selector, root = document) {
  return [...root.querySelectorAll(selector)];
}

/** Run `fn` at most once per `ms`, with the last arguments. */
export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** Seconds since an ISO time. */
export function since(iso, now = Date.now()) {
  return iso ? (now - Date.parse(iso)) / 1000 : null;
}

/** Show a message in a form's alert line; empty clears it. */
export function alertIn(form, message) {
  const line = $(".error", form);
  if (line) line.textContent = message || "";
}

function text(tag, key, attributes = {}) {
  return el(tag, { ...attributes, dataset: { i18n: key } }, t(key));
}

function field(key, attributes) {
  return el("label", {}, text("span", key), el("input", { required: true, ...attributes }));
}

function loginForm() {
  return el(
    "form",
    { id: "login", class: "login", hidden: true },
    text("h1", "login.title"),
    field("login.username", { name: "username", autocomplete: "username" }),
    field("login.password", { name: "password", type: "password", autocomplete: "current-password" }),
    text("button", "login.submit", { type: "submit" }),
    el("p", { class: "error", role: "alert" }),
  );
}

/** The form that a first-login or reset password leads to: nothing else works until the user
 * has a password of his own. */
function passwordForm() {
  const secret = (name, autocomplete) => ({ name, type: "password", autocomplete });
  return el(
    "form",
    { id: "password-change", class: "login", hidden: true },
    text("h1", "password.title"),
    text("p", "password.why", { class: "hint" }),
    field("password.current", secret("current", "current-password")),
    field("password.new", secret("new", "new-password")),
    field("password.repeat", secret("repeat", "new-password")),
    text("p", "password.rule", { class: "hint" }),
    text("button", "password.submit", { type: "submit" }),
    el("p", { class: "error", role: "alert" }),
  );
}

/** Start a page: its language, the header's language switch and log-out, the log-in form when
 * there is no token, and the password change when the server says the password must be
 * changed first. When the page cannot start (a role it is not for, say) the token is dropped
 * and the form shows why. */
export function boot({ login, session, start }) {
  translate();
  $("#lang").addEventListener("click", switchLanguage);
  $("#logout").addEventListener("click", async () => {
    await api("POST", "/api/auth/logout").catch(() => {}); // the server forgets the token
    session.clear();
    location.reload();
  });
  window.addEventListener("jx:logged-out", () => location.reload());
  const form = loginForm();
  const change = passwordForm();
  $("header").after(form, change);
  const run = async () => {
    try {
      await start();
    } catch (error) {
      session.clear();
      for (const main of $$("main")) main.hidden = true;
      $("#logout").hidden = true;
      form.hidden = false;
      alertIn(form, error.message);
    }
  };
  const askNewPassword = (current) => {
    const known = current != null;
    change.elements.current.value = current ?? "";
    change.elements.current.closest("label").hidden = known; // just typed at the log-in form
    change.hidden = false;
    $("#logout").hidden = false;
    change.elements[known ? "new" : "current"].focus();
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    let reply;
    try {
      reply = await login(data.get("username"), data.get("password"));
    } catch (error) {
      alertIn(form, error.message);
      return;
    }
    alertIn(form, "");
    form.hidden = true;
    if (reply.must_change_password) askNewPassword(data.get("password"));
    else await run();
  });
  change.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(change);
    if (data.get("new") !== data.get("repeat")) {
      alertIn(change, t("password.mismatch"));
      return;
    }
    try {
      await api("POST", "/api/auth/password", { current_password: data.get("current"), new_password: data.get("new") });
    } catch (error) {
      alertIn(change, error.message);
      return;
    }
    session.save({ ...session.user, access_token: session.token, must_change_password: false });
    change.reset();
    alertIn(change, "");
    change.hidden = true;
    await run();
  });
  if (session.token && session.user?.must_change_password) askNewPassword(null);
  else if (session.token) run();
  else form.hidden = false;
}
