"""Which proxy a model endpoint's requests go through, read from the environment once.

`HTTP_PROXY`, `HTTPS_PROXY` and `ALL_PROXY` name the proxy by the endpoint's scheme (lower
case wins over upper case, as urllib and curl read them); `NO_PROXY` lists hosts that go
direct: `*`, a name (which covers its subdomains), `.suffix`, an address, a CIDR block, each
optionally with `:port`. A loopback host always goes direct, as Go's HTTP client does: no
proxy serves this machine's own servers. A proxy URL's `user:password@` is its credentials.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import SplitResult, unquote, urlsplit

SUPPORTED_SCHEMES = ("http", "https")
"""Proxies the HTTP client speaks to: plain HTTP, or HTTP over TLS (no SOCKS)."""


@dataclass(frozen=True)
class Proxy:
    """A proxy's URL (without credentials, fit for messages) and its credentials, if any."""

    url: str
    username: str | None = None
    password: str | None = None

    def __str__(self) -> str:
        return self.url


def proxy_for(url: str, environ: Mapping[str, str] | None = None) -> Proxy | None:
    """The proxy for requests to `url`, or None to go direct.

    Raises ValueError naming the variable when the proxy it names cannot be used, rather
    than sending the request (and its API key) around the proxy.
    """
    env = os.environ if environ is None else environ
    target = urlsplit(url)
    host = target.hostname or ""
    port = target.port or (443 if target.scheme == "https" else 80)
    if _is_loopback(host) or _bypassed(host, port, _lookup(env, "no_proxy")):
        return None
    for name in (f"{target.scheme}_proxy", "all_proxy"):
        value = _lookup(env, name)
        if value:
            return _parse(value, name)
    return None


def _lookup(env: Mapping[str, str], name: str) -> str:
    """The variable in lower case, else in upper case (an empty one counts as unset)."""
    return (env.get(name) or env.get(name.upper()) or "").strip()


def _parse(value: str, variable: str) -> Proxy:
    parts = urlsplit(value if "://" in value else f"http://{value}")
    if parts.scheme not in SUPPORTED_SCHEMES or not parts.hostname:
        shown = _without_credentials(parts)
        raise ValueError(
            f"{variable.upper()}={shown}: not a proxy this client can use "
            f"(expected {' or '.join(f'{s}://host:port' for s in SUPPORTED_SCHEMES)})"
        )
    username = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password) if parts.password is not None else None
    return Proxy(_without_credentials(parts), username, password)


def _without_credentials(parts: SplitResult) -> str:
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return f"{parts.scheme}://{netloc}"


def _bypassed(host: str, port: int, no_proxy: str) -> bool:
    """Whether a NO_PROXY list sends (host, port) direct."""
    host = host.lower().rstrip(".")
    address = _address(host)
    for raw in no_proxy.split(","):
        entry = raw.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return True
        entry, entry_port = _split_port(entry)
        if entry_port is not None and entry_port != port:
            continue
        if address is not None:
            try:
                if address in ipaddress.ip_network(entry.strip("[]"), strict=False):
                    return True
            except ValueError:
                pass
            continue
        name = entry.lstrip("*").lstrip(".").rstrip(".")
        if name and (host == name or host.endswith("." + name)):
            return True
    return False


def _split_port(entry: str) -> tuple[str, int | None]:
    """`host:port`, `[v6]:port` or a bare host, address or CIDR block."""
    if entry.startswith("["):
        inside, _, rest = entry[1:].partition("]")
        return inside, int(rest[1:]) if rest.startswith(":") and rest[1:].isdigit() else None
    if entry.count(":") == 1:
        name, _, port = entry.partition(":")
        if port.isdigit():
            return name, int(port)
    return entry, None


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _is_loopback(host: str) -> bool:
    if host.lower().rstrip(".") == "localhost":
        return True
    address = _address(host)
    return address is not None and address.is_loopback
