#!/usr/bin/env python3
"""Build step: the OpenAPI document -> a C file holding it as compact JSON.

api_spec/openapi.yaml is the core document; every api_spec/parts/*.yaml
(one per subsystem or portlet, each with `paths:` and optionally
`components:`) is merged into it, so the served /api/v1/openapi.json is
the whole API.  A path or component defined twice is an error.

Two things are written here rather than by hand, so that a portlet part
landing later is covered without editing the core document:

- A portlet part says what its dashboard card and config are:

      x-portlet: {id: flu-countdown, card: FluCard, summary: FluSummary,
                  config: FluConfig}

  (`summary: null` for a portlet without a card summary).  From these the
  build writes one `<card>` schema per portlet (`id` the portlet id as a
  const), `DashboardCard` as a oneOf of them keyed by `id` (so a generated
  client narrows `card.summary` by `card.id`), and `PortletConfig` as the
  anyOf of every portlet's config schema.
- api_spec/examples/<Schema>.json (real answers recorded by
  tools/spec_examples.py) become that schema's `examples`.
- 405 `method_not_allowed` is the router's answer to any method a path
  does not list, so every operation documents it
  (components.responses.MethodNotAllowed) unless it says otherwise.
"""
import glob
import json
import os
import sys

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from embed_file import write_c_array  # noqa: E402


def merge(doc, part, name):
    for path, ops in (part.get("paths") or {}).items():
        if path in doc.setdefault("paths", {}):
            sys.exit("spec_embed: %s: path %s defined twice" % (name, path))
        doc["paths"][path] = ops
    for section, items in (part.get("components") or {}).items():
        target = doc.setdefault("components", {}).setdefault(section, {})
        for key, value in items.items():
            if key in target and target[key] != value:
                sys.exit("spec_embed: %s: components.%s.%s defined twice" % (name, section, key))
            target[key] = value
    for tag in part.get("tags") or []:
        doc.setdefault("tags", []).append(tag)
    if part.get("x-portlet"):
        doc.setdefault("x-portlets", []).append(dict(part["x-portlet"], part=name))


def ref(schema):
    return {"$ref": "#/components/schemas/" + schema}


def portlet_unions(doc):
    """DashboardCard (one card schema per portlet, keyed by id) and
    PortletConfig (any portlet's config) from the parts' x-portlet blocks."""
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    portlets = sorted(doc.pop("x-portlets", []), key=lambda p: p["id"])
    cards, mapping, configs = [], {}, []
    for p in portlets:
        for key in ("summary", "config"):
            if p.get(key) is not None and p[key] not in schemas:
                sys.exit("spec_embed: %s: x-portlet %s %s is not a schema" % (p["part"], key, p[key]))
        card = p.get("card") or "".join(w.capitalize() for w in p["id"].split("-")) + "Card"
        if card in schemas:
            sys.exit("spec_embed: %s: schema %s defined twice" % (p["part"], card))
        summary = ({"type": "null"} if p.get("summary") is None else
                   {"oneOf": [ref(p["summary"]), ref("CardUnavailable")]})
        summary["description"] = ("The card data, or `{\"error\": \"unavailable\"}` when "
                                  "the portlet's summary failed." if p.get("summary") else
                                  "This portlet has no card data.")
        schemas[card] = {
            "type": "object",
            "description": "The `%s` portlet's dashboard card." % p["id"],
            "required": ["id", "title", "position", "summary"],
            "additionalProperties": False,
            "properties": {
                "id": {"type": "string", "const": p["id"]},
                "title": {"type": "string"},
                "position": {"type": "integer", "minimum": 1},
                "summary": summary,
            },
        }
        cards.append(ref(card))
        mapping[p["id"]] = "#/components/schemas/" + card
        configs.append(ref(p["config"]))
    for name in ("DashboardCard", "PortletConfig"):
        if name in schemas:
            sys.exit("spec_embed: %s is written by the build, not by hand" % name)
    schemas["DashboardCard"] = {
        "description": "A portlet's card on a dashboard: one shape per portlet, told apart by `id`.",
        "oneOf": cards, "discriminator": {"propertyName": "id", "mapping": mapping},
    } if cards else {"type": "object", "additionalProperties": False, "maxProperties": 0}
    schemas["PortletConfig"] = {
        "description": "A portlet's per-organisation config: the schema of the portlet it is for.",
        "anyOf": configs,
    } if configs else ref("EmptyObject")


def add_examples(doc, examples_dir):
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for name in sorted(glob.glob(os.path.join(examples_dir, "*.json"))):
        schema = os.path.basename(name)[:-len(".json")]
        if schema not in schemas:
            sys.exit("spec_embed: %s: no schema %s" % (name, schema))
        with open(name, encoding="utf-8") as f:
            schemas[schema].setdefault("examples", []).append(json.load(f))


def document_405(doc):
    for path, item in doc.get("paths", {}).items():
        for method, op in item.items():
            if method in ("get", "put", "post", "delete", "patch", "head", "options") and \
                    "405" not in op.get("responses", {}):
                op.setdefault("responses", {})["405"] = {
                    "$ref": "#/components/responses/MethodNotAllowed"}


def main():
    src, dst = sys.argv[1], sys.argv[2]
    with open(src, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    parts_dir = os.path.join(os.path.dirname(src), "parts")
    for name in sorted(glob.glob(os.path.join(parts_dir, "*.yaml"))):
        with open(name, encoding="utf-8") as f:
            merge(doc, yaml.safe_load(f) or {}, name)
    portlet_unions(doc)
    add_examples(doc, os.path.join(os.path.dirname(src), "examples"))
    document_405(doc)
    text = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    write_c_array(dst, "pt_openapi_json", text, "api_spec/")


main()
