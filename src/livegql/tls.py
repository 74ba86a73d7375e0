"""TLS for `livegql serve` and `livegql demo`: given certificate files, or a self-signed certificate for local
development, so that `https://` and `wss://` work on this machine (browsers, the CLI, any client told to trust it).

The certificate is made with `cryptography` (the `tls` extra) and kept in the per-user data folder, reused
while it stays valid for another day, so a browser told to trust it once keeps trusting it.
"""

import datetime
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from livegql.core.errors import ConfigurationError

VALID_DAYS = 30
RENEW_BEFORE = datetime.timedelta(days=1)
CERT_NAME, KEY_NAME = "localhost-cert.pem", "localhost-key.pem"
# What a local client may call this machine.
HOSTNAMES = ("localhost",)
ADDRESSES = ("127.0.0.1", "::1")


@dataclass(frozen=True, slots=True)
class TLSFiles:
    certfile: str
    keyfile: str


def tls_files(certfile: str | None, keyfile: str | None, *, self_signed: bool) -> TLSFiles | None:
    """The files to serve TLS with, from the command's options; None serves plain HTTP."""
    if self_signed:
        if certfile or keyfile:
            raise ConfigurationError("--self-signed makes its own certificate: drop --ssl-certfile/--ssl-keyfile")
        return self_signed_certificate(default_directory())
    if bool(certfile) != bool(keyfile):
        raise ConfigurationError("--ssl-certfile and --ssl-keyfile go together")
    if certfile and keyfile:
        for path in (certfile, keyfile):
            if not os.path.isfile(path):
                raise ConfigurationError(f"no such file: {path}")
        return TLSFiles(certfile, keyfile)
    return None


def default_directory() -> Path:
    """Beside the demo's database: $XDG_DATA_HOME/livegql/tls (or ~/.local/share/livegql/tls)."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "livegql" / "tls"


def self_signed_certificate(directory: Path) -> TLSFiles:
    """A certificate for localhost, 127.0.0.1 and ::1 in `directory`: the one there if still valid, else new."""
    cert_path, key_path = directory / CERT_NAME, directory / KEY_NAME
    if not (cert_path.is_file() and key_path.is_file() and _still_valid(cert_path)):
        directory.mkdir(parents=True, exist_ok=True)
        cert_pem, key_pem = _make_certificate()
        # The key first, private from its creation: a reader never finds a certificate without its key.
        descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as key_file:
            key_file.write(key_pem)
        cert_path.write_bytes(cert_pem)
    return TLSFiles(str(cert_path), str(key_path))


def _still_valid(cert_path: Path) -> bool:
    _require_cryptography()
    from cryptography import x509

    try:
        certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except ValueError:
        return False
    return certificate.not_valid_after_utc - _now() > RENEW_BEFORE


def _make_certificate() -> tuple[bytes, bytes]:
    _require_cryptography()
    # Imported here: serving without TLS needs none of it, and it is an optional dependency.
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "livegql development (localhost)")])
    names: list[x509.GeneralName] = [x509.DNSName(host) for host in HOSTNAMES]
    names += [x509.IPAddress(ipaddress.ip_address(address)) for address in ADDRESSES]
    now = _now()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))  # tolerate a clock slightly behind
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        # Its own CA: clients and browsers told to trust this file then accept the server it names.
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return certificate.public_bytes(serialization.Encoding.PEM), key_pem


def _require_cryptography() -> None:
    try:
        import cryptography  # noqa: F401
    except ImportError:
        raise ConfigurationError("--self-signed needs the cryptography package: pip install 'livegql[tls]'") from None


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)
