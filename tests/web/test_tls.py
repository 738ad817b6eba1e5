"""HTTPS on a closed network: `jiaoxun cert` makes a local CA and a server certificate, and a
real server serves with them (phones give a page their GPS only in a secure context)."""

from __future__ import annotations

import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx
import pytest
from cryptography import x509
from live import free_port
from typer.testing import CliRunner

from jiaoxun.cli import app
from jiaoxun.settings import Settings
from jiaoxun.web.server import prepare


def test_the_certificate_names_every_host_and_the_key_is_private(tmp_path: Path) -> None:
    args = ["cert", "--host", "jiaoxun.local", "--host", "10.1.2.3", "--out", str(tmp_path)]
    made = CliRunner().invoke(app, args)
    assert made.exit_code == 0, made.output
    assert "JIAOXUN_TLS_CERT=" in made.output
    cert = x509.load_pem_x509_certificate((tmp_path / "cert.pem").read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["jiaoxun.local"]
    assert [str(a) for a in names.get_values_for_type(x509.IPAddress)] == ["10.1.2.3"]
    assert (tmp_path / "key.pem").stat().st_mode & 0o077 == 0


def test_a_bad_host_or_a_lonely_key_is_named(tmp_path: Path) -> None:
    bad = CliRunner().invoke(app, ["cert", "--host", "a b", "--out", str(tmp_path)])
    assert bad.exit_code != 0
    assert "neither an IP address nor a host name" in bad.output
    with pytest.raises(ValueError, match="go together"):
        Settings(tls_cert=tmp_path / "cert.pem")


def test_a_real_server_speaks_https_with_the_local_ca(tmp_path: Path, cache_dir: Path) -> None:
    made = CliRunner().invoke(app, ["cert", "--host", "127.0.0.1", "--out", str(tmp_path / "tls")])
    assert made.exit_code == 0, made.output
    url = f"sqlite:///{tmp_path / 'j.db'}"
    engine, _ = prepare(Settings(database_url=url, data_dir=tmp_path, cache_dir=cache_dir))
    engine.dispose()
    port = free_port()
    env = {
        "JIAOXUN_DATABASE_URL": url,
        "JIAOXUN_DATA_DIR": str(tmp_path),
        "JIAOXUN_CACHE_DIR": str(cache_dir),
        "JIAOXUN_PORT": str(port),
        "JIAOXUN_JT808_PORT": "0",
        "JIAOXUN_TLS_CERT": str(tmp_path / "tls" / "cert.pem"),
        "JIAOXUN_TLS_KEY": str(tmp_path / "tls" / "key.pem"),
    }
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "jiaoxun", "serve"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    trusted = ssl.create_default_context(cafile=str(tmp_path / "tls" / "ca.pem"))
    try:
        deadline, reply = time.monotonic() + 60, None
        while reply is None and time.monotonic() < deadline:
            assert server.poll() is None, (tmp_path / "server.log").read_text()
            try:
                reply = httpx.get(f"https://127.0.0.1:{port}/api/health", verify=trusted)
            except httpx.TransportError:
                time.sleep(0.3)
        assert reply is not None
        assert reply.status_code == 200
        with pytest.raises(httpx.TransportError):  # no plain HTTP beside it
            httpx.get(f"http://127.0.0.1:{port}/api/health")
        with pytest.raises(httpx.TransportError):  # and a client that does not know the CA
            httpx.get(f"https://127.0.0.1:{port}/api/health")
    finally:
        server.terminate()
        server.wait(timeout=15)
        log.close()
