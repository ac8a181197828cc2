#!/usr/bin/env python3
"""Shared by the build steps that embed files (spec_embed.py,
page_embed.py): bytes -> a C file defining `const char SYMBOL[]`
(NUL-ended) and `const size_t SYMBOL_len`."""


def write_c_array(dst, symbol, data, source):
    with open(dst, "w", encoding="ascii") as out:
        out.write("/* generated from %s: do not edit */\n" % source)
        out.write("#include <stddef.h>\n")
        out.write("const char %s[] = {\n" % symbol)
        for i in range(0, len(data), 16):
            out.write(",".join(str(b) for b in data[i:i + 16]) + ",\n")
        out.write("0};\n")
        out.write("const size_t %s_len = %d;\n" % (symbol, len(data)))

