// What the end-to-end tests need from the running stack (make up): the
// API's address, an admin token, a cluster, the template function, and a
// viewer. Everything through the API, as a user's script would.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const repo = resolve(import.meta.dirname, "../..");
export const base = process.env.TRIBUTARY_API_URL ?? "http://127.0.0.1:8080";
export const chromium = process.env.CHROMIUM ?? "/usr/bin/chromium";
export const shots = resolve(import.meta.dirname, "../test-results");
export const admin = {
  email: process.env.TRIBUTARY_ADMIN_EMAIL ?? "admin@tributary.local",
  password: readFileSync(process.env.TRIBUTARY_ADMIN_PASSWORD_FILE ?? join(process.env.HOME, ".local/share/tributary/admin-password"), "utf8").trim(),
};
export const viewer = { email: "viewer-e2e@tributary.local", password: "viewer-e2e-password" };
export const FUNCTION = { name: "template", version: "0.0.0-e2e" };

export async function call(method, path, token, body) {
  const res = await fetch(base + path, {
    method,
    headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(body && !(body instanceof FormData) ? { "Content-Type": "application/json" } : {}) },
    body: body instanceof FormData ? body : body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

export async function login(who) {
  const r = await call("POST", "/api/v1/auth/login", null, who);
  if (r.status !== 200) throw new Error(`login ${who.email}: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json.access_token;
}

/** logIn logs who (the admin by default) in on the UI's login form, in page. */
export async function logIn(page, who = admin) {
  await page.goto(base + "/");
  await page.fill("input[name=email]", who.email);
  await page.fill("input[name=password]", who.password);
  await page.click("button[type=submit]");
  await page.waitForSelector("[data-testid=whoami]");
}

/** loggedInPage opens a page of the given size in browser, logged in as who; its script errors go to the test's output. */
export async function loggedInPage(browser, viewport, who = admin) {
  const page = await browser.newPage({ viewport });
  page.on("pageerror", (e) => console.log(`page error: ${e.message}`));
  await logIn(page, who);
  return page;
}

/** until polls f every second until it returns something truthy, which it returns, or throws after ms. */
export async function until(what, f, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** prepare makes sure the stack has a cluster, the template function and a viewer; returns the admin token. */
export async function prepare() {
  const token = await login(admin);
  const clusters = await call("GET", "/api/v1/clusters", token);
  if (clusters.json.length === 0) {
    const c = await call("POST", "/api/v1/clusters", token, { name: "local", bootstrap_servers: ["127.0.0.1:9092"] });
    if (c.status !== 201) throw new Error(`create cluster: ${JSON.stringify(c.json)}`);
  }
  const fns = await call("GET", `/api/v1/functions`, token);
  const served = async () => (await fetch(`${base}/artifacts/${FUNCTION.name}/${FUNCTION.version}`, { method: "HEAD" })).status === 200;
  const registered = fns.json.some((f) => f.name === FUNCTION.name && f.version === FUNCTION.version);
  if (registered && !(await served())) {
    // Listed, but its binary is gone (a data directory lost): use a new version.
    FUNCTION.version = `0.0.0-e2e.${Date.now()}`;
  }
  if (!registered || FUNCTION.version.startsWith("0.0.0-e2e.")) {
    const dir = mkdtempSync(join(tmpdir(), "e2e-fn-"));
    execFileSync("go", ["build", "-o", join(dir, "template"), "./functions/template"], { cwd: repo, stdio: "inherit" });
    const form = new FormData();
    form.set("name", FUNCTION.name);
    form.set("version", FUNCTION.version);
    form.set("file", new Blob([readFileSync(join(dir, "template"))]), "template");
    const up = await call("POST", "/api/v1/functions", token, form);
    if (up.status !== 201) throw new Error(`upload function: ${up.status} ${JSON.stringify(up.json)}`);
  }
  const reg = await call("POST", "/api/v1/auth/register", token, { ...viewer, role: "viewer" });
  if (reg.status !== 201 && reg.status !== 409) throw new Error(`register viewer: ${reg.status} ${JSON.stringify(reg.json)}`);
  return token;
}

/**
 * untilScraped waits until Prometheus has scraped a worker twice (its rate
 * has a point), so that records produced next are counted: a burst over
 * before Prometheus first sees a new worker shows as a rate near 0. It
 * returns at once when the API server has no Prometheus (the rates then
 * come from its own sampler).
 */
export async function untilScraped(token, workerId, ms = 90_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const r = await call("GET", `/api/v1/workers/${workerId}/series?metric=rate&range=1m&step=5s`, token);
    if (r.status === 503 && /TRIBUTARY_PROMETHEUS_URL/.test(r.json?.error?.message ?? "")) return;
    if (r.status === 200 && r.json.series.some((s) => s.points.length > 0)) return;
    if (Date.now() > deadline) throw new Error(`Prometheus has not scraped worker ${workerId}: ${r.status} ${JSON.stringify(r.json)}`);
    await new Promise((res) => setTimeout(res, 1000));
  }
}

/** produce sends count documents to each topic with the project's load generator. */
export function produce(topics, count, rate) {
  execFileSync("go", ["run", "./infra/loadgen", "-topics", topics.join(","), "-count", String(count), "-rate", String(rate)],
    { cwd: repo, stdio: "inherit" });
}
