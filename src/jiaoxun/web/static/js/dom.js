// Building elements from data without innerHTML: what callers typed never becomes markup;
// and the start every page shares.

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

function loginForm() {
  const text = (tag, key, attributes = {}) => el(tag, { ...attributes, dataset: { i18n: key } }, t(key));
  return el(
    "form",
    { id: "login", class: "login", hidden: true },
    text("h1", "login.title"),
    el("label", {}, text("span", "login.username"), el("input", { name: "username", autocomplete: "username", required: true })),
    el("label", {}, text("span", "login.password"), el("input", { name: "password", type: "password", autocomplete: "current-password", required: true })),
    text("button", "login.submit", { type: "submit" }),
    el("p", { class: "error", role: "alert" }),
  );
}

/** Start a page: its language, the header's language switch and log-out, and the log-in form
 * when there is no token. When the page cannot start (a role it is not for, say) the token is
 * dropped and the form shows why. */
export function boot({ login, session, start }) {
  translate();
  $("#lang").addEventListener("click", switchLanguage);
  $("#logout").addEventListener("click", () => {
    session.clear();
    location.reload();
  });
  window.addEventListener("jx:logged-out", () => location.reload());
  const form = loginForm();
  $("header").after(form);
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
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    try {
      await login(data.get("username"), data.get("password"));
    } catch (error) {
      alertIn(form, error.message);
      return;
    }
    alertIn(form, "");
    form.hidden = true;
    await run();
  });
  if (session.token) run();
  else form.hidden = false;
}
