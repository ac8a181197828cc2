#!/usr/bin/env python3
"""Build step: server/app/www/index.html -> a C file with the page and its
Content-Security-Policy.  The policy allows exactly the page's own inline
<script> and <style> blocks by their SHA-256 hashes (no 'unsafe-inline'),
so any markup injected into the page later could not run.
Usage: page_embed.py IN OUT"""
import base64
import hashlib
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from embed_file import write_c_array  # noqa: E402


def hashes(html, tag):
    blocks = re.findall(r"<%s>(.*?)</%s>" % (tag, tag), html, re.S)
    if not blocks:
        sys.exit("page_embed: no <%s> block" % tag)
    return " ".join("'sha256-%s'" % base64.b64encode(hashlib.sha256(b.encode("utf-8")).digest())
                    .decode("ascii") for b in blocks)


def main():
    src, dst = sys.argv[1], sys.argv[2]
    with open(src, encoding="utf-8") as f:
        html = f.read()
    csp = ("default-src 'none'; script-src %s; style-src %s; connect-src 'self'; "
           "img-src 'self' data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
           % (hashes(html, "script"), hashes(html, "style")))
    write_c_array(dst, "pt_demo_page_html", html.encode("utf-8"), src)
    with open(dst, "a", encoding="ascii") as out:
        out.write('const char pt_demo_page_csp[] = "%s";\n' % csp)


main()
