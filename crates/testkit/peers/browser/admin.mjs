// The admin portal in a real browser (crates/testkit/tests/admin_browser.rs starts the server,
// its workers and an SMTP server): the seeds' administrator clicks, tab by tab, and then a
// partner requests through the link the administrator copied. Every page is checked with
// axe-core and saved as a screenshot (the README's come from here).

import { anaDecides, api, auditCount, base, check, config, EM, groupMembers, person, reloadUntil, run, signIn, text, visit, waitForPath } from "./common.mjs";

/// Signed in through a one-time link (the way the first administrator signs in).
async function signedIn(link) {
  const page = await person("en-GB", { permissions: ["clipboard-read", "clipboard-write"] });
  await page.goto(link);
  await page.waitForLoadState("load");
  return page;
}

/// The current wizard tab's label, e.g. "2. Directory + domain".
async function currentTab(page) {
  return text(page, "nav.tabs [aria-current=step]");
}

async function next(page, label) {
  await page.getByRole("button", { name: `Next: ${label}` }).click();
  await page.waitForLoadState("load");
}

/// A refusal: the message next to `field`, the tab it is on, and nothing written.
async function refused(page, field, message, tab, before, label) {
  const error = page.locator(`[id='${field}-error']`);
  await error.waitFor();
  const said = (await error.innerText()).trim();
  check(said.includes(message), `${label}: '${said}' should say '${message}'`);
  check((await currentTab(page)).endsWith(tab), `${label}: on ${tab}, not ${await currentTab(page)}`);
  check((await auditCount()) === before, `${label}: a refused step wrote something`);
}

/// Reload until `selector`'s text contains `wanted`.
async function reloadUntilContains(page, selector, wanted, what) {
  for (let i = 0; i < 100; i++) {
    await page.reload();
    if ((await page.locator(selector).count()) > 0 && (await text(page, selector)).includes(wanted)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what}: '${selector}' never contained '${wanted}'`);
}

/// Seed 000's administrator: Fabrikam by its domain with both sponsors, the catalog, the
/// group, Project Tango with its policy, hidden, and its link copied.
async function connectFabrikam(admin) {
  await admin.goto(`${base}/admin/connectedOrganizations`);
  await visit(admin, "organizations");
  await admin.getByRole("link", { name: "Add connected organization" }).click();
  await visit(admin, "organization-basics");
  const before = await auditCount();
  await next(admin, "Directory + domain");
  await refused(admin, "name", "Enter the organization's name", "Basics", before, "empty name");
  await visit(admin, "organization-basics-refused");
  await admin.getByLabel(/^Name/).fill("Fabrikam");
  await admin.getByLabel(/^Description/).fill("Our hardware partner for Project Tango");
  await next(admin, "Directory + domain");
  check((await currentTab(admin)) === "2. Directory + domain", "on Directory + domain");
  for (const [domain, message] of [
    ["fabrikam", "is not a valid domain name"],
    ["northwind.example", "already belongs to the connected organization Northwind"],
  ]) {
    await admin.getByLabel("Domain", { exact: true }).fill(domain);
    await admin.getByRole("button", { name: "Add", exact: true }).click();
    await refused(admin, "new_domain", message, "Directory + domain", before, `domain ${domain}`);
  }
  await visit(admin, "organization-domain-refused");
  check((await admin.getByLabel(/^Description/).inputValue()) === "Our hardware partner for Project Tango", "what was typed is kept");
  await admin.getByLabel("Domain", { exact: true }).fill("fabrikam.example");
  await admin.getByRole("button", { name: "Add", exact: true }).click();
  await admin.locator("tr[data-domain='fabrikam.example']").waitFor();
  check((await text(admin, "tr[data-domain='fabrikam.example']")).includes("One-time passcode"), "no provider answers: passcodes");
  await visit(admin, "organization-domain");
  await next(admin, "Sponsors");
  const internal = await admin.locator("#internal-picker .offered label").allInnerTexts();
  const external = await admin.locator("#external-picker .offered label").allInnerTexts();
  check(internal.some((t) => t.startsWith("Alex Wilber")) && !internal.some((t) => t.startsWith("Ana Silva")), `internal picker: ${internal}`);
  check(external.some((t) => t.startsWith("Ana Silva")), `external picker offers the guest: ${external}`);
  check(!external.some((t) => t.startsWith("Alex Wilber") || t.startsWith("Megan Bowen")), `external picker offers members: ${external}`);
  // A member typed in as an external sponsor is refused next to the picker.
  await admin.getByLabel("Or add a guest by email address").fill("alex@contoso.example");
  await admin.getByRole("button", { name: "Add guest" }).click();
  await refused(admin, "external", "is a member; external sponsors must be guest users", "Sponsors", before, "member as external sponsor");
  await admin.getByLabel("Or add a guest by email address").fill("");
  await admin.locator("#internal-picker").getByLabel(/^Alex Wilber/).check();
  await admin.locator("#external-picker").getByLabel(/^Ana Silva/).check();
  await visit(admin, "organization-sponsors");
  await next(admin, "Review + create");
  const review = await text(admin, "#review");
  check(review.includes("fabrikam.example (One-time passcode)") && review.includes("Alex Wilber") && review.includes("Ana Silva"), `review: ${review}`);
  await visit(admin, "organization-review");
  await admin.getByRole("button", { name: "Create", exact: true }).click();
  await waitForPath(admin, "/admin/connectedOrganizations/");
  check((await text(admin, "h1")) === "Fabrikam", "the new organization's page");
  await visit(admin, "organization-overview");
  // The list searches by domain.
  await admin.goto(`${base}/admin/connectedOrganizations`);
  await admin.getByLabel("Search by name or domain").fill("fabrikam.example");
  await admin.getByRole("button", { name: "Search" }).click();
  const rows = await admin.locator("table.list tbody tr").allInnerTexts();
  check(rows.length === 1 && rows[0].includes("Fabrikam"), `search by domain: ${rows}`);
}

async function createCatalog(admin) {
  await admin.goto(`${base}/admin/catalogs`);
  await admin.getByRole("link", { name: "New catalog" }).click();
  await visit(admin, "catalog-new");
  await admin.getByLabel(/^Name/).fill("Partner extranet");
  await admin.getByLabel(/^Description/).fill("What Fabrikam works on with us");
  await admin.getByLabel(/^Enabled for external users/).check();
  await admin.getByRole("button", { name: "Create", exact: true }).click();
  await waitForPath(admin, "/admin/catalogs/");
  const catalog = new URL(admin.url()).pathname.split("/").pop();
  await admin.getByRole("link", { name: "Add resources" }).click();
  await admin.getByLabel("Search groups").fill("cross");
  await admin.getByRole("button", { name: "Search" }).click();
  await admin.getByLabel("Cross-Org Team", { exact: true }).check();
  await visit(admin, "catalog-add-resources");
  await admin.getByRole("button", { name: "Add", exact: true }).click();
  await waitForPath(admin, `/admin/catalogs/${catalog}`);
  check((await text(admin, "#resource-list")).includes("Cross-Org Team"), "the group is a resource");
  await visit(admin, "catalog");
  return catalog;
}

/// The new access package wizard from the catalog's page, up to Review + create.
async function packageWizard(admin, catalog, name, fill) {
  await admin.goto(`${base}/admin/catalogs/${catalog}`);
  await admin.getByRole("link", { name: "New access package" }).click();
  await admin.getByLabel(/^Name/).fill(name);
  await fill(admin);
}

async function createTango(admin, catalog) {
  // First a refusal: a policy for external users in a catalog that is not enabled for them.
  await admin.goto(`${base}/admin/accessPackages/new`);
  await admin.getByLabel(/^Name/).fill("Project Tango");
  await admin.getByLabel(/^Catalog/).selectOption({ label: "Internal only (not enabled for external users)" });
  await next(admin, "Resource roles");
  await next(admin, "Requests");
  await admin.getByLabel("Fabrikam", { exact: true }).check();
  const before = await auditCount();
  // Going on to Review + create checks the tabs before it: it stops at Requests.
  await admin.getByRole("button", { name: "Review + create" }).click();
  await refused(admin, "who", "not enabled for external users", "Requests", before, "external policy in an internal catalog");
  await visit(admin, "package-requests-refused");

  await packageWizard(admin, catalog, "Project Tango", async (p) => {
    await p.getByLabel(/^Description/).fill("Work with Contoso on Project Tango");
    await visit(p, "package-basics");
    await next(p, "Resource roles");
    await p.getByLabel("Cross-Org Team", { exact: true }).selectOption({ label: "Member" });
    await visit(p, "package-resource-roles");
    await next(p, "Requests");
    check(await p.getByLabel("Specific connected organizations", { exact: true }).isChecked(), "specific connected organizations by default");
    await p.getByLabel("Fabrikam", { exact: true }).check();
    check(await p.getByLabel("Require approval").isChecked(), "approval by default");
    await p.locator("#stage-0").getByLabel("External sponsors of the requestor's organization").check();
    await p.locator("#stage-0").getByLabel(/^Fallback approvers/).fill("megan@contoso.example");
    check(await p.getByLabel(/^Enable requests/).isChecked(), "requests enabled");
    await visit(p, "package-requests");
    await next(p, "Requestor information");
    await visit(p, "package-questions");
    await next(p, "Lifecycle");
    await p.getByLabel("Number of days").check();
    await p.getByLabel("Days", { exact: true }).fill("90");
    await visit(p, "package-lifecycle");
    await next(p, "Review + create");
    const facts = await text(p, "#review-facts");
    check(facts.includes("Cross-Org Team (Member)") && facts.includes("After 90 days"), `review: ${facts}`);
    await visit(p, "package-review");
  });
  await admin.getByRole("button", { name: "Create", exact: true }).click();
  await waitForPath(admin, "/admin/accessPackages/");
  const tango = new URL(admin.url()).pathname.split("/").pop();
  await visit(admin, "package-overview");
  // Hidden, as seed 000 asks; then the link.
  await admin.getByText("Edit properties").click();
  await admin.getByLabel(/^Hidden/).check();
  await admin.getByRole("button", { name: "Save" }).click();
  await admin.waitForLoadState("load");
  check((await text(admin, "#hidden-value")) === "Yes", "the package is hidden");
  await admin.getByRole("button", { name: "Copy link" }).click();
  await admin.locator("#toast").filter({ hasText: "copied" }).waitFor();
  const link = await admin.evaluate(() => navigator.clipboard.readText());
  check(link === `${base}/myaccess/packages/${tango}`, `the copied link: ${link}`);
  await visit(admin, "package-overview-hidden");
  const policy = (await api("GET", `${EM}/accessPackages/${tango}/assignmentPolicies`)).body.value[0];
  check(policy.expiration.duration === "P90D", `expires after 90 days: ${JSON.stringify(policy.expiration)}`);
  check(policy.requestApprovalSettings.stages[0].fallbackPrimaryApprovers.length === 1, "a fallback approver");
  return { tango, link };
}

/// Pat, new to Contoso, opens exactly the copied link and asks; Ana approves; delivered.
async function patRequests(link) {
  const pat = await person("en-US");
  await pat.goto(`${link}?domain_hint=fabrikam.example`);
  await signIn(pat, "pat@fabrikam.example", "pat");
  check(new URL(pat.url()).pathname === new URL(link).pathname, `Pat is at the link, not ${pat.url()}`);
  check((await text(pat, "h1")) === "Project Tango", "the package");
  await pat.getByLabel(/^Why do you need this access/).fill("Joining the Tango hardware workstream");
  await pat.getByLabel(/I accept Contoso's privacy statement/).check();
  await pat.getByRole("button", { name: "Submit request" }).click();
  await waitForPath(pat, "/myaccess/requests/");
  const request = new URL(pat.url()).pathname.split("/").pop();
  const ana = await person("en-GB");
  await anaDecides(ana, "ana", "pat", "Approve", "Fabrikam engineer on Tango", request);
  await pat.goto(`${base}/myaccess/requests/${request}`);
  await reloadUntil(pat, ".status .label", "Delivered", "Pat's request");
  check((await groupMembers(config.group)).includes("pat@fabrikam.example"), "the group has Pat");
  return { pat, request };
}

/// Seed 002's variant: no approval, one question, self-review; delivered at once.
async function createDesignReview(admin, catalog, pat) {
  await packageWizard(admin, catalog, "Design review", async (p) => {
    await next(p, "Resource roles");
    await p.getByLabel("Cross-Org Team", { exact: true }).selectOption({ label: "Member" });
    await next(p, "Requests");
    await p.getByLabel("Fabrikam", { exact: true }).check();
    await p.getByLabel("Require approval").uncheck();
    await next(p, "Requestor information");
    await p.getByRole("button", { name: "Add a question" }).click();
    await p.getByLabel("Question", { exact: true }).fill("Which design review do you attend?");
    await p.getByLabel(/^Translations/).fill("fr: À quelle revue de conception participez-vous ?");
    await visit(p, "package-question-added");
    await next(p, "Lifecycle");
    await p.getByLabel("Review assignments on a schedule").check();
    await p.getByLabel(/^Self-review/).check();
    await next(p, "Review + create");
    const facts = await text(p, "#review-facts");
    check(facts.includes("Approval None") && facts.includes("Questions 1") && facts.includes("self-review"), `review: ${facts}`);
  });
  await admin.getByRole("button", { name: "Create", exact: true }).click();
  await waitForPath(admin, "/admin/accessPackages/");
  const link = await admin.locator("#link").inputValue();
  await pat.goto(link);
  await pat.getByLabel("Which design review do you attend?").fill("Q3 enclosure review");
  await pat.getByLabel(/^Why do you need this access/).fill("Presenting the enclosure");
  await pat.getByLabel(/I accept Contoso's privacy statement/).check();
  await pat.getByRole("button", { name: "Submit request" }).click();
  await waitForPath(pat, "/myaccess/requests/");
  await reloadUntil(pat, ".status .label", "Delivered", "the request without approval");
  const request = new URL(pat.url()).pathname.split("/").pop();
  const r = (await api("GET", `${EM}/assignmentRequests/${request}`)).body;
  check(r.answers[0].value === "Q3 enclosure review", `the answer is stored: ${JSON.stringify(r.answers)}`);
  return request;
}

const scenarios = {
  async seed_000() {
    const admin = await signedIn(config.adminLink);
    await connectFabrikam(admin);
    const catalog = await createCatalog(admin);
    const { tango, link } = await createTango(admin, catalog);
    await admin.goto(`${base}/admin/accessPackages`);
    await visit(admin, "packages");
    const { pat, request } = await patRequests(link);
    await admin.goto(`${base}/admin/accessPackages/${tango}`);
    check((await text(admin, "#assignment-list")).includes("pat@fabrikam.example"), "the overview lists Pat's assignment");
    await visit(admin, "package-overview-assigned");
    const design = await createDesignReview(admin, catalog, pat);
    // The rest of the portal, each page checked and pictured.
    await admin.goto(`${base}/admin`);
    // The numbers sit in a closed <details>: read their text, not what is rendered.
    // Two requests, both approved (one by Ana, one needing nobody), no denial, one guest.
    const today = (await admin.locator("#daily tbody tr").first().locator("td").allTextContents()).join(" ");
    check(today === "2 2 0 1", `today on the dashboard: ${today}`);
    await visit(admin, "dashboard");
    await admin.goto(`${base}/admin/reports?view=person&person=pat%40fabrikam.example`);
    check((await text(admin, "table.report")).includes("Project Tango"), "Pat's report lists Tango");
    await visit(admin, "report-person");
    await admin.goto(`${base}/admin/reports?view=package`);
    await visit(admin, "report-packages");
    await admin.goto(`${base}/admin/audit`);
    await admin.getByRole("button", { name: "Verify the chain" }).click();
    await admin.locator("#verification").waitFor();
    check((await text(admin, "#verification")).startsWith("The chain is intact"), "the audit chain verifies");
    await visit(admin, "audit");
    // Every other page once, for axe: lists, edit and delete pages, the policy tabs.
    const org = (await api("GET", `${EM}/connectedOrganizations?$filter=displayName eq 'Fabrikam'`)).body.value[0].id;
    const policy = (await api("GET", `${EM}/accessPackages/${tango}/assignmentPolicies`)).body.value[0].id;
    for (const [path, name] of [
      ["/admin/catalogs", "catalogs"],
      [`/admin/connectedOrganizations/${org}/edit`, "organization-edit"],
      [`/admin/connectedOrganizations/${org}/delete`, "organization-delete"],
      [`/admin/accessPackages/${tango}/policies/new`, "policy-new"],
      [`/admin/accessPackages/${tango}/policies/${policy}/edit`, "policy-edit"],
      ["/admin/reports?view=compare&person=pat%40fabrikam.example&other=ana%40fabrikam.example", "report-compare"],
    ]) {
      const r = await admin.goto(`${base}${path}`);
      check(r.status() === 200, `${path} answered ${r.status()}`);
      await visit(admin, name);
    }
    check((await text(admin, "main")).includes("What only pat holds"), "the comparison names Pat");
    await admin.goto(`${base}/admin/settings`);
    await admin.getByLabel("Block their sign-in only").check();
    await admin.getByRole("button", { name: "Save" }).click();
    await admin.locator("p.notice.good").waitFor();
    await visit(admin, "settings");
    return { tango, request, design, catalog };
  },

  // Connections: register a webhook target and a SCIM application, add the application's group
  // and the application itself to a catalog, see a connection that is down and why, reconcile.
  async connections() {
    const admin = await signedIn(config.adminLink);
    await admin.goto(`${base}/admin/connections`);
    await visit(admin, "connections");
    await admin.getByRole("link", { name: "New connection" }).click();
    await visit(admin, "connection-kinds");
    await admin.getByRole("link", { name: "A webhook target" }).click();
    await admin.getByLabel(/^Name/).fill("Tango team site");
    await admin.getByLabel(/^Grant URL/).fill(`${config.hookUrl}/grant`);
    await admin.getByLabel(/^Revoke URL/).fill(`${config.hookUrl}/revoke`);
    await admin.getByLabel(/^Roles the target offers/).fill("Visitor\nMember");
    await visit(admin, "connection-new-webhook");
    const before = await auditCount();
    await admin.getByRole("button", { name: "Register and test" }).click();
    await admin.locator("[id='webhook.grantUrl-error']").waitFor().catch(() => {});
    await admin.waitForLoadState("load");
    // No secret typed: Gatehouse made one and shows it once; the receiver does not know it,
    // so the signed check is refused and the connection says so.
    check((await text(admin, "p.notice")).includes("whsec_"), "the made secret is shown once");
    check((await auditCount()) > before, "the connection was registered");
    await visit(admin, "connection-webhook-made");
    // The SCIM application, with its token.
    await admin.goto(`${base}/admin/connections/new?kind=scim`);
    await admin.getByLabel(/^Name/).fill("Engineering wiki");
    await admin.getByLabel(/^SCIM base URL/).fill(config.scimUrl);
    await admin.getByLabel(/^Bearer token/).fill(config.scimToken);
    await visit(admin, "connection-new-scim");
    await admin.getByRole("button", { name: "Register and test" }).click();
    await waitForPath(admin, "/admin/connections/");
    check((await text(admin, ".badge")).includes("Healthy"), "the wiki answers");
    check(!(await admin.content()).includes(config.scimToken), "the token is never shown");
    await visit(admin, "connection-scim");
    // Add the wiki's group and the application to the catalog.
    await admin.goto(`${base}/admin/catalogs/${config.catalog}/resources/add`);
    await admin.getByRole("link", { name: /Engineering wiki/ }).click();
    await admin.getByLabel("Search groups in the target").fill("design");
    await admin.getByRole("button", { name: "Search" }).click();
    await admin.getByLabel(/^Design reviewers/).check();
    await admin.getByLabel(/itself — role User/).check();
    await visit(admin, "catalog-add-from-connection");
    await admin.getByRole("button", { name: "Add", exact: true }).click();
    await waitForPath(admin, `/admin/catalogs/${config.catalog}`);
    check((await text(admin, "main")).includes("Design reviewers"), "the group is a resource");
    // The Design review package grants the group (through the API, as a script would).
    const resources = (await api("GET", `${EM}/catalogs/${config.catalog}/resources?$expand=roles`)).body.value;
    const group = resources.find((r) => r.originSystem === "ScimGroup");
    const added = await api("POST", `${EM}/accessPackages/${config.package}/resourceRoleScopes`, { role: { id: group.roles[0].id } });
    check(added.status === 201, `granting the group: ${added.status}`);
    // A connection whose target is down: degraded, why, and what waits.
    await admin.goto(`${base}/admin/connections/${config.deadConnection}`);
    await reloadUntilContains(admin, "#degraded", "provisioning jobs wait", "the degraded banner");
    await visit(admin, "connection-degraded");
    await admin.goto(`${base}/admin/connections`);
    await visit(admin, "connections-list");
    // Reconcile the wiki: someone added behind Gatehouse's back is reported.
    const wiki = (await api("GET", "/v1.0/gatehouse/connections?$filter=displayName eq 'Engineering wiki'")).body.value[0].id;
    await admin.goto(`${base}/admin/connections/${wiki}`);
    await admin.getByRole("button", { name: "Reconcile now (report only)" }).click();
    // Let the form's navigation finish before reloading: a reload racing it detaches the page.
    await admin.locator("#running, #findings").first().waitFor();
    await reloadUntilContains(admin, "#findings", "mallory@fabrikam.example", "the findings");
    await visit(admin, "connection-reconciled");
    return { wiki };
  },

  // A catalog owner: only their catalog, no settings, nothing tenant-wide.
  async catalog_owner() {
    const olga = await signedIn(config.ownerLink);
    await olga.goto(`${base}/admin/catalogs`);
    const listed = await olga.locator("table.list tbody th").allInnerTexts();
    check(JSON.stringify(listed.map((t) => t.split("\n")[0])) === JSON.stringify(["Finance"]), `Olga's catalogs: ${listed}`);
    check((await olga.getByRole("link", { name: "New catalog" }).count()) === 0, "an owner is offered New catalog");
    const nav = await olga.locator("header nav").innerText();
    check(!nav.includes("Settings"), `the navigation offers settings: ${nav}`);
    await visit(olga, "owner-catalogs");
    const settings = await olga.goto(`${base}/admin/settings`);
    check(settings.status() === 403, `settings answered ${settings.status()}`);
    await visit(olga, "owner-settings-refused");
    const other = await olga.goto(`${base}/admin/catalogs/${config.internalCatalog}`);
    check(other.status() === 403, `another catalog answered ${other.status()}`);
    return { listed };
  },
};

run(scenarios);
