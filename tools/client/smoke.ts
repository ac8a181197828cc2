// smoke.ts - a first program a front-end developer would write against
// Portico, with types generated from the served OpenAPI document
// (openapi-typescript) and openapi-fetch.  run.sh compiles it with
// `tsc --strict` and refuses casts, then runs it against porticod --demo.
// Every call checks the status it expects; the program exits non-zero on
// the first surprise.
import createClient from "openapi-fetch";
import type { components, paths } from "./portico.js";

type Card = components["schemas"]["DashboardCard"];
type DashboardName = components["schemas"]["DashboardName"];

const baseUrl = process.env.PORTICO_BASE_URL ?? "http://127.0.0.1:8080";
const ORG = "demo-trust";
const PASSWORD = "portico-demo";
let checks = 0;

function check(ok: boolean, what: string): void {
  checks++;
  if (!ok) throw new Error("smoke: " + what);
}

async function signIn(username: string) {
  const anon = createClient<paths>({ baseUrl });
  const { data, error, response } = await anon.POST("/api/v1/auth/login", {
    body: { username, password: PASSWORD, org: ORG },
  });
  check(response.status === 200 && data !== undefined, `login ${username}: ${response.status} ${error?.code}`);
  if (!data) throw new Error("unreachable");
  check(data.token_type === "Bearer" && data.expires_in > 0, "token pair");
  return createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${data.access_token}` } });
}

// The card summary is typed per portlet: narrowing on card.id gives the
// portlet's own summary type.
function describeCard(card: Card): string {
  if (card.id === "flu-countdown") {
    const s = card.summary;
    if ("error" in s) return `flu-countdown: ${s.error}`;
    return `flu-countdown: ${s.campaign} ends ${s.ends_at ?? "?"} uptake ${s.uptake_percent ?? "-"}%`;
  }
  return `${card.id}: ${card.title}`;
}

async function dashboard(username: string, expect: DashboardName) {
  const api = await signIn(username);
  const me = await api.GET("/api/v1/me");
  check(me.response.status === 200 && me.data !== undefined, `/me ${username}`);
  if (!me.data) throw new Error("unreachable");
  check(me.data.username === username, "/me username");
  const active = me.data.memberships.find((m) => m.org === ORG);
  check(active?.status === expect, `${username} is ${active?.status}, expected ${expect}`);

  const dash = await api.GET("/api/v1/dashboards/{dashboard}", {
    params: { path: { dashboard: expect } },
  });
  check(dash.response.status === 200 && dash.data !== undefined, `dashboard ${expect}`);
  if (!dash.data) throw new Error("unreachable");
  const d = dash.data;
  const colour: string | undefined = d.branding.primary_colour;
  const logo: string | undefined = d.branding.logo_url;
  check(colour === undefined || /^#[0-9A-Fa-f]{6}$/.test(colour), "branding colour");
  check(logo === undefined || logo.startsWith("https://"), "branding logo");
  for (const n of d.notices) check(typeof n.text === "string", "notice text");
  console.log(`${username} (${expect}) ${d.org.name} ${colour ?? "-"}: ` +
    (d.portlets.map(describeCard).join("; ") || "no cards"));

  // Conditional GET: the same ETag answers 304.
  const etag = dash.response.headers.get("ETag");
  check(etag !== null, "dashboard ETag");
  const again = await api.GET("/api/v1/dashboards/{dashboard}", {
    params: { path: { dashboard: expect }, header: { "If-None-Match": etag ?? "" } },
  });
  check(again.response.status === 304, `If-None-Match gives ${again.response.status}`);
  return { api, dash: d };
}

// ---- every dashboard ------------------------------------------------------
const employee = await dashboard("emp.eddie", "employee");
const flu = employee.dash.portlets.find((c) => c.id === "flu-countdown");
check(flu !== undefined, "the demo employee dashboard shows the flu card");
await dashboard("leaver.lucy", "leaver");
await dashboard("app.alex", "applicant");

// ---- a portal admin: org settings, portlet config, the catalogue ---------
const admin = await signIn("portal.admin");
const org = await admin.GET("/api/v1/orgs/{org}", { params: { path: { org: ORG } } });
check(org.response.status === 200 && org.data !== undefined, "GET org");
const patched = await admin.PATCH("/api/v1/orgs/{org}", {
  params: { path: { org: ORG } },
  body: { settings: { branding: { primary_colour: "#005EB8", logo_url: "https://demo-trust.example/logo.svg" } } },
});
check(patched.response.status === 200 && patched.data?.settings.branding.primary_colour === "#005EB8",
  "PATCH branding");
const bad = await admin.PATCH("/api/v1/orgs/{org}", {
  params: { path: { org: ORG } },
  body: { settings: { branding: { primary_colour: "red; background:url(x)" } } },
});
check(bad.response.status === 422 && bad.error?.code === "validation_failed", "bad colour is 422");

const catalogue = await admin.GET("/api/v1/portlets");
check(catalogue.response.status === 200 && catalogue.data !== undefined, "catalogue");
for (const p of catalogue.data?.items ?? []) {
  const fields = Object.keys(p.config_schema.properties ?? {});
  console.log(`portlet ${p.id} ${p.version}: config ${fields.join(", ")}`);
}

// One write per portlet: its configuration through the platform route.
const configured = await admin.PUT("/api/v1/orgs/{org}/portlets/{id}", {
  params: { path: { org: ORG, id: "flu-countdown" } },
  body: {
    enabled: true,
    placements: [{ dashboard: "employee", position: 1 }],
    config: { campaign: "Flu 2026/27", starts_at: "2026-10-01T00:00:00Z", ends_at: "2027-02-28T23:59:59Z" },
  },
});
check(configured.response.status === 200 && configured.data?.enabled === true, "configure flu-countdown");

// The audit log, a page at a time; before/after are free-form records.
let cursor: string | undefined;
let pages = 0;
do {
  const page = await admin.GET("/api/v1/orgs/{org}/audit", {
    params: { path: { org: ORG }, query: { limit: 2, cursor } },
  });
  check(page.response.status === 200 && page.data !== undefined, "audit page");
  for (const e of page.data?.items ?? []) {
    const after = e.after;
    check(after === null || typeof after === "object", "audit after");
  }
  cursor = page.data?.next_cursor ?? undefined;
  pages++;
} while (cursor !== undefined && pages < 3);
const tampered = await admin.GET("/api/v1/orgs/{org}/people", {
  params: { path: { org: ORG }, query: { cursor: "AAAA" } },
});
check(tampered.response.status === 400 && tampered.error?.code === "bad_request", "made-up cursor is 400");

// ---- the flu campaign's own write: an occupational health admin ---------
const oh = await signIn("oh.admin");
const site = await oh.PUT("/api/v1/portlets/flu-countdown/sites/{site}", {
  params: { path: { site: "smoke-clinic" } },
  body: { name: "Smoke test clinic", location: "Outpatients", sessions: [] },
});
check(site.response.status === 200 || site.response.status === 201, `flu site ${site.response.status}`);
const jab = await oh.POST("/api/v1/portlets/flu-countdown/vaccinations", {
  body: { staff_group: "doctors", site: "smoke-clinic", vaccinated_at: new Date().toISOString().replace(/\.\d+Z$/, "Z") },
});
check(jab.response.status === 201 && jab.data?.site === "smoke-clinic", `flu vaccination ${jab.response.status}`);
const campaign = await oh.GET("/api/v1/portlets/flu-countdown");
check(campaign.response.status === 200 && campaign.data !== undefined, "flu campaign");
console.log(`flu: ${campaign.data?.campaign} overall ${campaign.data?.uptake?.overall.vaccinated ?? "-"} vaccinated`);

// ---- leavers: payroll loads a payslip ------------------------------------
const payroll = await signIn("payroll.admin");
const loaded = await payroll.POST("/api/v1/portlets/leavers/documents", {
  body: {
    username: "hca.holly", kind: "payslip", period: "2031-01",
    data: {
      pay_date: "2031-01-25", tax_code: "1257L", ni_number: "AB123456C", gross: 200000, net: 160000,
      payments: [{ description: "Basic pay", amount: 200000 }],
      deductions: [{ description: "Income tax", amount: 40000 }],
    },
  },
});
check(loaded.response.status === 201 || loaded.response.status === 200, `leavers document ${loaded.response.status}`);

// ---- flexible-working: an employee makes a request -------------------------
const pete = await signIn("physio.pete");
const fw = await pete.POST("/api/v1/portlets/flexible-working/requests", {
  body: {
    change_types: ["compressed_hours"], proposed_start: "2031-03-03",
    current_pattern: "5 x 7.5h, Mon-Fri", requested_pattern: "4 x 9.4h, Mon-Thu",
  },
});
check(fw.response.status === 201 && fw.data !== undefined, `flexible-working request ${fw.response.status} ${fw.error?.code}`);

// ---- applicant-welcome: the applicant's interaction is recorded -----------
const alex = await signIn("app.alex");
const seen = await alex.POST("/api/v1/portlets/applicant-welcome/interactions", {
  body: { target: "welcome_video", action: "play" },
});
check(seen.response.status === 201, `applicant-welcome interaction ${seen.response.status} ${seen.error?.code}`);

// HEAD answers like GET without a body.
const head = await fetch(baseUrl + "/healthz", { method: "HEAD" });
check(head.status === 200, `HEAD /healthz ${head.status}`);

console.log(`smoke: all ${checks} checks passed`);
