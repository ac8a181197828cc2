"use strict";
/*
 * The demo page in a real browser (Debian chromium driven by playwright-core):
 * sign in as each demo role, check what each portlet shows, run axe-core
 * (WCAG 2.1 A/AA, 0 violations allowed) and watch for Content-Security-Policy
 * violations.  Screenshots go to $ARTIFACTS.  Exits non-zero on any failure.
 *
 * Env: BASE_URL (a porticod --demo), ADMIN_PASSWORD, ARTIFACTS, CHROMIUM.
 * Portlets that are not loaded by that server are skipped, not failed: the
 * test asks /api/v1/portlets which ones are there.
 */
const fs = require("fs");
const path = require("path");
const { chromium } = require("playwright-core");

const BASE = process.env.BASE_URL;
const OUT = process.env.ARTIFACTS || "browser-artifacts";
const ADMIN_PASSWORD = process.env.ADMIN_PASSWORD;
const AXE = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const DEMO = "portico-demo";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync"];

let failures = 0, passes = 0;
function check(cond, what) {
  if (cond) { passes++; console.log("  ok   " + what); }
  else { failures++; console.log("  FAIL " + what); }
}

async function loadedPortlets() {
  const r = await fetch(BASE + "/api/v1/auth/login", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username: "admin", password: ADMIN_PASSWORD }) });
  const { access_token } = await r.json();
  const p = await (await fetch(BASE + "/api/v1/portlets",
                               { headers: { Authorization: "Bearer " + access_token } })).json();
  return new Set(p.items.map(x => x.id));
}

async function signIn(page, user, password) {
  await page.goto(BASE + "/");
  await page.fill("#username", user);
  await page.fill("#password", password);
  await page.click("#login button[type=submit]");
  await page.waitForSelector("#dashboard:not([hidden])", { timeout: 15000 });
  await page.waitForLoadState("networkidle");
}

/* What each role must see; `has` is the set of loaded portlets. */
const roles = [
  { user: "emp.eddie", async expect(page, has) {
      const flu = page.locator("[data-portlet=flu-countdown]");
      check(await flu.count() === 1, "eddie: flu campaign card");
      check(await flu.locator("ul[aria-label='Uptake by staff group'] > li").count() === 4,
            "eddie: uptake bars for the four staff groups");
      check(await flu.locator("ul[aria-label='Vaccinations by site'] > li").count() >= 1, "eddie: uptake bars per site");
      check(/Where to get the jab/.test(await flu.innerText()), "eddie: signposting");
      const hidden = await flu.locator(".bar.suppressed").count();
      check(hidden === 0 || /hidden: fewer than 5/.test(await flu.innerText()),
            "eddie: small counts (" + hidden + ") shown as hidden, not as numbers");
      check(/\d+ days \d+ h/.test(await flu.innerText()), "eddie: countdown ticking");
      if (has.has("leavers")) {
        const lv = page.locator("[data-portlet=leavers]");
        check(/Latest payslip/.test(await lv.innerText()), "eddie: latest payslip on the card");
        const btn = lv.locator("button", { hasText: "PDF" }).first();
        check(await btn.count() === 1, "eddie: payslip PDF button");
        const [dl] = await Promise.all([page.waitForEvent("download", { timeout: 15000 }), btn.click()]);
        check(/\.pdf$/.test(dl.suggestedFilename()), "eddie: payslip downloads as " + dl.suggestedFilename());
        const file = path.join(OUT, dl.suggestedFilename());
        await dl.saveAs(file);
        check(fs.readFileSync(file).subarray(0, 5).toString() === "%PDF-", "eddie: the download is a PDF");
      }
      if (has.has("flexible-working")) {
        const fw = page.locator("[data-portlet=flexible-working]");
        check(/Your request/.test(await fw.innerText()), "eddie: flexible working card");
      }
    } },
  { user: "oh.admin", async expect(page) {
      const flu = page.locator("[data-portlet=flu-countdown]");
      const text = await flu.innerText();
      check(await flu.locator("ul[aria-label='Uptake by staff group'] > li").count() === 4 &&
            !/fewer than 5/.test(text) && /of staff vaccinated/.test(text),
            "oh.admin: every uptake figure shown (no small-count suppression for occupational health)");
    } },
  { user: "manager.mary", async expect(page, has) {
      if (!has.has("flexible-working")) return;
      const fw = page.locator("[data-portlet=flexible-working]");
      check(/Waiting for your decision/.test(await fw.innerText()), "mary: requests waiting for her decision");
      const review = fw.locator("button", { hasText: "Review request" }).first();
      await review.click();
      await fw.locator("h3", { hasText: "History" }).waitFor({ timeout: 10000 });
      check(await fw.locator("form[aria-label='Record the decision'], form[aria-label='Decide the appeal']").count() >= 1,
            "mary: decision form of a request");
    } },
  { user: "hr.admin", async expect(page) {
      check(/Hannah Reid/.test(await page.locator("#who").innerText()), "hr.admin: employee dashboard");
    } },
  { user: "leaver.lucy", async expect(page, has) {
      check(/leaver dashboard/.test(await page.locator("#who").innerText()), "lucy: leaver dashboard");
      if (!has.has("leavers")) return;
      const lv = page.locator("[data-portlet=leavers]");
      check(await page.locator(".notice").count() >= 1, "lucy: save-your-documents notice");
      const btn = lv.locator("button", { hasText: "Download all documents" });
      check(await btn.count() === 1, "lucy: download-all button");
      await btn.click();
      await lv.locator("text=one-time code").first().waitFor({ timeout: 10000 });
      check(/no MFA enrolled/.test(await lv.innerText()), "lucy: a clear message that documents need MFA");
    } },
  { user: "app.alex", async expect(page, has) {
      check(/applicant dashboard/.test(await page.locator("#who").innerText()), "alex: applicant dashboard");
      if (!has.has("applicant-welcome")) return;
      const aw = page.locator("[data-portlet=applicant-welcome]");
      check(await aw.locator("video").count() === 1, "alex: welcome video");
      const boxes = aw.locator("input[type=checkbox]");
      check(await boxes.count() >= 1, "alex: checklist");
      const progress = aw.locator("[role=status]").first();
      const before = await progress.innerText();
      const changed = async () => {
        for (let i = 0; i < 100; i++) {
          const now = await progress.innerText();
          if (now !== before) return now;
          await page.waitForTimeout(50);
        }
        return before;
      };
      await boxes.first().click();
      const after = await changed();
      check(after !== before, "alex: ticking an item updates the progress (" + before + " -> " + after + ")");
      await boxes.first().click();   /* leave the demo as it was */
      await page.waitForFunction(t => !document.querySelector("[data-portlet=applicant-welcome] [role=status]") ||
        document.querySelector("[data-portlet=applicant-welcome] [role=status]").textContent === t, before,
        { timeout: 5000 }).catch(() => {});
    } },
  { user: "admin", password: () => ADMIN_PASSWORD, async expect(page) {
      check(/Portico administration/.test(await page.locator("#title").innerText()), "admin: administration view");
      check(/demo-trust/.test(await page.locator("#cards").innerText()), "admin: organisations listed");
      await page.click("text=Show metrics");
      await page.locator("pre").waitFor({ timeout: 10000 });
      check(/portico_/.test(await page.locator("pre").innerText()), "admin: metrics with the admin token");
    } },
];

async function axeCheck(page, what) {
  await page.addScriptTag({ content: AXE });
  const r = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } }));
  for (const v of r.violations)
    console.log("    axe " + v.id + " (" + v.impact + "): " + v.help + " at " + v.nodes.map(n => n.target.join(" ")).join(", "));
  check(r.violations.length === 0, what + ": axe-core WCAG 2.1 AA, " + r.violations.length + " violations");
}

async function main() {
  fs.mkdirSync(OUT, { recursive: true });
  const has = await loadedPortlets();
  console.log("portlets loaded: " + [...has].join(", "));
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
                                          headless: true, args: ARGS });
  try {
    for (const size of [{ name: "desktop", width: 1280, height: 900 }, { name: "phone", width: 390, height: 844 }]) {
      for (const role of [{ user: null }, ...roles]) {
        if (size.name === "phone" && !["emp.eddie", "manager.mary", "app.alex", null].includes(role.user)) continue;
        const label = (role.user || "login") + "-" + size.name;
        console.log(label);
        /* A normal context: CSP in force, every violation and page error counted. */
        const ctx = await browser.newContext({ viewport: size, locale: "en-GB", timezoneId: "Europe/London",
                                               acceptDownloads: true, isMobile: size.name === "phone" });
        const page = await ctx.newPage();
        const problems = [];
        page.on("console", m => { if (/Content.Security.Policy|Refused to/i.test(m.text())) problems.push(m.text()); });
        page.on("pageerror", e => problems.push("page error: " + e.message));
        await page.addInitScript(() => document.addEventListener("securitypolicyviolation",
          e => console.log("Content-Security-Policy violation: " + e.violatedDirective + " " + e.blockedURI)));
        if (role.user) {
          await signIn(page, role.user, role.password ? role.password() : DEMO);
          const text = await page.locator("main").innerText();
          check(!/\d{4}-\d{2}-\d{2}T\d{2}:/.test(text), label + ": no raw ISO timestamps shown");
          const errs = (await page.locator("#cards .error").allInnerTexts()).join(" ");
          check(errs === "" || (role.user === "leaver.lucy" && /one-time code/.test(errs)),
                label + ": no error on the dashboard " + errs);
          if (size.name === "desktop") await role.expect(page, has);
        } else {
          await page.goto(BASE + "/");
          await page.waitForLoadState("networkidle");
          check(await page.locator("#login label[for=username]").count() === 1, label + ": the sign-in form");
        }
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        check(overflow <= 0, label + ": no sideways scrolling (" + overflow + " px)");
        await page.screenshot({ path: path.join(OUT, label + ".png"), fullPage: true });
        check(problems.length === 0, label + ": no CSP violations or page errors" + (problems.length ? ": " + problems.join(" | ") : ""));
        await ctx.close();
        /* axe needs its script injected: a context that bypasses CSP, for this only. */
        const actx = await browser.newContext({ viewport: size, bypassCSP: true, locale: "en-GB" });
        const apage = await actx.newPage();
        if (role.user) await signIn(apage, role.user, role.password ? role.password() : DEMO);
        else await apage.goto(BASE + "/");
        await axeCheck(apage, label);
        await actx.close();
      }
    }
  } finally {
    await browser.close();
  }
  console.log("demo page checks: " + passes + " ok, " + failures + " failing");
  process.exit(failures ? 1 : 0);
}

main().catch(e => { console.error(e); process.exit(2); });
