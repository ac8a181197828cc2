#!/usr/bin/env python3
"""Build step: the OpenAPI document -> a C file holding it as compact JSON.

api_spec/openapi.yaml is the core document; every api_spec/parts/*.yaml
(one per subsystem or portlet, each with `paths:` and optionally
`components:`) is merged into it, so the served /api/v1/openapi.json is
the whole API.  A path or component defined twice is an error.
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


def main():
    src, dst = sys.argv[1], sys.argv[2]
    with open(src, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    parts_dir = os.path.join(os.path.dirname(src), "parts")
    for name in sorted(glob.glob(os.path.join(parts_dir, "*.yaml"))):
        with open(name, encoding="utf-8") as f:
            merge(doc, yaml.safe_load(f) or {}, name)
    text = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    write_c_array(dst, "pt_openapi_json", text, "api_spec/")


main()
