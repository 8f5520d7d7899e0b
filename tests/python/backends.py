"""Artifact backends for the artifact tests: the session's server on its
local folder, and a second server on S3 (moto's S3 server on loopback)."""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from conftest import Server, free_port

BUCKET = "mltrack-test"


class MotoS3:
    """moto's standalone S3 server, a real S3 HTTP endpoint on loopback."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        log = open(workdir / "moto.log", "ab")
        moto = Path(sys.executable).parent / "moto_server"
        self.proc = subprocess.Popen(
            [str(moto), "-H", "127.0.0.1", "-p", str(self.port)], stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                requests.get(self.url, timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        else:
            raise RuntimeError("moto_server did not start")
        # Create the bucket with a plain S3 call, as an operator would.
        self.s3().create_bucket(Bucket=BUCKET)

    def s3(self):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            aws_access_key_id="test",
            aws_secret_access_key="test",
            region_name="us-east-1",
        )

    def keys(self, prefix=""):
        listed = self.s3().list_objects_v2(Bucket=BUCKET, Prefix=prefix)
        return sorted(o["Key"] for o in listed.get("Contents", []))

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def start_s3_server(workdir: Path):
    moto = MotoS3(workdir)
    env = {
        "MLFLOW_S3_ENDPOINT_URL": moto.url,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
    }
    srv = Server(workdir, args=["--artifacts-destination", f"s3://{BUCKET}/mlartifacts"], env=env).start()
    srv.moto = moto
    return srv


class Postgres:
    """A private PostgreSQL cluster on loopback (Debian's server binaries),
    trusting local connections. As root it runs as the `postgres` user,
    since PostgreSQL refuses to run as root."""

    def __init__(self):
        bindir = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
        if not bindir:
            raise RuntimeError("PostgreSQL is not installed: run scripts/setup.sh --test")
        self.bin = bindir[-1]
        self.port = free_port()
        # Not under pytest's private temporary folder: the postgres user must reach it.
        workdir = self.workdir = Path(tempfile.mkdtemp(prefix="mltrack-pg-"))
        self.dir = workdir / "pgdata"
        self.socket_dir = workdir / "pgsock"
        self.socket_dir.mkdir()
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(workdir, "postgres")
            shutil.chown(self.socket_dir, "postgres")
        self.run("initdb", "-D", str(self.dir), "-A", "trust", "-U", "postgres", "--no-sync")
        self.start()

    def start(self):
        self.run("pg_ctl", "-D", str(self.dir), "-w", "-l", str(self.workdir / "postgres.log"), "-o",
                 f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off", "start")

    def crash(self):
        """Stops the server at once, as a crash or a failover would."""
        self.run("pg_ctl", "-D", str(self.dir), "-m", "immediate", "stop")

    def run(self, tool, *args):
        subprocess.run([*self.as_user, str(self.bin / tool), *args], check=True, capture_output=True)

    def create_database(self, name):
        subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-c",
                        f"CREATE DATABASE {name}"], check=True, capture_output=True)
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self):
        self.run("pg_ctl", "-D", str(self.dir), "-m", "immediate", "stop")
        shutil.rmtree(self.workdir, ignore_errors=True)
