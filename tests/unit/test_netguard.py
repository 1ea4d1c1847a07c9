"""The SSRF guard: hostile URLs are refused at save and at delivery; public ones pass."""

import asyncio
import threading
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network

import pytest

from parcelhooks.delivery.netguard import (
    NOT_GLOBALLY_REACHABLE,
    GuardPolicy,
    IPAddress,
    Network,
    Target,
    UnsafeTargetError,
    VettingCache,
    address_problem,
    vet,
)
from tests.fakes import fake_resolver

CLOUD = GuardPolicy()
LOCAL = GuardPolicy(allow_http=True, allowed_networks=(ip_network("127.0.0.0/8"),))

HOSTILE = [
    "https://127.0.0.1/hook",
    "https://localhost.localdomain.invalid/hook",  # does not resolve
    "https://[::1]/hook",
    "https://10.0.0.1/hook",
    "https://172.16.5.4/hook",
    "https://192.168.1.1/hook",
    "https://169.254.169.254/latest/meta-data/",
    "https://169.254.170.2/v2/credentials",
    "https://[fd00:ec2::254]/latest/meta-data/",
    "https://100.64.0.1/hook",  # carrier-grade NAT
    "https://100.100.100.200/latest/meta-data",  # Alibaba metadata
    "https://0.0.0.0/hook",
    "https://[::]/hook",
    "https://224.0.0.1/hook",  # multicast
    "https://[ff02::1]/hook",
    "https://240.0.0.1/hook",  # reserved
    "https://255.255.255.255/hook",
    "https://192.0.2.10/hook",  # documentation range, not public
    "https://[fe80::1]/hook",
    "https://[fd12:3456:789a::1]/hook",  # unique local
    "https://[::ffff:127.0.0.1]/hook",  # IPv4-mapped
    "https://[::ffff:a9fe:a9fe]/hook",  # IPv4-mapped metadata
    "https://[::127.0.0.1]/hook",  # IPv4-compatible
    "https://[2002:c0a8:0101::1]/hook",  # 6to4 wrapping 192.168.1.1
    "https://[64:ff9b::a9fe:a9fe]/hook",  # NAT64 wrapping the metadata address
    "https://[64:ff9b::0a00:0001]/hook",  # NAT64 wrapping 10.0.0.1
    "https://[64:ff9b:1::5db8:d822]/hook",  # local-use NAT64, private whatever it wraps
    "https://[fec0::1]/hook",  # deprecated site-local: Python calls it global
    "https://[3fff::1]/hook",  # documentation (RFC 9637): Python calls it global
    "https://192.88.99.1/hook",  # 6to4 relay anycast: Python calls it global
    "https://[2002:5db8:d822::1]/hook",  # 6to4, even wrapping a public address
    "https://2130706433/hook",  # 127.0.0.1 as a decimal number
    "https://0x7f000001/hook",  # hex
    "https://0177.0.0.1/hook",  # octal
    "https://0x7f.0.0.1/hook",
    "https://127.1/hook",  # short form
    "https://internal.example.com/hook",  # a DNS name pointing inside
    "https://mixed.example.com/hook",  # one public, one private answer
    "https://rebind.example.com/hook",
    "https://metadata.example.com/hook",
    "https://v6-private.example.com/hook",
    "http://hooks.example.com/hook",  # plain http in the cloud
    "ftp://hooks.example.com/hook",
    "file:///etc/passwd",
    "https://user:pass@hooks.example.com/hook",
    "https:///no-host",
    "https://hooks.example.com/a b",
    "https://hooks.example.com/a\x00b",
]


@pytest.mark.parametrize("url", HOSTILE)
def test_hostile_urls_are_refused_in_the_cloud(url: str) -> None:
    with pytest.raises(UnsafeTargetError) as caught:
        vet(url, CLOUD, fake_resolver)
    assert caught.value.problems


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/",
        "http://[::ffff:127.0.0.1]:8080/",
        "http://10.0.0.1/",
        "http://192.168.1.1/",
        "http://[::1]/",
    ],
)
def test_the_local_allow_list_opens_only_127_0_0_0_8(url: str) -> None:
    with pytest.raises(UnsafeTargetError):
        vet(url, LOCAL, fake_resolver)


def test_loopback_is_allowed_locally_and_connected_by_address() -> None:
    target = vet("http://127.0.0.1:8787/webhooks?x=1", LOCAL, fake_resolver)
    assert (target.address, target.port, target.path) == ("127.0.0.1", 8787, "/webhooks?x=1")
    assert target.host_header == "127.0.0.1:8787"


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("https://hooks.example.com/parcel", "93.184.216.34"),
        ("https://v6.example.com/parcel", "2606:2800:220:1:248:1893:25c8:1946"),
        ("https://93.184.216.34:8443/parcel", "93.184.216.34"),
    ],
)
def test_public_https_targets_pass_with_the_checked_address(url: str, address: str) -> None:
    target = vet(url, CLOUD, fake_resolver)
    assert target.address == address
    assert target.scheme == "https"


def test_the_host_header_keeps_the_name_not_the_address() -> None:
    target = vet("https://hooks.example.com/p", CLOUD, fake_resolver)
    assert (target.host, target.host_header) == ("hooks.example.com", "hooks.example.com")


def test_every_reason_is_listed() -> None:
    with pytest.raises(UnsafeTargetError) as caught:
        vet("http://user:pw@hooks.example.com/#frag", CLOUD, fake_resolver)
    assert len(caught.value.problems) == 3


class CountingResolver:
    """fake_resolver that counts how often DNS is asked, and on which thread."""

    def __init__(self) -> None:
        self.lookups: list[str] = []
        self.threads: set[threading.Thread] = set()

    def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        self.threads.add(threading.current_thread())
        return fake_resolver(host, port)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _targets(cache: VettingCache, *urls: str) -> list[Target | UnsafeTargetError]:
    """Vet the URLs one after another on one event loop; refusals are returned, not raised."""

    async def run() -> list[Target | UnsafeTargetError]:
        verdicts: list[Target | UnsafeTargetError] = []
        for url in urls:
            try:
                verdicts.append(await cache.target(url))
            except UnsafeTargetError as error:
                verdicts.append(error)
        return verdicts

    return asyncio.run(run())


def test_the_cache_vets_a_url_once_while_the_verdict_is_fresh() -> None:
    dns = CountingResolver()
    url = "https://hooks.example.com/p"
    first, second = _targets(VettingCache(CLOUD, dns), url, url)
    assert first == second == vet(url, CLOUD, fake_resolver)
    assert dns.lookups == ["hooks.example.com"]


def test_the_cache_asks_dns_off_the_event_loop() -> None:
    dns = CountingResolver()
    _targets(VettingCache(CLOUD, dns), "https://hooks.example.com/p")
    assert threading.current_thread() not in dns.threads


def test_the_cache_remembers_a_refusal_too() -> None:
    dns = CountingResolver()
    url = "https://internal.example.com/hook"
    first, second = _targets(VettingCache(CLOUD, dns), url, url)
    assert isinstance(first, UnsafeTargetError) and second is first
    assert len(dns.lookups) == 1


def test_the_cache_vets_again_once_the_verdict_is_stale() -> None:
    dns, clock = CountingResolver(), FakeClock()
    cache = VettingCache(CLOUD, dns, ttl_s=30, clock=clock)
    _targets(cache, "https://hooks.example.com/p")
    clock.now += 30
    _targets(cache, "https://hooks.example.com/p")
    assert len(dns.lookups) == 2


def test_the_cache_forgets_everything_when_full() -> None:
    dns = CountingResolver()
    cache = VettingCache(CLOUD, dns, max_urls=2)
    _targets(cache, "https://hooks.example.com/a", "https://hooks.example.com/b")
    _targets(cache, "https://hooks.example.com/c", "https://hooks.example.com/a")
    assert len(dns.lookups) == 4


# The registries' blocks not marked "Globally Reachable: True" (IANA IPv4 and IPv6
# Special-Purpose Address Registries, RFC 6890), and deprecated blocks, transcribed here
# apart from the guard's own list so that a block dropped from either shows.
REGISTRY_IPV4 = [
    "0.0.0.0/8",
    "0.0.0.0/32",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.0.0/29",
    "192.0.0.8/32",
    "192.0.0.170/32",
    "192.0.0.171/32",
    "192.0.2.0/24",
    "192.88.99.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "240.0.0.0/4",
    "255.255.255.255/32",
]
REGISTRY_IPV6 = [
    "::1/128",
    "::/128",
    "::ffff:0:0/96",
    "64:ff9b:1::/48",
    "100::/64",
    "100:0:0:1::/64",
    "2001::/23",
    "2001::/32",
    "2001:2::/48",
    "2001:10::/28",
    "2001:db8::/32",
    "2002::/16",
    "3fff::/20",
    "5f00::/16",
    "fc00::/7",
    "fe80::/10",
]
DEPRECATED = ["::/96", "3ffe::/16", "fec0::/10"]
REFUSED_BLOCKS = [ip_network(block) for block in REGISTRY_IPV4 + REGISTRY_IPV6 + DEPRECATED]


def _is_clearly_public(address: IPAddress) -> bool:
    """Global unicast outside every refused block: where the guard must not over-reach."""
    if any(address in block for block in REFUSED_BLOCKS):
        return False
    if isinstance(address, IPv6Address) and address not in ip_network("2000::/3"):
        return False
    return address.is_global and not (address.is_multicast or address.is_reserved)


def _ends(block: Network) -> list[IPAddress]:
    return sorted({block[0], block[-1]})


def _neighbours(block: Network) -> list[IPAddress]:
    """The addresses just before and just after `block` that are clearly public."""
    kind = IPv4Address if block.version == 4 else IPv6Address
    around = [int(block[0]) - 1, int(block[-1]) + 1]
    inside_space = [n for n in around if 0 <= n < 2**block.max_prefixlen]
    return [a for a in (kind(n) for n in inside_space) if _is_clearly_public(a)]


def test_the_guard_refuses_exactly_the_registries_blocks() -> None:
    assert sorted(str(network) for network, _ in NOT_GLOBALLY_REACHABLE) == sorted(
        str(block) for block in REFUSED_BLOCKS
    )


@pytest.mark.parametrize("address", [a for block in REFUSED_BLOCKS for a in _ends(block)], ids=str)
def test_the_first_and_last_address_of_every_refused_block_are_refused(
    address: IPAddress,
) -> None:
    assert address_problem(address, CLOUD) is not None


@pytest.mark.parametrize(
    "address", [a for block in REFUSED_BLOCKS for a in _neighbours(block)], ids=str
)
def test_a_public_address_just_outside_a_refused_block_is_allowed(address: IPAddress) -> None:
    assert address_problem(address, CLOUD) is None


@pytest.mark.parametrize(
    ("address", "block"),
    [("fec0::1", "fec0::/10"), ("3fff::1", "3fff::/20"), ("192.88.99.1", "192.88.99.0/24")],
)
def test_blocks_python_calls_global_are_refused_by_name(address: str, block: str) -> None:
    assert ip_address(address).is_global  # the gap: the registry list closes it
    assert block in (address_problem(ip_address(address), CLOUD) or "")


def test_the_local_allow_list_still_opens_loopback_inside_a_refused_block() -> None:
    assert address_problem(ip_address("127.0.0.1"), LOCAL) is None
