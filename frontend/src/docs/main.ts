// /docs: Swagger UI over /openapi.json, bundled from swagger-ui-dist into
// the UI's build (dist/docs.html, served by the API server at /docs).
// "Try it out" sends the logged-in user's token: the one the UI keeps in
// localStorage (api/client.ts' session), preauthorized on the "bearer"
// scheme, and followed when the user logs in or out in another tab.
import SwaggerUIBundle from "swagger-ui-dist/swagger-ui-bundle.js";
import "swagger-ui-dist/swagger-ui.css";
import { session, TOKEN_KEY } from "../api/client";
import "./docs.css";

const ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  displayRequestDuration: true,
  docExpansion: "list",
  filter: true,
  // The token comes from the UI's session on every load; a pasted one
  // lasts for the page, so nothing of Swagger UI's own is stored.
  persistAuthorization: false,
  presets: [SwaggerUIBundle.presets.apis],
  onComplete: () => authorize(session.token()),
});

/** authorize puts token on the bearer scheme, or clears it when there is none, and says whose it is. */
function authorize(token: string | null) {
  const who = document.querySelector<HTMLElement>("[data-testid=docs-who]")!;
  if (!token) {
    ui.authActions.logout(["bearer"]);
    who.textContent = "Not logged in: log in to the UI, or paste a token under Authorize";
    return;
  }
  ui.preauthorizeApiKey("bearer", token);
  fetch("/api/v1/auth/me", { headers: { Authorization: `Bearer ${token}` } })
    .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`HTTP ${r.status}`))))
    .then((u: { email: string; role: string }) => (who.textContent = `Requests are sent as ${u.email} (${u.role})`))
    .catch(() => (who.textContent = "The UI's token was refused: log in again, or paste a token under Authorize"));
}

window.addEventListener("storage", (e) => {
  if (e.key === TOKEN_KEY || e.key === null) authorize(session.token());
});
