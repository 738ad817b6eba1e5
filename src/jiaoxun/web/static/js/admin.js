// User administration: the admin creates accounts (an officer with his unit, a kiosk clerk with
// his kiosk), disables and enables them, resets passwords and revokes logins; a commander sees
// the list. A password the server makes is shown here once.

import { api, describe, login, session } from "./api.js";
import { $, $$, alertIn, boot, el, fill } from "./dom.js";
import { t } from "./i18n.js";

const desk = { users: [], options: null, admin: false };
window.jx = desk;

window.addEventListener("jx:language", () => render());

boot({ login, session, start });

async function start() {
  desk.admin = session.user.role === "admin";
  desk.users = await api("GET", "/api/users"); // refused to a role that may not read users
  if (desk.admin) {
    desk.options = await api("GET", "/api/users/options");
    setUpCreate();
  }
  $("#who").textContent = `${session.user.username} (${t(`role.${session.user.role}`)})`;
  $("#admin").hidden = false;
  $("#logout").hidden = false;
  render();
  document.body.dataset.ready = "1";
}

async function reload() {
  desk.users = await api("GET", "/api/users");
  render();
}

function setUpCreate() {
  $("#create-card").hidden = false;
  const form = $("#create");
  const option = (value, label) => el("option", { value }, label);
  fill(form.elements.role, desk.options.roles.map((r) => option(r, t(`role.${r}`))));
  fill(form.elements.unit_id, desk.options.units.map((u) => option(u.id, u.name)));
  fill(form.elements.kiosk_id, desk.options.kiosks.map((k) => option(k.id, k.name)));
  const placement = () => {
    for (const label of $$("[data-for]", form)) label.hidden = label.dataset.for !== form.elements.role.value;
  };
  form.elements.role.addEventListener("change", placement);
  placement();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const role = form.elements.role.value;
    const body = { username: form.elements.username.value, role };
    if (role === "officer") body.unit_id = Number(form.elements.unit_id.value);
    if (role === "kiosk_clerk") body.kiosk_id = Number(form.elements.kiosk_id.value);
    try {
      const made = await api("POST", "/api/users", body);
      alertIn(form, "");
      form.elements.username.value = "";
      issued(made);
      await reload();
    } catch (error) {
      alertIn(form, describe(error));
    }
  });
}

/** A password the server made, shown once. */
function issued({ user, password }) {
  const line = $("#issued");
  fill(line, `${user.username}${t("admin.issued")}`, el("code", {}, password));
  line.hidden = false;
}

function place(user) {
  const named = (list, id) => list?.find((c) => c.id === id)?.name ?? `#${id}`;
  if (user.unit_id != null) return named(desk.options?.units, user.unit_id);
  if (user.kiosk_id != null) return named(desk.options?.kiosks, user.kiosk_id);
  return "";
}

function state(user) {
  const words = [t(user.active ? "state.active" : "state.disabled")];
  if (user.locked_until && Date.parse(user.locked_until) > Date.now()) words.push(t("state.locked"));
  if (user.must_change_password) words.push(t("state.must_change"));
  return words.join(", ");
}

function render() {
  const rows = desk.users.map((user) => {
    const button = (key, path, after) =>
      el("button", { type: "button", dataset: { action: key }, onclick: () => perform(user, path, after) }, t(`admin.${key}`));
    const mine = user.username === session.user?.username;
    const actions = desk.admin
      ? [
          user.active ? !mine && button("disable", "disable") : button("enable", "enable"),
          button("reset", "password", issued),
          button("revoke", "revoke-tokens", ({ revoked }) => ($("#action-error").textContent = `${t("admin.revoked")}${revoked}`)),
        ]
      : [];
    return el(
      "tr",
      { class: user.active ? "" : "disabled", dataset: { user: user.username } },
      el("td", {}, user.username),
      el("td", {}, t(`role.${user.role}`)),
      el("td", {}, place(user)),
      el("td", { class: "standing" }, state(user)),
      el("td", {}, actions),
    );
  });
  fill($("#users"), rows);
}

/** One of the row's actions, then the list again. */
async function perform(user, path, after = () => {}) {
  const line = $("#action-error");
  line.textContent = "";
  try {
    after(await api("POST", `/api/users/${user.id}/${path}`));
    await reload();
  } catch (error) {
    line.textContent = describe(error);
  }
}
