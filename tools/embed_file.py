#!/usr/bin/env python3
"""Build step: a file -> a C file defining `const char SYMBOL[]` (NUL-ended)
and `const size_t SYMBOL_len`.  Usage: embed_file.py SYMBOL IN OUT"""
import sys


def write_c_array(dst, symbol, data, source):
    with open(dst, "w", encoding="ascii") as out:
        out.write("/* generated from %s: do not edit */\n" % source)
        out.write("#include <stddef.h>\n")
        out.write("const char %s[] = {\n" % symbol)
        for i in range(0, len(data), 16):
            out.write(",".join(str(b) for b in data[i:i + 16]) + ",\n")
        out.write("0};\n")
        out.write("const size_t %s_len = %d;\n" % (symbol, len(data)))


if __name__ == "__main__":
    symbol, src, dst = sys.argv[1], sys.argv[2], sys.argv[3]
    with open(src, "rb") as f:
        write_c_array(dst, symbol, f.read(), src)
