"""TLS for `serve`: load a cert/key pair, or write a fresh self-signed one (SAN 127.0.0.1 and localhost)."""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
from pathlib import Path

from livecli.errors import UsageError
from livecli.server.config import ServerConfig

__all__ = ["server_ssl_context", "write_self_signed"]


def write_self_signed(directory: str) -> tuple[Path, Path]:
    """Write `cert.pem` and `key.pem` (valid 30 days) into `directory`; return their paths."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "livecli serve")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_bytes = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key_bytes)
    return cert_path, key_path


def server_ssl_context(config: ServerConfig) -> ssl.SSLContext | None:
    """The server's TLS context from the config, or None for plain ws."""
    if config.ssl_context is not None:
        return config.ssl_context
    cert, key = config.tls_cert, config.tls_key
    if config.tls_self_signed_dir:
        try:
            cert_path, key_path = write_self_signed(config.tls_self_signed_dir)
        except OSError as exc:  # an unwritable place is the user's to fix: one line, exit 2
            raise UsageError(f"--tls-self-signed {config.tls_self_signed_dir}: {exc.strerror or exc}") from None
        cert, key = str(cert_path), str(key_path)
    if not cert:
        if key:
            raise UsageError("--tls-key needs --tls-cert")
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise UsageError(f"cannot load the TLS certificate/key: {exc}") from exc
    return context
