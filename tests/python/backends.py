"""Artifact backends for the artifact tests: the session's server on its
local folder, and a second server on S3 (moto's S3 server on loopback)."""

import subprocess
import sys
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
