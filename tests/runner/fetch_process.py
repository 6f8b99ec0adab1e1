"""``python -m tests.runner.fetch_process ID``: a fetch in its own process, the way
``dextcore fetch ID`` runs it, with the ACME test plugin installed (it is not an
entry point). Prints the result as one JSON line.

``python -m tests.runner.fetch_process --serve``: the scheduler daemon
(``dextcore run``) instead; prints its results as one JSON list when stopped."""

from __future__ import annotations

import json
import sys

from dextcore.api import Dextcore
from dextcore.plugins import PluginHost
from dextcore.runner import fetch_one, serve_forever
from tests.runner import acme_plugin


def main(argv: list[str]) -> int:
    with Dextcore.open(host=PluginHost(load_entry_points=False, plugins=[acme_plugin])) as app:
        if argv[0] == "--serve":
            results = serve_forever(app, poll=0.2, downloads_per_connection=2)
            print(json.dumps([r.to_json() for r in results]), flush=True)
            return 0
        result = fetch_one(app, int(argv[0]), downloads_per_connection=2)
    print(json.dumps(result.to_json()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
