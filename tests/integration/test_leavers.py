"""leavers portlet: payroll loads payslips, P45s and P60s (one or a pay run,
all or nothing); people read only their own, as JSON or PDF; leavers keep
access through termination date + leaver_access_days and only with MFA; the
payroll_admin's reads of other people are audited; NI numbers never leave
the server whole.

Runs the real porticod with --plugins $PORTICO_PLUGINS and the test clock.
"""

import copy
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import portico_harness as h  # noqa: E402
from portico_harness import API, PorticoTestCase, main  # noqa: E402

PORTLET = API + "/portlets/leavers"
UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 11, 15, 12, 0, 0, tzinfo=UTC)
BEFORE = datetime.datetime(2026, 9, 1, 12, 0, 0, tzinfo=UTC)  # everyone still employed
PW = "Leavers-pass-2026!"
NI = "AB123456C"
NI_MASKED = "******56C"
HAVE_PDFTOTEXT = shutil.which("pdftotext") is not None


def payslip_data(gross=300000, ni=NI, pay_date="2026-10-25", extra_deduction=0):
    """A payslip that adds up: basic + enhancement = gross; net = gross - deductions."""
    enh = gross // 10
    deductions = [{"description": "Income tax", "amount": 33175 + extra_deduction},
                  {"description": "National Insurance", "amount": 15612},
                  {"description": "NHS Pension", "amount": 29400}]
    return {
        "pay_date": pay_date, "tax_code": "1257L", "ni_number": ni,
        "pension_ref": "NHSPS-123456", "gross": gross,
        "net": gross - sum(d["amount"] for d in deductions),
        "payments": [{"description": "Basic pay", "amount": gross - enh},
                     {"description": "Unsocial hours enhancement", "amount": enh}],
        "deductions": deductions,
        "ytd": {"gross": gross * 7, "tax": 232225, "ni": 109284, "pension": 205800},
    }


def payslip(user, period, **kw):
    return {"username": user, "kind": "payslip", "period": period,
            "data": payslip_data(pay_date=period + "-25", **kw)}


def p60(user, year="2025-26", pay=3247200, tax=398100):
    return {"username": user, "kind": "p60", "period": year,
            "data": {"pay": pay, "tax": tax, "final_tax_code": "1257L", "ni_number": NI,
                     "ni_contributions": 187344,
                     "statutory_payments": [{"description": "Statutory Sick Pay", "amount": 11675}],
                     "student_loan_deductions": 0}}


def p45(user, leaving="2026-11-05"):
    return {"username": user, "kind": "p45",
            "data": {"leaving_date": leaving, "tax_code": "1257L", "week1_month1": False,
                     "pay_to_date": 1894200, "tax_to_date": 232225, "student_loan": False,
                     "ni_number": NI}}


def pdf_text(raw):
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(raw)
        f.flush()
        return subprocess.check_output(["pdftotext", "-enc", "UTF-8", f.name, "-"]).decode()


class LeaversTest(PorticoTestCase):
    plugins = os.environ.get("PORTICO_PLUGINS")

    # ------------------------------------------------------------ helpers

    def setUp(self):
        super().setUp()
        self.set_clock(NOW)

    def set_clock(self, when):
        super().set_clock(when)
        type(self).clock = when

    def tok(self, user):
        """The user's token for the current clock (tokens are issued at the
        clock's time, and TOTP codes cannot be reused, so they are kept)."""
        cls = type(self)
        tokens = cls.tokens.setdefault(cls.clock, {})
        if user not in tokens:
            if user in cls.secrets:
                tokens[user] = self.otp_token(user)
            else:
                tokens[user] = self.token(user, PW)
        return tokens[user]

    def otp_token(self, user, expect=200):
        """Signs in with a TOTP code for the server clock; codes are single
        use, so each login takes a time step not used before (+-1 step)."""
        cls = type(self)
        step = int(cls.clock.timestamp()) // 30
        for s in (step, step + 1, step - 1):
            if (user, s) not in cls.used_steps:
                cls.used_steps.add((user, s))
                r = self.login_raw(user, PW, otp=h.totp(cls.secrets[user], s * 30))
                if expect is not None:
                    self.assertEqual(r.status, expect, repr(r))
                return r.body["access_token"] if r.status == 200 else r
        self.fail("no unused TOTP step left for %s" % user)

    def enrol_mfa(self, user):
        tok = self.token(user, PW)
        r = self.api.post(API + "/me/mfa/totp", {"password": PW}, token=tok)
        if r.status == 422:  # a server whose enrolment takes no body
            r = self.api.post(API + "/me/mfa/totp", token=tok)
        self.assertEqual(r.status, 200, repr(r))
        secret = r.body["secret"]
        step = int(type(self).clock.timestamp()) // 30
        type(self).used_steps.add((user, step))
        r = self.api.post(API + "/me/mfa/totp/confirm", {"otp": h.totp(secret, step * 30)},
                          token=tok)
        self.assertEqual(r.status, 200, repr(r))
        type(self).secrets[user] = secret

    def person(self, org, user, **fields):
        fields.setdefault("staff_group", "qualified_nurses")
        self.create_person(org, user, password=PW, **fields)
        return user

    def enable(self, org, pa, config=None):
        body = {"enabled": True, "placements": [{"dashboard": "leaver", "position": 1},
                                                 {"dashboard": "employee", "position": 1}]}
        if config is not None:
            body["config"] = config
        r = self.api.put(API + "/orgs/%s/portlets/leavers" % org, body, token=self.tok(pa))
        self.assertIn(r.status, (200, 201), repr(r))

    def terminate(self, org, user, date):
        r = self.api.patch(API + "/orgs/%s/people/%s" % (org, user), {"termination_date": date},
                           token=self.as_admin())
        self.assertEqual(r.status, 200, repr(r))

    def load(self, doc, user="pay", expect=(200, 201)):
        r = self.api.post(PORTLET + "/documents", doc, token=self.tok(user))
        if expect is not None:
            self.assertIn(r.status, expect if isinstance(expect, tuple) else (expect,), repr(r))
        return r

    def bulk(self, docs, user="pay"):
        return self.api.post(PORTLET + "/documents/bulk", {"documents": docs},
                             token=self.tok(user))

    def audit(self, org="lv-a"):
        """The whole audit log of org, oldest first."""
        items, cursor = [], None
        while True:
            q = "?limit=500" + ("&cursor=" + cursor if cursor else "")
            r = self.api.get(API + "/orgs/%s/audit%s" % (org, q), token=self.as_admin())
            self.assertEqual(r.status, 200, repr(r))
            items += r.body["items"]
            cursor = r.body["next_cursor"]
            if not cursor:
                return items

    # ----------------------------------------------------------- fixtures

    def fixtures(self):
        cls = type(self)
        cls.secrets, cls.used_steps, cls.tokens = {}, set(), {}
        self.set_clock(BEFORE)
        self.create_org("lv-a", "Royal Leavers NHS Trust", settings={"leaver_access_days": 30})
        self.create_org("lv-b", settings={"leaver_access_days": 30})
        self.create_org("lv-w", settings={"leaver_access_days": 30})
        self.create_org("lv-z", settings={"leaver_access_days": 0})
        self.create_org("lv-off")
        for u, roles in (("pa", ["portal_admin"]), ("pay", ["payroll_admin"]),
                         ("hr", ["hr_admin"])):
            self.person("lv-a", u, roles=roles)
        for u in ("emp", "emp2", "emp3", "bulky", "leaver", "leaver-nomfa", "leaver-late", "pay-leaver"):
            self.person("lv-a", u)
        self.person("lv-a", "app", status="applicant", start_date="2027-01-10")
        self.person("lv-b", "pa-b", roles=["portal_admin"])
        self.person("lv-b", "pay-b", roles=["payroll_admin"])
        self.person("lv-b", "emp-b")
        self.person("lv-w", "pa-w", roles=["portal_admin"])
        self.person("lv-w", "pay-w", roles=["payroll_admin"])
        self.person("lv-w", "leaver-w")
        self.person("lv-z", "pa-z", roles=["portal_admin"])
        self.person("lv-z", "pay-z", roles=["payroll_admin"])
        self.person("lv-z", "leaver-z")
        self.person("lv-off", "emp-off")
        # MFA is enrolled while employed; then the termination dates
        for u in ("leaver", "leaver-w", "leaver-z"):
            self.enrol_mfa(u)
        self.terminate("lv-a", "leaver", "2026-11-05")
        self.terminate("lv-a", "leaver-nomfa", "2026-11-05")
        self.terminate("lv-a", "leaver-late", "2026-11-05")
        self.terminate("lv-w", "leaver-w", "2026-10-01")
        self.terminate("lv-z", "leaver-z", "2026-10-31")
        for org, pa in (("lv-a", "pa"), ("lv-b", "pa-b"), ("lv-w", "pa-w"), ("lv-z", "pa-z")):
            self.enable(org, pa)
        self.set_clock(NOW)
        # the leaver's documents: three payslips, the P45, a P60
        docs = [payslip("leaver", p) for p in ("2026-08", "2026-09", "2026-10")]
        docs += [p45("leaver"), p60("leaver")]
        r = self.bulk(docs)
        self.assertEqual(r.status, 200, repr(r))
        self.load(payslip("emp", "2026-10"))
        self.load(payslip("emp", "2026-09"))
        self.load(p60("emp"))

    # ------------------------------------------------------------- catalogue

    def test_catalogue_lists_portlet(self):
        r = self.api.get(API + "/portlets", token=self.as_admin())
        self.assertEqual(r.status, 200, repr(r))
        ids = {p["id"]: p for p in r.body["items"]}
        self.assertIn("leavers", ids)
        self.assertEqual(set(ids["leavers"]["dashboards"]), {"leaver", "employee"})

    def test_not_enabled(self):
        r = self.api.get(PORTLET + "/payslips", token=self.tok("emp-off"))
        self.assert_problem(r, 404, "portlet_not_enabled")

    # ------------------------------------------------------- load and read

    def test_load_then_read_own_payslip(self):
        r = self.api.get(PORTLET + "/payslips", token=self.tok("emp"))
        self.assertEqual(r.status, 200, repr(r))
        periods = [i["period"] for i in r.body["items"]]
        self.assertEqual(periods, ["2026-10", "2026-09"])  # newest first
        self.assertIsNone(r.body["next_cursor"])
        self.assertEqual(r.body["items"][0]["net"], payslip_data()["net"])
        self.assertTrue(r.headers.get("ETag"))
        r = self.api.get(PORTLET + "/payslips/2026-10", token=self.tok("emp"))
        self.assertEqual(r.status, 200, repr(r))
        d = r.body["data"]
        self.assertEqual(d["ni_number"], NI_MASKED)
        self.assertEqual(d["gross"], 300000)
        self.assertEqual(d["payments"], payslip_data()["payments"])
        self.assertEqual(r.body["period"], "2026-10")
        self.assertNotIn(NI, r.raw.decode())
        etag = r.headers.get("ETag")
        r = self.api.get(PORTLET + "/payslips/2026-10", token=self.tok("emp"),
                         headers={"If-None-Match": etag})
        self.assertEqual(r.status, 304)

    def test_pagination(self):
        r = self.api.get(PORTLET + "/payslips?limit=1", token=self.tok("emp"))
        self.assertEqual([i["period"] for i in r.body["items"]], ["2026-10"])
        cur = r.body["next_cursor"]
        self.assertTrue(cur)
        r = self.api.get(PORTLET + "/payslips?limit=1&cursor=" + cur, token=self.tok("emp"))
        self.assertEqual([i["period"] for i in r.body["items"]], ["2026-09"])
        r = self.api.get(PORTLET + "/payslips?limit=0", token=self.tok("emp"))
        self.assert_problem(r, 400)
        r = self.api.get(PORTLET + "/payslips?cursor=bogus", token=self.tok("emp"))
        self.assert_problem(r, 400)

    def test_p60_and_p45_routes(self):
        r = self.api.get(PORTLET + "/p60", token=self.tok("emp"))
        self.assertEqual([i["period"] for i in r.body["items"]], ["2025-26"])
        r = self.api.get(PORTLET + "/p60/2025-26", token=self.tok("emp"))
        self.assertEqual(r.status, 200, repr(r))
        self.assertEqual(r.body["data"]["ni_number"], NI_MASKED)
        r = self.api.get(PORTLET + "/p60/2024-25", token=self.tok("emp"))
        self.assert_problem(r, 404, "not_found")
        r = self.api.get(PORTLET + "/p45", token=self.tok("emp"))
        self.assert_problem(r, 404, "not_found")
        r = self.api.get(PORTLET + "/p45", token=self.tok("leaver"))
        self.assertEqual(r.status, 200, repr(r))
        self.assertEqual(r.body["period"], "2026-27")  # the tax year of the leaving date
        self.assertEqual(r.body["data"]["leaving_date"], "2026-11-05")
        self.assertEqual(r.body["data"]["ni_number"], NI_MASKED)

    def test_reload_replaces_and_is_audited(self):
        doc = payslip("emp3", "2026-07")
        r = self.load(doc, expect=201)
        self.assertTrue(r.headers.get("Location", "").endswith(
            "/admin/people/emp3/documents/payslip/2026-07"), r.headers.get("Location"))
        self.assertEqual(r.body["data"]["ni_number"], NI_MASKED)
        doc2 = payslip("emp3", "2026-07", gross=310000)
        r = self.load(doc2, expect=200)
        r = self.api.get(PORTLET + "/payslips/2026-07", token=self.tok("emp3"))
        self.assertEqual(r.body["data"]["gross"], 310000)
        r = self.api.get(PORTLET + "/payslips", token=self.tok("emp3"))
        self.assertEqual([i["period"] for i in r.body["items"]], ["2026-07"])
        items = [e for e in self.audit() if e["target"] == "emp3"
                 and e["action"].startswith("leavers.document.")]
        actions = [e["action"] for e in items]
        self.assertEqual(actions, ["leavers.document.load", "leavers.document.replace"])
        for e in items:
            self.assertEqual(e["actor"], "pay")
            self.assertEqual(e["after"]["period"], "2026-07")
            self.assertEqual(e["after"]["kind"], "payslip")
            text = json.dumps(e)
            self.assertNotIn(NI, text)
            self.assertNotIn("Basic pay", text)  # never the document body
            self.assertNotIn("310000", text)

    # ---------------------------------------------------------- bad input

    def test_every_bad_document_is_refused_and_nothing_stored(self):
        base = payslip("emp2", "2026-01")

        def change(path, value, doc=None):
            d = copy.deepcopy(doc or base)
            node = d
            for k in path[:-1]:
                node = node[k]
            if value is Ellipsis:
                del node[path[-1]]
            else:
                node[path[-1]] = value
            return d

        cases = [
            (change(["data", "bonus"], 5), ["/data/bonus"]),
            (change(["extra"], 1), ["/extra"]),
            (change(["data", "gross"], 3000.5), ["/data/gross"]),
            (change(["data", "gross"], "300000"), ["/data/gross"]),
            (change(["data", "net"], -1), ["/data/net"]),
            (change(["data", "payments", 0, "amount"], 100000001), ["/data/payments/0/amount"]),
            (change(["data", "tax_code"], "12345678L"), ["/data/tax_code"]),
            (change(["data", "tax_code"], "1257Q"), ["/data/tax_code"]),
            (change(["data", "ni_number"], "DA123456A"), ["/data/ni_number"]),
            (change(["data", "ni_number"], "GB123456A"), ["/data/ni_number"]),
            (change(["data", "ni_number"], "AB123456E"), ["/data/ni_number"]),
            (change(["data", "pay_date"], "2026-02-30"), ["/data/pay_date"]),
            (change(["data", "gross"], 300001), ["/data/gross"]),  # payments do not add up
            (change(["data", "net"], 1), ["/data/net"]),  # gross - deductions != net
            (change(["data", "payments"], {}), ["/data/payments"]),
            (change(["data", "payments"], []), ["/data/payments"]),
            (change(["data", "deductions", 0], {"description": "Tax"}),
             ["/data/deductions/0/amount"]),
            (change(["data", "ytd", "bogus"], 1), ["/data/ytd/bogus"]),
            (change(["period"], "2026-13"), ["/period"]),
            (change(["period"], "2026-1"), ["/period"]),
            (change(["period"], Ellipsis), ["/period"]),
            (change(["kind"], "p11d"), ["/kind"]),
            (change(["data"], Ellipsis), ["/data"]),
            (change(["data"], []), ["/data"]),
            (change(["username"], "nobody"), ["/username"]),
            (change(["username"], "emp-b"), ["/username"]),  # another organisation's
            (change(["username"], "BAD NAME"), ["/username"]),
            (dict(p60("emp2", "2025-27")), ["/period"]),
            (dict(p60("emp2", "2025-26", tax=3247201)), ["/data/tax"]),
            (change(["period"], "2025-26", p45("emp2")), ["/period"]),  # not its tax year
            (change(["data", "week1_month1"], "no", p45("emp2")), ["/data/week1_month1"]),
        ]
        for doc, pointers in cases:
            r = self.api.post(PORTLET + "/documents", doc, token=self.tok("pay"))
            self.assert_validation(r, pointers, json.dumps(doc)[:200])
        # nothing at all was stored for emp2 by any of them
        r = self.api.get(PORTLET + "/admin/people/emp2/documents?limit=500",
                         token=self.tok("pay"))
        self.assertFalse([i for i in r.body["items"] if i["period"] in
                          ("2026-01", "2025-26", "2025-27", "2026-27")], r.body)
        for raw in (b"{", b"[1]", b"\xff\xfe"):
            r = self.api.post(PORTLET + "/documents", raw=raw, token=self.tok("pay"))
            self.assertIn(r.status, (400, 422), repr(r))

    def test_bulk_is_all_or_nothing_with_pointers(self):
        good = [payslip("emp2", "2025-0%d" % m) for m in (1, 2, 3)]
        bad = copy.deepcopy(good)
        bad[1]["data"]["net"] += 1
        bad[2]["username"] = "nobody"
        bad.append(copy.deepcopy(good[0]))  # the same person, kind and period twice
        r = self.bulk(bad)
        self.assert_validation(r, ["/documents/1/data/net", "/documents/2/username",
                                   "/documents/3"])
        self.assertFalse(any(e["pointer"].startswith("/documents/0") for e in r.body["errors"]),
                         r.body)
        r = self.api.get(PORTLET + "/payslips/2025-01", token=self.tok("emp2"))
        self.assert_problem(r, 404, "not_found")  # document 0 was fine: not stored either
        r = self.bulk([{"username": "emp2", "kind": "payslip", "period": "2025-04",
                        "data": payslip_data(), "oops": 1}])
        self.assert_validation(r, ["/documents/0/oops"])
        r = self.bulk([])
        self.assert_validation(r, ["/documents"])
        r = self.bulk(good)
        self.assertEqual(r.status, 200, repr(r))
        self.assertEqual((r.body["loaded"], r.body["created"], r.body["replaced"]), (3, 3, 0))
        r = self.api.get(PORTLET + "/payslips?limit=500", token=self.tok("emp2"))
        self.assertTrue({"2025-01", "2025-02", "2025-03"} <= {i["period"] for i in r.body["items"]})
        r = self.bulk(good[:1])
        self.assertEqual((r.body["created"], r.body["replaced"]), (0, 1))

    def test_bulk_takes_more_than_a_mebibyte(self):
        docs = [payslip("bulky", "%04d-%02d" % (1990 + i // 12, i % 12 + 1)) for i in range(2400)]
        body = json.dumps({"documents": docs}).encode()
        self.assertGreater(len(body), 1 << 20)
        r = self.api.post(PORTLET + "/documents/bulk", raw=body, token=self.tok("pay"))
        self.assertEqual(r.status, 200, repr(r)[:500])
        self.assertEqual(r.body["loaded"], 2400)
        # the single-document route keeps the default limit
        big = payslip("bulky", "2026-03")
        big["data"]["pension_ref"] = "x" * (1 << 20)
        r = self.api.post(PORTLET + "/documents", big, token=self.tok("pay"))
        self.assert_problem(r, 413, "payload_too_large")

    # ----------------------------------------------------------- who may

    def test_only_payroll_admin_loads(self):
        for user in ("emp", "hr", "pa", "app"):
            r = self.api.post(PORTLET + "/documents", payslip("emp", "2026-05"),
                              token=self.tok(user))
            self.assert_problem(r, 403, None, user)
            r = self.bulk([payslip("emp", "2026-05")], user=user)
            self.assert_problem(r, 403, None, user)
        r = self.api.get(PORTLET + "/payslips/2026-05", token=self.tok("emp"))
        self.assert_problem(r, 404, "not_found")
        # another organisation's payroll admin cannot name this org's people
        r = self.api.post(PORTLET + "/documents", payslip("emp", "2026-05"),
                          token=self.tok("pay-b"))
        self.assert_validation(r, ["/username"])

    def test_each_person_sees_only_their_own(self):
        # same organisation: emp2 guessing emp's periods finds nothing
        for period in ("2026-10", "2026-09"):
            r = self.api.get(PORTLET + "/payslips/" + period, token=self.tok("emp2"))
            if r.status == 200:
                self.assertEqual(r.body["username"], "emp2")
            else:
                self.assert_problem(r, 404, "not_found")
        r = self.api.get(PORTLET + "/payslips", token=self.tok("emp-b"))
        self.assertEqual(r.body["items"], [])
        for path in ("/payslips/2026-10", "/p60/2025-26", "/p45", "/payslips/..%2Femp",
                     "/payslips/2026-10%2F..", "/p60/..%2F..%2Femp"):
            r = self.api.get(PORTLET + path, token=self.tok("emp-b"))
            self.assertIn(r.status, (400, 404), repr(r))
        # another organisation's payroll admin cannot read this org's people
        r = self.api.get(PORTLET + "/admin/people/emp/documents", token=self.tok("pay-b"))
        self.assert_problem(r, 404, "not_found")
        r = self.api.get(PORTLET + "/admin/people/emp/documents/payslip/2026-10",
                         token=self.tok("pay-b"))
        self.assert_problem(r, 404, "not_found")
        r = self.api.get(PORTLET + "/pack", token=self.tok("emp-b"))
        self.assertEqual(r.status, 200)
        if HAVE_PDFTOTEXT:
            self.assertNotIn("October 2026", pdf_text(r.raw))

    def test_applicant_is_refused(self):
        for path in ("/payslips", "/payslips/2026-10", "/p45", "/p60", "/pack"):
            r = self.api.get(PORTLET + path, token=self.tok("app"))
            self.assert_problem(r, 403, "forbidden", path)

    def test_admin_read_is_explicit_and_audited(self):
        r = self.api.get(PORTLET + "/admin/people/emp/documents/payslip/2026-10",
                         token=self.tok("pay"))
        self.assertEqual(r.status, 200, repr(r))
        self.assertEqual(r.body["data"]["ni_number"], NI_MASKED)
        self.assertEqual(r.body["username"], "emp")
        r = self.api.get(PORTLET + "/admin/people/emp/documents", token=self.tok("pay"))
        self.assertEqual(r.status, 200, repr(r))
        self.assertEqual([(i["kind"], i["period"]) for i in r.body["items"]],
                         [("payslip", "2026-10"), ("payslip", "2026-09"), ("p60", "2025-26")])
        r = self.api.get(PORTLET + "/admin/people/emp/documents/payslip/2026-10?format=pdf",
                         token=self.tok("pay"))
        self.assertEqual(r.status, 200, repr(r))
        self.assertTrue(r.raw.startswith(b"%PDF"))
        reads = [e for e in self.audit() if e["action"] in ("leavers.document.read",
                                                            "leavers.documents.list")]
        self.assertEqual([(e["action"], e["actor"], e["target"]) for e in reads[-3:]],
                         [("leavers.document.read", "pay", "emp"),
                          ("leavers.documents.list", "pay", "emp"),
                          ("leavers.document.read", "pay", "emp")])
        self.assertEqual(reads[-1]["after"]["format"], "pdf")
        self.assertNotIn(NI, json.dumps(reads))
        for user in ("emp", "hr", "pa"):
            r = self.api.get(PORTLET + "/admin/people/emp/documents/payslip/2026-10",
                             token=self.tok(user))
            self.assert_problem(r, 403, "forbidden", user)
        r = self.api.get(PORTLET + "/admin/people/nobody/documents", token=self.tok("pay"))
        self.assert_problem(r, 404, "not_found")
        r = self.api.get(PORTLET + "/admin/people/emp/documents/payslip/2020-01",
                         token=self.tok("pay"))
        self.assert_problem(r, 404, "not_found")

    # ------------------------------------------------------------- leavers

    def test_leaver_needs_mfa(self):
        tok = self.token("leaver-nomfa", PW)
        _, claims, _ = h.jwt_parts(tok)
        self.assertNotIn("otp", claims["amr"])
        for path in ("/payslips", "/payslips/2026-10", "/p45", "/p60", "/pack"):
            r = self.api.get(PORTLET + path, token=tok)
            self.assert_problem(r, 403, "mfa_required", path)
        r = self.api.get(PORTLET + "/payslips", token=self.tok("leaver"))
        self.assertEqual(r.status, 200, repr(r))
        self.assertEqual([i["period"] for i in r.body["items"]], ["2026-10", "2026-09", "2026-08"])

    def test_mfa_enrolment_refused_after_leaving(self):
        tok = self.token("leaver-late", PW)
        r = self.api.post(API + "/me/mfa/totp", {"password": PW}, token=tok)
        if r.status != 403:
            self.skipTest("this server does not yet refuse MFA enrolment after leaving "
                          "(answered %d)" % r.status)
        self.assert_problem(r, 403)

    def window_check(self, org_user, last_ok_day, pay_user, org):
        """Access through last_ok_day (org-local, UTC in winter), refused the
        next day: with a token issued on the last day and with a new login."""
        self.set_clock(datetime.datetime.combine(last_ok_day, datetime.time(23, 55), UTC))
        self.load(payslip(org_user, "2026-09"), user=pay_user)
        tok = self.otp_token(org_user)
        r = self.api.get(PORTLET + "/payslips/2026-09", token=tok)
        self.assertEqual(r.status, 200, repr(r))
        self.set_clock(datetime.datetime.combine(last_ok_day + datetime.timedelta(days=1),
                                                 datetime.time(0, 5), UTC))
        r = self.api.get(PORTLET + "/payslips/2026-09", token=tok)
        self.assert_problem(r, 403, "leaver_access_expired")
        r = self.otp_token(org_user, expect=None)
        self.assert_problem(r, 403, "leaver_access_expired")

    def test_window_boundary_days(self):
        # lv-w: terminated 2026-10-01, 30 days: 2026-10-31 allowed, 11-01 refused
        self.window_check("leaver-w", datetime.date(2026, 10, 31), "pay-w", "lv-w")

    def test_window_zero_days(self):
        # lv-z: 0 days: the termination date (still employed) allowed, the next day refused
        self.window_check("leaver-z", datetime.date(2026, 10, 31), "pay-z", "lv-z")

    # ------------------------------------------------------------- PDF

    @unittest.skipUnless(HAVE_PDFTOTEXT, "pdftotext (poppler-utils) is not installed")
    def test_payslip_pdf(self):
        r = self.api.get(PORTLET + "/payslips/2026-10", token=self.tok("emp"),
                         headers={"Accept": "application/pdf"})
        self.assertEqual(r.status, 200, repr(r))
        self.assertEqual(r.headers.get("Content-Type"), "application/pdf")
        self.assertTrue(r.raw.startswith(b"%PDF"))
        self.assertEqual(r.headers.get("Content-Disposition"),
                         'attachment; filename="payslip-2026-10.pdf"')
        text = pdf_text(r.raw)
        self.assertIn("\u00a32,218.13", text)  # net pay: 3,000.00 - 781.87
        self.assertIn(NI_MASKED, text)
        self.assertNotIn(NI, text)
        self.assertNotIn(NI.encode(), r.raw)
        for s in ("Royal Leavers NHS Trust", "Person emp", "October 2026", "Basic pay",
                  "Unsocial hours enhancement", "Income tax", "National Insurance",
                  "NHS Pension", "1257L", "2026-10-25"):
            self.assertIn(s, text)
        # */* gets JSON; ?format=pdf gets the PDF
        r = self.api.get(PORTLET + "/payslips/2026-10", token=self.tok("emp"),
                         headers={"Accept": "*/*"})
        self.assertIn("json", r.headers.get("Content-Type"))
        r = self.api.get(PORTLET + "/payslips/2026-10?format=pdf", token=self.tok("emp"))
        self.assertTrue(r.raw.startswith(b"%PDF"))
        r = self.api.get(PORTLET + "/p60/2025-26", token=self.tok("emp"),
                         headers={"Accept": "application/pdf"})
        text = pdf_text(r.raw)
        self.assertIn("\u00a332,472.00", text)
        self.assertIn("Statutory Sick Pay", text)
        self.assertIn(NI_MASKED, text)
        self.assertNotIn(NI, text)

    @unittest.skipUnless(HAVE_PDFTOTEXT, "pdftotext (poppler-utils) is not installed")
    def test_pack_holds_every_document(self):
        r = self.api.get(PORTLET + "/pack", token=self.tok("leaver"))
        self.assertEqual(r.status, 200, repr(r))
        self.assertEqual(r.headers.get("Content-Type"), "application/pdf")
        self.assertRegex(r.headers.get("Content-Disposition"),
                         r'^attachment; filename="pay-documents-leaver-2026-11-15\.pdf"$')
        text = pdf_text(r.raw)
        for s in ("August 2026", "September 2026", "October 2026", "P45", "Tax year 2026-27",
                  "P60", "Tax year 2025-26", "2026-11-05"):
            self.assertIn(s, text)
        self.assertEqual(text.count("Payslip \u2013"), 6)  # contents line + page title each
        self.assertIn(NI_MASKED, text)
        self.assertNotIn(NI, text)
        # one page per document plus the contents page
        self.assertGreaterEqual(text.count("\f"), 6)

    # -------------------------------------------------------- dashboards

    def card(self, dash, user):
        r = self.api.get(API + "/dashboards/" + dash, token=self.tok(user))
        self.assertEqual(r.status, 200, repr(r))
        for c in r.body["portlets"]:
            if c["id"] == "leavers":
                return c, r.body
        self.fail("no leavers card on %s: %r" % (dash, r.body))

    def test_leaver_dashboard(self):
        card, body = self.card("leaver", "leaver")
        s = card["summary"]
        self.assertEqual(s["documents"], {"payslips": 3, "p45": 1, "p60": 1, "total": 5})
        self.assertEqual(s["access_ends"], "2026-12-05")
        self.assertEqual(s["save_before"], "2026-12-06")
        self.assertEqual(s["pack_url"], PORTLET + "/pack")
        notes = [n for n in body["notices"] if n.get("code") == "save_documents"]
        self.assertEqual(len(notes), 1, body["notices"])
        text = notes[0].get("text") or notes[0].get("message")
        self.assertIn("2026-12-06", text)
        self.assertIn("/pack", text)

    def test_employee_dashboard(self):
        card, body = self.card("employee", "emp")
        latest = card["summary"]["latest_payslip"]
        self.assertEqual(latest, {"period": "2026-10", "pay_date": "2026-10-25",
                                  "net": payslip_data()["net"]})
        self.assertFalse([n for n in body["notices"] if n.get("code") == "save_documents"])
        card, _ = self.card("employee", "hr")
        self.assertIsNone(card["summary"]["latest_payslip"])


if __name__ == "__main__":
    main()
