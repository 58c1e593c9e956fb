"""A real single-node SLURM cluster for the tests: munged, slurmctld and slurmd started in a
temporary folder with a minimal configuration for this machine (no cgroups, no accounting,
ports of their own), and stopped afterwards.

Needs Debian's ``slurm-wlm`` and ``munge`` packages and root (slurmd starts tasks as the
submitting user). Where the cluster cannot start, the test fails and says why; it never
passes or skips silently.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "scontrol", "sinfo", "squeue", "scancel")
INSTALL = "apt-get install -y slurm-wlm munge"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _tail(path: Path) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-15:])
    except OSError:
        return "(no log)"


@dataclass
class Cluster:
    folder: Path
    env: dict[str, str]

    def run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """A SLURM client command against this cluster."""
        return subprocess.run(
            list(args), env=self.env, capture_output=True, text=True, timeout=timeout, check=False
        )

    def job(self, job_id: str) -> dict[str, str]:
        """``scontrol show job``'s fields of one job (an array task: ``<id>_<index>``)."""
        shown = self.run("scontrol", "-o", "show", "job", job_id)
        assert shown.returncode == 0, shown.stderr
        fields: dict[str, str] = {}
        for item in shown.stdout.split():
            name, _, value = item.partition("=")
            fields.setdefault(name, value)
        return fields

    def logs(self) -> str:
        return "\n".join(
            f"--- {name}\n{_tail(self.folder / 'log' / f'{name}.log')}" for name in DAEMONS
        )


def _config(folder: Path, node_line: str) -> str:
    host = socket.gethostname()
    return f"""\
ClusterName=unitwise-test
SlurmctldHost={host}
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={folder}/munge/munge.socket
SlurmUser=root
SlurmdUser=root
StateSaveLocation={folder}/state
SlurmdSpoolDir={folder}/spool
SlurmctldPidFile={folder}/slurmctld.pid
SlurmdPidFile={folder}/slurmd.pid
SlurmctldLogFile={folder}/log/slurmctld.log
SlurmdLogFile={folder}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
ReturnToService=2
MinJobAge=600
{node_line} State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
"""


@contextmanager
def cluster(folder: Path) -> Iterator[Cluster]:
    """Start the cluster in ``folder``; stop it (and every job) at the end."""
    missing = [name for name in (*DAEMONS, *CLIENTS) if shutil.which(name) is None]
    if missing:
        pytest.fail(f"SLURM cannot start: {', '.join(missing)} not found; install: {INSTALL}")
    if os.geteuid() != 0:
        pytest.fail("SLURM cannot start: slurmd must run as root to start jobs")
    for name in ("state", "spool", "log", "munge"):
        (folder / name).mkdir(parents=True)
    (folder / "munge").chmod(0o700)
    key = folder / "munge" / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o600)
    # slurmd -C prints this machine's NodeName line (CPUs, sockets, RealMemory).
    probe = subprocess.run(["slurmd", "-C"], capture_output=True, text=True, timeout=30)
    node_line = probe.stdout.splitlines()[0] if probe.returncode == 0 else ""
    if not node_line.startswith("NodeName="):
        pytest.fail(f"SLURM cannot start: slurmd -C failed: {probe.stderr.strip()}")
    conf = folder / "slurm.conf"
    conf.write_text(_config(folder, node_line))
    env = {**os.environ, "SLURM_CONF": str(conf)}
    logs = folder / "log"
    commands = [
        [
            "munged",
            "--foreground",
            "--force",
            f"--socket={folder}/munge/munge.socket",
            f"--key-file={key}",
            f"--pid-file={folder}/munge/munged.pid",
            f"--seed-file={folder}/munge/seed",
            f"--log-file={logs}/munged.log",
        ],
        ["slurmctld", "-D", "-i", "-f", str(conf)],
        ["slurmd", "-D", "-f", str(conf)],
    ]
    daemons: list[subprocess.Popen[bytes]] = []
    started = Cluster(folder, env)
    try:
        for command in commands:
            # The daemon keeps its own copy of the file: ours is closed at once.
            with (logs / f"{command[0]}.err").open("wb") as errors:
                daemons.append(
                    subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=errors)
                )
            if command[0] == "munged":
                _wait(lambda: (folder / "munge" / "munge.socket").exists(), "munged", started)
        _wait(lambda: _idle(started), "the node to be idle", started)
        yield started
    finally:
        started.run("scancel", "--full", "--quiet", "--user", str(os.geteuid()))
        for daemon in reversed(daemons):
            daemon.terminate()
        for daemon in reversed(daemons):
            try:
                daemon.wait(timeout=30)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()


def _idle(cluster: Cluster) -> bool:
    states = cluster.run("sinfo", "-h", "-o", "%t")
    return states.returncode == 0 and states.stdout.strip() == "idle"


def _wait(ready: Callable[[], bool], what: str, cluster: Cluster, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            pytest.fail(f"SLURM cannot start: timed out waiting for {what}\n{cluster.logs()}")
        time.sleep(0.2)
