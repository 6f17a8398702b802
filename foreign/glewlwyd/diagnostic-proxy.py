#!/usr/bin/env python3
# Diagnosis only, never the judged configuration: python3 diagnostic-proxy.py PORT UPSTREAM_URL
# forwards every request to Glewlwyd and answers 201 where Glewlwyd answers a registration
# (POST .../register) with 200 (docs/interop/findings/glewlwyd.md, 1), so that the suite's later steps run and show what
# the first failure hides. Nothing else changes; registration_client_uri still names Glewlwyd.
import http.server, socketserver, sys, urllib.request, urllib.error
UP = sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def _go(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        hdrs = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length", "connection")}
        req = urllib.request.Request(UP + self.path, data=body, method=self.command, headers=hdrs)
        try:
            r = urllib.request.urlopen(req, timeout=10); status, rh, data = r.status, r.getheaders(), r.read()
        except urllib.error.HTTPError as e:
            status, rh, data = e.code, e.headers.items(), e.read()
        if self.command == "POST" and self.path.rstrip("/").endswith("/register") and status == 200:
            status = 201
        self.send_response(status)
        for k, v in rh:
            if k.lower() not in ("content-length", "connection", "transfer-encoding", "date"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _go
    def log_message(self, *a): pass
class S(socketserver.ThreadingMixIn, http.server.HTTPServer): daemon_threads = True
S(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
