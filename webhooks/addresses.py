"""Where webhooks may be sent (SSRF protection): a registered URL's host is resolved and every
address it names is checked, when the endpoint is saved and again before each request, and the
request then goes to the address that was checked (a DNS answer that changes in between cannot
send it somewhere else).

Never allowed: link-local addresses (169.254.0.0/16, fe80::/10, where cloud metadata services live),
the known metadata addresses, unspecified, multicast and reserved ranges. Loopback, private and
shared (carrier-grade NAT) ranges only with WEBHOOKS_ALLOW_PRIVATE_NETWORKS. Plain http only to
the hosts named in WEBHOOKS_HTTP_HOSTS.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from config.errors import DomainError

# Cloud metadata services outside the link-local range (Alibaba Cloud, AWS over IPv6).
METADATA_ADDRESSES = {ipaddress.ip_address("100.100.100.200"), ipaddress.ip_address("fd00:ec2::254")}

# Carrier-grade NAT (RFC 6598): not global, not "private" to Python, but inside someone's network.
SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(DomainError):
    """The URL may not receive webhooks: wrong scheme, unknown host, or an address that is not allowed."""

    default_code = "address_refused"


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (ip, port) and what to say (scheme, host, path)."""

    scheme: str
    host: str
    port: int
    ip: str
    path: str

    @property
    def netloc(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"

    @property
    def pinned_url(self) -> str:
        """The URL with the checked address in place of the host name."""
        ip = f"[{self.ip}]" if ":" in self.ip else self.ip
        return f"{self.scheme}://{ip}:{self.port}{self.path}"


def _plain(ip: IPAddress) -> IPAddress:
    """An IPv4 address written as IPv6 (::ffff:127.0.0.1) is checked as the IPv4 address it is."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def address_refusal(ip: IPAddress) -> str | None:
    """Why webhooks may not go to this address, or None when they may."""
    ip = _plain(ip)
    if ip.is_link_local or ip in METADATA_ADDRESSES:
        return _("%(ip)s is a link-local or cloud metadata address.") % {"ip": ip}
    if ip.is_unspecified or ip.is_multicast:
        return _("%(ip)s is not an address webhooks can be sent to.") % {"ip": ip}
    if ip.is_global:
        return None
    if ip.is_loopback or ip.is_private or ip in SHARED_ADDRESS_SPACE:
        if settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS:
            return None
        return _("%(ip)s is a loopback or private network address; private networks are not allowed here.") % {"ip": ip}
    return _("%(ip)s is not an address webhooks can be sent to.") % {"ip": ip}


def _split(url: str) -> tuple[str, str, int, str]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise AddressRefused(_("This is not a valid URL."), field="url") from error
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in ("https", "http") or not host:
        raise AddressRefused(_("The URL must start with https://."), field="url")
    if parts.username or parts.password:
        raise AddressRefused(_("Leave the user name and password out of the URL: requests are signed instead."), field="url")
    if scheme == "http" and host not in settings.WEBHOOKS_HTTP_HOSTS:
        raise AddressRefused(_("Webhooks go over https:// only (plain http is allowed for the configured hosts)."), field="url")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return scheme, host, port or (443 if scheme == "https" else 80), path


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address the host name stands for (the address itself for an IP literal)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise AddressRefused(_("The host %(host)s could not be found.") % {"host": host}, code="dns", field="url") from error
    return list(dict.fromkeys(ipaddress.ip_address(info[4][0].split("%")[0]) for info in found))


def webhook_target(url: str) -> Target:
    """The URL checked for sending: scheme, host allowed, every address it resolves to allowed."""
    scheme, host, port, path = _split(url)
    addresses = resolve(host, port)
    if not addresses:
        raise AddressRefused(_("The host %(host)s could not be found.") % {"host": host}, code="dns", field="url")
    for ip in addresses:
        if (refusal := address_refusal(ip)) is not None:
            raise AddressRefused(refusal, field="url")
    return Target(scheme=scheme, host=host, port=port, ip=str(_plain(addresses[0])), path=path)
