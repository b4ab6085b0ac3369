// End-to-end tests of the Workers, worker and Functions pages in headless
// Chromium, against the running stack: upload a function version through
// the file picker, create a worker outside any pipeline as the README's
// "Your first function" does, change it on its page and roll it back,
// read and redrive a dead letter. Screenshots go to frontend/test-results/.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { chromium as pw } from "playwright-core";
import { admin, base, call, chromium, loggedInPage, prepare, repo, shots, until } from "./setup.mjs";

const sfx = Date.now().toString(36);
const version = `e2e-${sfx}`;
const names = { worker: `e2e-w-${sfx}`, in: `e2e-in-${sfx}`, out: `e2e-out-${sfx}` };
let browser, token, binary, notElf, workerId;

before(async () => {
  mkdirSync(shots, { recursive: true });
  token = await prepare();
  const dir = mkdtempSync(join(tmpdir(), "e2e-workers-"));
  binary = join(dir, "template");
  execFileSync("go", ["build", "-o", binary, "./functions/template"], { cwd: repo, stdio: "inherit" });
  notElf = join(dir, "script.sh");
  writeFileSync(notElf, "#!/bin/sh\necho not a binary\n");
  browser = await pw.launch({ executablePath: chromium, headless: true, args: ["--no-sandbox"] });
});

after(async () => {
  await browser?.close();
  if (workerId) {
    await call("POST", `/api/v1/workers/${workerId}/stop`, token);
    const del = await call("DELETE", `/api/v1/workers/${workerId}`, token);
    assert.equal(del.status, 204, `delete worker: ${JSON.stringify(del.json)}`);
  }
  await call("DELETE", `/api/v1/functions/template/${version}`, token);
});

function loginPage() {
  return loggedInPage(browser, { width: 1500, height: 1000 });
}

test("upload a function version from the file picker, with progress and the API's reasons", { timeout: 120_000 }, async () => {
  const page = await loginPage();
  await page.click(".topbar a:has-text('Functions')");
  await page.waitForSelector("[data-testid=functions-page]");
  const form = page.locator("[data-testid=upload-form]");
  // Progress shows while the bytes go: remember whether it ever did.
  await page.evaluate(() => {
    window.__progress = false;
    new MutationObserver(() => { if (document.querySelector("[data-testid=upload-progress]")) window.__progress = true; })
      .observe(document.body, { childList: true, subtree: true });
  });
  await form.locator("input[aria-label='function name']").fill("template");
  await form.locator("input[aria-label='function version']").fill(version);
  await form.locator("input[type=file]").setInputFiles(binary);
  await form.locator("button:has-text('Upload')").click();
  await page.waitForSelector(`[data-testid=functions-notice]:has-text('Uploaded template ${version}')`);
  assert.equal(await page.evaluate(() => window.__progress), true, "no progress bar while uploading");

  // A test version is hidden until asked for.
  const row = page.locator(`[data-testid='version-template-${version}']`);
  assert.equal(await row.count(), 0, "an e2e- version is listed by default");
  await page.check("input[aria-label='show test versions']");
  await row.waitFor();
  const text = await row.textContent();
  assert.match(text, /admin@tributary\.local/, "uploader");
  assert.match(text, /no worker/, "used by");
  const listed = (await call("GET", "/api/v1/functions", token)).json.find((f) => f.name === "template" && f.version === version);
  assert.ok(listed && text.includes(listed.sha256.slice(0, 12)), `sha256 of ${JSON.stringify(listed)} in ${text}`);

  // Refusals come back beside the field they name.
  await form.locator("input[aria-label='function version']").fill(`${version}-bad`);
  await form.locator("input[type=file]").setInputFiles(notElf);
  await form.locator("button:has-text('Upload')").click();
  assert.match(await page.locator("[data-testid=upload-error-file]").textContent(), /not an ELF executable/);
  await form.locator("input[aria-label='function version']").fill(version);
  await form.locator("input[type=file]").setInputFiles(binary);
  await form.locator("button:has-text('Upload')").click();
  assert.match(await page.locator("[data-testid=upload-error-version]").textContent(), /exists already/);
  await page.screenshot({ path: `${shots}/functions.png`, fullPage: true });
  await page.close();
});

test("a worker outside any pipeline: listed, its page, a change and a rollback", { timeout: 420_000 }, async () => {
  // As the README's "Your first function": create the worker, then deploy it.
  const created = await call("POST", "/api/v1/workers", token, {
    name: names.worker, input_topics: [names.in], output_topics: [names.out],
    kafka_bootstrap_server: "127.0.0.1:9092", function: "template", function_version: version,
  });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  workerId = created.json.id;
  const dep = await call("POST", `/api/v1/workers/${workerId}/deploy`, token);
  assert.equal(dep.status, 202, JSON.stringify(dep.json));

  const page = await loginPage();
  await page.click(".topbar a:has-text('Workers')");
  await page.waitForSelector("[data-testid=workers-table]");
  const row = page.locator(`[data-testid='worker-row-${names.worker}']`);
  assert.equal(await row.count(), 0, "an e2e- worker is listed by default");
  await page.check("input[aria-label='show test workers']");
  await row.waitFor();
  await page.waitForFunction((n) => /running/.test(document.querySelector(`[data-testid='worker-row-${n}']`)?.textContent ?? ""),
    names.worker, { timeout: 240_000 });
  assert.match(await row.textContent(), /1 \/ 1/);
  await page.screenshot({ path: `${shots}/workers.png`, fullPage: true });

  await row.locator(`a:has-text('${names.worker}')`).click();
  await page.waitForSelector("[data-testid=worker-page]");
  assert.equal(await page.evaluate(() => location.hash), `#/workers/${workerId}`);
  await page.waitForFunction(() => /1\/1 healthy/.test(document.querySelector("[data-testid=worker-health]")?.textContent ?? ""), null, { timeout: 120_000 });

  // A second config version: a shorter join timeout, saved from the shared form.
  const settings = page.locator("[data-testid=worker-settings]");
  await settings.locator("input[aria-label=timeout]").fill("120");
  await settings.locator("button:has-text('Save')").click();
  await page.waitForSelector("[data-testid=worker-notice]:has-text('Saved as config version 2')");
  const diff = page.locator("[data-testid=versions] [data-testid=version-diff]");
  await diff.waitFor();
  assert.match(await diff.locator(".removed").allTextContents().then((t) => t.join("\n")), /"timeout_seconds": 240/);
  assert.match(await diff.locator(".added").allTextContents().then((t) => t.join("\n")), /"timeout_seconds": 120/);

  await page.locator("[data-testid=version-1] button:has-text('Rollback')").click();
  const dialog = page.locator("[data-testid=confirm-dialog]");
  assert.match(await dialog.textContent(), /saved as version 3/);
  await dialog.locator("button:has-text('Roll back to version 1')").click();
  await page.waitForSelector("[data-testid=worker-notice]:has-text('saved as version 3')");
  const w = (await call("GET", `/api/v1/workers/${workerId}`, token)).json;
  const v1 = (await call("GET", `/api/v1/workers/${workerId}/versions`, token)).json.find((v) => v.version === 1).snapshot;
  assert.equal(w.config_version, 3);
  assert.equal(w.timeout_seconds, 240, "the first version's timeout");
  assert.equal(w.timeout_seconds, v1.timeout_seconds);
  assert.equal(w.function_version, v1.function_version);
  assert.deepEqual(w.input_topics, v1.topics_input);
  assert.equal(await settings.locator("input[aria-label=timeout]").inputValue(), "240");

  // An allocation's log tail, through the API.
  const alloc = page.locator("[data-testid=allocations] tbody tr").first();
  await alloc.locator("button:has-text('Logs')").click();
  await page.waitForFunction(() => (document.querySelector("[data-testid=allocations] pre.logs")?.textContent ?? "").length > 20, null, { timeout: 30_000 });
  await page.locator("[data-testid=events] [data-testid=event-rollback]").first().waitFor({ timeout: 15_000 });
  await page.screenshot({ path: `${shots}/worker-page.png`, fullPage: true });
  await page.close();
});

test("a record that is not JSON dead-letters; it is read and redriven from the worker page", { timeout: 240_000 }, async () => {
  assert.ok(workerId, "the previous test created the worker");
  const id = workerId;
  await until("the rolled-back worker to be healthy", async () => {
    const st = await call("GET", `/api/v1/workers/${id}/status`, token);
    return st.json.desired > 0 && st.json.healthy >= st.json.desired;
  }, 180_000);
  execFileSync("go", ["run", "./infra/loadgen", "-topics", names.in, "-count", "1", "-rate", "0", "-value", `not json ${sfx}`, "-id-prefix", `e2e-${sfx}-`],
    { cwd: repo, stdio: "inherit" });
  const letter = await until("the record in the dead-letter topic", async () =>
    (await call("GET", `/api/v1/workers/${id}/dead-letters`, token)).json.letters?.[0], 90_000);

  const page = await loginPage();
  await page.goto(`${base}/#/workers/${id}`);
  const card = page.locator("[data-testid=dead-letters]");
  const row = card.locator(`[data-testid='dead-letter-${letter.partition}/${letter.offset}']`);
  await row.waitFor({ timeout: 30_000 });
  await row.click();
  const detail = card.locator("[data-testid=dead-letter-detail]");
  assert.equal(await detail.locator("[data-testid=dead-letter-value]").textContent(), `not json ${sfx}`);
  const detailText = await detail.textContent();
  assert.ok(letter.class && detailText.includes(letter.class), `class ${letter.class} in ${detailText}`);
  assert.match(detailText, new RegExp(`${names.in} \\[${letter.source.partition}\\] @ ${letter.source.offset}`), "source");
  assert.match(detailText, /headers of the message/);

  await row.locator("input[type=checkbox]").check();
  await card.locator("button:has-text('Redrive selected (1)')").click();
  await page.locator("[data-testid=confirm-dialog] button:has-text('Redrive')").click();
  await card.locator("[data-testid=redrive-result]:has-text('1 redriven')").waitFor({ timeout: 60_000 });
  const page1 = (await call("GET", `/api/v1/workers/${id}/dead-letters`, token)).json;
  const same = page1.letters.find((l) => l.partition === letter.partition && l.offset === letter.offset);
  assert.equal(same.redriven?.topic, names.in, `redriven ${JSON.stringify(same.redriven)}`);
  // Back on its input, it fails again: a second letter, redriven once before.
  await until("the redriven record to dead-letter again", async () =>
    (await call("GET", `/api/v1/workers/${id}/dead-letters`, token)).json.letters.some((l) => l.redrive_count === 1), 90_000);
  await card.locator("button:has-text('Refresh')").click();
  await card.locator("tbody tr:has-text('1× before')").waitFor({ timeout: 15_000 });
  await card.screenshot({ path: `${shots}/dead-letters.png` });

  // Reset offsets asks first, saying what would be processed again.
  const reset = page.locator("[data-testid=reset-offsets]");
  await reset.locator("input[aria-label='reset to earliest']").check();
  await reset.locator("button:has-text('Reset offsets…')").click();
  const plan = page.locator("[data-testid=reset-plan]");
  await plan.waitFor({ timeout: 30_000 });
  assert.match(await plan.textContent(), /\d+ already processed records? will be processed again/);
  await page.locator("[data-testid=confirm-dialog] button:has-text('Cancel')").click();
  await page.close();
});
