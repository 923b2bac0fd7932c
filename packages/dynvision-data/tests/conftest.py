"""Shared fixtures: a temporary data root with the embedded dataset and its .beton files, and a local HTTP server."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@pytest.fixture(scope="session")
def embedded_root(tmp_path_factory):
    """A data root holding a small embedded dataset (20 train and 5 test images per class)."""
    from dynvision.data.get import get_data

    root = tmp_path_factory.mktemp("data")
    get_data("embedded", root, progress=False, embedded_options={"n_train_per_class": 20, "n_test_per_class": 5})
    return root


@pytest.fixture(scope="session")
def betons(embedded_root):
    """The .beton files of `embedded_root` (ratio 0.9, seed 0); skips where FFCV is not installed."""
    pytest.importorskip("ffcv")
    from dynvision.data.ffcv_io import write_betons

    return write_betons("embedded", data_root=embedded_root, ratio=0.9, seed=0)


class FileServer:
    """Serves in-memory files on 127.0.0.1 with HTTP Range support and an optional broken transfer.

    `files[path] = bytes`; `truncate[path] = n` sends only n bytes of the body (while announcing the full
    length) and closes the connection, the way an interrupted transfer looks to a client.
    """

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.truncate: dict[str, int] = {}
        self.requests: list[tuple[str, str | None]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                server.requests.append((self.path, self.headers.get("Range")))
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                start = 0
                if self.headers.get("Range"):
                    start = int(self.headers["Range"].split("=")[1].split("-")[0])
                    if start >= len(body):
                        self.send_error(416)
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body) - start))
                self.end_headers()
                cut = server.truncate.get(self.path)
                payload = body[start:] if cut is None else body[start:cut]
                self.wfile.write(payload)
                if cut is not None:
                    self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def file_server():
    server = FileServer()
    yield server
    server.close()
