// End-to-end tests of the editor's fixes, in headless Chromium
// at 1400×900 against the running stack (`make up`): messages in view,
// leaving with unsaved changes, layouts without overlaps that fit the
// view, worker status at the right moments (during a scale, before the
// first status, never deployed), the panel's close button, traces, test
// names in the pickers, deleting pipelines, the list's health and one
// status request per refresh. Screenshots: frontend/test-results/editor-*.png.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { after, before, test } from "node:test";
import { chromium as pw } from "playwright-core";
import { base, call, chromium, FUNCTION, loggedInPage, logIn, prepare, produce, shots } from "./setup.mjs";

const sfx = `${Date.now().toString(36)}-${randomBytes(2).toString("hex")}`;
const VIEW = { width: 1400, height: 900 };
const made = []; // pipelines to stop and delete at the end, whatever happened
let browser, token, cluster;

before(async () => {
  mkdirSync(shots, { recursive: true });
  token = await prepare();
  cluster = (await call("GET", "/api/v1/clusters", token)).json[0].id;
  browser = await pw.launch({ executablePath: chromium, headless: true, args: ["--no-sandbox"] });
});

after(async () => {
  await browser?.close();
  for (const id of made) {
    await call("POST", `/api/v1/pipelines/${id}/stop`, token);
    await call("DELETE", `/api/v1/pipelines/${id}`, token);
  }
});

async function savePipeline(name, graph) {
  const r = await call("POST", "/api/v1/pipelines", token, { name, graph });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  made.push(r.json.id);
  return r.json;
}

function loginPage() {
  return loggedInPage(browser, VIEW);
}

async function openPipeline(page, id) {
  await page.goto(`${base}/#/pipelines/${id}`);
  await page.waitForSelector(".react-flow__node");
}

const node = (page, kind, name) => page.locator(`.react-flow__node:has([data-testid="${kind}-${name}"])`);

/** inView asserts that the element's box is wholly inside the 1400×900 viewport. */
async function inView(locator, what) {
  await locator.waitFor({ state: "visible" });
  const b = await locator.boundingBox();
  assert.ok(b && b.x >= 0 && b.y >= 0 && b.x + b.width <= VIEW.width && b.y + b.height <= VIEW.height,
    `${what} at ${JSON.stringify(b)}, outside the ${VIEW.width}×${VIEW.height} viewport`);
}

async function dragHandle(page, from, to) {
  const a = await from.locator(".react-flow__handle.source").boundingBox();
  const b = await to.locator(".react-flow__handle.target").boundingBox();
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 12 });
  await page.mouse.up();
}

/** The rendered boxes of every node, once two reads a frame apart agree (the fit has settled). */
async function settledBoxes(page) {
  let last = "";
  for (let i = 0; i < 50; i++) {
    const boxes = await page.evaluate(() => new Promise((res) => requestAnimationFrame(() => res(
      [...document.querySelectorAll(".react-flow__node")].map((n) => {
        const r = n.getBoundingClientRect();
        return { id: n.getAttribute("data-id"), x: r.x, y: r.y, width: r.width, height: r.height };
      })))));
    const key = JSON.stringify(boxes);
    if (key === last) return boxes;
    last = key;
    await page.waitForTimeout(100);
  }
  return JSON.parse(last);
}

function overlapping(boxes) {
  const out = [];
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i], b = boxes[j];
      if (a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height) out.push(`${a.id} × ${b.id}`);
    }
  }
  return out;
}

/** assertLaidOut: no two node boxes intersect, and all are inside the canvas. */
async function assertLaidOut(page, what, count) {
  const boxes = await settledBoxes(page);
  if (count) assert.equal(boxes.length, count, `${what}: nodes rendered`);
  assert.deepEqual(overlapping(boxes), [], `${what}: nodes overlap`);
  const c = await page.locator(".react-flow").boundingBox();
  const outside = boxes.filter((b) => b.x < c.x - 0.5 || b.y < c.y - 0.5 || b.x + b.width > c.x + c.width + 0.5 || b.y + b.height > c.y + c.height + 0.5);
  assert.deepEqual(outside.map((b) => b.id), [], `${what}: nodes outside the view ${JSON.stringify(c)}`);
}

test("messages and zoom controls stay in view at 1400×900", { timeout: 120_000 }, async () => {
  const page = await loginPage();
  await page.click("text=New pipeline");
  await page.fill("input[aria-label='pipeline name']", "no spaces allowed at the start? ");
  await page.click("text=Add Topic");
  await page.click("text=Add Topic");
  await dragHandle(page, node(page, "topic", "topic-1"), node(page, "topic", "topic-2"));
  const notice = page.locator("[data-testid=notice]");
  await page.waitForSelector("text=put a worker between");
  await inView(notice, "the refusal");
  await inView(page.locator(".react-flow__controls"), "the zoom controls");
  await page.screenshot({ path: `${shots}/editor-notice-refusal.png` });

  await page.fill("input[aria-label='pipeline name']", "?bad name");
  await page.click("button:has-text('Save')");
  await page.waitForSelector("text=Not saved");
  await inView(notice, "the save error");
  await page.screenshot({ path: `${shots}/editor-notice-save-error.png` });

  await page.fill("input[aria-label='pipeline name']", `e2e-notice-${sfx}`);
  await page.click("button:has-text('Save')");
  await page.waitForSelector("[data-testid=notice] >> text=Saved.");
  await inView(notice, "Saved.");
  await page.screenshot({ path: `${shots}/editor-notice-saved.png` });
  made.push(Number(/(\d+)$/.exec(await page.evaluate(() => location.hash))[1]));
  await page.close();
});

test("leaving with unsaved changes asks, by a link and by Back", { timeout: 120_000 }, async () => {
  const p = await savePipeline(`e2e-leave-${sfx}`, { workers: [], topics: [{ id: "t1", name: `e2e-leave-${sfx}-in` }] });
  const page = await loginPage();
  await page.goto(`${base}/#/`);
  await openPipeline(page, p.id);
  const questions = [];
  let answer = false;
  page.on("dialog", (d) => { questions.push(d.message()); void (answer ? d.accept() : d.dismiss()); });

  await page.click("text=Add Topic"); // an unsaved change
  await page.click(".topbar a:has-text('Pipelines')");
  await page.waitForTimeout(300);
  assert.equal(questions.length, 1, "no question on the Pipelines link");
  assert.equal(await page.evaluate(() => location.hash), `#/pipelines/${p.id}`);
  assert.equal(await page.locator(".react-flow__node").count(), 2, "the change survived");

  await page.evaluate(() => history.back());
  await page.waitForTimeout(300);
  assert.equal(questions.length, 2, "no question on Back");
  assert.equal(await page.evaluate(() => location.hash), `#/pipelines/${p.id}`);
  assert.equal(await page.locator(".react-flow__node").count(), 2, "the change survived Back");
  await page.evaluate(() => history.back()); // the refusal left the history as it was: Back asks again
  await page.waitForTimeout(300);
  assert.equal(questions.length, 3, "no question on a second Back");
  assert.equal(await page.evaluate(() => location.hash), `#/pipelines/${p.id}`);
  await page.screenshot({ path: `${shots}/editor-leave-kept.png` });

  answer = true;
  await page.click(".topbar a:has-text('Pipelines')");
  await page.waitForSelector("h2:has-text('Pipelines')");
  assert.equal(questions.length, 4);
  // Without changes nobody is asked.
  await openPipeline(page, p.id);
  await page.click(".topbar a:has-text('Pipelines')");
  await page.waitForSelector("h2:has-text('Pipelines')");
  assert.equal(questions.length, 4, "asked although nothing changed");
  await page.close();
});

test("layouts leave no node on another and fit the view: the demo and 100 nodes", { timeout: 180_000 }, async () => {
  const demo = (await call("GET", "/api/v1/pipelines", token)).json.find((p) => p.name === "demo");
  // 12 sources fanned out to workers, joins of two and three topics, a
  // chain, and long names, as layout.test.ts.
  const graph = { workers: [], topics: [] };
  const topic = (n) => { const id = `t${graph.topics.length}`; graph.topics.push({ id, name: `e2e-layout-${sfx}-${"orders.".repeat(n)}${id}` }); return id; };
  let frontier = Array.from({ length: 12 }, (_, i) => topic(i % 3));
  for (let i = 0; graph.workers.length + graph.topics.length < 100; i++) {
    const inputs = [...new Set([frontier[i % frontier.length], frontier[(i * 7) % frontier.length]].slice(0, 1 + (i % 2)))];
    const out = topic(i % 2);
    graph.workers.push({ id: `w${i}`, name: `e2e-layout-${sfx}-w${i}`, input_topics: inputs, output_topics: [out] });
    frontier = [...frontier.slice(-8), out];
  }
  const big = await savePipeline(`e2e-layout-${sfx}`, graph);

  const page = await loginPage();
  page.on("dialog", (d) => d.accept()); // leave each pipeline's unsaved layouts
  for (const [what, p, count] of [["demo", demo, undefined], ["100 nodes", big, 100]]) {
    if (!p) { console.log("no demo pipeline on this stack: its part is skipped"); continue; }
    await openPipeline(page, p.id);
    await assertLaidOut(page, `${what} as loaded`, count);
    for (const layout of ["Vertical layout", "Horizontal layout"]) {
      await page.click(`text=${layout}`);
      await assertLaidOut(page, `${what}, ${layout}`, count);
      await page.screenshot({ path: `${shots}/editor-layout-${what.replace(/ /g, "")}-${layout.split(" ")[0].toLowerCase()}.png` });
    }
  }
  // The sliders say their values, and a change lays out again without overlaps.
  const slider = page.locator("input[aria-label='node separation']");
  const before = await page.locator("[data-testid=node-sep]").textContent();
  await slider.focus();
  for (let i = 0; i < 5; i++) await page.keyboard.press("ArrowLeft");
  assert.equal(Number(await page.locator("[data-testid=node-sep]").textContent()), Number(before) - 5);
  assert.match(await page.locator("[data-testid=rank-sep]").textContent(), /^\d+$/);
  await assertLaidOut(page, "100 nodes, tighter", 100);
  await page.close();
});

test("nodes added by hand do not land on each other", { timeout: 60_000 }, async () => {
  const page = await loginPage();
  await page.click("text=New pipeline");
  for (let i = 0; i < 3; i++) {
    await page.click("text=Add Worker");
    await page.click("text=Add Topic");
  }
  await page.keyboard.press("Escape"); // the new worker's panel
  const boxes = await settledBoxes(page);
  assert.equal(boxes.length, 6);
  assert.deepEqual(overlapping(boxes), []);
  await page.screenshot({ path: `${shots}/editor-added-nodes.png` });
  page.on("dialog", (d) => d.accept());
  await page.close();
});

test("status: loading before the first answer, not deployed when never deployed, never red during a scale", { timeout: 480_000 }, async () => {
  const names = { in: `e2e-scale-${sfx}-in`, out: `e2e-scale-${sfx}-out`, worker: `e2e-scale-${sfx}-w`, idle: `e2e-scale-${sfx}-idle` };
  const fn = { function: FUNCTION.name, function_version: FUNCTION.version, cluster_id: cluster };
  const p = await savePipeline(`e2e-scale-${sfx}`, {
    workers: [
      { id: "w1", name: names.worker, input_topics: ["t1"], output_topics: ["t2"], ...fn },
      { id: "w2", name: names.idle, input_topics: ["t2"], output_topics: [], ...fn },
    ],
    topics: [{ id: "t1", name: names.in }, { id: "t2", name: names.out }],
    positions: { t1: { x: 0, y: 0 }, w1: { x: 260, y: 0 }, t2: { x: 560, y: 0 }, w2: { x: 820, y: 0 } },
  });
  const id = p.worker_ids[names.worker];
  const dep = await call("POST", `/api/v1/workers/${id}/deploy`, token);
  assert.equal(dep.status, 202, JSON.stringify(dep.json));
  for (const deadline = Date.now() + 240_000; ;) {
    const st = (await call("GET", `/api/v1/workers/${id}/status`, token)).json;
    if (st.healthy >= 1) break;
    assert.ok(Date.now() < deadline, `worker never healthy: ${JSON.stringify(st)}`);
    await new Promise((r) => setTimeout(r, 1000));
  }

  const page = await browser.newPage({ viewport: VIEW });
  // Every line a worker's health shows, from the first render on.
  await page.addInitScript(() => {
    window.__health = [];
    const seen = new Map();
    const record = () => {
      for (const el of document.querySelectorAll("[data-testid=health], [data-testid=panel-health]")) {
        const who = el.closest("[data-testid^=worker-]")?.getAttribute("data-testid") ?? "panel";
        const line = `${el.getAttribute("data-tone")}|${el.textContent}`;
        if (seen.get(who) !== line) {
          seen.set(who, line);
          window.__health.push({ who, line, t: Math.round(performance.now()) });
        }
      }
    };
    new MutationObserver(record).observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
  });
  await logIn(page);
  await page.goto(`${base}/#/pipelines/${p.id}`);
  await page.reload();
  await node(page, "worker", names.worker).locator("[data-testid=health]:has-text('healthy')").waitFor({ timeout: 30_000 });
  const lines = (who) => page.evaluate((w) => window.__health.filter((h) => h.who === w).map((h) => h.line), who);
  const first = await lines(`worker-${names.worker}`);
  assert.equal(first[0], "idle|loading…", `the deployed worker's first lines: ${first}`);
  assert.ok(!first.some((l) => /not deployed|stopped/.test(l)), `the deployed worker read ${first}`);
  assert.equal((await lines(`worker-${names.idle}`)).at(-1), "idle|not deployed", "the worker saved but never deployed");
  await page.screenshot({ path: `${shots}/editor-status-loaded.png` });

  await node(page, "worker", names.worker).click();
  await page.fill("[data-testid=worker-panel] input[aria-label=instances]", "2");
  const from = await page.evaluate(() => window.__health.length);
  await page.click("[data-testid=worker-panel] button:has-text('Scale')");
  await page.waitForSelector("[data-testid=notice] >> text=Scale: accepted");
  await node(page, "worker", names.worker).locator("[data-testid=health]:has-text('2/2 healthy')").waitFor({ timeout: 240_000 });
  const during = await page.evaluate((n) => window.__health.slice(n), from);
  console.log(`health during the scale 1→2:\n${during.map((h) => `  +${h.t} ms ${h.who}: ${h.line}`).join("\n")}`);
  const red = during.filter((h) => h.line.startsWith("bad|") || /(^|\|)0\/\d+ healthy/.test(h.line));
  assert.deepEqual(red, [], "the worker read red or 0 healthy while its instance kept running");
  await page.screenshot({ path: `${shots}/editor-status-scaled.png` });

  // Its traces: when, how long, how many spans, which stages; the waterfall's axis, durations and attributes.
  produce([names.in], 20, 20);
  for (const deadline = Date.now() + 60_000; ;) {
    const t = await call("GET", `/api/v1/workers/${id}/traces?limit=5&lookback=15m`, token);
    if (t.status === 200 && t.json.length > 0) break;
    assert.ok(Date.now() < deadline, `no traces of the worker: ${JSON.stringify(t.json)}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  await page.click("[data-testid=worker-panel] button:has-text('Traces')");
  const entry = page.locator("[data-testid=trace-entry]").first();
  await entry.waitFor();
  assert.match(await entry.textContent(), /^\d{1,2}:\d{2}:\d{2}\.\d{3}.*\d+(\.\d+)? (µs|ms|s).*\d+ spans/);
  assert.match(await page.locator(".trace-stages").first().textContent(), new RegExp(names.worker));
  await entry.click();
  await page.waitForSelector("[data-testid=waterfall] .row:not(.axis)");
  assert.ok(await page.locator("[data-testid=waterfall] .axis .tick").count() >= 2, "no time axis");
  for (const d of await page.locator("[data-testid=span-duration]").allTextContents()) assert.match(d, /^\d+(\.\d+)? (µs|ms|s)$/);
  await page.locator("[data-testid=waterfall] .row:not(.axis)").first().click();
  assert.ok(await page.locator("[data-testid=span-attributes] tr").count() > 5, "no attributes table");
  const traceId = (await call("GET", `/api/v1/workers/${id}/traces?limit=1&lookback=15m`, token)).json[0].trace_id;
  const jaeger = (await call("GET", `/api/v1/traces/${traceId}`, token)).json.jaeger_url;
  const links = page.locator("[data-testid=jaeger-link]");
  if (jaeger === "") assert.equal(await links.count(), 0, "a Jaeger link without a Jaeger UI");
  else assert.match(await links.getAttribute("href"), /\/trace\/[0-9a-f]+$/);
  const drawer = await page.locator("[data-testid=traces]").boundingBox();
  assert.ok(drawer.width > 1000, `the traces are ${drawer.width} px wide`);
  await page.screenshot({ path: `${shots}/editor-traces.png` });
  await page.close();
});

test("the worker panel closes with its button and Escape, and the canvas takes the space", { timeout: 60_000 }, async () => {
  const p = await savePipeline(`e2e-panel-${sfx}`, { workers: [{ id: "w1", name: `e2e-panel-${sfx}-w`, input_topics: ["t1"], output_topics: [] }],
    topics: [{ id: "t1", name: `e2e-panel-${sfx}-in` }] });
  const page = await loginPage();
  await openPipeline(page, p.id);
  const full = (await page.locator(".canvas").boundingBox()).width;
  const worker = node(page, "worker", `e2e-panel-${sfx}-w`);
  await worker.click();
  await page.waitForSelector("[data-testid=worker-panel]");
  assert.ok((await page.locator(".canvas").boundingBox()).width < full - 200, "the panel takes no room");
  await page.screenshot({ path: `${shots}/editor-panel-open.png` });
  await page.click("button[aria-label='close panel']");
  assert.equal(await page.locator("[data-testid=worker-panel]").count(), 0);
  assert.equal((await page.locator(".canvas").boundingBox()).width, full);
  await worker.click();
  await page.locator("[data-testid=worker-panel] input[aria-label=timeout]").focus(); // even from a field
  await page.keyboard.press("Escape");
  assert.equal(await page.locator("[data-testid=worker-panel]").count(), 0);
  await page.close();
});

test("test names are hidden from the pickers, and no test version is chosen", { timeout: 60_000 }, async () => {
  const testTopic = `e2e-picker-${sfx}`;
  const created = await call("POST", `/api/v1/clusters/${cluster}/topics`, token, { name: testTopic, partitions: 1, replication_factor: 1 });
  assert.ok([201, 409].includes(created.status), JSON.stringify(created.json));
  const page = await loginPage();
  await page.click("text=New pipeline");
  const options = () => page.locator("select[aria-label='add an existing topic'] option").allTextContents();
  await page.waitForFunction(() => document.querySelectorAll("select[aria-label='add an existing topic'] option").length > 0);
  assert.ok(!(await options()).some((o) => o.startsWith(testTopic)), "a test topic listed by default");
  await page.check("input[aria-label='show test names']");
  await page.waitForFunction((t) => [...document.querySelectorAll("select[aria-label='add an existing topic'] option")].some((o) => o.textContent.startsWith(t)), testTopic);
  await page.uncheck("input[aria-label='show test names']");

  await page.click("text=Add Worker");
  await page.selectOption("select[aria-label=function]", FUNCTION.name);
  const chosen = await page.locator("select[aria-label='function version']").inputValue();
  assert.ok(!/e2e/.test(chosen), `version ${chosen} chosen by default`);
  await page.screenshot({ path: `${shots}/editor-pickers.png` });
  page.on("dialog", (d) => d.accept());
  await page.close();
});

test("pipelines are deleted from the list and from the editor; the list shows health", { timeout: 60_000 }, async () => {
  const a = await savePipeline(`e2e-delete-${sfx}-a`, { workers: [], topics: [] });
  const b = await savePipeline(`e2e-delete-${sfx}-b`, { workers: [], topics: [] });
  const page = await loginPage();
  const statusCalls = [];
  page.on("request", (r) => { if (/\/api\/v1\/(pipelines|workers)\/\d+\/(status|metrics)/.test(r.url())) statusCalls.push(r.url()); });
  await page.goto(`${base}/#/`);
  await page.reload();
  await page.waitForSelector(`[data-testid="pipeline-${a.name}"]`);
  const health = await page.locator("[data-testid=pipeline-health]").allTextContents();
  const demo = page.locator("[data-testid='pipeline-demo'] [data-testid=pipeline-health]");
  if (await demo.count()) assert.match(await demo.textContent(), /healthy|not deployed/, `demo's health: ${health}`);
  assert.deepEqual(statusCalls, [], "the list asked for status pipeline by pipeline");
  await page.screenshot({ path: `${shots}/editor-list-health.png` });

  let answer = false;
  page.on("dialog", (d) => void (answer ? d.accept() : d.dismiss()));
  await page.click(`button[aria-label='delete ${a.name}']`);
  await page.waitForTimeout(300);
  assert.equal((await call("GET", `/api/v1/pipelines/${a.id}`, token)).status, 200, "deleted without a yes");
  answer = true;
  await page.click(`button[aria-label='delete ${a.name}']`);
  await page.locator(`[data-testid="pipeline-${a.name}"]`).waitFor({ state: "detached" });
  assert.equal((await call("GET", `/api/v1/pipelines/${a.id}`, token)).status, 404);

  await page.goto(`${base}/#/pipelines/${b.id}`); // an empty pipeline: no node to wait for
  await page.waitForFunction((n) => document.querySelector("input[aria-label='pipeline name']")?.value === n, b.name);
  await page.click(".toolbar button:has-text('Delete')");
  await page.waitForSelector("h2:has-text('Pipelines')");
  assert.equal((await call("GET", `/api/v1/pipelines/${b.id}`, token)).status, 404);
  await page.close();
});

test("the editor refreshes its workers with one request", { timeout: 60_000 }, async () => {
  const p = await savePipeline(`e2e-poll-${sfx}`, {
    workers: Array.from({ length: 5 }, (_, i) => ({ id: `w${i}`, name: `e2e-poll-${sfx}-w${i}`, input_topics: ["t1"], output_topics: [] })),
    topics: [{ id: "t1", name: `e2e-poll-${sfx}-in` }],
  });
  const page = await loginPage();
  const calls = [];
  page.on("request", (r) => { if (/\/api\/v1\/(pipelines|workers)\/\d+\/(status|metrics)/.test(r.url())) calls.push(new URL(r.url()).pathname); });
  await openPipeline(page, p.id);
  await page.waitForTimeout(7_000);
  assert.ok(calls.every((c) => c === `/api/v1/pipelines/${p.id}/status`), `requests: ${calls}`);
  assert.ok(calls.length >= 2 && calls.length <= 4, `${calls.length} refreshes in 7 s, want one every 3 s`);
  await page.close();
});
