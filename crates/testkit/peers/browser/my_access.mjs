// My Access in a real browser: Debian's Chromium, driven by playwright-core, against a real
// Gatehouse server (started by crates/testkit/tests/browser.rs on SQLite or PostgreSQL) with
// a real SMTP server whose messages land as JSON files in config.mailDir. Every page visited
// is checked with axe-core (no serious or critical violation) and saved as a screenshot.
//
//   node my_access.mjs <scenario> '<config json>'
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

const [scenario, rawConfig] = process.argv.slice(2);
const config = JSON.parse(rawConfig);
const base = config.base;
const shots = path.join(config.screenshots, scenario);
fs.rmSync(shots, { recursive: true, force: true });
fs.mkdirSync(shots, { recursive: true });

function check(condition, message) {
  if (!condition) {
    throw new Error(`check failed: ${message}`);
  }
}

async function api(method, route, body) {
  const r = await fetch(base + route, {
    method,
    headers: { authorization: `Bearer ${config.adminToken}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null };
}

const EM = "/v1.0/identityGovernance/entitlementManagement";

async function groupMembers(group) {
  const r = await api("GET", `/v1.0/groups/${group}/members`);
  return r.body.value.map((u) => u.mail);
}

async function auditCount() {
  const r = await api("GET", "/v1.0/gatehouse/auditRecords?$count=true&$top=1");
  return r.body["@odata.count"];
}

// --- mail ---------------------------------------------------------------------------------

function decodeQuotedPrintable(s) {
  return s.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
}

/// Messages to `to` whose subject contains `subject`, oldest first.
function messages(to, subject) {
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
async function mailWith(to, subject, needle) {
  for (let i = 0; i < 150; i++) {
    const m = messages(to, subject).find((m) => m.body.includes(needle));
    if (m) return m;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no mail to ${to} about '${subject}' mentioning ${needle} arrived`);
}

/// Wait for a new message (beyond the `seen` count) to `to` with `subject`.
async function newMail(to, subject, seen) {
  for (let i = 0; i < 150; i++) {
    const all = messages(to, subject);
    if (all.length > seen) return all[all.length - 1];
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no mail to ${to} about '${subject}' arrived`);
}

// --- pages --------------------------------------------------------------------------------

let browser;
const report = [];
const pages = [];

async function person(locale) {
  const context = await browser.newContext({ locale, viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  pages.push(page);
  return page;
}

/// On a failure: what each open page shows, as text and as a screenshot.
async function showPages() {
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
async function visit(page, name) {
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
async function waitForPath(page, prefix) {
  await page.waitForURL((u) => u.pathname.startsWith(prefix));
}

async function text(page, selector) {
  return (await page.locator(selector).first().innerText()).replace(/\s+/g, " ").trim();
}

/// On the sign-in page: the address, then the mailed passcode. Lands where sign-in returns to.
async function signIn(page, email, label) {
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

async function reloadUntil(page, selector, wanted, what) {
  for (let i = 0; i < 100; i++) {
    await page.reload();
    if ((await text(page, selector)) === wanted) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what}: '${selector}' never read '${wanted}' (last: '${await text(page, selector)}')`);
}

/// Pat (or another Fabrikam user) opens the package link, signs in, answers, submits.
async function requestTango(page, email, label, choiceLabel, justification) {
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
async function anaDecides(page, label, requestor, verdict, justification, request) {
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

// --- scenarios ----------------------------------------------------------------------------

const scenarios = {
  // The seeds' partner story, up to delivery.
  async partner_story() {
    const pat = await person("de-DE");
    await pat.goto(`${base}/myaccess/packages/${config.tango}?domain_hint=fabrikam.example`);
    await signIn(pat, "pat@fabrikam.example", "pat");
    check(new URL(pat.url()).pathname === `/myaccess/packages/${config.tango}`, "Pat is back at the package");
    await visit(pat, "pat-package");
    check((await pat.content()).includes("Welchem Arbeitsbereich von Project Tango treten Sie bei?"), "a German browser reads the German question");
    // Submitting without answering: errors next to their fields, nothing written.
    const before = await auditCount();
    await pat.getByRole("button", { name: "Submit request" }).click();
    await pat.locator(".error").first().waitFor();
    check((await pat.locator(".error").count()) >= 3, "the question, the justification and the privacy box are marked");
    check((await auditCount()) === before, "a refused form writes nothing");
    await visit(pat, "pat-package-errors");
    // Keyboard only: Tab reaches the submit button, and focus is visible on the way.
    await pat.locator("body").focus();
    let reached = false;
    for (let i = 0; i < 40 && !reached; i++) {
      await pat.keyboard.press("Tab");
      const focused = await pat.evaluate(() => {
        const e = document.activeElement;
        const style = getComputedStyle(e);
        return { text: e.innerText || "", outline: style.outlineStyle, shadow: style.boxShadow };
      });
      check(focused.outline !== "none" || focused.shadow !== "none", `focus is visible on ${JSON.stringify(focused)}`);
      reached = focused.text.trim() === "Submit request";
    }
    check(reached, "the submit button is reachable with Tab");
    // Phone width: one column, nothing to scroll sideways.
    await pat.setViewportSize({ width: 360, height: 780 });
    check(await pat.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), "no sideways scrolling at 360 px");
    await visit(pat, "pat-package-phone");
    await pat.setViewportSize({ width: 1100, height: 900 });
    await pat.getByLabel("Gerätebau").check();
    await pat.getByLabel(/^Why do you need this access/).fill("Joining the hardware workstream for the Q3 prototype");
    await pat.getByLabel(/I accept Contoso's privacy statement/).check();
    await pat.getByRole("button", { name: "Submit request" }).click();
    await waitForPath(pat, "/myaccess/requests/");
    const request = new URL(pat.url()).pathname.split("/").pop();
    check((await text(pat, ".status .label")) === "Pending approval (stage 1 of 1)", "pending at stage 1 of 1");
    check((await pat.content()).includes("Can approve: Ana Silva."), "who can approve");
    check((await pat.content()).includes("Gerätebau"), "the answer in Pat's language");
    await visit(pat, "pat-request-pending");
    await pat.goto(`${base}/myaccess/requests`);
    await visit(pat, "pat-request-history");

    const ana = await person("en-GB");
    await anaDecides(ana, "ana", "Pat Partner", "Approve", "Known Fabrikam engineer", request);
    await ana.goto(`${base}/myaccess/approvals`);
    await visit(ana, "ana-approvals");

    await pat.goto(`${base}/myaccess/requests/${request}`);
    await reloadUntil(pat, ".status .label", "Delivered", "Pat's request");
    await visit(pat, "pat-request-delivered");
    check((await groupMembers(config.group)).includes("pat@fabrikam.example"), "the directory group has Pat as a member");
    await pat.getByRole("link", { name: "See it under My access" }).click();
    const card = pat.locator(".card").filter({ hasText: "Project Tango" });
    check((await card.innerText()).includes("Cross-Org Team (Member)"), "My access lists the resource");
    const until = (await card.locator("dd").nth(1).innerText()).trim();
    check(/\d{4}$/.test(until), `an end date, not '${until}'`);
    await visit(pat, "pat-my-access");
    // Listed packages: the wiki; never the hidden Tango, never Northwind's.
    await pat.goto(`${base}/myaccess`);
    const listed = await pat.locator(".cards h2").allInnerTexts();
    check(JSON.stringify(listed) === JSON.stringify(["Tango wiki"]), `Pat's list: ${listed}`);
    await visit(pat, "pat-packages");
    return { request, until };
  },

  // Later: Pat extends, then removes; the group follows.
  async extend_and_remove() {
    const pat = await person("en-US");
    await pat.goto(`${base}/myaccess/access`);
    await signIn(pat, "pat@fabrikam.example", "pat-later");
    const card = pat.locator(".card").filter({ hasText: "Project Tango" });
    const before = (await card.locator("dd").nth(1).innerText()).trim();
    await card.getByRole("link", { name: /^Extend/ }).click();
    await visit(pat, "pat-extend");
    await pat.getByLabel(/^Why do you need it longer/).fill("The prototype slipped a month");
    await pat.getByRole("button", { name: "Ask for the extension" }).click();
    await waitForPath(pat, "/myaccess/requests/");
    await reloadUntil(pat, ".status .label", "Extended", "the extension");
    await pat.goto(`${base}/myaccess/access`);
    const after = (await pat.locator(".card").filter({ hasText: "Project Tango" }).locator("dd").nth(1).innerText()).trim();
    check(after !== before && Date.parse(after) > Date.parse(before), `the end moved later: ${before} -> ${after}`);
    await pat.locator(".card").filter({ hasText: "Project Tango" }).getByRole("link", { name: /^Remove/ }).click();
    await visit(pat, "pat-remove-confirm");
    await pat.getByRole("button", { name: "Remove my access" }).click();
    await pat.waitForLoadState("load");
    // Pat held nothing else: the external-user lifecycle blocks the guest at once, which
    // ends the session; the page says so instead of a bare sign-in form.
    check((await text(pat, "h1")) === "Your access was removed", `the removal's page, not ${await text(pat, "h1")}`);
    check((await pat.content()).includes("signed out"), "it says Pat is signed out");
    await visit(pat, "pat-removed");
    for (let i = 0; (await groupMembers(config.group)).includes("pat@fabrikam.example"); i++) {
      check(i < 100, "the group no longer has Pat");
      await new Promise((r) => setTimeout(r, 200));
    }
    const users = await api("GET", "/v1.0/users?$filter=mail eq 'pat@fabrikam.example'");
    check(users.body.value[0].accountEnabled === false, "Pat's guest account is blocked");
    await pat.goto(`${base}/myaccess/access`);
    check(new URL(pat.url()).pathname === "/signin", `a blocked guest is signed out, at ${pat.url()}`);
    return { before, after };
  },

  // Ana denies; Lee reads why and can ask again with the earlier answers.
  async denial() {
    const lee = await person("en-US");
    const request = await requestTango(lee, "lee@fabrikam.example", "lee", "Firmware", "Helping with firmware");
    const ana = await person("en-GB");
    // Lee's first sign-in made him a guest named after his address.
    await anaDecides(ana, "ana", "lee", "Deny", "Not on the project this quarter", request);
    await lee.goto(`${base}/myaccess/requests/${request}`);
    check((await text(lee, ".status .label")) === "Denied by Ana Silva", "who denied");
    check((await lee.content()).includes("Not on the project this quarter"), "the approver's justification");
    await visit(lee, "lee-denied");
    await lee.getByRole("link", { name: "Ask again with these answers" }).click();
    check(await lee.getByLabel("Firmware").isChecked(), "the earlier answer is filled in");
    check((await lee.getByLabel(/^Why do you need this access/).inputValue()) === "Helping with firmware", "the justification too");
    await visit(lee, "lee-ask-again");
    return { request };
  },

  // A guest of another organization: the link is not available, and lists never mix organizations.
  async not_available() {
    const nia = await person("en-US");
    await nia.goto(`${base}/myaccess/packages/${config.tango}`);
    await signIn(nia, "nia@northwind.example", "nia");
    check((await text(nia, ".notice h2")) === "This access package is not available to you", "the refusal page");
    check((await nia.content()).includes("yours is not one of them"), "and why");
    check((await nia.getByRole("button", { name: "Submit request" }).count()) === 0, "nothing to submit");
    await visit(nia, "nia-not-available");
    await nia.goto(`${base}/myaccess`);
    const listed = await nia.locator(".cards h2").allInnerTexts();
    check(JSON.stringify(listed) === JSON.stringify(["Northwind ledger"]), `Nia's list: ${listed}`);
    await nia.getByLabel("Search by name or description").fill("tango");
    await nia.getByRole("button", { name: "Search" }).click();
    check((await nia.locator(".cards h2").count()) === 0, "searching does not find other organizations' packages");
    await visit(nia, "nia-search");
    const requests = await api("GET", `${EM}/assignmentRequests?$filter=accessPackage/id eq '${config.tango}'`);
    check(requests.body.value.length === 0, "no request exists for the package");
    return { listed };
  },

  // A form posted without its CSRF token is refused with a page and writes nothing.
  async csrf() {
    const pat = await person("en-US");
    await pat.goto(`${base}/myaccess/packages/${config.wiki}`);
    await signIn(pat, "pat@fabrikam.example", "pat");
    await pat.getByLabel(/I accept Contoso's privacy statement/).check();
    await pat.evaluate(() => document.querySelectorAll("input[name=csrf]").forEach((i) => i.remove()));
    const before = await auditCount();
    await pat.getByRole("button", { name: "Submit request" }).click();
    await pat.waitForLoadState("load");
    check((await text(pat, "h1")) === "This form has expired", "the refusal is a page");
    await visit(pat, "pat-csrf-refused");
    check((await auditCount()) === before, "nothing was written");
    const requests = await api("GET", `${EM}/assignmentRequests?$filter=accessPackage/id eq '${config.wiki}'`);
    check(requests.body.value.length === 0, "no request was created");
    return { refused: true };
  },
};

async function main() {
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

main().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(1);
});
