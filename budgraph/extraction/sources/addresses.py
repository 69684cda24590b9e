"""Which network addresses an operator-given URL may reach (the SSRF guard of ``UrlModelFiles``)."""

from __future__ import annotations

import socket
from collections.abc import Callable, Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from urllib.parse import SplitResult, urlsplit

from budgraph.extraction.errors import ExtractionFailed, SourceUnavailable, UnsafeUrl

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network
Resolver = Callable[[str, int], list[IPAddress]]

_NAT64 = IPv6Network("64:ff9b::/96")
DEFAULT_PORTS = {"http": 80, "https": 443}


def _embedded_ipv4(address: IPv6Address) -> IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, 6to4, Teredo client, NAT64), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def unsafe_reason(address: IPAddress) -> str | None:
    """Why ``address`` must not be reached from a URL given by an operator, or ``None`` if it is public."""
    if isinstance(address, IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None and (reason := unsafe_reason(embedded)) is not None:
            return f"{reason} (as {address})"
    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
        ("site-local", isinstance(address, IPv6Address) and address.is_site_local),
        ("private", address.is_private),
        ("not globally routable", not address.is_global),
    )
    return next((f"{label} address {address}" for label, hit in checks if hit), None)


def system_resolver(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        if error.errno == socket.EAI_AGAIN:
            raise SourceUnavailable(f"cannot resolve {host} right now: {error}") from error
        raise ExtractionFailed(f"cannot resolve host {host}: {error}") from error
    # The scope id of a link-local IPv6 address ("fe80::1%eth0") is dropped; such addresses are refused.
    return [ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


def parse_networks(networks: Sequence[str | IPNetwork]) -> tuple[IPNetwork, ...]:
    return tuple(n if isinstance(n, IPv4Network | IPv6Network) else ip_network(n) for n in networks)


def _trusted(address: IPAddress, trusted: Sequence[IPNetwork]) -> bool:
    # `in` does not compare IP versions: 10.0.0.1 would be "in" ::/96.
    return any(address.version == network.version and address in network for network in trusted)


def checked_address(
    host: str,
    port: int,
    *,
    allow_private: bool,
    trusted: Sequence[IPNetwork] = (),
    resolver: Resolver = system_resolver,
) -> IPAddress:
    """Resolve ``host`` and return the address to connect to; every resolved address must be allowed
    (so a name that also resolves to an internal address is refused, whichever one a client would pick)."""
    try:
        addresses = [ip_address(host)]
    except ValueError:
        addresses = resolver(host, port)
    if not addresses:
        raise ExtractionFailed(f"host {host} resolves to no address")
    if not allow_private:
        for address in addresses:
            reason = unsafe_reason(address)
            if reason is not None and not _trusted(address, trusted):
                raise UnsafeUrl(f"refusing to fetch from {host}: it resolves to a {reason}")
    return addresses[0]


def split_url(url: str) -> SplitResult:
    """Parse ``url``, refusing anything but plain http(s) URLs with a host and no credentials."""
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS:
        raise UnsafeUrl(f"only http and https URLs are allowed, not {url!r}")
    if not parts.hostname:
        raise UnsafeUrl(f"{url!r} has no host")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrl("credentials in the URL are not supported")
    try:
        _ = parts.port  # parsing the port validates it
    except ValueError as error:
        raise UnsafeUrl(f"{url!r} has an invalid port") from error
    return parts


def check_endpoint(
    url: str,
    *,
    allow_private: bool,
    trusted: Sequence[IPNetwork] = (),
    resolver: Resolver = system_resolver,
) -> None:
    """Refuse a service endpoint (the Hub's) that is not plain http(s) or resolves to a non-public
    address, unless ``allow_private`` (a mirror inside the operator's network)."""
    parts = split_url(url)
    port = parts.port or DEFAULT_PORTS[parts.scheme]
    checked_address(
        parts.hostname or "", port, allow_private=allow_private, trusted=trusted, resolver=resolver
    )
