"""A stand-in for the Anthropic Messages API, for tests only: it records the names of the tools
each request offers the model (one JSON line per request, to the file named by argv[2]) and
answers "ok" (streamed or not, as asked), so a real Claude Code run with `-p` shows exactly which
MCP tools it listed. Listens on 127.0.0.1:argv[1]."""

import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

PORT, OUT = int(sys.argv[1]), sys.argv[2]


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            request = json.loads(body)
        except ValueError:
            request = {}
        with open(OUT, "a", encoding="utf-8") as out:
            out.write(json.dumps({"path": self.path, "tools": [t.get("name") for t in request.get("tools", [])]}) + "\n")
        message = {"id": "msg_1", "type": "message", "role": "assistant", "model": request.get("model", "x"),
                   "content": [], "stop_reason": None, "usage": {"input_tokens": 1, "output_tokens": 1}}
        if request.get("stream"):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for name, data in [
                ("message_start", {"type": "message_start", "message": message}),
                ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
                ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "ok"}}),
                ("content_block_stop", {"type": "content_block_stop", "index": 0}),
                ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 1}}),
                ("message_stop", {"type": "message_stop"}),
            ]:
                self.wfile.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
        else:
            answer = json.dumps({**message, "content": [{"type": "text", "text": "ok"}], "stop_reason": "end_turn"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

    def log_message(self, *args):
        pass


HTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
