"""Certificates for a private TLS redis-server, made in the test with the ``openssl`` CLI:
a CA, a server certificate for 127.0.0.1 and a client certificate, both signed by the CA."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CertFiles:
    ca_file: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca_file: Path  # a CA that signed nothing here: verifying against it must fail


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def _make_ca(folder: Path, name: str) -> tuple[Path, Path]:
    key, cert = folder / f"{name}.key", folder / f"{name}.crt"
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
             "-out", str(cert), "-days", "2", "-subj", f"/CN={name}")  # fmt: skip
    return key, cert


def _signed(folder: Path, name: str, ca: tuple[Path, Path], extensions: str) -> tuple[Path, Path]:
    key, csr, cert = folder / f"{name}.key", folder / f"{name}.csr", folder / f"{name}.crt"
    ext_file = folder / f"{name}.ext"
    ext_file.write_text(extensions)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr),
             "-subj", f"/CN={name}")  # fmt: skip
    _openssl("x509", "-req", "-in", str(csr), "-CA", str(ca[1]), "-CAkey", str(ca[0]),
             "-CAcreateserial", "-out", str(cert), "-days", "2",
             "-extfile", str(ext_file))  # fmt: skip
    return cert, key


def make_test_certs(folder: Path) -> CertFiles:
    folder.mkdir(parents=True, exist_ok=True)
    ca = _make_ca(folder, "test-ca")
    _, other_ca = _make_ca(folder, "other-ca")
    server = _signed(folder, "server", ca, "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    client = _signed(folder, "client", ca, "extendedKeyUsage=clientAuth\n")
    return CertFiles(ca[1], server[0], server[1], client[0], client[1], other_ca)
