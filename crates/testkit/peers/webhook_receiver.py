#!/usr/bin/env python3
"""A webhook target for the provisioning tests: verifies every call with the Standard Webhooks
reference library (standardwebhooks, PyPI), answers as told, and keeps what it received.

    webhook_receiver.py SECRET [PORT]     prints the port it listens on, then serves

  POST /grant, POST /revoke, POST /<anything>  a signed message: 401 if the signature does not
                                               verify, else the status set by /control (204)
  POST /control   {"status": 503, "body": "..."}  how to answer from now on
  GET  /received  every message that verified: [{"path", "id", "timestamp", "body"}]
  GET  /refused   how many calls failed verification
"""

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

SECRET = sys.argv[1]
PORT = int(sys.argv[2]) if len(sys.argv) > 2 else 0
hook = Webhook(SECRET)
lock = threading.Lock()
received = []
refused = 0
answer = {"status": 204, "body": ""}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", content_type="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        with lock:
            if self.path == "/received":
                return self.reply(200, json.dumps(received).encode())
            if self.path == "/refused":
                return self.reply(200, json.dumps({"refused": refused}).encode())
        self.reply(404)

    def do_POST(self):
        global refused, answer
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path == "/control":
            with lock:
                answer = json.loads(body)
            return self.reply(204)
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            payload = hook.verify(body, headers)
        except WebhookVerificationError as e:
            with lock:
                refused += 1
            return self.reply(401, json.dumps({"reason": f"signature refused: {e}"}).encode())
        with lock:
            status, text = answer["status"], answer.get("body", "")
            if 200 <= status < 300:
                received.append({
                    "path": self.path,
                    "id": headers.get("webhook-id"),
                    "timestamp": headers.get("webhook-timestamp"),
                    "body": payload,
                })
        self.reply(status, text.encode())


server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
