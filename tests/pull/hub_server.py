#!/usr/bin/python3
"""A local stand-in for the Hugging Face hub, for testing `strata pull` on 127.0.0.1 only.

usage: hub_server.py ROOT PORT_FILE

Serves ROOT/<owner>/<name>/... as model repositories:
  GET /api/models/<owner>/<name>[?blobs=true]  -> {"siblings": [{"rfilename", "size", "lfs": {"sha256", "size"}}]}
  GET /<owner>/<name>/resolve/main/<path>      -> the file, honouring Range: bytes=N-
Environment: HUB_TOKEN (require "Authorization: Bearer HUB_TOKEN"), HUB_CUT_AFTER (the first
download of each file stops after that many bytes, to exercise resuming), HUB_BAD_SHA (publish
a wrong digest for files whose name contains it).
"""
import hashlib
import http.server
import json
import os
import sys

ROOT = sys.argv[1]
TOKEN = os.environ.get("HUB_TOKEN", "")
CUT_AFTER = int(os.environ.get("HUB_CUT_AFTER", "0"))
BAD_SHA = os.environ.get("HUB_BAD_SHA", "")
cut_done = set()


class Hub(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def fail(self, code):
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        if TOKEN and self.headers.get("Authorization") != "Bearer " + TOKEN:
            return self.fail(401)
        path = self.path.split("?")[0]
        if path.startswith("/api/models/"):
            repo = path[len("/api/models/"):]
            base = os.path.join(ROOT, repo)
            if not os.path.isdir(base):
                return self.fail(404)
            siblings = []
            for dirpath, _, names in os.walk(base):
                for n in sorted(names):
                    full = os.path.join(dirpath, n)
                    rel = os.path.relpath(full, base)
                    size = os.path.getsize(full)
                    digest = hashlib.sha256(open(full, "rb").read()).hexdigest()
                    if BAD_SHA and BAD_SHA in rel:
                        digest = "0" * 64
                    siblings.append({"rfilename": rel, "size": size, "lfs": {"sha256": digest, "size": size}})
            body = json.dumps({"id": repo, "siblings": siblings}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        parts = path.strip("/").split("/")
        if len(parts) < 5 or parts[2] != "resolve" or parts[3] != "main" or ".." in parts:
            return self.fail(404)
        full = os.path.join(ROOT, parts[0], parts[1], *parts[4:])
        if not os.path.isfile(full):
            return self.fail(404)
        data = open(full, "rb").read()
        start = 0
        rng = self.headers.get("Range", "")
        if rng.startswith("bytes="):
            start = int(rng[6:].split("-")[0] or 0)
            if start >= len(data):
                return self.fail(416)
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        chunk = data[start:]
        if CUT_AFTER and full not in cut_done and len(chunk) > CUT_AFTER:
            cut_done.add(full)
            self.wfile.write(chunk[:CUT_AFTER])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(chunk)


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hub)
with open(sys.argv[2], "w") as f:
    f.write(str(server.server_address[1]))
server.serve_forever()
