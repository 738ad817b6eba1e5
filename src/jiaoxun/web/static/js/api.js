// The REST API and the event stream, with the bearer token kept for this browser tab.

const TOKEN = "jx.token";

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || body?.detail || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

export const session = {
  get token() {
    return sessionStorage.getItem(TOKEN);
  },
  get user() {
    return JSON.parse(sessionStorage.getItem(`${TOKEN}.user`) || "null");
  },
  save(reply) {
    sessionStorage.setItem(TOKEN, reply.access_token);
    sessionStorage.setItem(`${TOKEN}.user`, JSON.stringify(reply));
  },
  clear() {
    sessionStorage.removeItem(TOKEN);
    sessionStorage.removeItem(`${TOKEN}.user`);
  },
};

export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (session.token) headers.Authorization = `Bearer ${session.token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const reply = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await reply.text();
  const data = text ? JSON.parse(text) : null;
  if (!reply.ok) {
    if (reply.status === 401 && path !== "/api/auth/token") {
      session.clear();
      window.dispatchEvent(new Event("jx:logged-out"));
    }
    throw new ApiError(reply.status, data);
  }
  return data;
}

export async function login(username, password) {
  const reply = await api("POST", "/api/auth/token", { username, password });
  session.save(reply);
  return reply;
}

/** Listen to `/api/events`, reconnecting after a drop; `onEvent` gets each parsed event.
 *
 * `onOpen` loads the page's snapshot (units, incidents…) each time the stream (re)connects:
 * the server subscribes the socket before the handshake ends, so a change made while the
 * snapshot loads is on the stream, and one made while the stream was down is in the snapshot.
 * Events that arrive while `onOpen` runs are held and handed over once it is done.
 * `movesOf`: only this unit's positions (the others' are left on the server). */
export function listen(onEvent, { onOpen = async () => {}, onState = () => {}, movesOf = null } = {}) {
  let socket = null;
  let closed = false;
  let delay = 500;
  const retry = () => {
    if (!closed && session.token) setTimeout(open, (delay = Math.min(delay * 2, 10000)));
  };
  const open = async () => {
    // a one-time ticket, never the token, goes in the socket's URL (servers log URLs)
    let ticket;
    try {
      ({ ticket } = await api("POST", "/api/events/ticket"));
    } catch {
      onState(false);
      retry();
      return;
    }
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const query = new URLSearchParams({ ticket });
    if (movesOf != null) query.set("moves_of", movesOf);
    const url = `${scheme}://${location.host}/api/events?${query}`;
    const held = [];
    let deliver = (event) => held.push(event);
    socket = new WebSocket(url);
    socket.onopen = async () => {
      delay = 500;
      onState(true);
      try {
        await onOpen();
      } finally {
        for (const event of held) onEvent(event);
        deliver = onEvent;
      }
    };
    socket.onmessage = (message) => deliver(JSON.parse(message.data));
    socket.onclose = () => {
      onState(false);
      retry();
    };
  };
  open();
  return () => {
    closed = true;
    socket?.close();
  };
}

/** A human message for a failed call: the API's message names the rule and the value. */
export function describe(error) {
  return error instanceof ApiError ? `${error.status}: ${error.message}` : String(error.message || error);
}
