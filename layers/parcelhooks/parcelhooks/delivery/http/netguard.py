"""The SSRF guard: a webhook may only go to a public address, and to the one we checked.

A URL is vetted when a subscription is saved and again before every delivery: the
host is resolved, every address it resolves to must be public, and the delivery then
connects to that checked address (with the original Host and TLS server name), so a
DNS answer that changes between check and connect cannot steer it inward. Deliveries
vet through a VettingCache, which asks DNS off the event loop and remembers verdicts.

Public means global by Python's `ipaddress` and in no block the IANA special-purpose
registries call not globally reachable (NOT_GLOBALLY_REACHABLE): Python's view lags them.

The host is judged as DNS and the wire see it (`wire_host`: NFKC, IDNA, no trailing dot),
and that same string is what is resolved and sent as Host and TLS server name. A host that
reads as a number once Unicode digits and dots are folded to ASCII (127.1 in full-width or
Arabic-Indic digits, or with ideographic full stops) is refused outright, not judged by
what it folds to: an IP address must be written in ASCII dotted-quad.

An IPv6 address that carries an IPv4 address (IPv4-mapped, -compatible, -translated, NAT64,
6to4, Teredo) is judged by what it carries, under the cloud rules in every mode: a local
allowance (127.0.0.0/8) opens literal addresses only, never one carried inside IPv6. Only
the well-known NAT64 prefix passes when what it carries is public; the other forms are
refused whatever they carry.
"""

from __future__ import annotations

import asyncio
import re
import socket
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from urllib.parse import SplitResult, quote, urlsplit

IPAddress = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network
Resolver = Callable[[str, int], Sequence[str]]

# Refused always, even where the local stack allows private ranges.
METADATA_ADDRESSES: tuple[IPAddress, ...] = (
    ip_address("169.254.169.254"),  # EC2/ECS/Lambda instance metadata
    ip_address("169.254.170.2"),  # ECS task metadata and credentials
    ip_address("fd00:ec2::254"),  # EC2 metadata over IPv6
    ip_address("100.100.100.200"),  # Alibaba Cloud metadata
)
CGNAT = ip_network("100.64.0.0/10")
# IPv6 forms that carry an IPv4 address (RFC 4291, 2765, 6052, 8215, 3056, 4380).
NAT64 = IPv6Network("64:ff9b::/96")
LOCAL_NAT64 = IPv6Network("64:ff9b:1::/48")  # local-use: private, whatever it embeds
IPV4_MAPPED = IPv6Network("::ffff:0:0/96")
IPV4_TRANSLATED = IPv6Network("::ffff:0:0:0/96")
IPV4_COMPATIBLE = IPv6Network("::/96")
SIX_TO_FOUR = IPv6Network("2002::/16")
TEREDO = IPv6Network("2001::/32")
# Python's `is_global` lags the registries (3fff::/20, 192.88.99.0/24 pass it), so these are
# refused by name: every block of the IANA IPv4 and IPv6 Special-Purpose Address Registries
# (RFC 6890, RFC 8190; iana.org/assignments/iana-ipv4-special-registry and
# iana-ipv6-special-registry) not marked "Globally Reachable: True", and deprecated blocks
# Python still calls global. A block is refused whole even where a smaller entry inside it
# is marked True (192.0.0.9, 2001:1::1, 2001:3::/32, ...): anycast services and identifiers,
# never a merchant's web server.
_SPECIAL_PURPOSE_BLOCKS = {
    "0.0.0.0/8": '"this network" (RFC 791)',
    "0.0.0.0/32": '"this host on this network" (RFC 1122)',
    "10.0.0.0/8": "private-use (RFC 1918)",
    "100.64.0.0/10": "shared address space (RFC 6598)",
    "127.0.0.0/8": "loopback (RFC 1122)",
    "169.254.0.0/16": "link local (RFC 3927)",
    "172.16.0.0/12": "private-use (RFC 1918)",
    "192.0.0.0/24": "IETF protocol assignments (RFC 6890)",
    "192.0.0.0/29": "IPv4 service continuity prefix (RFC 7335)",
    "192.0.0.8/32": "IPv4 dummy address (RFC 7600)",
    "192.0.0.170/32": "NAT64/DNS64 discovery (RFC 7050)",
    "192.0.0.171/32": "NAT64/DNS64 discovery (RFC 7050)",
    "192.0.2.0/24": "documentation, TEST-NET-1 (RFC 5737)",
    "192.88.99.0/24": "deprecated 6to4 relay anycast (RFC 7526)",
    "192.168.0.0/16": "private-use (RFC 1918)",
    "198.18.0.0/15": "benchmarking (RFC 2544)",
    "198.51.100.0/24": "documentation, TEST-NET-2 (RFC 5737)",
    "203.0.113.0/24": "documentation, TEST-NET-3 (RFC 5737)",
    "240.0.0.0/4": "reserved (RFC 1112)",
    "255.255.255.255/32": "limited broadcast (RFC 919)",
    "::1/128": "loopback (RFC 4291)",
    "::/128": "unspecified (RFC 4291)",
    "::ffff:0:0/96": "IPv4-mapped (RFC 4291)",
    "64:ff9b:1::/48": "local-use IPv4/IPv6 translation (RFC 8215)",
    "100::/64": "discard-only (RFC 6666)",
    "100:0:0:1::/64": "dummy IPv6 prefix (RFC 9780)",
    "2001::/23": "IETF protocol assignments (RFC 2928)",
    "2001::/32": "Teredo (RFC 4380)",
    "2001:2::/48": "benchmarking (RFC 5180)",
    "2001:10::/28": "deprecated ORCHID (RFC 4843)",
    "2001:db8::/32": "documentation (RFC 3849)",
    "2002::/16": "6to4 (RFC 3056)",
    "3fff::/20": "documentation (RFC 9637)",
    "5f00::/16": "segment routing SIDs (RFC 9602)",
    "fc00::/7": "unique-local (RFC 4193)",
    "fe80::/10": "link-local unicast (RFC 4291)",
    # Deprecated, outside the special-purpose registries:
    "::/96": "deprecated IPv4-compatible (RFC 4291)",
    "3ffe::/16": "returned 6bone testing space (RFC 3701)",
    "fec0::/10": "deprecated site-local (RFC 3879)",
}
NOT_GLOBALLY_REACHABLE: tuple[tuple[Network, str], ...] = tuple(
    (ip_network(block), name) for block, name in _SPECIAL_PURPOSE_BLOCKS.items()
)
# Hosts spelled as numbers (2130706433, 0x7f.1, 0177.0.0.1, 127.1, and dotted-quad itself).
_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}$", re.I | re.A)
# The label separators IDNA reads as ".": ideographic, full-width, half-width ideographic.
_IDNA_DOTS = str.maketrans(dict.fromkeys("\u3002\uff0e\uff61", "."))
DEFAULT_PORTS = {"http": 80, "https": 443}
VET_CACHE_S = 30.0
MAX_VETTED_ORIGINS = 10_000
_PATH_SAFE = "/:@!$&'()*+,;=%-._~"


class UnsafeTargetError(ValueError):
    """The URL may not receive webhooks; `problems` says why, for the caller to show."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Target:
    """A vetted destination: connect to `address`, but speak to `host`."""

    scheme: str
    host: str
    port: int
    address: str
    path: str

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"


@dataclass(frozen=True)
class GuardPolicy:
    allow_http: bool = False
    allowed_networks: tuple[Network, ...] = ()


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


_NO_ALLOWANCES = GuardPolicy()


@dataclass(frozen=True, slots=True)
class Embedding:
    """An IPv6 address's IPv4 cargo: the form (`name`, `network`) and what it carries."""

    name: str
    network: IPv6Network
    carried: tuple[IPv4Address, ...]


def embedded_ipv4(address: IPv6Address) -> Embedding | None:
    """The IPv4 address(es) `address` carries, if it is a form that carries one."""
    low32 = IPv4Address(int(address) & 0xFFFF_FFFF)
    for name, network in (
        ("IPv4-mapped", IPV4_MAPPED),
        ("IPv4-translated", IPV4_TRANSLATED),
        ("NAT64", NAT64),
        # RFC 6052 lets a local prefix carry it elsewhere too; the block is refused whole.
        ("local-use NAT64", LOCAL_NAT64),
    ):
        if address in network:
            return Embedding(name, network, (low32,))
    if address in IPV4_COMPATIBLE and int(address) > 1:  # not :: nor ::1
        return Embedding("IPv4-compatible", IPV4_COMPATIBLE, (low32,))
    if address.sixtofour is not None:
        return Embedding("6to4", SIX_TO_FOUR, (address.sixtofour,))
    if address.teredo is not None:
        return Embedding("Teredo", TEREDO, address.teredo)  # (server, de-obfuscated client)
    return None


def _embedding_problem(address: IPv6Address, embedding: Embedding) -> str | None:
    """Why an IPv6 address carrying IPv4 is refused; None only for well-known NAT64 of a
    public address. What it carries is judged with no local allowance: those are for
    literal addresses, so a carried 127.0.0.1 is refused even where 127.0.0.1 is allowed."""
    form = f"{address} is in {embedding.network} ({embedding.name})"
    for carried in embedding.carried:
        problem = address_problem(carried, _NO_ALLOWANCES)
        if problem is not None:
            return f"{form} and carries {carried}: {problem}"
    if embedding.network == NAT64:
        return None
    return f"{form}: refused whatever IPv4 address it carries"


def _special_purpose_problem(address: IPAddress) -> str | None:
    """Why `address` is not globally reachable by the registries, if it is not."""
    for network, name in NOT_GLOBALLY_REACHABLE:
        if address in network:
            return f"{address} is in {network}, {name}: not globally reachable"
    return None


def address_problem(address: IPAddress, policy: GuardPolicy) -> str | None:
    """Why a webhook may not go to `address`, or None if it may."""
    if address in METADATA_ADDRESSES:
        return f"{address} is a cloud metadata address"
    if isinstance(address, IPv6Address):
        embedding = embedded_ipv4(address)
        if embedding is not None:
            return _embedding_problem(address, embedding)
    if any(address in network for network in policy.allowed_networks):
        return None
    for test, kind in (
        (address.is_loopback, "loopback"),
        (address.is_link_local, "link-local"),
        (address.is_multicast, "multicast"),
        (address.is_unspecified, "unspecified"),
        (isinstance(address, IPv4Address) and address in CGNAT, "carrier-grade NAT"),
        (address.is_private, "private"),
        (address.is_reserved, "reserved"),
    ):
        if test:
            return f"{address} is a {kind} address"
    special = _special_purpose_problem(address)
    if special is not None:
        return special
    return None if address.is_global else f"{address} is not a public address"


def url_problems(url: str, policy: GuardPolicy) -> list[str]:
    """What is wrong with a URL's shape, before any DNS is asked."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        return [f"url is not valid: {error}"]
    schemes = ("https", "http") if policy.allow_http else ("https",)
    problems = []
    if parts.scheme not in schemes:
        problems.append(f"url must use {' or '.join(schemes)}")
    host = parts.hostname or ""
    if not host:
        problems.append("url must name a host")
    else:
        problems.extend(_host_problems(host))
    if parts.username or parts.password:
        problems.append("url must not carry credentials")
    if port == 0:
        problems.append("url port must not be 0")
    if parts.fragment:
        problems.append("url must not have a #fragment")
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        problems.append("url must not contain spaces or control characters")
    return problems


def wire_host(hostname: str) -> str:
    """`hostname` as DNS, the Host header and TLS see it: NFKC, IDNA (Python's codec, as
    `socket` uses), lower case, no trailing dot. Raises UnicodeError if it is not a valid name."""
    return _fold(hostname).encode("idna").decode("ascii").lower().rstrip(".")


def _fold(hostname: str) -> str:
    """NFKC, and every dot IDNA splits labels on as '.'."""
    return unicodedata.normalize("NFKC", hostname).translate(_IDNA_DOTS)


def _host_problems(hostname: str) -> list[str]:
    """What is wrong with a URL's host, judged as written and as it goes to DNS."""
    if "%" in hostname:
        return [f"host {hostname!r} must not contain '%' (percent-encoding or an IPv6 zone)"]
    if not hostname.isascii():
        # Read as a lenient parser (or `int()`) would: every Unicode digit as its ASCII one,
        # before NFKC or after it (NFKC turns some digits into more: U+2488 is "1.").
        for reading in (_ascii_digits(_fold(hostname)), _fold(_ascii_digits(hostname))):
            as_number = reading.rstrip(".")
            if _NUMERIC_HOST.match(as_number):
                return [
                    f"host {hostname!r} is a number written with non-ASCII digits or dots "
                    f"(read as {as_number!r}): write an IP address in ASCII (a.b.c.d)"
                ]
    try:
        host = wire_host(hostname)
    except UnicodeError:
        return [f"host {hostname!r} is not a valid name"]
    if _NUMERIC_HOST.match(host) and not _is_dotted_quad(host):
        return [
            f"host {hostname!r} is a number in a non-standard IP notation: "
            "write an IPv4 address as four decimal numbers (a.b.c.d)"
        ]
    return []


def _ascii_digits(text: str) -> str:
    return "".join(str(d) if (d := unicodedata.digit(c, None)) is not None else c for c in text)


def _is_dotted_quad(host: str) -> bool:
    parts = host.split(".")
    return len(parts) == 4 and all(
        p.isascii() and p.isdigit() and str(int(p)) == p and int(p) < 256 for p in parts
    )


def vet(url: str, policy: GuardPolicy, resolve: Resolver = system_resolver) -> Target:
    """The target to connect to, or UnsafeTargetError listing every reason it is refused."""
    problems = url_problems(url, policy)
    if problems:
        raise UnsafeTargetError(problems)
    parts = urlsplit(url)
    # The name judged above is the name resolved, and the one sent as Host and TLS name.
    host = wire_host(parts.hostname or "")
    port = parts.port or DEFAULT_PORTS[parts.scheme]
    try:
        addresses = [ip_address(a.split("%")[0]) for a in resolve(host, port)]
    except (OSError, UnicodeError, ValueError):
        raise UnsafeTargetError([f"host {host!r} does not resolve"]) from None
    if not addresses:
        raise UnsafeTargetError([f"host {host!r} does not resolve"])
    # Every address must pass: a name with one public and one private address is refused.
    # The target keeps the parsed address, not the resolver's text, so what the pool
    # connects to is exactly what was judged.
    refused = [p for p in (address_problem(a, policy) for a in addresses) if p]
    if refused:
        raise UnsafeTargetError(refused)
    return Target(parts.scheme, host, port, str(addresses[0]), request_target(parts))


def request_target(parts: SplitResult) -> str:
    """The path and query as sent: what is not ASCII percent-encoded, what is already
    encoded kept as it is."""
    path = quote(parts.path or "/", safe=_PATH_SAFE)
    if parts.query:
        path += "?" + quote(parts.query, safe=_PATH_SAFE + "?")
    return path


class VettingCache:
    """Vetting asks DNS, which blocks: off the event loop, and remembered briefly per origin
    (refusals too, so one merchant's dead DNS cannot stall the others). A URL's shape is
    checked every time; its origin's addresses once per `ttl_s`, so the URLs a template
    renders per event (`/orders/123`, `/orders/124`) cost one lookup, not one each."""

    def __init__(
        self,
        policy: GuardPolicy,
        resolve: Resolver,
        *,
        ttl_s: float = VET_CACHE_S,
        max_origins: int = MAX_VETTED_ORIGINS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._policy = policy
        self._resolve = resolve
        self._ttl_s = ttl_s
        self._max_origins = max_origins
        self._clock = clock
        self._verdicts: dict[str, tuple[float, Target | UnsafeTargetError]] = {}

    async def target(self, url: str) -> Target:
        """The vetted target for `url`, or the UnsafeTargetError it was refused with."""
        problems = url_problems(url, self._policy)
        if problems:
            raise UnsafeTargetError(problems)
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}/"
        now = self._clock()
        cached = self._verdicts.get(origin)
        if cached is None or cached[0] <= now:
            cached = (now + self._ttl_s, await self._vet_off_loop(origin))
            self._remember(origin, cached)
        if isinstance(cached[1], UnsafeTargetError):
            raise cached[1]
        return replace(cached[1], path=request_target(parts))

    async def _vet_off_loop(self, url: str) -> Target | UnsafeTargetError:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(None, vet, url, self._policy, self._resolve)
        except UnsafeTargetError as error:
            return error

    def _remember(self, url: str, verdict: tuple[float, Target | UnsafeTargetError]) -> None:
        # Bounded: past max_origins all are forgotten at once, cheaper than tracking the oldest.
        if len(self._verdicts) >= self._max_origins:
            self._verdicts.clear()
        self._verdicts[url] = verdict
