// Frame time of the editor while a node is dragged on a 100-node pipeline:
// a requestAnimationFrame loop in the page records the interval between
// frames while page.mouse drags a worker in circles for about 2 s. It
// prints the median and p95 and asserts nothing about them: the machine is
// shared and its load varies, so a bound in milliseconds would be a coin
// toss. Run against the stack (`make up`), like the other e2e files.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { after, before, test } from "node:test";
import { chromium as pw } from "playwright-core";
import { base, call, chromium, logIn, prepare, shots } from "./setup.mjs";

const sfx = Date.now().toString(36);
const DRAG_MS = 2000;
let browser, token, pipelineId;

before(async () => {
  mkdirSync(shots, { recursive: true });
  token = await prepare();
  browser = await pw.launch({ executablePath: chromium, headless: true, args: ["--no-sandbox"] });
});

after(async () => {
  await browser?.close();
  if (pipelineId) await call("DELETE", `/api/v1/pipelines/${pipelineId}`, token);
});

/** A chain t0 → w0 → t1 → … of 50 workers and 50 topics, saved without positions. */
function chain(prefix) {
  const workers = [], topics = [];
  for (let i = 0; i < 50; i++) {
    topics.push({ id: `t${i}`, name: `${prefix}-t${i}` });
    workers.push({ id: `w${i}`, name: `${prefix}-w${i}`, input_topics: [`t${i}`], output_topics: i < 49 ? [`t${i + 1}`] : [] });
  }
  return { workers, topics };
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

test("frame time while dragging a node on a 100-node pipeline", { timeout: 180_000 }, async () => {
  const name = `e2e-perf-${sfx}`;
  const saved = await call("POST", "/api/v1/pipelines", token, { name, graph: chain(name) });
  assert.equal(saved.status, 201, JSON.stringify(saved.json));
  pipelineId = saved.json.id;

  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await logIn(page);
  await page.goto(`${base}/#/pipelines/${pipelineId}`);
  await page.waitForFunction(() => document.querySelectorAll(".react-flow__node").length >= 100, null, { timeout: 60_000 });
  await page.waitForTimeout(1500); // the first status poll and fitView settle

  // Drag a worker from the middle of the chain by its label.
  const label = page.locator(`.react-flow__node:has([data-testid="worker-${name}-w25"]) [data-testid=label]`);
  const box = await label.boundingBox();
  const cx = box.x + box.width / 2, cy = box.y + box.height / 2;

  await page.evaluate(() => {
    const w = window;
    w.__frames = [];
    w.__recording = true;
    let last = performance.now();
    const tick = (t) => {
      w.__frames.push(t - last);
      last = t;
      if (w.__recording) requestAnimationFrame(tick);
    };
    requestAnimationFrame((t) => { last = t; requestAnimationFrame(tick); });
  });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Performance.enable");
  const metrics = async () => Object.fromEntries((await cdp.send("Performance.getMetrics")).metrics.map((m) => [m.name, m.value]));
  await page.mouse.move(cx, cy);
  const m0 = await metrics();
  await page.mouse.down();
  const start = Date.now();
  let moves = 0;
  while (Date.now() - start < DRAG_MS) {
    const a = (moves / 30) * 2 * Math.PI;
    await page.mouse.move(cx + 120 * Math.sin(a), cy + 80 * (1 - Math.cos(a)));
    moves++;
  }
  await page.mouse.up();
  const m1 = await metrics();
  const frames = await page.evaluate(() => { window.__recording = false; return window.__frames; });
  await page.screenshot({ path: `${shots}/editor-perf-drag.png` });

  assert.ok(frames.length > 10, `only ${frames.length} frames recorded`);
  const sorted = [...frames].sort((a, b) => a - b);
  const row = {
    frames: frames.length,
    "pointer moves": moves,
    "median ms": quantile(sorted, 0.5).toFixed(1),
    "p95 ms": quantile(sorted, 0.95).toFixed(1),
    "max ms": sorted.at(-1).toFixed(1),
    // main-thread work (Chrome's TaskDuration: script, style, layout, paint) per pointer move
    "main thread ms/move": (((m1.TaskDuration - m0.TaskDuration) * 1000) / moves).toFixed(1),
    "script ms/move": (((m1.ScriptDuration - m0.ScriptDuration) * 1000) / moves).toFixed(1),
  };
  console.log(`frame intervals while dragging a node of a 100-node pipeline for ${DRAG_MS} ms (1400×900):`);
  console.table([row]);
  await page.close();
});
