"""Response contract: every body the server sends matches the OpenAPI document.

test_http checks that the spec's routes are the server's routes.  This test
checks the bodies: it starts porticod (with $PORTICO_PLUGINS, so the
flu-countdown portlet is loaded, and the test clock), fetches
/api/v1/openapi.json from the running server, drives a realistic scenario over
every documented operation and the error cases (400, 401, 403, 404, 405, 409,
413, 415, 422, 429), and for each response:

- finds the response object for (path template, method, status) in the served
  document; an undocumented status is a mismatch.  The two answers that have
  no operation of their own are looked up where the document describes them:
  405 for a method a path does not list -> components.responses
  .MethodNotAllowed, 404 for a path that is not in the document ->
  components.responses.NotFound;
- checks the Content-Type's media type is one the response documents
  (application/json vs application/problem+json), and that a response
  documented without content sends no body;
- validates the JSON body with jsonschema's Draft 2020-12 validator, resolving
  '#/components/...' references against the served document, with `date`,
  `date-time` and `uri` formats checked;
- reports object fields the server sends that the schema does not list (in
  schemas that list their properties and do not allow extra ones), since a
  field the document does not describe is as much a contract gap as a missing
  one.

All mismatches are collected and reported together as
(method path status, JSON path, message).  Finally every documented operation
must have been exercised with a success status, and every error status above
must have been seen, so a scenario that silently stopped covering something
fails too.
"""

import datetime
import json
import os
import re
import sys
from urllib.parse import quote, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import portico_harness as h  # noqa: E402
from portico_harness import API, PorticoTestCase, iso, main  # noqa: E402

import jsonschema  # noqa: E402  (Debian: python3-jsonschema)
from jsonschema import Draft202012Validator, FormatChecker  # noqa: E402

try:  # jsonschema >= 4.18
    import referencing
    import referencing.jsonschema
except ImportError:  # Debian 12 ships 4.10: RefResolver
    referencing = None

SPEC_URI = "urn:portico:openapi"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 11, 15, 12, 0, 0, tzinfo=UTC)
PASSWORD = "Contract-pass-2026!"
ORG = "contract-trust"
OTHER = "other-trust"
PORTLET = API + "/portlets/flu-countdown"
ERROR_STATUSES = (400, 401, 403, 404, 405, 409, 413, 415, 422, 429)

# Documented operations this scenario cannot provoke a success for, and why.
NOT_EXERCISED = {}

# The summary schema each loaded portlet documents for its dashboard card.
CARD_SCHEMAS = {"flu-countdown": "FluSummary", "applicant-welcome": "AwSummary",
                "leavers": "LeaversSummary"}
CARD_SCHEMAS["flexible-working"] = "FwSummary"

# flexible-working's operations are driven, and checked with this file's
# Contract and check(), by test_flexible_working.py.
_FW = API + "/portlets/flexible-working"
NOT_EXERCISED.update({_FW + p: "exercised by test_flexible_working.py" for p in (
    "/requests", "/requests/{id}", "/requests/{id}/meetings", "/requests/{id}/decision",
    "/requests/{id}/withdraw", "/requests/{id}/appeal", "/requests/{id}/appeal/decision",
    "/requests/{id}/extension", "/requests/{id}/extension/agree",
    "/requests/{id}/treated-as-withdrawn", "/report")})

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _format_checker():
    """Formats the document relies on, checked without optional packages."""
    fc = FormatChecker(formats=())

    @fc.checks("date", raises=ValueError)
    def _date(value):
        if not isinstance(value, str):
            return True
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError("not YYYY-MM-DD")
        datetime.date.fromisoformat(value)
        return True

    @fc.checks("date-time", raises=ValueError)
    def _date_time(value):
        if not isinstance(value, str):
            return True
        if not _RFC3339.match(value):
            raise ValueError("not RFC 3339")
        datetime.datetime.fromisoformat(value[:19])
        return True

    @fc.checks("uri")
    def _uri(value):
        if not isinstance(value, str):
            return True
        return bool(re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", value))

    return fc


def _pointer_escape(token):
    return str(token).replace("~", "~0").replace("/", "~1")


def _json_path(parts):
    out = "$"
    for p in parts:
        out += "[%d]" % p if isinstance(p, int) else "." + str(p)
    return out


class Contract:
    """The served document plus everything needed to check answers against it."""

    def __init__(self, doc):
        self.doc = doc
        self.format_checker = _format_checker()
        if referencing is not None:
            resource = referencing.Resource.from_contents(
                doc, default_specification=referencing.jsonschema.DRAFT202012)
            self.registry = referencing.Registry().with_resource(SPEC_URI, resource)
            self.resolver = None
        else:
            self.registry = None
            self.resolver = jsonschema.RefResolver(SPEC_URI, doc, store={SPEC_URI: doc})
        # path templates as regexes; literal segments win over parameters
        self.templates = []
        for tpl in doc.get("paths", {}):
            rx = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(tpl)) + "$"
            self.templates.append((tpl.count("{"), tpl, re.compile(rx)))
        self.templates.sort()

    # -- document navigation
    def pointer(self, ptr):
        node = self.doc
        for tok in ptr.lstrip("#").split("/")[1:]:
            tok = tok.replace("~1", "/").replace("~0", "~")
            node = node[int(tok)] if isinstance(node, list) else node[tok]
        return node

    def deref(self, node, ptr):
        """Follow $ref chains; returns (node, its pointer in the document)."""
        seen = 0
        while isinstance(node, dict) and "$ref" in node and seen < 20:
            ref = node["$ref"]
            if not ref.startswith("#/"):
                raise ValueError("non-local $ref %r" % ref)
            ptr = ref
            node = self.pointer(ref)
            seen += 1
        return node, ptr

    def template_for(self, path):
        for _, tpl, rx in self.templates:
            if rx.match(path):
                return tpl
        return None

    def operations(self):
        for tpl, item in self.doc.get("paths", {}).items():
            for m in item:
                if m in METHODS:
                    yield tpl, m.upper()

    # -- schema checks
    def validator(self, schema):
        kw = {"format_checker": self.format_checker}
        if self.registry is not None:
            kw["registry"] = self.registry
        else:
            kw["resolver"] = self.resolver
        return Draft202012Validator(schema, **kw)

    def schema_errors(self, schema_ptr, instance):
        """(json path, message) for each violation of the schema at schema_ptr."""
        v = self.validator({"$ref": SPEC_URI + schema_ptr})
        out = []
        for err in sorted(v.iter_errors(instance), key=lambda e: list(e.absolute_path)):
            msg = err.message
            if len(msg) > 300:
                msg = msg[:300] + "..."
            if err.context:
                best = jsonschema.exceptions.best_match(err.context)
                if best is not None:
                    msg += " [%s: %s]" % (_json_path(list(err.absolute_path) +
                                                     list(best.relative_path)),
                                          best.message[:200])
            out.append((_json_path(err.absolute_path), msg))
        return out

    def is_valid(self, schema_ptr, instance):
        return self.validator({"$ref": SPEC_URI + schema_ptr}).is_valid(instance)

    def undocumented_fields(self, schema_ptr, instance, path=()):
        """Object keys the instance has but the schema at schema_ptr does not
        describe, in schemas that list properties and say nothing about extra
        ones.  Works on pointers so every check resolves against the document."""
        out = []
        # the schema and the branches whose properties count: allOf always,
        # oneOf/anyOf only when the instance matches them
        branches = [schema_ptr]
        i = 0
        while i < len(branches):
            ptr = branches[i]
            node = self.pointer(ptr)
            if isinstance(node, dict):
                if isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
                    branches.append(node["$ref"])
                for n, _ in enumerate(node.get("allOf", [])):
                    branches.append("%s/allOf/%d" % (ptr, n))
                for kw in ("oneOf", "anyOf"):
                    for n, _ in enumerate(node.get(kw, [])):
                        sub = "%s/%s/%d" % (ptr, kw, n)
                        if self.is_valid(sub, instance):
                            branches.append(sub)
            i += 1
        nodes = [(b, self.pointer(b)) for b in branches]
        nodes = [(b, n) for b, n in nodes if isinstance(n, dict)]
        if isinstance(instance, dict):
            props = {}
            free = False
            listed = False
            extra = []
            for b, n in nodes:
                if "properties" in n:
                    listed = True
                    for k in n["properties"]:
                        props.setdefault(k, []).append(
                            "%s/properties/%s" % (b, _pointer_escape(k)))
                if "additionalProperties" in n or "patternProperties" in n or \
                        "unevaluatedProperties" in n:
                    free = True
                    if isinstance(n.get("additionalProperties"), dict):
                        extra.append(b + "/additionalProperties")
            for k, val in instance.items():
                if k in props:
                    for sub in props[k]:
                        out += self.undocumented_fields(sub, val, path + (k,))
                elif extra:
                    for sub in extra:
                        out += self.undocumented_fields(sub, val, path + (k,))
                elif listed and not free:
                    out.append((_json_path(path + (k,)),
                                "field %r is sent but not documented" % k))
        elif isinstance(instance, list):
            for b, n in nodes:
                if isinstance(n.get("items"), dict):
                    for k, val in enumerate(instance):
                        out += self.undocumented_fields(b + "/items", val, path + (k,))
                    break
        seen, uniq = set(), []  # a field reached through two branches
        for e in out:
            if e not in seen:
                seen.add(e)
                uniq.append(e)
        return uniq


class SpecContractTest(PorticoTestCase):
    plugins = os.environ.get("PORTICO_PLUGINS")
    server_config = {"login_max_failures": 5}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        r = cls.api.get(API + "/openapi.json", token="")
        if r.status != 200 or not isinstance(r.body, dict):
            raise AssertionError("GET /api/v1/openapi.json: %r" % r)
        cls.contract = Contract(r.body)

    def setUp(self):
        self.mismatches = {}  # (where, json path, message) -> times seen
        self.seen = set()  # (template, METHOD, status) of documented operations
        self.statuses = set()  # every status answered
        self.unexpected = []
        self.checked = 0

    # ------------------------------------------------------ the document

    def test_document_is_exact(self):
        """What a generated client needs (issue 12): every object schema
        lists its properties or says additionalProperties (else a client
        gets Record<string, never>), every operation documents 405 and a
        4xx, every loaded portlet has a card type keyed by its id and a
        config schema in PortletConfig."""
        doc = self.contract.doc
        vague = []

        def walk(node, where):
            if isinstance(node, dict):
                t = node.get("type")
                is_obj = t == "object" or (isinstance(t, list) and "object" in t)
                if is_obj and not any(k in node for k in (
                        "properties", "additionalProperties", "patternProperties",
                        "oneOf", "anyOf", "allOf", "$ref")):
                    vague.append(where)
                for k, v in node.items():
                    walk(v, where + "/" + k)
            elif isinstance(node, list):
                for i, v in enumerate(node):
                    walk(v, "%s/%d" % (where, i))
        walk(doc, "#")
        self.assertEqual(vague, [], "object schemas without properties or additionalProperties")

        for path, item in doc["paths"].items():
            for method, op in item.items():
                if method not in METHODS:
                    continue
                codes = set(op.get("responses", {}))
                self.assertIn("405", codes, "%s %s does not document 405" % (method, path))
                self.assertTrue(any(c.startswith("4") for c in codes), path)

        schemas = doc["components"]["schemas"]
        # every JSON request body has an example, and every example is valid
        for path, item in doc["paths"].items():
            for method, op in item.items():
                if method not in METHODS:
                    continue
                media = (op.get("requestBody") or {}).get("content", {}).get("application/json")
                if not media:
                    continue
                schema, _ = self.contract.deref(media.get("schema", {}), "")
                self.assertTrue("example" in media or "examples" in media or
                                "examples" in schema or "example" in schema,
                                "%s %s: request body without an example" % (method, path))
        for name, schema in schemas.items():
            for n, example in enumerate(schema.get("examples") or []):
                for jpath, msg in self.contract.schema_errors("#/components/schemas/" + name,
                                                              example):
                    self.fail("%s examples[%d] %s: %s" % (name, n, jpath, msg))

        r = self.api.post(API + "/auth/login", {"username": "admin",
                                                 "password": self.server.admin_password})
        self.assertEqual(r.status, 200, r)
        r = self.api.get(API + "/portlets", token=r.body["access_token"])
        self.assertEqual(r.status, 200, r)
        mapping = schemas["DashboardCard"]["discriminator"]["mapping"]
        configs = {x["$ref"] for x in schemas["PortletConfig"]["anyOf"]}
        for p in r.body["items"]:
            self.assertIn(p["id"], mapping, "no card schema for portlet %s" % p["id"])
            card = self.contract.pointer(mapping[p["id"]])
            self.assertEqual(card["properties"]["id"].get("const"), p["id"])
        self.assertEqual(len(configs), len(r.body["items"]))
        self.assertEqual(set(mapping), {p["id"] for p in r.body["items"]},
                         "card schemas of portlets that are not loaded")

    # ------------------------------------------------------------ checking

    def mismatch(self, where, jpath, message):
        """Recorded once per (operation, JSON path with indices folded, message)."""
        key = (where, re.sub(r"\[\d+\]", "[*]", jpath), message)
        if key not in self.mismatches:
            self.mismatches[key] = 0
        self.mismatches[key] += 1

    def call(self, method, path, expect, body=None, token=None, **kw):
        """One request; checks the answer against the document and that the
        scenario got the status it meant to provoke (`expect`: int or tuple)."""
        r = self.api.request(method, path, body, token=token if token is not None else "",
                             **kw)
        self.check(method, path, r)
        ok = r.status in expect if isinstance(expect, tuple) else r.status == expect
        if not ok:
            self.unexpected.append("%s %s: expected %s, got %r" % (method, path, expect, r))
        return r

    def check(self, method, path, r):
        c = self.contract
        self.checked += 1
        self.statuses.add(r.status)
        upath = urlsplit(path).path
        tpl = c.template_for(upath)
        where = "%s %s %d" % (method, tpl or upath, r.status)
        status = str(r.status)
        base = None
        if tpl is None:
            if r.status != 404:
                self.mismatch(where, "-", "path is not in the document")
                return
            base = "#/components/responses/NotFound"
            resp = c.pointer(base)
        else:
            item = c.doc["paths"][tpl]
            op = item.get(method.lower())
            if op is None:
                if r.status != 405:
                    self.mismatch(where, "-", "method is not documented for this path")
                    return
                base = "#/components/responses/MethodNotAllowed"
                resp = c.pointer(base)
            else:
                self.seen.add((tpl, method, r.status))
                responses = op.get("responses", {})
                if status in responses:
                    base = "#/paths/%s/%s/responses/%s" % (_pointer_escape(tpl), method.lower(),
                                                           status)
                elif status[0] + "XX" in responses:
                    base = "#/paths/%s/%s/responses/%sXX" % (_pointer_escape(tpl),
                                                             method.lower(), status[0])
                elif "default" in responses:
                    base = "#/paths/%s/%s/responses/default" % (_pointer_escape(tpl),
                                                                method.lower())
                else:
                    self.mismatch(where, "-", "status %s is not documented (documented: %s)" %
                                  (status, ", ".join(sorted(responses))))
                    return
                resp, base = c.deref(c.pointer(base), base)
        for name, hdr in (resp.get("headers") or {}).items():
            hdr, _ = c.deref(hdr, "")
            value = r.headers.get(name)
            if value is None:
                if hdr.get("required"):
                    self.mismatch(where, name, "documented required header is missing")
                continue
            hschema = hdr.get("schema") or {}
            hschema, _ = c.deref(hschema, "")
            if hschema.get("type") == "integer":
                try:
                    value = int(value)
                except ValueError:
                    pass
            if not c.validator(hschema).is_valid(value):
                self.mismatch(where, name, "header value %r does not match its schema" % value)
        content = resp.get("content") or {}
        ctype = (r.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if not content:
            if r.raw:
                self.mismatch(where, "-", "documented without a body, but %d bytes of %r sent" %
                              (len(r.raw), ctype))
            return
        if not r.raw and r.status in (204, 304):
            self.mismatch(where, "-", "documented with content %s, but no body sent" %
                          sorted(content))
            return
        if ctype not in content:
            self.mismatch(where, "Content-Type", "%r is not a documented media type (%s)" %
                          (ctype, ", ".join(sorted(content))))
            return
        media = content[ctype]
        if "json" not in ctype:
            return
        try:
            instance = json.loads(r.raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            self.mismatch(where, "$", "body is not JSON: %s" % e)
            return
        if "schema" not in media:
            self.mismatch(where, "$", "media type %s has no schema" % ctype)
            return
        schema_ptr = base + "/content/" + _pointer_escape(ctype) + "/schema"
        for jpath, msg in c.schema_errors(schema_ptr, instance):
            self.mismatch(where, jpath, msg)
        for jpath, msg in c.undocumented_fields(schema_ptr, instance):
            self.mismatch(where, jpath, msg)
        # a dashboard card's summary has its portlet's own documented shape
        if tpl == API + "/dashboards/{dashboard}" and isinstance(instance, dict):
            for n, card in enumerate(instance.get("portlets") or []):
                name = CARD_SCHEMAS.get(card.get("id")) if isinstance(card, dict) else None
                if name is None or card.get("summary") is None:
                    continue
                ptr = "#/components/schemas/" + name
                if name not in c.doc.get("components", {}).get("schemas", {}):
                    self.mismatch(where, "$.portlets[%d]" % n, "no schema %s" % name)
                    continue
                for jpath, msg in (c.schema_errors(ptr, card["summary"]) +
                                   c.undocumented_fields(ptr, card["summary"])):
                    self.mismatch(where, "$.portlets[%d].summary%s" % (n, jpath[1:]), msg)

    # ------------------------------------------------------------- helpers

    def login(self, username, password, expect=200, org=None, otp=None):
        body = {"username": username, "password": password}
        if org is not None:
            body["org"] = org
        if otp is not None:
            body["otp"] = otp
        return self.call("POST", API + "/auth/login", expect, body)

    def token_for(self, username, password=PASSWORD, **kw):
        r = self.login(username, password, **kw)
        self.assertEqual(r.status, 200, "login %s: %r" % (username, r))
        return r.body["access_token"]

    def person(self, adm, org, username, **fields):
        body = {"username": username, "password": PASSWORD,
                "display_name": "Person " + username, "email": username + "@example.org",
                "status": "employee"}
        body.update(fields)
        return self.call("POST", API + "/orgs/%s/people" % org, 201, body, token=adm)

    # --------------------------------------------------------------- test

    def test_every_response_matches_spec(self):
        self.set_clock(NOW)
        c = self.call

        # ---- ops and keys (public)
        c("GET", "/", 200)
        c("GET", "/healthz", 200)
        c("GET", "/readyz", 200)
        c("GET", "/metrics", 401)
        c("GET", API + "/openapi.json", 200)
        c("GET", "/.well-known/jwks.json", 200)

        # ---- sign-in, rotation, /me of a system admin without an org
        r = self.login("admin", self.server.admin_password)
        adm_refresh = r.body["refresh_token"]
        r = c("POST", API + "/auth/refresh", 200, {"refresh_token": adm_refresh})
        adm = r.body["access_token"]
        c("POST", API + "/auth/refresh", 401, {"refresh_token": "garbage"})
        c("GET", API + "/me", 200, token=adm)
        c("GET", "/metrics", 200, token=adm)

        # ---- organisations
        c("POST", API + "/orgs", 201, {
            "id": ORG, "name": "Contract Trust",
            "settings": {"leaver_access_days": 30,
                         "branding": {"primary_colour": "#005EB8",
                                      "logo_url": "https://example.org/logo.png"},
                         "notices": ["Car park B closes on Friday"]}}, token=adm)
        c("POST", API + "/orgs", 201, {"id": OTHER, "name": "Other Trust"}, token=adm)
        c("POST", API + "/orgs", 201, {"id": "third-trust", "name": "Third Trust",
                                       "settings": {"leaver_access_days": 0}}, token=adm)
        c("POST", API + "/orgs", 409, {"id": ORG, "name": "Again"}, token=adm)
        c("POST", API + "/orgs", 422, {"id": "Bad Slug!", "name": 7, "extra": 1}, token=adm)
        c("POST", API + "/orgs", 422, [1, 2], token=adm)
        c("POST", API + "/orgs", 400, raw=b'{"id": "x", "name": ', token=adm)
        c("POST", API + "/orgs", 400, raw=b'{"id": "\xff\xfe", "name": "x"}', token=adm)
        c("POST", API + "/orgs", 415, raw=b"id=x", content_type="text/plain", token=adm)
        c("POST", API + "/orgs", 413, raw=b'{"id": "big", "name": "' + b"x" * (1 << 20) +
          b'"}', token=adm)
        r = c("GET", API + "/orgs?limit=2", 200, token=adm)
        self.assertIsNotNone(r.body.get("next_cursor"), repr(r))
        c("GET", API + "/orgs?limit=2&cursor=" + quote(r.body["next_cursor"]), 200, token=adm)
        c("GET", API + "/orgs?limit=0", 400, token=adm)
        c("GET", API + "/orgs?limit=abc", 400, token=adm)
        c("GET", API + "/orgs?cursor=%%%%not-a-cursor", 400, token=adm)
        c("GET", API + "/orgs/" + ORG, 200, token=adm)
        c("GET", API + "/orgs/no-such-org", 404, token=adm)
        c("PATCH", API + "/orgs/" + ORG, 200,
          {"name": "Contract NHS Trust", "settings": {"notices": ["Flu clinics open"]}},
          token=adm)
        c("PATCH", API + "/orgs/" + ORG, 422, {"settings": {"leaver_access_days": 500}},
          token=adm)
        c("PATCH", API + "/orgs/no-such-org", 404, {"name": "x"}, token=adm)

        # ---- people
        today = NOW.date()
        self.person(adm, ORG, "pa", roles=["portal_admin"], staff_group="admin_clerical")
        self.person(adm, ORG, "hr", roles=["hr_admin", "content_admin"])
        self.person(adm, ORG, "oh", roles=["oh_admin"], staff_group="qualified_nurses")
        self.person(adm, ORG, "emp", staff_group="doctors", start_date="2020-01-06")
        self.person(adm, ORG, "emp2", staff_group="doctors", manager="emp")
        self.person(adm, ORG, "app", status="applicant",
                    start_date=str(today + datetime.timedelta(days=30)))
        self.person(adm, ORG, "leaver", staff_group="doctors", start_date="2019-04-01",
                    termination_date=str(today - datetime.timedelta(days=10)))
        self.person(adm, ORG, "gone", start_date="2019-04-01",
                    termination_date=str(today - datetime.timedelta(days=200)))
        self.person(adm, OTHER, "otheradmin", roles=["portal_admin"])
        # a second membership of the same account: naming it is 409, it is
        # invited and accepts
        c("POST", API + "/orgs/%s/people" % OTHER, 409,
          {"username": "emp", "display_name": "Emp", "email": "emp@example.org",
           "status": "employee"}, token=adm)
        inv = {"username": "emp", "display_name": "Emp in Other", "email": "emp@example.org",
               "status": "employee"}
        c("POST", API + "/orgs/%s/invitations" % OTHER, 201, inv, token=adm)
        c("POST", API + "/orgs/%s/invitations" % OTHER, 409, inv, token=adm)
        c("POST", API + "/orgs/%s/invitations" % OTHER, 404, dict(inv, username="nobody"),
          token=adm)
        c("POST", API + "/orgs/%s/invitations" % OTHER, 422, dict(inv, password="x" * 10),
          token=adm)
        emp_first = self.token_for("emp")
        c("GET", API + "/me", 200, token=emp_first)
        c("POST", API + "/me/invitations/%s/decline" % ORG, 404, token=emp_first)
        c("POST", API + "/me/invitations/%s/accept" % OTHER, 200, token=emp_first)
        c("PATCH", API + "/me", 200, {"default_org": ORG}, token=emp_first)
        c("PATCH", API + "/me", 422, {"default_org": "third-trust"}, token=emp_first)
        c("POST", API + "/orgs/%s/invitations" % OTHER, 201, dict(inv, username="pa"),
          token=adm)
        c("POST", API + "/me/invitations/%s/decline" % OTHER, 204, token=self.token_for("pa"))
        c("POST", API + "/orgs/%s/people" % ORG, 409,
          {"username": "emp", "display_name": "Dup", "email": "d@example.org",
           "status": "employee"}, token=adm)
        c("POST", API + "/orgs/%s/people" % ORG, 422,
          {"username": "-bad", "display_name": "", "email": "nope", "status": "leaver",
           "roles": ["system_admin"], "unknown": True}, token=adm)
        c("POST", API + "/orgs/no-such-org/people", 404,
          {"username": "zz", "display_name": "Z", "email": "z@example.org",
           "status": "employee"}, token=adm)

        pa = self.token_for("pa")
        hr = self.token_for("hr")
        oh = self.token_for("oh")
        emp = self.token_for("emp", org=ORG)
        app = self.token_for("app")
        leaver = self.token_for("leaver")
        other = self.token_for("otheradmin")

        people = API + "/orgs/%s/people" % ORG
        r = c("GET", people + "?limit=3", 200, token=pa)
        self.assertIsNotNone(r.body.get("next_cursor"), repr(r))
        r = c("GET", people + "?limit=3&cursor=" + quote(r.body["next_cursor"]), 200, token=hr)
        c("GET", people + "?limit=500", 200, token=adm)
        c("GET", people + "?status=leaver", 200, token=pa)
        c("GET", people + "?status=applicant", 200, token=pa)
        c("GET", people + "?limit=501", 400, token=pa)
        c("GET", people, 403, token=emp)
        c("GET", people + "/emp", 200, token=emp)
        c("GET", people + "/leaver", 200, token=hr)
        c("GET", people + "/app", 200, token=pa)
        c("GET", people + "/nobody", 404, token=pa)
        c("GET", people + "/emp2", 403, token=emp)
        c("PATCH", people + "/emp2", 200,
          {"display_name": "Second Employee", "staff_group": None, "manager": None,
           "roles": ["payroll_admin"], "start_date": "2021-02-01"}, token=pa)
        c("PATCH", people + "/emp2", 422,
          {"status": "leaver", "email": 5, "manager": "emp2"}, token=pa)
        c("PATCH", people + "/nobody", 404, {"display_name": "X"}, token=pa)
        c("PATCH", people + "/emp2", 403, {"display_name": "X"}, token=hr)

        csv_ok = ("username,display_name,email,staff_group,status,start_date,"
                  "termination_date,manager,roles\n"
                  "imp1,Imported One,imp1@example.org,doctors,employee,2024-01-01,,,\n"
                  "imp2,Imported Two,imp2@example.org,qualified_nurses,employee,2024-02-01,,"
                  "imp1,hr_admin;oh_admin\n")
        csv_bad = ("username,display_name,email,staff_group,status,start_date,"
                   "termination_date,manager,roles\n"
                   "imp3,Imported Three,not-an-email,doctors,employee,2024-01-01,,,\n"
                   "imp3,Dup,imp3@example.org,doctors,boss,,,nobody,root\n")
        imp = people + "/import"
        c("POST", imp, 201, raw=csv_ok.encode(), content_type="text/csv", token=pa)
        c("POST", imp, 422, raw=csv_bad.encode(), content_type="text/csv", token=pa)
        c("POST", imp, (409, 422), raw=csv_ok.encode(), content_type="text/csv", token=pa)
        c("POST", imp, 415, raw=b'{"a": 1}', content_type="application/json", token=pa)
        c("POST", imp, 403, raw=csv_ok.encode(), content_type="text/csv", token=emp)

        audit = API + "/orgs/%s/audit" % ORG
        r = c("GET", audit + "?limit=2", 200, token=pa)
        self.assertIsNotNone(r.body.get("next_cursor"), repr(r))
        c("GET", audit + "?limit=2&cursor=" + quote(r.body["next_cursor"]), 200, token=pa)
        c("GET", audit, 403, token=hr)
        c("GET", audit + "?cursor=zzz", 400, token=pa)

        # ---- /me and isolation
        c("GET", API + "/me", 200, token=emp)
        c("GET", API + "/me", 200, token=leaver)
        c("GET", API + "/me", 200, token=app)
        c("GET", API + "/me", 200, token=pa)
        c("GET", API + "/orgs", 200, token=emp)
        c("GET", API + "/orgs/" + ORG, 200, token=emp)
        c("GET", API + "/orgs/" + OTHER, (403, 404), token=emp)
        c("GET", API + "/orgs/%s/people" % OTHER, (403, 404), token=pa)
        c("PATCH", API + "/orgs/" + ORG, 403, {"name": "x"}, token=emp)
        c("PATCH", API + "/orgs/" + ORG, 200,
          {"settings": {"branding": {"primary_colour": "#003087"}}}, token=pa)
        c("POST", API + "/orgs", 403, {"id": "nope", "name": "Nope"}, token=pa)
        self.login("gone", PASSWORD, expect=403)

        # ---- errors: 401, 404, 405
        c("GET", API + "/me", 401)
        c("GET", API + "/me", 401, token="not.a.jwt")
        c("GET", API + "/orgs", 401, token="x")
        c("DELETE", API + "/me", 405, token=emp)
        c("PUT", API + "/orgs/" + ORG, 405, {"name": "x"}, token=pa)
        c("GET", API + "/auth/login", 405)
        c("GET", API + "/no/such/path", 404, token=emp)
        c("GET", "/nothing-here", 404)
        self.login("emp", "wrong-password", expect=401)
        self.login("nobody-at-all", "wrong-password", expect=401)
        self.login("emp", PASSWORD, org="third-trust", expect=403)
        c("POST", API + "/auth/login", 422, {"username": 5})
        c("POST", API + "/auth/login", 400, raw=b"{")
        c("POST", API + "/auth/login", 415, raw=b"username=emp", content_type=
          "application/x-www-form-urlencoded")

        # ---- MFA
        c("POST", API + "/me/mfa/totp/confirm", 409, {"otp": "123456"}, token=hr)
        c("POST", API + "/me/mfa/totp", 422, token=hr)
        c("POST", API + "/me/mfa/totp", 401, {"password": "not-the-password"}, token=hr)
        c("DELETE", API + "/me/mfa/totp", 409, {"password": PASSWORD, "otp": "123456"},
          token=hr)
        c("DELETE", API + "/me/mfa/totp", 422, {}, token=hr)
        r = c("POST", API + "/me/mfa/totp", 200, {"password": PASSWORD}, token=hr)
        secret = r.body["secret"]
        c("POST", API + "/me/mfa/totp/confirm", 422, {"otp": "000000" if h.totp(
            secret, NOW.timestamp()) != "000000" else "111111"}, token=hr)
        c("POST", API + "/me/mfa/totp/confirm", 422, {"otp": 42, "x": 1}, token=hr)
        c("POST", API + "/me/mfa/totp/confirm", 200,
          {"otp": h.totp(secret, NOW.timestamp())}, token=hr)
        c("POST", API + "/me/mfa/totp", 409, {"password": PASSWORD}, token=hr)
        c("GET", API + "/me", 200, token=hr)
        self.login("hr", PASSWORD, expect=401)  # mfa_required
        self.set_clock(NOW + datetime.timedelta(seconds=60))
        self.login("hr", PASSWORD, otp=h.totp(secret, NOW.timestamp() + 60))
        c("DELETE", API + "/me/mfa/totp", 401,
          {"password": PASSWORD, "otp": h.totp(secret, NOW.timestamp() + 60)}, token=hr)
        c("DELETE", API + "/me/mfa/totp", 204,
          {"password": PASSWORD, "otp": h.totp(secret, NOW.timestamp() + 90)}, token=hr)
        self.set_clock(NOW)
        c("POST", API + "/me/mfa/totp", 403, {"password": PASSWORD}, token=leaver)
        c("DELETE", API + "/orgs/%s/people/hr/mfa" % ORG, 403, token=hr)
        c("DELETE", API + "/orgs/%s/people/nobody/mfa" % ORG, 404, token=pa)
        c("DELETE", API + "/orgs/%s/people/hr/mfa" % ORG, 204, token=pa)
        self.login("hr", PASSWORD)

        # ---- portlets: catalogue and per-org settings
        c("GET", API + "/portlets", 200, token=adm)
        c("GET", API + "/portlets", 200, token=emp)
        c("GET", API + "/portlets", 401)
        orgp = API + "/orgs/%s/portlets" % ORG
        c("GET", orgp, 200, token=pa)
        c("GET", orgp, 403, token=emp)
        c("GET", API + "/orgs/no-such-org/portlets", (403, 404), token=pa)
        c("GET", PORTLET, 404, token=emp)  # portlet_not_enabled
        c("GET", PORTLET + "/sites", 404, token=emp)
        flu = {"campaign": "Flu 2026/27", "starts_at": "2026-10-01T00:00:00Z",
               "ends_at": "2027-01-31T23:59:59Z", "target_percent": 75,
               "sections": {"countdown": True, "uptake": True, "signposting": True}}
        c("PUT", orgp + "/flu-countdown", 422,
          {"enabled": True, "placements": [{"dashboard": "boardroom", "position": 0}],
           "config": {"campaign": "", "starts_at": "2027-01-01T00:00:00Z",
                      "ends_at": "2026-01-01T00:00:00Z", "colour": "red"}, "x": 1},
          token=pa)
        c("PUT", orgp + "/flu-countdown", 422, {"enabled": True}, token=pa)
        c("PUT", orgp + "/no-such-portlet", 404, {"enabled": True}, token=pa)
        c("PUT", orgp + "/flu-countdown", 403, {"enabled": False}, token=emp)
        c("PUT", orgp + "/flu-countdown", 400, raw=b'{"enabled": tru', token=pa)
        c("PUT", orgp + "/flu-countdown", 200, {"enabled": False, "config": flu}, token=pa)
        c("PUT", orgp + "/flu-countdown", 200,
          {"enabled": True, "placements": [{"dashboard": "employee", "position": 1}]},
          token=pa)
        c("GET", orgp, 200, token=adm)

        # ---- flu-countdown
        c("GET", PORTLET, 200, token=emp)  # no sites, no vaccinations yet
        sites = PORTLET + "/sites"
        c("PUT", sites + "/main-hall", 201,
          {"name": "Main hall", "location": "Level 1, by the lifts",
           "sessions": [{"starts_at": "2026-11-20T09:00:00Z", "ends_at": "2026-11-20T12:00:00Z",
                         "notes": "Walk in"},
                        {"starts_at": "2026-11-18T13:00:00+01:00",
                         "ends_at": "2026-11-18T15:00:00+01:00"}]}, token=oh)
        c("PUT", sites + "/main-hall", 200,
          {"name": "Main hall", "location": "Level 1",
           "sessions": [{"starts_at": "2026-11-20T09:00:00Z",
                         "ends_at": "2026-11-20T12:00:00Z", "notes": ""}]}, token=oh)
        c("PUT", sites + "/ward-7", 201, {"name": "Ward 7 (roving)"}, token=oh)
        c("PUT", sites + "/spare", 201, {"name": "Spare room", "location": "", "sessions": []},
          token=oh)
        c("PUT", sites + "/Bad_Site", 422, {"name": "x"}, token=oh)
        c("PUT", sites + "/main-hall", 422,
          {"name": "", "sessions": [{"starts_at": "2026-11-20T12:00:00Z",
                                     "ends_at": "2026-11-20T09:00:00Z"}], "x": 1}, token=oh)
        c("PUT", sites + "/main-hall", 403, {"name": "Mine"}, token=emp)
        c("PUT", sites + "/main-hall", 415, raw=b"name=x", content_type="text/plain", token=oh)
        r = c("GET", sites + "?limit=1", 200, token=emp)
        self.assertIsNotNone(r.body.get("next_cursor"), repr(r))
        c("GET", sites + "?limit=1&cursor=" + quote(r.body["next_cursor"]), 200, token=emp)
        c("GET", sites, 200, token=oh)
        c("GET", sites + "?limit=-1", 400, token=emp)
        vacc = PORTLET + "/vaccinations"
        at = iso(NOW - datetime.timedelta(hours=2))
        c("POST", vacc, 201, {"staff_group": "doctors", "site": "main-hall",
                              "vaccinated_at": at}, token=oh)
        c("POST", vacc, 201, {"staff_group": "qualified_nurses", "site": "ward-7",
                              "vaccinated_at": at}, token=oh)
        c("POST", vacc, 422, {"staff_group": "pilots", "site": "nowhere",
                              "vaccinated_at": "yesterday", "extra": 1}, token=oh)
        c("POST", vacc, 422, {"staff_group": "doctors", "site": "nowhere",
                              "vaccinated_at": at}, token=oh)
        c("POST", vacc, 403, {"staff_group": "doctors", "site": "main-hall",
                              "vaccinated_at": at}, token=emp)
        c("GET", PORTLET, 200, token=emp)
        c("GET", PORTLET, 200, token=oh)
        c("DELETE", sites + "/main-hall", 409, token=oh)
        c("DELETE", sites + "/spare", 204, token=oh)
        c("DELETE", sites + "/spare", 404, token=oh)
        c("DELETE", sites + "/ward-7", 403, token=emp)
        c("PATCH", sites + "/ward-7", 405, {"name": "x"}, token=oh)
        # sections switched off: the keys are left out
        c("PUT", orgp + "/flu-countdown", 200,
          {"enabled": True, "config": dict(flu, sections={"countdown": False, "uptake": False,
                                                          "signposting": True})}, token=pa)
        c("GET", PORTLET, 200, token=emp)
        c("PUT", orgp + "/flu-countdown", 200, {"enabled": True, "config": flu}, token=pa)

        # ---- applicant-welcome
        aw = API + "/portlets/applicant-welcome"
        c("GET", aw, 404, token=app)  # portlet_not_enabled
        c("PUT", orgp + "/applicant-welcome", 200,
          {"enabled": True, "placements": [{"dashboard": "applicant", "position": 1},
                                           {"dashboard": "employee", "position": 2}],
           "config": {"review_days": 90}}, token=pa)
        r = c("GET", aw + "/content", 200, token=hr)  # the default draft
        c("GET", aw + "/content", 304, token=hr, headers={"If-None-Match": r.headers["ETag"]})
        c("GET", aw, 404, token=app)  # nothing published yet
        welcome = {
            "headline": "Welcome to Contract NHS Trust",
            "welcome_video": {"url": "https://media.example.org/ceo.mp4", "title": "Hello",
                              "captions_url": "https://media.example.org/ceo.vtt"},
            "services": [{"name": "Royal Infirmary", "description": "Acute care.\n24 hours.",
                          "url": "https://example.org/ri"}],
            "area_map": {"image_url": "https://example.org/map.png", "alt_text": "Area map"},
            "branding": {"primary_colour": "#005EB8", "secondary_colour": "#003087",
                         "text_colour": "#FFFFFF", "logo_url": "https://example.org/logo.svg",
                         "logo_alt_text": "Logo"},
            "checklist": [{"id": "personal-information", "title": "Your details",
                           "kind": "personal_info"},
                          {"id": "fire-safety", "title": "Fire Safety", "kind": "training",
                           "url": "https://example.org/fire"}]}
        c("PUT", aw + "/content", 200, welcome, token=hr)
        c("PUT", aw + "/content", 422,
          dict(welcome, headline="<b>Hi</b>",
               branding={"primary_colour": "#FFFF00", "secondary_colour": "#003087",
                         "text_colour": "#FFFFFF"}), token=hr)
        c("PUT", aw + "/content", 422, dict(welcome, extra=1), token=hr)
        c("PUT", aw + "/content", 403, welcome, token=app)
        c("PUT", aw + "/content", 400, raw=b'{"headline": ', token=hr)
        c("PUT", aw + "/content", 415, raw=b"headline=x", content_type="text/plain", token=hr)
        r = c("GET", aw + "/content", 200, token=hr)
        c("POST", aw + "/content/publish", 201, token=hr, headers={"If-Match": r.headers["ETag"]})
        c("PUT", aw + "/content", 412, welcome, token=hr, headers={"If-Match": r.headers["ETag"]})
        c("POST", aw + "/content/publish", 201, token=pa)
        c("GET", aw + "/content", 200, token=pa)
        r = c("GET", aw + "/content/versions?limit=1", 200, token=hr)
        c("GET", aw + "/content/versions?limit=1&cursor=" + quote(r.body["next_cursor"]), 200,
          token=hr)
        c("GET", aw + "/content/versions?cursor=zzz", 400, token=hr)
        c("GET", aw + "/content/versions/1", 200, token=hr)
        c("GET", aw + "/content/versions/9", 404, token=hr)
        c("POST", aw + "/content/versions/1/restore", 200, token=hr)
        c("POST", aw + "/content/versions/9/restore", 404, token=hr)
        c("GET", aw + "/content/review", 200, token=hr)
        c("GET", aw + "/content/review", 403, token=app)
        r = c("GET", aw, 200, token=app)
        c("GET", aw, 304, token=app, headers={"If-None-Match": r.headers["ETag"]})
        c("GET", aw, 200, token=hr)  # preview
        c("GET", aw, 403, token=emp)
        c("GET", aw, 403, token=leaver)
        c("POST", aw + "/checklist/fire-safety/complete", 200, token=app)
        c("DELETE", aw + "/checklist/fire-safety/complete", 200, token=app)
        c("POST", aw + "/checklist/personal-information/complete", 200, token=app)
        c("POST", aw + "/checklist/no-such-item/complete", 404, token=app)
        c("POST", aw + "/checklist/fire-safety/complete", 403, token=emp)
        c("POST", aw + "/interactions", 201, {"target": "welcome_video", "action": "play"},
          token=app)
        c("POST", aw + "/interactions", 201, {"target": "service:Royal Infirmary",
                                              "action": "click"}, token=app)
        c("POST", aw + "/interactions", 422, {"target": "nowhere", "action": "dance"},
          token=app)
        c("POST", aw + "/interactions", 403, {"target": "welcome_video", "action": "play"},
          token=emp)
        c("GET", aw + "/analytics", 200, token=hr)
        c("GET", aw + "/analytics?from=2026-11-01&to=2026-11-15", 200, token=pa)
        c("GET", aw + "/analytics?from=nope", 400, token=hr)
        c("GET", aw + "/analytics", 403, token=emp)
        c("GET", API + "/dashboards/employee", 200, token=hr)  # the review card
        c("GET", aw + "/content", 404, token=other)  # not enabled there
        # ---- leavers (pay documents); emp2 is payroll_admin since the PATCH above
        self.leavers_scenario(c, orgp, pa, emp, app, leaver)

        # ---- dashboards
        r = c("GET", API + "/dashboards/employee", 200, token=emp)
        etag = r.headers.get("ETag")
        self.assertTrue(etag, repr(r))
        c("GET", API + "/dashboards/employee", 304, token=emp, headers={"If-None-Match": etag})
        c("GET", API + "/dashboards/leaver", 200, token=leaver)
        c("GET", API + "/dashboards/applicant", 200, token=app)
        c("GET", API + "/dashboards/employee", 403, token=app)
        c("GET", API + "/dashboards/boardroom", 404, token=emp)
        c("GET", API + "/dashboards/employee", 401)
        c("GET", API + "/dashboards/employee", 403, token=adm)  # admin without an org
        # an org-wide portlet in other-trust stays off there
        c("GET", PORTLET, 404, token=other)

        # ---- leaver past the end of access: the org cuts leaver access to 0 days
        leaver = self.token_for("leaver")
        c("PATCH", API + "/orgs/" + ORG, 200, {"settings": {"leaver_access_days": 0}}, token=pa)
        c("GET", API + "/me", 403, token=leaver)  # leaver_access_expired
        c("GET", API + "/dashboards/leaver", 403, token=leaver)
        self.login("leaver", PASSWORD, expect=403)
        c("PATCH", API + "/orgs/" + ORG, 200, {"settings": {"leaver_access_days": 30}}, token=pa)

        # ---- the whole audit log, portlet actions included
        r = c("GET", audit + "?limit=500", 200, token=adm)
        self.assertIsNone(r.body.get("next_cursor"), repr(r))
        c("GET", audit, 403, token=other)

        # ---- flu campaign over: the card leaves the dashboard, ended is true
        self.set_clock(datetime.datetime(2027, 2, 1, tzinfo=UTC))
        emp_late = self.token_for("emp", org=ORG)
        c("GET", PORTLET, 200, token=emp_late)
        c("GET", API + "/dashboards/employee", 200, token=emp_late)
        self.set_clock(NOW)

        # ---- expiry, logout, refresh reuse
        r = self.login("emp2", PASSWORD)
        emp2, emp2_refresh = r.body["access_token"], r.body["refresh_token"]
        self.set_clock(NOW + datetime.timedelta(hours=1))
        c("GET", API + "/me", 401, token=emp2)  # token_expired
        self.set_clock(NOW)
        r = c("POST", API + "/auth/refresh", 200, {"refresh_token": emp2_refresh})
        c("POST", API + "/auth/refresh", 401, {"refresh_token": emp2_refresh})  # reuse
        c("POST", API + "/auth/refresh", 422, {"refresh_token": 7})
        c("POST", API + "/auth/refresh", 400, raw=b"[")
        c("POST", API + "/auth/refresh", 415, raw=b"x", content_type="text/plain")
        emp2 = self.token_for("emp2")
        c("POST", API + "/auth/logout", 204, token=emp2)
        c("POST", API + "/auth/logout", 401, token=emp2)
        c("GET", API + "/me", 401, token=emp2)
        c("POST", API + "/auth/logout", 401)

        # ---- throttle
        for _ in range(5):
            self.login("emp2", "wrong-password", expect=401)
        self.login("emp2", "wrong-password", expect=429)
        self.login("emp2", PASSWORD, expect=429)

        # ---- verdict
        c("GET", "/healthz", 200)
        self.report()

    def leavers_scenario(self, c, orgp, pa, emp, app, leaver):
        lv = API + "/portlets/leavers"
        pay = self.token_for("emp2")
        c("GET", lv + "/payslips", 404, token=emp)  # portlet_not_enabled
        c("PUT", orgp + "/leavers", 200,
          {"enabled": True, "placements": [{"dashboard": "leaver", "position": 1},
                                           {"dashboard": "employee", "position": 2}]}, token=pa)
        slip = {"username": "emp", "kind": "payslip", "period": "2026-10",
                "data": {"pay_date": "2026-10-25", "tax_code": "1257L", "ni_number": "AB123456C",
                         "pension_ref": "NHSPS-1", "gross": 300000, "net": 221813,
                         "payments": [{"description": "Basic pay", "amount": 300000}],
                         "deductions": [{"description": "Income tax", "amount": 78187}],
                         "ytd": {"gross": 2100000, "tax": 547309}}}
        p60 = {"username": "emp", "kind": "p60", "period": "2025-26",
               "data": {"pay": 3000000, "tax": 400000, "final_tax_code": "1257L",
                        "ni_number": "AB123456C", "statutory_payments": []}}
        p45 = {"username": "emp", "kind": "p45",
               "data": {"leaving_date": "2026-11-05", "tax_code": "1257L",
                        "pay_to_date": 1500000, "tax_to_date": 200000, "ni_number": "AB123456C"}}
        bad = dict(slip, data=dict(slip["data"], net=1, bonus=5))
        c("POST", lv + "/documents", 201, slip, token=pay)
        c("POST", lv + "/documents", 200, slip, token=pay)  # replaced
        c("POST", lv + "/documents", 422, bad, token=pay)
        c("POST", lv + "/documents", 403, slip, token=emp)
        c("POST", lv + "/documents/bulk", 200, {"documents": [p60, p45]}, token=pay)
        c("POST", lv + "/documents/bulk", 422, {"documents": [slip, bad]}, token=pay)
        c("POST", lv + "/documents/bulk", 403, {"documents": [slip]}, token=emp)
        r = c("GET", lv + "/payslips", 200, token=emp)
        c("GET", lv + "/payslips", 304, token=emp, headers={"If-None-Match": r.headers["ETag"]})
        c("GET", lv + "/payslips?limit=0", 400, token=emp)
        c("GET", lv + "/payslips", 403, token=app)
        c("GET", lv + "/payslips", 403, token=leaver)  # mfa_required
        c("GET", lv + "/payslips/2026-10", 200, token=emp)
        c("GET", lv + "/payslips/2026-10", 200, token=emp, headers={"Accept": "application/pdf"})
        c("GET", lv + "/payslips/1999-01", 404, token=emp)
        c("GET", lv + "/p45", 200, token=emp)
        c("GET", lv + "/p60", 200, token=emp)
        c("GET", lv + "/p60/2025-26", 200, token=emp)
        c("GET", lv + "/p60/2025-26?format=pdf", 200, token=emp)
        c("GET", lv + "/pack", 200, token=emp)
        c("GET", lv + "/admin/people/emp/documents", 200, token=pay)
        c("GET", lv + "/admin/people/emp/documents/payslip/2026-10", 200, token=pay)
        c("GET", lv + "/admin/people/emp/documents/payslip/2026-10", 403, token=emp)
        c("GET", lv + "/admin/people/nobody/documents", 404, token=pay)

    def report(self):
        problems = []
        if self.unexpected:
            problems.append("scenario answers other than intended (%d):\n  %s" %
                            (len(self.unexpected), "\n  ".join(self.unexpected)))
        if self.mismatches:
            lines = ["%s  %s  %s%s" % (w, j, m, "  (x%d)" % n if n > 1 else "")
                     for (w, j, m), n in self.mismatches.items()]
            problems.append("responses that do not match api_spec (%d):\n  %s" %
                            (len(lines), "\n  ".join(lines)))
        ok_ops = {(t, m) for t, m, s in self.seen if 200 <= s < 300}
        missing = sorted(op for op in self.contract.operations()
                         if op not in ok_ops and op[0] not in NOT_EXERCISED
                         and not op[0].startswith(API + "/_test/"))
        if missing:
            problems.append("documented operations never answered 2xx in the scenario:\n  %s"
                            % "\n  ".join("%s %s" % (m, t) for t, m in missing))
        lacking = [s for s in ERROR_STATUSES if s not in self.statuses]
        if lacking:
            problems.append("error statuses never provoked: %s" % lacking)
        if problems:
            self.fail("%d responses checked\n%s" % (self.checked, "\n\n".join(problems)))


if __name__ == "__main__":
    main()
