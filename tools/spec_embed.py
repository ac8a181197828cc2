#!/usr/bin/env python3
"""Build step: api_spec/openapi.yaml -> a C file holding it as compact JSON."""
import json
import sys

import yaml

src, dst = sys.argv[1], sys.argv[2]
with open(src, encoding="utf-8") as f:
    doc = yaml.safe_load(f)
text = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
with open(dst, "w", encoding="ascii") as out:
    out.write("/* generated from api_spec/openapi.yaml: do not edit */\n")
    out.write("#include <stddef.h>\n")
    out.write("const char pt_openapi_json[] = {\n")
    for i in range(0, len(text), 16):
        out.write(",".join(str(b) for b in text[i:i + 16]) + ",\n")
    out.write("0};\n")
    out.write("const size_t pt_openapi_json_len = %d;\n" % len(text))
