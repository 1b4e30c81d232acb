#!/usr/bin/env python3
"""The SCIM application of the provisioning tests: scim2-server 0.8.3 (PyPI) as it is, plus a
file-backed store, because the package keeps everything in memory and the outage tests stop the
server and start it again.

Usage (all normal scim2-server flags still work, except --tenant/--dynamic-tenants):
    python scim2_persistent_server.py --state /path/state.json [scim2-server flags...]

- At start, loads every resource (Users and Groups, with their ids, meta and
  members) from the --state file if it exists.
- Writes the state file atomically (tmp file + rename) after every create,
  update and delete, so a SIGKILL loses nothing that was acknowledged.
- SIGTERM and SIGINT stop the server cleanly (SIGINT works even when the
  shell started it in the background with SIGINT ignored).
"""

import json
import os
import re
import signal
import sys
import threading

from scim2_server.memory import InMemoryStorage
from scim2_server.testserver import cli
from scim2_server.testserver.application import BearerTokenApplication


def _pop_state_arg(argv: list[str]) -> str | None:
    for i, arg in enumerate(argv):
        if arg == "--state" and i + 1 < len(argv):
            path = argv[i + 1]
            del argv[i : i + 2]
            return path
        if arg.startswith("--state="):
            del argv[i]
            return arg.split("=", 1)[1]
    return None


STATE_PATH = _pop_state_arg(sys.argv)
if STATE_PATH is None:
    sys.exit("usage: scim2_persistent_server.py --state FILE [scim2-server options]")
if any(a.startswith(("--tenant", "--dynamic-tenants")) for a in sys.argv[1:]):
    sys.exit("--state does not support --tenant/--dynamic-tenants")


class PersistentStorage(InMemoryStorage):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.path = STATE_PATH
        self._save_lock = threading.Lock()

    def save(self) -> None:
        with self.lock:
            data = [r.model_dump() for r in self.resources]
        tmp = f"{self.path}.tmp"
        with self._save_lock:
            with open(tmp, "w") as f:
                json.dump(data, f, indent=1)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)

    def create(self, *args, **kwargs):
        with self.lock:
            result = super().create(*args, **kwargs)
            self.save()
            return result

    def update(self, *args, **kwargs):
        with self.lock:
            result = super().update(*args, **kwargs)
            self.save()
            return result

    def delete(self, *args, **kwargs):
        with self.lock:
            result = super().delete(*args, **kwargs)
            self.save()
            return result


class LoadingApplication(BearerTokenApplication):
    """Fill a PersistentStorage from its file, with the models of the provider."""

    def __init__(self, storage, provider, *args, **kwargs):
        super().__init__(storage, provider, *args, **kwargs)
        if not isinstance(storage, PersistentStorage) or not os.path.exists(storage.path):
            return
        with open(storage.path) as f:
            raw = json.load(f)
        models = {rt.name: self.service.get_model(rt) for rt in provider.resource_types}
        resources = [models[d["meta"]["resourceType"]].model_validate(d) for d in raw]
        storage.resources = resources
        # Keep ETags increasing across restarts.
        versions = [
            int(m.group(1))
            for r in resources
            if r.meta and r.meta.version and (m := re.search(r"(\d+)", r.meta.version))
        ]
        if versions:
            import itertools

            storage.versions = itertools.count(max(versions) + 1)
        print(f"Loaded {len(resources)} resources from {storage.path}", flush=True)


def _stop(signum, frame):
    raise KeyboardInterrupt


signal.signal(signal.SIGTERM, _stop)
signal.signal(signal.SIGINT, _stop)

cli.InMemoryStorage = PersistentStorage
cli.BearerTokenApplication = LoadingApplication

if __name__ == "__main__":
    sys.argv[0] = "scim2-server"
    cli.main()
