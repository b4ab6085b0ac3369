// The Users page, as an admin would use it: create a viewer (after a
// refusal shown beside its field), log out, log in as the viewer and find
// the UI read-only; then disable the viewer and watch its session end.
// Screenshots: test-results/users.png (the admin's page) and
// users-viewer.png (the viewer's read-only editor).
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { after, before, test } from "node:test";
import { chromium as pw } from "playwright-core";
import { admin, base, call, chromium, login, logIn, shots, until, viewer } from "./setup.mjs";

const sfx = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const who = { email: `e2e-viewer-${sfx}@tributary.local`, password: `e2e-pass-${sfx}` };
let browser, adminToken, pipelineId, userId;

before(async () => {
  mkdirSync(shots, { recursive: true });
  adminToken = await login(admin);
  // A pipeline for the viewer to open.
  const p = await call("POST", "/api/v1/pipelines", adminToken, { name: `e2e-users-${sfx}`, graph: { workers: [], topics: [{ id: "t1", name: `e2e-users-${sfx}` }] } });
  assert.equal(p.status, 201, JSON.stringify(p.json));
  pipelineId = p.json.id;
  browser = await pw.launch({ executablePath: chromium, headless: true, args: ["--no-sandbox"] });
});

after(async () => {
  await browser?.close();
  if (pipelineId) await call("DELETE", `/api/v1/pipelines/${pipelineId}`, adminToken);
  if (userId) await call("DELETE", `/api/v1/users/${userId}`, adminToken);
});

test("an admin creates a viewer, who sees a read-only UI until disabled", { timeout: 120_000 }, async () => {
  const page = await browser.newPage({ viewport: { width: 1300, height: 800 } });
  page.on("dialog", (d) => d.accept());
  await logIn(page, admin);
  await page.click(".topbar a:has-text('Users')");
  await page.waitForSelector("[data-testid=users-page] table.users");
  await page.waitForSelector(`[data-testid="user-${admin.email}"]`);

  // A refusal lands beside its field.
  await page.fill("input[name=new-email]", who.email);
  await page.fill("input[name=new-password]", "short");
  await page.selectOption("select[name=new-role]", "viewer");
  await page.click("button:has-text('Create user')");
  await page.waitForSelector("[data-testid=create-error-password]");
  assert.match(await page.textContent("[data-testid=create-error-password]"), /8 to 72 bytes/);

  await page.fill("input[name=new-password]", who.password);
  await page.click("button:has-text('Create user')");
  const row = page.locator(`[data-testid="user-${who.email}"]`);
  await row.waitFor();
  assert.equal(await row.locator("select").inputValue(), "viewer");
  const users = await call("GET", "/api/v1/users", adminToken);
  const created = users.json.find((u) => u.email === who.email);
  assert.ok(created, "the API does not list the new user");
  assert.equal(created.role, "viewer");
  assert.equal(created.disabled_at, null);
  userId = created.id;
  // The admin cannot disable or delete itself from here.
  const mine = page.locator(`[data-testid="user-${admin.email}"]`);
  assert.equal(await mine.locator("button:has-text('Disable')").isDisabled(), true);
  assert.equal(await mine.locator("button:has-text('Delete')").isDisabled(), true);
  await page.screenshot({ path: `${shots}/users.png`, fullPage: true });

  // Log out; log in as the viewer.
  await page.click("button:has-text('Log out')");
  await logIn(page, who);
  assert.equal((await page.textContent("[data-testid=whoami]")).trim(), `${who.email} (viewer)`);
  assert.equal(await page.locator(".topbar a:has-text('Users')").count(), 0, "a viewer sees the Users link");
  assert.equal(await page.locator("button:has-text('New pipeline')").isDisabled(), true);
  await page.goto(`${base}/#/users`);
  assert.equal(await page.locator("[data-testid=users-page]").count(), 0, "a viewer reaches the Users page");
  const viewerToken = await login(who);
  assert.equal((await call("GET", "/api/v1/users", viewerToken)).status, 403);

  await page.goto(`${base}/#/pipelines/${pipelineId}`);
  await page.waitForSelector(".react-flow__node");
  for (const label of ["Save", "Deploy all", "Add Worker", "Add Topic"]) {
    assert.equal(await page.locator(`.toolbar button:has-text('${label}')`).isDisabled(), true, `${label} enabled for a viewer`);
  }
  await page.screenshot({ path: `${shots}/users-viewer.png` });

  // Disabled: the viewer's token stops working at its next request, and it cannot log in again.
  const off = await call("PATCH", `/api/v1/users/${userId}`, adminToken, { disabled: true });
  assert.equal(off.status, 200, JSON.stringify(off.json));
  assert.equal((await call("GET", "/api/v1/auth/me", viewerToken)).status, 401);
  await page.reload();
  await page.waitForSelector("input[name=email]");
  await page.fill("input[name=email]", who.email);
  await page.fill("input[name=password]", who.password);
  await page.click("button[type=submit]");
  await page.waitForSelector(".login [role=alert]");
  assert.match(await page.textContent(".login [role=alert]"), /disabled/);
  await page.close();
});

test("an admin changes a role, resets a password, disables and deletes a user", { timeout: 120_000 }, async () => {
  const other = { email: `e2e-other-${sfx}@tributary.local`, password: `e2e-first-${sfx}` };
  const reg = await call("POST", "/api/v1/auth/register", adminToken, { ...other, role: "viewer" });
  assert.equal(reg.status, 201, JSON.stringify(reg.json));
  const id = reg.json.id;
  const page = await browser.newPage({ viewport: { width: 1300, height: 800 } });
  page.on("dialog", (d) => d.accept());
  try {
    await logIn(page, admin);
    await page.goto(`${base}/#/users`);
    await page.waitForSelector("[data-testid=users-page] table.users");
    const row = page.locator(`[data-testid="user-${other.email}"]`);
    assert.equal(await row.count(), 0, "a test user is listed before asking for test users");
    await page.check("text=show test users");
    await row.waitFor();

    await row.locator("select").selectOption("editor");
    await page.waitForFunction(async ([u, t, id]) => {
      const r = await fetch(`${u}/api/v1/users`, { headers: { Authorization: `Bearer ${t}` } });
      return (await r.json()).find((x) => x.id === id)?.role === "editor";
    }, [base, adminToken, id]);

    await row.locator("button:has-text('Reset password')").click();
    await row.locator("input[type=password]").fill("short");
    await row.locator("button:has-text('Set')").click();
    await row.locator(".error").waitFor();
    assert.match(await row.locator(".error").textContent(), /8 to 72 bytes/);
    await row.locator("input[type=password]").fill(`e2e-second-${sfx}`);
    await row.locator("button:has-text('Set')").click();
    await row.locator("text=Password set.").waitFor();
    assert.equal((await call("POST", "/api/v1/auth/login", null, other)).status, 401, "the old password still works");
    await login({ email: other.email, password: `e2e-second-${sfx}` });

    await row.locator("button:has-text('Disable')").click();
    await row.locator("[data-testid=user-state]:has-text('disabled')").waitFor();
    const listed = (await call("GET", "/api/v1/users", adminToken)).json.find((u) => u.id === id);
    assert.notEqual(listed.disabled_at, null);
    await row.locator("button:has-text('Enable')").waitFor();

    await row.locator("button:has-text('Delete')").click();
    await row.waitFor({ state: "detached" });
    assert.equal((await call("GET", "/api/v1/users", adminToken)).json.some((u) => u.id === id), false);
  } finally {
    await call("DELETE", `/api/v1/users/${id}`, adminToken);
    await page.close();
  }
});
