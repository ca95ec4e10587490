"""An SVC wrapped as a teacher (bench/teacher.py, semi-supervised): scikit-learn's RBF SVC
fitted on the 50 labelled digits and their one-pixel shifts, served on loopback as an
OpenAI-compatible chat-completions endpoint, so the run asks it exactly as it would ask a
vision model (``openai:svc@http://127.0.0.1:PORT/v1``, images as PNG ``image_url`` parts,
answers ``{"label", "confidence"}``). Standard library HTTP; bench code, not shipped.
"""

from __future__ import annotations

import base64
import json
import threading
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import cv2
import numpy as np

SHIFTS = ((0, 1), (0, -1), (1, 0), (-1, 0))


def shifted(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``x`` (``[N, 64]`` 8×8 images) with its four one-pixel shifts, zero-filled: the
    task's own augmentation, so 50 images teach like 250."""
    imgs = x.reshape(-1, 8, 8)
    out, labels = [x], [y]
    for dy, dx in SHIFTS:
        s = np.roll(imgs, (dy, dx), axis=(1, 2))
        if dy:
            s[:, 0 if dy > 0 else -1, :] = 0
        if dx:
            s[:, :, 0 if dx > 0 else -1] = 0
        out.append(s.reshape(-1, 64))
        labels.append(y)
    return np.concatenate(out), np.concatenate(labels)


def fit_svc(x: np.ndarray, y: np.ndarray) -> Any:
    """An RBF SVC with Platt-scaled probabilities (confidences) on ``x`` and its shifts."""
    from sklearn.svm import SVC

    xs, ys = shifted(x, y)
    with warnings.catch_warnings():  # probability=True is deprecated in favour of a wrapper
        warnings.simplefilter("ignore", FutureWarning)
        return SVC(gamma=0.05, C=10.0, probability=True, random_state=0).fit(xs, ys)


def self_trained(
    x: np.ndarray, y: np.ndarray, pool: np.ndarray, rounds: int = 4, keep: float = 0.6
) -> Any:
    """Self-training over the unlabelled ``pool`` (pseudo-labels, Lee 2013): the SVC of
    ``x`` labels the pool, the pool images it gives ``keep`` or more join its labelled
    ones (with their shifts), and it is fitted again, ``rounds`` times. Only the given
    labels and the pool's pixels are used: the pool's own labels stay hidden."""
    svc = fit_svc(x, y)
    for _ in range(rounds):
        p = svc.predict_proba(pool)
        sure = p.max(1) >= keep
        guess = svc.classes_[p.argmax(1)]
        svc = fit_svc(np.concatenate([x, pool[sure]]), np.concatenate([y, guess[sure]]))
    return svc


def spread(
    x: np.ndarray,
    y: np.ndarray,
    pool: np.ndarray,
    neighbours: int = 25,
    alpha: float = 0.8,
    keep: float = 0.0,
) -> Any:
    """Label spreading over the k-nearest-neighbour graph of the labelled images and the
    pool (Zhou et al. 2004): labels flow along the pool's own clusters, then an SVC is
    fitted on the labelled images and the pool's spread labels (confidence ≥ ``keep``),
    with their shifts, to answer images it has not seen."""
    from sklearn.semi_supervised import LabelSpreading

    both = np.concatenate([x, pool])
    marks = np.concatenate([y, np.full(len(pool), -1)])
    ls = LabelSpreading(kernel="knn", n_neighbors=neighbours, alpha=alpha, max_iter=300)
    ls.fit(both, marks)
    guess = ls.transduction_[len(x) :]
    sure = ls.label_distributions_[len(x) :].max(1) >= keep
    return fit_svc(np.concatenate([x, pool[sure]]), np.concatenate([y, guess[sure]]))


def _pixels(body: dict[str, Any]) -> np.ndarray | None:
    """The request's image as 64 values in [0, 1] (shown larger: averaged back to 8×8)."""
    content = body["messages"][-1]["content"]
    for part in content if isinstance(content, list) else []:
        if part.get("type") == "image_url":
            png = base64.b64decode(part["image_url"]["url"].split(",", 1)[1])
            img = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
            small = cv2.resize(img, (8, 8), interpolation=cv2.INTER_AREA)
            return small.reshape(1, 64).astype(np.float32) / 255.0
    return None


class SvcServer:
    """The SVC behind ``/v1/chat/completions`` on an ephemeral loopback port."""

    def __init__(self, svc: Any) -> None:
        self.svc = svc
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                server.requests += 1
                x = _pixels(body)
                if x is None:
                    content = "I can only read images"
                else:
                    p = server.svc.predict_proba(x)[0]
                    best = int(p.argmax())
                    label = str(server.svc.classes_[best])
                    content = json.dumps({"label": label, "confidence": float(p[best])})
                reply = {"choices": [{"index": 0, "message": {"content": content}}]}
                data = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
