// My Access in a real browser: Debian's Chromium, driven by playwright-core, against a real
// Gatehouse server (started by crates/testkit/tests/browser.rs on SQLite or PostgreSQL) with
// a real SMTP server whose messages land as JSON files in config.mailDir. Every page visited
// is checked with axe-core (no serious or critical violation) and saved as a screenshot.

import {
  anaDecides, api, auditCount, base, check, config, EM, groupMembers, person, reloadUntil, requestTango, run, signIn,
  text, visit, waitForPath,
} from "./common.mjs";

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

run(scenarios);
