"""A small statistics service on the scientific stack (numpy, pandas, scipy), served by the
standard library's HTTP server: GET / compares two samples drawn with a seed (?seed=N).

    python app.py            # serve on $PORT (default 8080)
    python app.py --once 3   # print the summary for seed 3 and exit
"""

from __future__ import annotations

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pandas as pd
from scipy import stats


def summary(seed: int) -> dict[str, object]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {"normal": rng.normal(size=1000), "exponential": rng.exponential(size=1000)}
    )
    test = stats.mannwhitneyu(frame["normal"], frame["exponential"])
    return {
        "seed": seed,
        "mean": frame.mean().round(4).to_dict(),
        "median": frame.median().round(4).to_dict(),
        "mann_whitney_p": float(test.pvalue),
    }


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        try:
            seed = int(query.get("seed", ["0"])[0])
        except ValueError:
            self.send_error(400, "seed must be an integer")
            return
        body = (json.dumps(summary(seed)) + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main(argv: list[str]) -> None:
    if argv[:1] == ["--once"]:
        print(json.dumps(summary(int(argv[1]) if len(argv) > 1 else 0), indent=2))
        return
    server = ThreadingHTTPServer(("0.0.0.0", int(os.environ.get("PORT", "8080"))), Handler)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
