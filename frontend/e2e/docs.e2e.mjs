// /docs is Swagger UI, served by the API server from the UI's build with
// nothing from another origin, preloaded with the token of the user logged
// in to the UI: "Try it out" on GET /api/v1/auth/me answers 200 with that
// user. Screenshot: test-results/docs.png.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { after, before, test } from "node:test";
import { chromium as pw } from "playwright-core";
import { admin, base, chromium, logIn, shots } from "./setup.mjs";

let browser;

before(async () => {
  mkdirSync(shots, { recursive: true });
  browser = await pw.launch({ executablePath: chromium, headless: true, args: ["--no-sandbox"] });
});

after(async () => {
  await browser?.close();
});

test("Swagger UI at /docs sends the logged-in user's token", { timeout: 120_000 }, async () => {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const foreign = [];
  page.on("request", (r) => {
    if (!r.url().startsWith(base) && !r.url().startsWith("data:")) foreign.push(r.url());
  });
  await logIn(page);

  // The UI's "API docs" link opens /docs; follow it in this tab.
  assert.equal(await page.getAttribute("a:has-text('API docs')", "href"), "/docs");
  await page.goto(base + "/docs");
  await page.waitForSelector(".swagger-ui .information-container .title");
  assert.match(await page.textContent(".swagger-ui .title"), /Tributary API/);
  await page.waitForFunction(() => /Requests are sent as/.test(document.querySelector("[data-testid=docs-who]")?.textContent ?? ""));
  assert.match(await page.textContent("[data-testid=docs-who]"), new RegExp(`${admin.email} \\(admin\\)`));
  // Preauthorized: the lock of a protected route shows as closed.
  const op = page.locator("#operations-auth-get_v1_auth_me");
  await op.waitFor();
  assert.equal(await op.locator(".authorization__btn[aria-label='authorization button locked']").count(), 1, "GET /auth/me is not shown as authorized");

  await op.locator(".opblock-summary-control").click();
  await op.locator("button.try-out__btn").click();
  await op.locator("button.execute").click();
  const status = op.locator(".live-responses-table .response .response-col_status");
  await status.first().waitFor({ timeout: 30_000 });
  assert.equal((await status.first().textContent()).trim(), "200");
  const body = await op.locator(".live-responses-table .response-col_description pre").first().textContent();
  assert.equal(JSON.parse(body).email, admin.email);
  // The request Swagger UI shows (its curl line) carries the bearer token.
  assert.match(await op.locator(".curl-command").textContent(), /Authorization: Bearer ey/);

  // The top of the page (whose token), then the operation with its answer.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: `${shots}/docs-top.png` });
  await op.locator(".live-responses-table").evaluate((el) => el.scrollIntoView({ block: "center" }));
  await page.screenshot({ path: `${shots}/docs.png` });
  assert.deepEqual(foreign, [], "the docs page loaded something from another origin");
  await page.close();
});
