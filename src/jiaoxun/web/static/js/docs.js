// The API documentation: Swagger UI from the local package (no CDN), on the API's own
// description. When the server keeps the description behind a log-in (JIAOXUN_DOCS=login), the
// pages' log-in form comes first; "Try it out" then sends the same bearer token.

import { api, login, session } from "./api.js";
import { $, boot } from "./dom.js";

function bearer(headers = {}) {
  return session.token ? { ...headers, Authorization: `Bearer ${session.token}` } : headers;
}

function show(spec) {
  $("#docs").hidden = false;
  $("#logout").hidden = !session.token;
  window.SwaggerUIBundle({
    spec,
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null, // the online validator is off the network
    requestInterceptor: (request) => {
      if (!request.headers.Authorization) request.headers = bearer(request.headers);
      return request;
    },
  });
  document.body.dataset.ready = "1";
}

const open = await fetch("/openapi.json", { headers: bearer({ Accept: "application/json" }) });
if (open.ok) show(await open.json());
else boot({ login, session, start: async () => show(await api("GET", "/openapi.json")) });
