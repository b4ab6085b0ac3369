// End-to-end tests of the UI in headless Chromium (Debian's), against the
// running stack: `make up`, then `npm run e2e`. Each step saves a
// screenshot in frontend/test-results/.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { after, before, test } from "node:test";
import { chromium as pw } from "playwright-core";
import { admin, base, call, chromium, FUNCTION, loggedInPage, login, prepare, produce, shots, untilScraped, viewer } from "./setup.mjs";

const sfx = Date.now().toString(36);
const names = { in1: `in1-${sfx}`, in2: `in2-${sfx}`, out: `out-${sfx}`, worker: `w-${sfx}`, pipeline: `e2e-${sfx}` };
let browser, adminToken, pipelineId;

before(async () => {
  mkdirSync(shots, { recursive: true });
  adminToken = await prepare();
  browser = await pw.launch({ executablePath: chromium, headless: true, args: ["--no-sandbox"] });
});

after(async () => {
  await browser?.close();
  if (pipelineId) {
    await call("POST", `/api/v1/pipelines/${pipelineId}/stop`, adminToken);
    await call("DELETE", `/api/v1/pipelines/${pipelineId}`, adminToken);
  }
});

function loginPage(who) {
  return loggedInPage(browser, { width: 1500, height: 900 }, who);
}

const node = (page, kind, name) => page.locator(`.react-flow__node:has([data-testid="${kind}-${name}"])`);

async function rename(page, kind, from, to) {
  await node(page, kind, from).locator("[data-testid=label]").dblclick();
  await page.keyboard.press("Control+A");
  await page.keyboard.type(to);
  await page.keyboard.press("Enter");
  await node(page, kind, to).waitFor();
}

async function drag(page, from, to) {
  const a = await from.locator(".react-flow__handle.source").boundingBox();
  const b = await to.locator(".react-flow__handle.target").boundingBox();
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 12 });
  await page.mouse.up();
}

test("build, save, reload, deploy, watch and trace a pipeline", { timeout: 600_000 }, async () => {
  const page = await loginPage(admin);
  await page.screenshot({ path: `${shots}/01-logged-in.png` });
  await page.click("text=New pipeline");
  await page.fill("input[aria-label='pipeline name']", names.pipeline);
  for (let i = 0; i < 3; i++) await page.click("text=Add Topic");
  await page.click("text=Add Worker");
  await page.click("text=Horizontal layout"); // one column, since nothing is connected yet
  await rename(page, "topic", "topic-1", names.in1);
  await rename(page, "topic", "topic-2", names.in2);
  await rename(page, "topic", "topic-3", names.out);
  await rename(page, "worker", "worker-1", names.worker);

  await drag(page, node(page, "topic", names.in1), node(page, "topic", names.out));
  await page.waitForSelector("text=put a worker between"); // topic→topic is refused, visibly
  await drag(page, node(page, "topic", names.in1), node(page, "worker", names.worker));
  await drag(page, node(page, "topic", names.in2), node(page, "worker", names.worker));
  await drag(page, node(page, "worker", names.worker), node(page, "topic", names.out));
  await page.screenshot({ path: `${shots}/01b-connected.png` });
  assert.equal(await page.locator(".react-flow__edge").count(), 3);

  await node(page, "worker", names.worker).click();
  await page.selectOption("select[aria-label=function]", FUNCTION.name);
  await page.selectOption("select[aria-label='function version']", FUNCTION.version);
  await page.click("text=Horizontal layout");
  await page.screenshot({ path: `${shots}/02-built.png` });
  await page.click("button:has-text('Save')");
  await page.waitForSelector("text=Saved.");
  await page.waitForFunction(() => /#\/pipelines\/\d+$/.test(location.hash));
  pipelineId = Number(/(\d+)$/.exec(await page.evaluate(() => location.hash))[1]);

  await page.reload();
  await node(page, "worker", names.worker).waitFor();
  assert.equal(await page.locator(".react-flow__edge").count(), 3, "edges after reload");
  await page.screenshot({ path: `${shots}/03-reloaded.png` });

  await node(page, "worker", names.worker).click();
  await page.click("[data-testid=worker-panel] button:has-text('Deploy')");
  await page.waitForFunction(() => /1\/1 healthy/.test(document.querySelector("[data-testid=panel-health]")?.textContent ?? ""), null, { timeout: 240_000 });
  await page.screenshot({ path: `${shots}/04-healthy.png` });

  await untilScraped(adminToken, (await call("GET", `/api/v1/pipelines/${pipelineId}`, adminToken)).json.worker_ids[names.worker]);
  produce([names.in1, names.in2], 300, 30);
  await page.waitForFunction(() => /in [1-9]/.test(document.querySelector("[data-testid=metrics]")?.textContent ?? ""), null, { timeout: 60_000 });
  const edgeLabels = await page.locator(".edge-label").allTextContents();
  assert.ok(edgeLabels.some((t) => /lag \d+ · \d+\.\d\/s/.test(t)), `edge labels ${edgeLabels}`);
  await page.screenshot({ path: `${shots}/05-flowing.png` });

  await page.click("[data-testid=worker-panel] button:has-text('Traces')");
  const first = page.locator("[data-testid=traces] a").first();
  await first.waitFor({ timeout: 60_000 });
  await first.click();
  await page.waitForSelector("[data-testid=waterfall] .row");
  const rows = await page.locator("[data-testid=waterfall] .row .name").allTextContents();
  assert.ok(rows.some((r) => r.startsWith(`${names.worker}: `)), `spans ${rows}`);
  await page.screenshot({ path: `${shots}/06-trace.png` });
  await page.close();
});

test("a viewer sees the pipeline but cannot change it", { timeout: 120_000 }, async () => {
  assert.ok(pipelineId, "the first test saved a pipeline");
  const page = await loginPage(viewer);
  await page.goto(`${base}/#/pipelines/${pipelineId}`);
  await node(page, "worker", names.worker).waitFor();
  for (const label of ["Add Worker", "Add Topic", "Vertical layout", "Save"]) {
    assert.equal(await page.locator(`button:has-text('${label}')`).isDisabled(), true, `${label} enabled for a viewer`);
  }
  assert.equal(await node(page, "worker", names.worker).locator("button.x").count(), 0, "delete button shown to a viewer");
  await page.screenshot({ path: `${shots}/07-viewer.png` });
  const token = await login(viewer);
  const put = await call("PUT", `/api/v1/pipelines/${pipelineId}`, token, { name: "x", graph: { workers: [], topics: [] } });
  assert.equal(put.status, 403);
  await page.close();
});

test("time to first render of a 100-node pipeline", { timeout: 120_000 }, async () => {
  // A chain t0 → w0 → t1 → w1 → … of 50 workers and 50 topics, saved
  // without positions, so the UI lays it out on load.
  const workers = [], topics = [];
  for (let i = 0; i < 50; i++) {
    topics.push({ id: `t${i}`, name: `perf-${sfx}-t${i}` });
    workers.push({ id: `w${i}`, name: `perf-${sfx}-w${i}`, input_topics: [`t${i}`], output_topics: i < 49 ? [`t${i + 1}`] : [] });
  }
  const saved = await call("POST", "/api/v1/pipelines", adminToken, { name: `perf-${sfx}`, graph: { workers, topics } });
  assert.equal(saved.status, 201, JSON.stringify(saved.json));
  const page = await loginPage(admin);
  const times = [];
  for (let run = 0; run < 3; run++) {
    await page.goto(`${base}/#/pipelines/${saved.json.id}`);
    await page.reload();
    await page.waitForFunction(() => document.querySelectorAll(".react-flow__node").length >= 100, null, { timeout: 60_000 });
    times.push(await page.evaluate(() => performance.now()));
  }
  await page.screenshot({ path: `${shots}/08-100-nodes.png` });
  console.log(`first render of a 100-node pipeline (navigation start → 100 nodes in the DOM, incl. login check and API load): ${times.map((t) => t.toFixed(0)).join(", ")} ms`);
  await page.close();
  await call("DELETE", `/api/v1/pipelines/${saved.json.id}`, adminToken);
});
