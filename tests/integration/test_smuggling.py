"""Request smuggling shapes: ambiguous body framing is refused with 400
problem+json and the connection is closed, so bytes after the headers can
never run as a second request."""

import json
import socket
import time

from portico_harness import PorticoTestCase, main

# A second request glued after the first one's (ambiguous) body: if the
# server ever answers it, the framing was read in a way a proxy might not.
SMUGGLED = b"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n"


def exchange(port, raw, timeout=5):
    """Sends raw bytes, reads until the server closes (or timeout).
    Returns (data, closed)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    data, closed = b"", False
    try:
        s.sendall(raw)
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                b = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                closed = True
                break
            if not b:
                closed = True
                break
            data += b
    finally:
        s.close()
    return data, closed


class SmugglingTest(PorticoTestCase):
    def refused(self, head, body=b"", msg=""):
        raw = b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\n" + head + b"\r\n" + body + SMUGGLED
        data, closed = exchange(self.server.port, raw)
        ctx = "%s: %r" % (msg, data[:600])
        self.assertTrue(data.startswith(b"HTTP/1.1 400 "), ctx)
        self.assertTrue(closed, "connection left open; " + ctx)
        self.assertEqual(data.count(b"HTTP/1.1 "), 1, "a second response was sent; " + ctx)
        self.assertNotIn(b'"ready"', data, ctx)
        head_end = data.index(b"\r\n\r\n")
        headers = data[:head_end].decode("latin-1").lower()
        self.assertIn("content-type: application/problem+json", headers, ctx)
        self.assertIn("connection: close", headers, ctx)
        problem = json.loads(data[head_end + 4:])
        self.assertEqual(problem["status"], 400, ctx)
        self.assertEqual(problem["code"], "bad_request", ctx)
        return problem

    def test_two_different_content_lengths(self):
        self.refused(b"Content-Length: 2\r\nContent-Length: 30\r\n", b"{}", "CL 2 and 30")

    def test_repeated_content_length(self):
        self.refused(b"Content-Length: 2\r\nContent-Length: 2\r\n", b"{}", "CL twice")

    def test_content_length_list(self):
        self.refused(b"Content-Length: 2, 2\r\n", b"{}", "CL list")

    def test_content_length_with_transfer_encoding(self):
        self.refused(b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", b"0\r\n\r\n",
                     "CL with TE")

    def test_content_length_with_sign(self):
        self.refused(b"Content-Length: +2\r\n", b"{}", "CL +2")

    def test_content_length_not_digits(self):
        for v in (b"0x2", b"2 ", b"2.0"):
            self.refused(b"Content-Length: " + v + b"\r\n", b"{}", "CL %r" % v)
        # CivetWeb answers a negative length itself (411) and closes.
        raw = b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n" + SMUGGLED
        data, closed = exchange(self.server.port, raw)
        self.assertTrue(data.startswith(b"HTTP/1.1 411 "), data[:200])
        self.assertTrue(closed)
        self.assertEqual(data.count(b"HTTP/1.1 "), 1, data)

    def test_transfer_encoding_other_than_chunked(self):
        # identity, or chunked twice, reaches porticod and is refused there;
        # CivetWeb itself refuses lists such as "chunked, identity" (400).
        self.refused(b"Transfer-Encoding: identity\r\n", b"0\r\n\r\n", "TE identity")
        self.refused(b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
                     b"0\r\n\r\n", "TE twice")
        for v in (b"gzip, chunked", b"chunked, identity", b"xchunked"):
            raw = (b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + v +
                   b"\r\n\r\n0\r\n\r\n" + SMUGGLED)
            data, closed = exchange(self.server.port, raw)
            self.assertTrue(data.startswith(b"HTTP/1.1 400 "), "%r: %r" % (v, data))
            self.assertTrue(closed, v)
            self.assertEqual(data.count(b"HTTP/1.1 "), 1, "%r: %r" % (v, data))

    def test_plain_framing_still_works(self):
        # One Content-Length, and chunked alone, keep working, pipelining too.
        body = b'{"username":"nobody","password":"wrong-password"}'
        raw = (b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body +
               b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data, _ = exchange(self.server.port, raw)
        self.assertTrue(data.startswith(b"HTTP/1.1 401 "), data[:300])
        self.assertIn(b'"ready"', data)
        chunk = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
        raw = (b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + chunk)
        data, _ = exchange(self.server.port, raw)
        self.assertTrue(data.startswith(b"HTTP/1.1 401 "), data[:300])


if __name__ == "__main__":
    main()
