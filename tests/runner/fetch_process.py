"""``python -m tests.runner.fetch_process ID``: a fetch in its own process, the way
``dextcore fetch ID`` runs it, with the ACME test plugin installed (it is not an
entry point). Prints the result as one JSON line."""

from __future__ import annotations

import json
import sys

from dextcore.api import Dextcore
from dextcore.plugins import PluginHost
from dextcore.runner import fetch_one
from tests.runner import acme_plugin


def main(argv: list[str]) -> int:
    connection_id = int(argv[0])
    with Dextcore.open(host=PluginHost(load_entry_points=False, plugins=[acme_plugin])) as app:
        result = fetch_one(app, connection_id, downloads_per_connection=2)
    print(json.dumps(result.to_json()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
