# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""An OTLP/HTTP metrics receiver for test_agent_otlp.py, run by the sid
chroot's python3 with Debian's python3-opentelemetry-proto.

Each POST body is parsed by protobuf's own JSON parser into
opentelemetry-proto's ExportMetricsServiceRequest (the generated classes of
the real .proto files), which refuses an unknown field, a wrong type, a
64-bit integer written in a way proto3's JSON mapping does not allow: what
is accepted is then what any OTLP receiver reads.  Refused: HTTP 400 with
the parser's message, as a receiver answers.  GET /requests returns every
accepted request (MessageToDict, proto field names) as a JSON list, and
GET /refused the refusals.

usage: python3 otlp_receiver.py PORT      (prints "ready" when listening)
"""
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from google.protobuf import json_format
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest, ExportMetricsServiceResponse)

lock = threading.Lock()
accepted, refused = [], []


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, code, body, ctype="application/json"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        ctype = self.headers.get("Content-Type")
        try:
            if ctype != "application/json":
                raise ValueError(f"Content-Type {ctype!r}, not application/json")
            req = json_format.Parse(body, ExportMetricsServiceRequest())
        except Exception as e:
            with lock:
                refused.append(str(e))
            self.reply(400, str(e).encode(), "text/plain")
            return
        d = json_format.MessageToDict(req, preserving_proto_field_name=True)
        with lock:
            accepted.append(d)
        self.reply(200, json_format.MessageToJson(ExportMetricsServiceResponse()).encode())

    def do_GET(self):
        with lock:
            data = {"/requests": accepted, "/refused": refused}.get(self.path)
            body = json.dumps(data).encode() if data is not None else None
        if body is None:
            self.reply(404, b"not found", "text/plain")
        else:
            self.reply(200, body)


server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
print("ready", flush=True)
server.serve_forever()
