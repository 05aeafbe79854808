"""A stand-in for the Gemini API (generativelanguage v1beta), for tests only: it records the names
of the function declarations each request offers the model (one JSON line per request, to the file
named by argv[2], in the same shape as fake_anthropic.py) and answers "ok", streamed as SSE or not,
as asked. A request that asks for JSON (Gemini CLI's model router does) gets the smallest value its
response schema allows. So a real `gemini -p` run shows exactly which MCP tools it listed.
Listens on 127.0.0.1:argv[1]."""

import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

PORT, OUT = int(sys.argv[1]), sys.argv[2]


def sample(schema):
    """The smallest value that fits a (Gemini-style, upper-case types) JSON schema."""
    kind = str(schema.get("type", "object")).lower()
    if kind == "object":
        return {key: sample(value) for key, value in (schema.get("properties") or {}).items()}
    if kind == "array":
        return []
    if kind in ("integer", "number"):
        return 1
    if kind == "boolean":
        return False
    return (schema.get("enum") or ["ok"])[0]


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            request = json.loads(body)
        except ValueError:
            request = {}
        tools = [f.get("name") for t in request.get("tools", []) for f in t.get("functionDeclarations", [])]
        with open(OUT, "a", encoding="utf-8") as out:
            out.write(json.dumps({"path": self.path, "tools": tools}) + "\n")
        config = request.get("generationConfig") or {}
        schema = config.get("responseJsonSchema") or config.get("responseSchema")
        text = json.dumps(sample(schema)) if schema else "ok"
        answer = {
            "candidates": [{"content": {"parts": [{"text": text}], "role": "model"}, "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": 1, "candidatesTokenCount": 1, "totalTokenCount": 2},
        }
        if ":countTokens" in self.path:
            answer = {"totalTokens": 1}
        if "alt=sse" in self.path:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            self.wfile.write(f"data: {json.dumps(answer)}\r\n\r\n".encode())
        else:
            data = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    def log_message(self, *args):
        pass


HTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
