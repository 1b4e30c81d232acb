// What the browser scenarios share: the command line, the API and mail helpers, the pages
// (axe-core on each, a screenshot of each), the passcode sign-in, and the runner. A scenario
// file (my_access.mjs, admin.mjs) imports these and calls run() with its scenarios.
//
//   node <file>.mjs <scenario> '<config json>'
//
// Prints one JSON line per page checked and a last JSON line with the scenario's result;
// exits 1 at the first failed check.

import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

// NODE_PATH is not used by ESM resolution: resolve the packages from it explicitly.
const require = createRequire(path.join(process.env.NODE_PATH || ".", "noop.js"));
const { chromium } = require("playwright-core");
const { AxeBuilder } = require("@axe-core/playwright");

export const [scenario, rawConfig] = process.argv.slice(2);
export const config = JSON.parse(rawConfig);
export const base = config.base;
export const shots = path.join(config.screenshots, scenario);
fs.rmSync(shots, { recursive: true, force: true });
fs.mkdirSync(shots, { recursive: true });

export function check(condition, message) {
  if (!condition) {
    throw new Error(`check failed: ${message}`);
  }
}

export async function api(method, route, body) {
  const r = await fetch(base + route, {
    method,
    headers: { authorization: `Bearer ${config.adminToken}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null };
}

export const EM = "/v1.0/identityGovernance/entitlementManagement";

export async function groupMembers(group) {
  const r = await api("GET", `/v1.0/groups/${group}/members`);
  return r.body.value.map((u) => u.mail);
}

export async function auditCount() {
  const r = await api("GET", "/v1.0/gatehouse/auditRecords?$count=true&$top=1");
  return r.body["@odata.count"];
}

// --- mail ---------------------------------------------------------------------------------

export function decodeQuotedPrintable(s) {
  return s.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
}

/// Messages to `to` whose subject contains `subject`, oldest first.
export function messages(to, subject) {
  const found = [];
  for (const f of fs.readdirSync(config.mailDir)) {
    if (!f.endsWith(".json")) continue;
    const full = path.join(config.mailDir, f);
    const m = JSON.parse(fs.readFileSync(full, "utf8"));
    const head = m.data.split(/\r?\n\r?\n/)[0];
    const subj = (head.match(/^Subject: (.*)$/m) || [])[1] || "";
    if (m.to.includes(to) && subj.includes(subject)) {
      found.push({ at: fs.statSync(full).mtimeMs, subject: subj, body: decodeQuotedPrintable(m.data) });
    }
  }
  return found.sort((a, b) => a.at - b.at);
}

/// Wait for a message to `to` with `subject` whose text contains `needle`.
export async function mailWith(to, subject, needle) {
  for (let i = 0; i < 150; i++) {
    const m = messages(to, subject).find((m) => m.body.includes(needle));
    if (m) return m;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no mail to ${to} about '${subject}' mentioning ${needle} arrived`);
}

/// Wait for a new message (beyond the `seen` count) to `to` with `subject`.
export async function newMail(to, subject, seen) {
  for (let i = 0; i < 150; i++) {
    const all = messages(to, subject);
    if (all.length > seen) return all[all.length - 1];
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no mail to ${to} about '${subject}' arrived`);
}

// --- pages --------------------------------------------------------------------------------

let browser;
export function currentBrowser() {
  return browser;
}
export const report = [];
export const pages = [];

export async function person(locale, options = {}) {
  const context = await browser.newContext({ locale, viewport: { width: 1100, height: 900 }, ...options });
  const page = await context.newPage();
  pages.push(page);
  return page;
}

/// On a failure: what each open page shows, as text and as a screenshot.
export async function showPages() {
  for (const [i, page] of pages.entries()) {
    try {
      await page.screenshot({ path: path.join(shots, `FAILED-${i}.png`), fullPage: true });
      console.error(`--- page ${i} at ${page.url()}:\n${(await page.locator("main").innerText()).slice(0, 2000)}`);
    } catch (e) {
      console.error(`--- page ${i}: ${e}`);
    }
  }
}

/// Check the page with axe and save its screenshot.
export async function visit(page, name) {
  await page.waitForLoadState("load");
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  const bad = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
  report.push({ page: name, url: new URL(page.url()).pathname, violations: bad.length });
  console.log(JSON.stringify({ page: name, url: page.url(), axe: results.violations.map((v) => `${v.id}:${v.impact}`) }));
  check(
    bad.length === 0,
    `${name}: axe found ${bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target).join(", ")}`).join("; ")}`,
  );
}

/// Wait until the page's path starts with `prefix` (a glob would also match a sign-in URL
/// whose return_to names the path).
export async function waitForPath(page, prefix) {
  await page.waitForURL((u) => u.pathname.startsWith(prefix));
}

export async function text(page, selector) {
  return (await page.locator(selector).first().innerText()).replace(/\s+/g, " ").trim();
}

/// On the sign-in page: the address, then the mailed passcode. Lands where sign-in returns to.
export async function signIn(page, email, label) {
  check(new URL(page.url()).pathname === "/signin", `${label}: expected the sign-in page, at ${page.url()}`);
  await visit(page, `${label}-signin`);
  const seen = messages(email, "sign-in code").length;
  await page.getByLabel("Your email address").fill(email);
  await page.getByRole("button", { name: "Continue" }).click();
  await waitForPath(page, "/signin/email");
  await visit(page, `${label}-passcode`);
  const mail = await newMail(email, "sign-in code", seen);
  const code = mail.body.match(/sign-in code is (\d{8})/)[1];
  await page.getByLabel("Code").fill(code);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForLoadState("load");
}

export async function reloadUntil(page, selector, wanted, what) {
  for (let i = 0; i < 100; i++) {
    await page.reload();
    if ((await text(page, selector)) === wanted) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what}: '${selector}' never read '${wanted}' (last: '${await text(page, selector)}')`);
}

/// Pat (or another Fabrikam user) opens the package link, signs in, answers, submits.
export async function requestTango(page, email, label, choiceLabel, justification) {
  await page.goto(`${base}/myaccess/packages/${config.tango}?domain_hint=fabrikam.example`);
  await signIn(page, email, label);
  check(new URL(page.url()).pathname === `/myaccess/packages/${config.tango}`, `${label}: back at the package, not ${page.url()}`);
  await visit(page, `${label}-package`);
  check((await text(page, "h1")) === "Project Tango", "the package's name");
  const html = await page.content();
  check(!html.includes("ws-hardware") && !html.includes("ws-firmware"), "a choice's stored value reached the browser");
  check(!html.includes("Cross-Org Team"), "a guest sees the package's resources before approval");
  await page.getByLabel(choiceLabel).check();
  await page.getByLabel(/^Why do you need this access/).fill(justification);
  await page.getByLabel(/I accept Contoso's privacy statement/).check();
  await page.getByRole("button", { name: "Submit request" }).click();
  await waitForPath(page, "/myaccess/requests/");
  return new URL(page.url()).pathname.split("/").pop();
}

/// Ana opens the approval from her mail, signs in, and decides with a justification.
export async function anaDecides(page, label, requestor, verdict, justification, request) {
  const mail = await mailWith("ana@fabrikam.example", "Approval needed", `/myaccess/approvals/${request}`);
  const link = mail.body.match(/(http\S+\/myaccess\/approvals\/[0-9a-f-]{36})/)[1];
  await page.goto(link);
  if (new URL(page.url()).pathname === "/signin") {
    await signIn(page, "ana@fabrikam.example", label);
  }
  check(page.url() === link, `${label}: the mail's link leads to the approval, not ${page.url()}`);
  await visit(page, `${label}-approval`);
  const card = page.locator("article.approval");
  check((await card.innerText()).includes(`${requestor} of Fabrikam asks for Project Tango`), "who asks, from where");
  await card.getByLabel(/Your justification/).fill(justification);
  await card.getByRole("button", { name: new RegExp(`^${verdict}`) }).click();
  // htmx swaps the card and announces the result; no page load.
  await page.locator("#toast").filter({ hasText: verdict === "Approve" ? "Approved:" : "Denied:" }).waitFor();
  check(await page.locator("article.approval form").count() === 0, "the decided card has no form");
  check(await page.evaluate(() => document.activeElement && document.activeElement.tagName) === "H3", "focus moves to the decided card");
  await visit(page, `${label}-decided`);
}

export function run(scenarios) {
  main(scenarios).catch((e) => {
    console.error(e.stack || String(e));
    process.exit(1);
  });
}

async function main(scenarios) {
  const run = scenarios[scenario];
  check(run, `no scenario '${scenario}'; one of ${Object.keys(scenarios).join(", ")}`);
  browser = await chromium.launch({
    executablePath: process.env.GATEHOUSE_TEST_CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
  });
  try {
    const result = await run();
    console.log(JSON.stringify({ scenario, ok: true, pages: report.length, result }));
  } catch (e) {
    await showPages();
    throw e;
  } finally {
    await browser.close();
  }
}

