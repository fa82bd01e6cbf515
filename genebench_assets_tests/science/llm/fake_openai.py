"""A fake OpenAI-compatible Chat Completions server on 127.0.0.1 (a real http.server thread; never the
network). Replies are scripted like mock_api.ScriptedApi: a list (the last repeating) or a function of
the request body, each a (status, json body[, headers]) tuple; every request (path, headers, body) is kept."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def completion(text: str, *, finish_reason: str = "stop", prompt_tokens: int = 13, completion_tokens: int = 9,
               model: str = "judge2-test"):
    return (200, {"id": "chatcmpl-test", "object": "chat.completion", "model": model,
                  "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish_reason}],
                  "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens}})


def failure(status: int, message: str = "", kind: str = "server_error"):
    return (status, {"error": {"message": message or f"fake {status}", "type": kind}}, {"retry-after-ms": "1"})


class FakeChatServer:
    def __init__(self, replies=None):
        self.replies = replies if replies is not None else [completion("{}")]
        self.requests: list[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                fake.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                if callable(fake.replies):
                    reply = fake.replies(body)
                else:
                    reply = fake.replies[min(len(fake.requests) - 1, len(fake.replies) - 1)]
                status, payload, *rest = reply
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (rest[0] if rest else {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def bodies(self) -> list[dict]:
        return [r["body"] for r in self.requests]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def closed_port_url() -> str:
    """A base URL on 127.0.0.1 where nothing listens (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"
