// End-to-end tests of the UI's alerts and history charts, against the
// running stack with an API server that has Prometheus and Alertmanager's
// webhook configured: an alert put in through the webhook, as Alertmanager
// sends it, shows on the Alerts page, in the badge and in its worker's
// panel; a deployed worker's panel charts its lag and rate. Screenshots go
// to frontend/test-results/.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { after, before, test } from "node:test";
import { chromium as pw } from "playwright-core";
import { base, call, chromium, FUNCTION, loggedInPage, prepare, produce, shots, until, untilScraped } from "./setup.mjs";

const ci = process.env.CI === "true";
const hookToken = process.env.TRIBUTARY_ALERTMANAGER_TOKEN ?? "";
const sfx = Date.now().toString(36);
// The prefixes editor.e2e.mjs uses, so a run that dies half-way leaves names a person recognises.
const names = { in: `in1-${sfx}`, out: `out-${sfx}`, worker: `w-${sfx}`, pipeline: `e2e-obs-${sfx}` };
const fingerprint = randomBytes(8).toString("hex");
const startsAt = new Date(Date.now() - 5 * 60_000).toISOString();
let browser, token, pipeline;

before(async () => {
  mkdirSync(shots, { recursive: true });
  token = await prepare();
  const saved = await call("POST", "/api/v1/pipelines", token, {
    name: names.pipeline,
    graph: {
      workers: [{ id: "w1", name: names.worker, input_topics: ["t1"], output_topics: ["t2"], function: FUNCTION.name, function_version: FUNCTION.version }],
      topics: [{ id: "t1", name: names.in }, { id: "t2", name: names.out }],
      positions: { t1: { x: 0, y: 0 }, w1: { x: 0, y: 120 }, t2: { x: 0, y: 260 } },
    },
  });
  assert.equal(saved.status, 201, JSON.stringify(saved.json));
  pipeline = saved.json;
  browser = await pw.launch({ executablePath: chromium, headless: true, args: ["--no-sandbox"] });
});

after(async () => {
  await browser?.close();
  if (hookToken) await webhook("resolved"); // the alert ends, as it would when the rule stops matching
  if (pipeline) {
    await call("POST", `/api/v1/pipelines/${pipeline.id}/stop`, token);
    await call("DELETE", `/api/v1/pipelines/${pipeline.id}`, token);
  }
});

/** webhook posts our alert as Alertmanager does: payload version 4, the receiver's bearer token. */
async function webhook(status) {
  const labels = { alertname: "TributaryDeadLetters", severity: "warning", worker: names.worker, job: "tributary-worker" };
  const annotations = {
    summary: `${names.worker} dead-letters records (e2e ${sfx})`,
    description: "Records of this worker went to its dead-letter topic in the last 5 minutes.",
  };
  const res = await fetch(`${base}/api/v1/alerts/webhook`, {
    method: "POST",
    headers: { Authorization: `Bearer ${hookToken}`, "Content-Type": "application/json" },
    body: JSON.stringify({
      version: "4", groupKey: `{}:{alertname="TributaryDeadLetters"}`, truncatedAlerts: 0, status, receiver: "tributary",
      groupLabels: { alertname: labels.alertname }, commonLabels: labels, commonAnnotations: annotations,
      externalURL: "http://127.0.0.1:9093",
      alerts: [{
        status, labels, annotations, startsAt,
        endsAt: status === "resolved" ? new Date().toISOString() : "0001-01-01T00:00:00Z",
        generatorURL: "http://127.0.0.1:9090/graph?g0.expr=tributary_dead_letters", fingerprint,
      }],
    }),
  });
  return res.status;
}

function loginPage() {
  return loggedInPage(browser, { width: 1400, height: 860 });
}

test("an alert from Alertmanager shows on the Alerts page, in the badge and in its worker's panel", { timeout: 120_000 }, async (t) => {
  if (!hookToken) {
    assert.ok(!ci, "TRIBUTARY_ALERTMANAGER_TOKEN is not set (infra/stack.sh env exports it)");
    t.skip("TRIBUTARY_ALERTMANAGER_TOKEN is not set");
    return;
  }
  assert.equal(await webhook("firing"), 200, "webhook refused the alert");
  const page = await loginPage();
  await page.click(".topbar a:has-text('Alerts')");
  const row = page.locator(`[data-testid=alert-${fingerprint}]`);
  await row.waitFor({ timeout: 20_000 });
  const text = await row.textContent();
  assert.match(text, /TributaryDeadLetters/);
  assert.match(text, new RegExp(`dead-letters records \\(e2e ${sfx}\\)`));
  assert.match(text, /firing/);
  const link = row.locator(`a:has-text('${names.worker}')`);
  assert.equal(await link.getAttribute("href"), `#/pipelines/${pipeline.id}`);
  const badge = Number(await page.locator("[data-testid=alerts-badge]").textContent({ timeout: 20_000 }));
  assert.ok(badge >= 1, `badge ${badge}`);
  const order = await page.locator("table.alerts tr.alert").evaluateAll((rs) => rs.map((r) => (r.classList.contains("firing") ? "f" : "r")).join(""));
  assert.match(order, /^f+r*$/, "firing alerts come before resolved ones");
  await page.screenshot({ path: `${shots}/alerts.png` });

  await page.selectOption("select[aria-label='alert state']", "resolved");
  await page.waitForFunction((fp) => !document.querySelector(`[data-testid=alert-${fp}]`), fingerprint);

  await page.goto(`${base}/#/pipelines/${pipeline.id}`); // where the worker's link led
  await page.locator(`.react-flow__node:has([data-testid="worker-${names.worker}"])`).click();
  const panel = page.locator("[data-testid=worker-alerts]");
  await panel.waitFor({ timeout: 20_000 });
  assert.match(await panel.textContent(), /TributaryDeadLetters/);
  await page.close();
});

test("a deployed worker's panel charts its lag and rate over the last hour", { timeout: 420_000 }, async (t) => {
  const probe = await call("GET", `/api/v1/workers/${pipeline.worker_ids[names.worker]}/series?metric=lag&range=1h&step=30s`, token);
  if (probe.status === 503 && /TRIBUTARY_PROMETHEUS_URL/.test(probe.json?.error?.message ?? "")) {
    assert.ok(!ci, `the API server has no Prometheus: ${probe.json.error.message}`);
    t.skip("the API server has no Prometheus (TRIBUTARY_PROMETHEUS_URL)");
    return;
  }
  const id = pipeline.worker_ids[names.worker];
  const dep = await call("POST", `/api/v1/pipelines/${pipeline.id}/deploy`, token);
  assert.ok(dep.status >= 200 && dep.status < 300 && !dep.json.some((r) => r.error), `${dep.status} ${JSON.stringify(dep.json)}`);
  await until("the worker to be healthy", async () => {
    const st = await call("GET", `/api/v1/workers/${id}/status`, token);
    return st.status === 200 && st.json.desired > 0 && st.json.healthy >= st.json.desired;
  }, 240_000);
  await untilScraped(token, id);
  produce([names.in], 600, 20);

  const page = await loginPage();
  await page.goto(`${base}/#/pipelines/${pipeline.id}`);
  await page.locator(`.react-flow__node:has([data-testid="worker-${names.worker}"])`).click();
  for (const which of ["lag", "rate"]) {
    const chart = page.locator(`[data-testid=chart-${which}]`);
    await chart.waitFor({ timeout: 60_000 });
    // The panel refreshes every 30 s; Prometheus needs a few scrapes of a new worker for a rate.
    await page.waitForFunction((w) => Number(document.querySelector(`[data-testid=chart-${w}]`)?.dataset.points) > 0, which, { timeout: 150_000 });
    const box = await chart.locator("canvas").boundingBox();
    assert.ok(box && box.width > 100 && box.height > 50, `${which} canvas ${JSON.stringify(box)}`);
    const legend = await chart.locator(".u-legend").textContent();
    assert.match(legend, which === "lag" ? /lag \(records\)/ : /in \(records\/s\).*out \(records\/s\)/s);
  }
  await page.locator(`.react-flow__node:has([data-testid="worker-${names.worker}"]) [data-testid=node-history]`).waitFor({ timeout: 60_000 });
  await page.locator("[data-testid=history]").scrollIntoViewIfNeeded();
  await page.screenshot({ path: `${shots}/worker-charts.png` });
  await page.close();
});

test("the demo's enricher charts an hour of its lag and rate", { timeout: 180_000 }, async (t) => {
  // The demo pipeline `make up` deploys has run, and been scraped, since
  // the stack started: its charts have history, not a first point.
  const list = await call("GET", "/api/v1/pipelines", token);
  const demo = list.json.find((p) => p.name === "demo");
  if (!demo) {
    assert.ok(!ci, "no demo pipeline: `make up` deploys it (TRIBUTARY_DEMO=0 skips it)");
    t.skip("no demo pipeline (TRIBUTARY_DEMO=0)");
    return;
  }
  const page = await loginPage();
  await page.goto(`${base}/#/pipelines/${demo.id}`);
  await page.locator(`.react-flow__node:has([data-testid="worker-enricher"])`).click();
  for (const which of ["lag", "rate"]) {
    await page.locator(`[data-testid=chart-${which}]`).waitFor({ timeout: 60_000 });
    await page.waitForFunction((w) => Number(document.querySelector(`[data-testid=chart-${w}]`)?.dataset.points) >= 10, which, { timeout: 90_000 });
  }
  const points = await page.locator("[data-testid=chart-rate]").getAttribute("data-points");
  await page.locator("[data-testid=history]").scrollIntoViewIfNeeded();
  await page.screenshot({ path: `${shots}/worker-charts-demo.png` });
  t.diagnostic(`the enricher's rate chart has ${points} points`);
  await page.close();
});
