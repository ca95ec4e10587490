"""Joining a Ray cluster for the ``ray`` backend (the optional ``[ray]`` extra).

``check`` answers before a run opens anything: is Ray installed, does the address answer.
``connect`` joins the cluster the run names (``auto``: the one started on this machine
with ``ray start``; ``HOST:PORT``: its head) or, with no address, starts a private local
cluster of ``workers`` CPUs that this run owns and shuts down when it ends. A Ray session
this process already holds (an application that called ``ray.init`` itself) is used as
it is and left running. Every failure is an ``OpenBrainsError``: one line for the user.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from dataclasses import dataclass
from types import ModuleType

import psutil

from openbrains.engine.errors import OpenBrainsError

INSTALL_HINT = "install the [ray] extra: pip install 'openbrains[ray]' (bash scripts/setup.sh does)"
CONNECT_TIMEOUT_S = 5.0  # a head that does not answer a TCP connect in this long is not there
SHUTDOWN_GRACE_S = 10.0  # Ray processes of ours still there this long after shutdown are killed
LOCAL_OBJECT_STORE = 256 * 1024**2  # a private cluster's shared memory: jobs are small


class RayUnavailable(OpenBrainsError):
    """Ray is not installed, or the cluster cannot be reached."""


def import_ray() -> ModuleType:
    """The ``ray`` module, or a one-line error saying how to get it."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # never report home
    try:
        import ray
    except ImportError:
        raise RayUnavailable(
            f"--backend ray needs Ray, which is not installed; {INSTALL_HINT}"
        ) from None
    return ray


def split_address(address: str) -> tuple[str, int]:
    """``HOST:PORT`` as its parts, or a one-line error."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise RayUnavailable(f"--ray-address must be 'auto' or HOST:PORT, got {address!r}")
    return host.strip("[]"), int(port)


def find_local_head() -> str:
    """The HOST:PORT of the cluster ``ray start`` began on this machine: ``RAY_ADDRESS``,
    else the note ``ray start`` leaves in Ray's temp folder. Ray's own ``auto`` would also
    join any Ray process it finds running here, such as another run's private cluster,
    which goes away when that run ends; that is never what the user meant."""
    from ray._private.services import find_bootstrap_address

    named = os.environ.get("RAY_ADDRESS", "").strip()
    found = named if named and named != "auto" else find_bootstrap_address(None)
    if not found:
        raise RayUnavailable(
            "--ray-address auto: no Ray cluster runs on this machine; start one with "
            "`ray start --head` (see docs/scale.md)"
        )
    return found


def check(address: str | None) -> str | None:
    """Fail now, in one line, if Ray is missing or the cluster ``address`` names (``auto``
    or HOST:PORT) does not answer; the HOST:PORT it names. None: a private cluster,
    nothing to check."""
    import_ray()
    if not address:
        return None
    if address == "auto":
        address = find_local_head()
    host, port = split_address(address)
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise RayUnavailable(
            f"no Ray cluster answers at {address} ({reason}); start one there with "
            "`ray start --head` (see docs/scale.md)"
        ) from None
    return address


@dataclass
class Session:
    """This process's place in a Ray cluster."""

    ray: ModuleType
    owned: bool  # we started it (a private local cluster, or our connection): we end it

    def close(self) -> None:
        """Leave (and, for a private cluster, end) the session. A worker Ray was starting as
        it shut down (one replacing a killed worker, still importing) can outlive the
        shutdown; those of ours are ended after a grace period, so nothing is left behind."""
        if self.owned and self.ray.is_initialized():
            ours = _ray_processes()
            self.ray.shutdown()
            ours += [p for p in _ray_processes() if p not in ours]
            _gone, alive = psutil.wait_procs(ours, timeout=SHUTDOWN_GRACE_S)
            for p in alive:
                with contextlib.suppress(psutil.Error):
                    p.kill()
            psutil.wait_procs(alive, timeout=5)


def _ray_processes() -> list[psutil.Process]:
    """This process's descendants that are Ray's: the servers of a cluster it started and
    their workers (their command lines run from Ray's package or carry its titles)."""
    out = []
    for p in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            cmd = " ".join(p.cmdline())
            if cmd.startswith("ray::") or f"{os.sep}ray{os.sep}" in cmd:
                out.append(p)
    return out


def connect(address: str | None, workers: int) -> Session:
    """Join the cluster at ``address`` (None: start a private one of ``workers`` CPUs)."""
    ray = import_ray()
    if ray.is_initialized():
        return Session(ray, owned=False)
    address = check(address)
    options: dict[str, object] = {
        "include_dashboard": False,
        "log_to_driver": False,  # workers' output stays in Ray's session logs
        "logging_level": logging.ERROR,
    }
    if address:
        options["address"] = address
    else:
        options["num_cpus"] = max(1, workers)
        options["object_store_memory"] = LOCAL_OBJECT_STORE
    logging.getLogger("ray").setLevel(logging.ERROR)
    try:
        ray.init(**options)
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        where = f"at {address}" if address else "on this machine"
        raise RayUnavailable(f"could not join a Ray cluster {where}: {first}") from None
    return Session(ray, owned=True)
