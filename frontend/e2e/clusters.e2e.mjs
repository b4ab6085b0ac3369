// End-to-end tests of the Kafka pages against the running stack (make up):
// register a cluster and check it, create a topic and see its partitions,
// watch the demo pipeline's consumer groups and their lag, and browse a
// topic's messages with their headers and trace. Screenshots go to
// frontend/test-results/: clusters.png, cluster-groups.png, topic-messages.png.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { chromium as pw } from "playwright-core";
import { base, call, chromium, logIn, prepare, repo, shots, until } from "./setup.mjs";

const rnd = randomBytes(4).toString("hex");
const names = { cluster: `e2e-${rnd}`, topic: `e2e-${rnd}`, worker: `e2e-${rnd}-w` };
const brokers = (process.env.TRIBUTARY_KAFKA_BROKERS ?? "127.0.0.1:9092").split(",")[0];
// The demo pipeline's workers, whose consumer groups bear their names (infra/demo).
const DEMO_GROUPS = ["raw-data", "language-detector", "summarizer", "enricher"];
const RECORDS = 6;
let browser, page, token, clusterId, workerId;

before(async () => {
  mkdirSync(shots, { recursive: true });
  token = await prepare();
  browser = await pw.launch({ executablePath: chromium, headless: true, args: ["--no-sandbox"] });
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await logIn(page);
});

after(async () => {
  await browser?.close();
  // Whatever a failure left: the worker, then the cluster (topics named e2e- may stay).
  if (workerId) await call("DELETE", `/api/v1/workers/${workerId}`, token);
  if (clusterId && (await call("GET", `/api/v1/clusters/${clusterId}`, token)).status === 200) {
    await call("DELETE", `/api/v1/clusters/${clusterId}`, token);
  }
});

test("register a cluster: the form names the refused field, then the check shows the broker's answer", async () => {
  await page.goto(`${base}/#/clusters`);
  await page.waitForSelector("[data-testid=clusters-page]");
  await page.click("text=Register a cluster");
  await page.fill("input[name=name]", names.cluster);
  await page.fill("textarea[name=bootstrap_servers]", "no-port-here");
  await page.click("button[type=submit]");
  const refusal = await page.textContent("[data-testid=error-bootstrap_servers]");
  assert.match(refusal, /no-port-here: must be host:port/);

  await page.fill("textarea[name=bootstrap_servers]", brokers);
  await page.click("button[type=submit]");
  await page.waitForSelector("[data-testid=cluster-page]");
  assert.equal(await page.textContent("[data-testid=cluster-name]"), names.cluster);
  clusterId = Number(/#\/clusters\/(\d+)/.exec(page.url())[1]);
  const saved = await call("GET", `/api/v1/clusters/${clusterId}`, token);
  assert.equal(saved.status, 200);
  assert.deepEqual(saved.json.bootstrap_servers, [brokers]);

  await page.click("[data-testid=check]");
  await page.waitForSelector("[data-testid=check-result].ok", { timeout: 15_000 });
  const check = await page.textContent("[data-testid=check-result]");
  assert.match(check, /Connected in \d+ ms/);
  assert.match(check, new RegExp(`broker \\d+ at ${brokers.replace(/\./g, "\\.")}`));
  assert.match(check, /controller/);

  // A worker registered on the cluster (not deployed) is listed as using it.
  const w = await call("POST", "/api/v1/workers", token, { name: names.worker, input_topics: [names.topic], output_topics: [], cluster_id: clusterId });
  assert.equal(w.status, 201, JSON.stringify(w.json));
  workerId = w.json.id;
  await page.goto(`${base}/#/clusters`);
  const row = page.locator(`[data-testid=cluster-${names.cluster}]`);
  await row.waitFor();
  assert.match(await row.textContent(), new RegExp(`${brokers.replace(/\./g, "\\.")}.*1: ${names.worker}`));
});

test("create a topic: refused settings are named next to their field, the new one is listed with its partitions", async () => {
  assert.ok(clusterId, "the cluster of the first test");
  await page.goto(`${base}/#/clusters/${clusterId}`);
  await page.waitForSelector("[data-testid=topics-tab]");
  await page.fill("input[name=topic-name]", names.topic);
  await page.fill("input[name=partitions]", "0");
  await page.click("[data-testid=create-topic] button[type=submit]");
  assert.match(await page.textContent("[data-testid=error-partitions]"), /between 1 and/);

  await page.fill("input[name=partitions]", "3");
  await page.fill("input[name=replication_factor]", "1");
  await page.click("[data-testid=create-topic] button[type=submit]");
  await page.waitForSelector(`text=Created ${names.topic} with 3 partitions`);
  const topics = await call("GET", `/api/v1/clusters/${clusterId}/topics`, token);
  const created = topics.json.find((t) => t.name === names.topic);
  assert.ok(created, "the topic is on the broker");
  assert.equal(created.partition_count, 3);

  // An e2e- topic is a test's: hidden until "show test topics" is ticked.
  const row = page.locator(`[data-testid="topic-${names.topic}"]`);
  assert.equal(await row.count(), 0, "test topics are hidden by default");
  await page.check("input[aria-label='show test topics']");
  await row.waitFor();
  assert.equal(await row.locator("[data-testid=partition-count]").textContent(), "3");
  assert.equal(await row.locator(".wm").count(), 3, "a watermark per partition");
  await page.click("[data-testid=check]");
  await page.waitForSelector("[data-testid=check-result].ok", { timeout: 15_000 });
  await page.fill("input[aria-label='filter topics']", rnd);
  assert.equal(await page.locator("[data-testid=topics] tbody tr").count(), 1, "the text filter keeps only our topic");
  await page.screenshot({ path: join(shots, "clusters.png"), fullPage: true });
});

test("consumer groups: the demo's groups with their members and lag per partition, read again every 5 s", async () => {
  assert.ok(clusterId, "the cluster of the first test");
  const requests = [];
  const count = (r) => { if (new URL(r.url()).pathname === `/api/v1/clusters/${clusterId}/groups`) requests.push(Date.now()); };
  page.on("request", count);
  await page.goto(`${base}/#/clusters/${clusterId}/groups`);
  await page.waitForSelector("[data-testid=groups-tab]");
  for (const g of DEMO_GROUPS) {
    await page.waitForSelector(`[data-testid=group-${g}]`, { timeout: 30_000 });
  }
  const api = await call("GET", `/api/v1/clusters/${clusterId}/groups`, token);
  assert.equal(api.status, 200);
  for (const g of DEMO_GROUPS) {
    const card = page.locator(`[data-testid=group-${g}]`);
    const want = api.json.find((x) => x.id === g);
    assert.ok(want, `group ${g} on the broker`);
    assert.equal(await card.locator("[data-testid=group-state]").textContent(), want.state || "unknown");
    assert.match(await card.locator("[data-testid=group-lag]").textContent(), /^[\d,]+$/);
    const partitions = want.topics.reduce((n, t) => n + t.partitions, 0);
    assert.ok(await card.locator("[data-testid=lag] tbody tr").count() >= partitions, `${g}: a lag row per partition of ${partitions}`);
    if (want.state === "Stable") assert.ok(await card.locator("[data-testid=members] tbody tr").count() >= 1, `${g}: its members`);
  }
  // Read again every 5 s, one request each time: 2 or 3 in any 10.5 s.
  const first = await page.textContent("[data-testid=groups-updated]");
  requests.length = 0;
  await page.waitForTimeout(10_500);
  page.off("request", count);
  assert.ok(requests.length >= 2 && requests.length <= 3, `${requests.length} requests in 10.5 s, want one per 5 s`);
  await page.waitForFunction((t) => document.querySelector("[data-testid=groups-updated]")?.textContent !== t, first);
  await page.locator(`[data-testid=group-${DEMO_GROUPS[0]}]`).scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(shots, "cluster-groups.png"), fullPage: true });
});

test("browse a topic: JSON values decoded, key, offset, timestamp and headers shown, a link to the trace", async () => {
  assert.ok(clusterId, "the cluster of the first test");
  execFileSync("go", ["run", "./infra/loadgen", "-brokers", brokers, "-topics", names.topic, "-count", String(RECORDS), "-rate", "0",
    "-id-prefix", `${names.topic}-`, "-traceparent", "-header", "tributary.source=e2e"], { cwd: repo, stdio: "inherit" });
  const topics = await call("GET", `/api/v1/clusters/${clusterId}/topics`, token);
  const parts = topics.json.find((t) => t.name === names.topic).partitions;
  assert.equal(parts.reduce((n, p) => n + p.high_watermark, 0), RECORDS);
  const busiest = parts.reduce((a, b) => (b.high_watermark > a.high_watermark ? b : a));

  // The API's answer, to compare with the page.
  const api = await call("GET", `/api/v1/clusters/${clusterId}/topics/${names.topic}/messages?partition=${busiest.id}&from=earliest&limit=50`, token);
  assert.equal(api.status, 200);
  assert.equal(api.json.messages.length, busiest.high_watermark);
  const m0 = api.json.messages[0];
  const doc = JSON.parse(m0.value.text);
  assert.equal(m0.key.text, doc.id);
  assert.deepEqual(m0.headers.map((h) => h.key), ["traceparent", "tributary.source"]);
  const trace = m0.headers[0].value.text.split("-")[1];
  for (const [q, field] of [["partition=3", "partition"], ["offset=-1", "offset"], ["timestamp=soon", "timestamp"], ["limit=501", "limit"]]) {
    const r = await call("GET", `/api/v1/clusters/${clusterId}/topics/${names.topic}/messages?${q}`, token);
    assert.equal(r.status, 422, q);
    assert.equal(r.json.error.field, field, q);
  }
  assert.equal((await call("GET", `/api/v1/clusters/${clusterId}/topics/e2e-none-${rnd}/messages`, token)).status, 404);

  await page.goto(`${base}/#/clusters/${clusterId}/messages/${names.topic}`);
  await page.waitForSelector("[data-testid=messages-tab]");
  await page.selectOption("select[aria-label=partition]", String(busiest.id));
  await page.waitForSelector(`[data-testid=message-${m0.offset}]`);
  assert.equal(await page.locator("tr.msg").count(), busiest.high_watermark, "the latest N: all of the partition's records");
  const row = page.locator(`[data-testid=message-${m0.offset}]`);
  assert.match(await row.textContent(), new RegExp(doc.id));
  assert.equal(await row.locator("[data-testid=trace-link]").getAttribute("href"), `#/traces/${trace}`);
  await row.click();
  const detail = page.locator("[data-testid=message-detail]");
  await detail.waitFor();
  const text = await detail.textContent();
  assert.match(text, /JSON/);
  assert.match(text, /"content"/);
  assert.match(text, new RegExp(`"${doc.id}"`));
  assert.match(text, /tributary\.source\s*e2e/);
  assert.match(text, new RegExp(`traceparent\\s*00-${trace}`));
  assert.match(text, new RegExp(m0.timestamp.replace(/[.]/g, "\\.")));
  // The value folds: collapse the content object, then open it again.
  const toggle = detail.locator(".j-toggle[aria-expanded=true]").nth(1);
  await toggle.click();
  assert.match(await detail.textContent(), new RegExp(`"content": \\{ ${Object.keys(doc.content).length} keys \\}`));
  await detail.locator(".j-toggle[aria-expanded=false]").first().click();
  await page.screenshot({ path: join(shots, "topic-messages.png"), fullPage: true });

  // From an offset: the page starts there.
  if (busiest.high_watermark > 1) {
    await page.selectOption("select[aria-label='read from']", "offset");
    await page.fill("input[name=offset]", "1");
    await page.click("[data-testid=read]");
    await page.waitForFunction(() => document.querySelector("tr.msg")?.getAttribute("data-testid") === "message-1");
  }
  // The trace link opens the trace view (Jaeger never saw this producer's trace: it says so).
  await page.click("[data-testid=trace-link] >> nth=0");
  await page.waitForSelector("[data-testid=trace-page]");
  assert.match(await page.textContent("[data-testid=trace-page] h2"), /Trace/);
});

test("delete the cluster: it is forgotten, its topic stays on the broker", async () => {
  assert.ok(clusterId, "the cluster of the first test");
  assert.equal((await call("DELETE", `/api/v1/workers/${workerId}`, token)).status, 204);
  workerId = undefined;
  await page.goto(`${base}/#/clusters/${clusterId}`);
  await page.waitForSelector("[data-testid=cluster-page]");
  page.once("dialog", (d) => d.accept());
  await page.click("[data-testid=delete-cluster]");
  await page.waitForSelector("[data-testid=clusters-page]");
  assert.equal(await page.locator(`[data-testid=cluster-${names.cluster}]`).count(), 0);
  assert.equal((await call("GET", `/api/v1/clusters/${clusterId}`, token)).status, 404);
});
