"""The SSRF guard: hostile URLs are refused at save and at delivery; public ones pass."""

import asyncio
import re
import threading
import unicodedata
from functools import cache
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from parcelhooks.delivery.http.netguard import (
    METADATA_ADDRESSES,
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
from testkit.fakes import fake_resolver

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
    cache = VettingCache(CLOUD, dns, max_origins=2)
    _targets(cache, "https://a.example/x", "https://b.example/x")
    _targets(cache, "https://hooks.example.com/x", "https://a.example/x")
    assert len(dns.lookups) == 4


def test_the_urls_a_template_renders_on_one_origin_cost_one_lookup() -> None:
    dns = CountingResolver()
    first, second = _targets(
        VettingCache(CLOUD, dns),
        "https://erp.example.com/orders/A-1/tracking",
        "https://erp.example.com/orders/B%2F2/tracking?x=1",
    )
    assert dns.lookups == ["erp.example.com"]
    assert first == vet("https://erp.example.com/orders/A-1/tracking", CLOUD, fake_resolver)
    assert second == vet("https://erp.example.com/orders/B%2F2/tracking?x=1", CLOUD, fake_resolver)


def test_a_url_of_a_vetted_origin_is_still_refused_for_its_own_shape() -> None:
    dns = CountingResolver()
    ok, fragment, spaces = _targets(
        VettingCache(CLOUD, dns),
        "https://hooks.example.com/p",
        "https://hooks.example.com/p#frag",
        "https://hooks.example.com/a b",
    )
    assert not isinstance(ok, UnsafeTargetError)
    assert isinstance(fragment, UnsafeTargetError) and isinstance(spaces, UnsafeTargetError)


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


# --- Host notation: the host is judged as DNS sees it, whatever digits and dots it is written in.


def public_dns(host: str, port: int) -> list[str]:
    """Every name resolves to a public address: only the host's notation can refuse it."""
    return ["93.184.216.34"]


class RecordingResolver:
    """public_dns that records the names it is asked for."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        return public_dns(host, port)


# The zero of each script's digits (0-9 are consecutive from it), and the dots IDNA reads as ".".
DIGIT_ZEROS = {
    "ascii": "0",
    "full-width": "\uff10",
    "arabic-indic": "\u0660",
    "extended-arabic-indic": "\u06f0",
    "devanagari": "\u0966",
    "bengali": "\u09e6",
    "thai": "\u0e50",
    "nko": "\u07c0",
    "mathematical-bold": "\U0001d7ce",
}
DOTS = {"ascii": ".", "full-width": "\uff0e", "ideographic": "\u3002", "half-width": "\uff61"}


def written_in(text: str, zero: str = "0", dot: str = ".") -> str:
    """`text` with its digits in the script whose zero is `zero` and its dots as `dot`."""
    return "".join(chr(ord(zero) + int(c)) if c.isdigit() else dot if c == "." else c for c in text)


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) for c in text)


# (host as written, the ASCII number it reads as)
UNICODE_NUMBER_HOSTS = [
    pytest.param(written_in(number, zero, dot), number, id=f"{number}-{script}-digits-{dots}-dots")
    for number in ("127.0.0.1", "127.1", "169.254.169.254", "93.184.216.34")
    for script, zero in DIGIT_ZEROS.items()
    for dots, dot in DOTS.items()
    if (script, dots) != ("ascii", "ascii")
] + [
    pytest.param(full_width("0x7f000001"), "0x7f000001", id="full-width-hex"),
    pytest.param(full_width("2130706433"), "2130706433", id="full-width-integer"),
    pytest.param(written_in("0177.0.0.1", "\u0660"), "0177.0.0.1", id="arabic-indic-octal"),
    pytest.param("0x7f" + written_in(".0.0.1", "\uff10", "\u3002"), "0x7f.0.0.1", id="mixed-hex"),
    pytest.param("127.0.0.\u2488", "127.0.0.1", id="digit-full-stop-sign"),  # NFKC: "1."
    pytest.param("\u00b9\u00b2\u2077.\u00b9", "127.1", id="superscripts"),
    pytest.param("127.0.0.1\u3002", "127.0.0.1", id="trailing-ideographic-dot"),
]


@pytest.mark.parametrize("policy", [CLOUD, LOCAL], ids=["cloud", "local"])
@pytest.mark.parametrize(("host", "read_as"), UNICODE_NUMBER_HOSTS)
def test_a_number_written_with_non_ascii_digits_or_dots_is_refused(
    host: str, read_as: str, policy: GuardPolicy
) -> None:
    with pytest.raises(UnsafeTargetError) as caught:
        vet(f"https://{host}/hook", policy, public_dns)
    assert caught.value.problems == [
        f"host {host!r} is a number written with non-ASCII digits or dots "
        f"(read as {read_as!r}): write an IP address in ASCII (a.b.c.d)"
    ]


@cache
def _digit_variants() -> dict[str, list[str]]:
    """Every Unicode character Python reads as the digit 0-9, by the ASCII digit."""
    variants: dict[str, list[str]] = {str(d): [] for d in range(10)}
    for code in range(0x110000):
        digit = unicodedata.digit(chr(code), None)
        if digit is not None:
            variants[str(digit)].append(chr(code))
    return variants


@st.composite
def numbers_in_any_digits(draw: st.DrawFn) -> str:
    """An IPv4 address in some numeric notation, some characters written non-ASCII."""
    value = draw(st.integers(0, 2**32 - 1))
    octets = str(IPv4Address(value)).split(".")
    notation = draw(
        st.sampled_from(
            [
                ".".join(octets),
                f"{octets[0]}.{value & 0xFFFFFF}",
                str(value),
                f"0x{value:x}",
                ".".join(f"0{int(o):o}" for o in octets),
            ]
        )
    )
    variants = {**_digit_variants(), ".": list(DOTS.values())}
    variants.update({c: [c, full_width(c)] for c in "xabcdef"})
    host = "".join(draw(st.sampled_from(variants[c])) for c in notation)
    return host if not host.isascii() else full_width(notation)


@given(host=numbers_in_any_digits())
def test_no_unicode_spelling_of_an_ipv4_number_passes(host: str) -> None:
    for policy in (CLOUD, LOCAL):
        with pytest.raises(UnsafeTargetError) as caught:
            vet(f"https://{host}/hook", policy, public_dns)
        assert "non-ASCII digits or dots" in str(caught.value)


@pytest.mark.parametrize(
    "host", ["127.1.", "0x7f000001.", "2130706433.", "127.0.0.01", "256.1.1.1", "0x7f.0.0.1."]
)
def test_a_non_standard_notation_is_judged_without_its_trailing_dot(host: str) -> None:
    with pytest.raises(UnsafeTargetError) as caught:
        vet(f"http://{host}/hook", LOCAL, public_dns)
    assert "non-standard IP notation" in str(caught.value)


def test_a_dotted_quad_with_a_trailing_dot_is_judged_as_the_address() -> None:
    target = vet("http://127.0.0.1./hook", LOCAL, fake_resolver)
    assert (target.host, target.address) == ("127.0.0.1", "127.0.0.1")
    with pytest.raises(UnsafeTargetError, match="loopback"):
        vet("https://127.0.0.1./hook", CLOUD, fake_resolver)


@pytest.mark.parametrize(
    ("written", "asked"),
    [
        ("b\u00fccher.example", "xn--bcher-kva.example"),
        (full_width("hooks") + ".example.com", "hooks.example.com"),
        ("hooks\u3002example\uff0ecom", "hooks.example.com"),
        ("hooks\uff61example.com.", "hooks.example.com"),
        (written_in("123", "\u0660") + ".example", "xn--9hbcd.example"),  # digits, not a number
    ],
)
def test_a_unicode_name_is_resolved_and_sent_as_dns_sees_it(written: str, asked: str) -> None:
    dns = RecordingResolver()
    target = vet(f"https://{written}/hook", CLOUD, dns)
    assert dns.asked == [asked]
    assert (target.host, target.host_header, target.address) == (asked, asked, "93.184.216.34")


@pytest.mark.parametrize("host", ["127.0.0.%31", "exa%6dple.com", "[fe80::1%25eth0]"])
def test_a_percent_in_the_host_is_refused(host: str) -> None:
    with pytest.raises(UnsafeTargetError, match="must not contain '%'"):
        vet(f"http://{host}/hook", LOCAL, public_dns)


def test_the_target_connects_to_the_address_as_judged_not_as_dns_wrote_it() -> None:
    target = vet(
        "https://hooks.example.com/p",
        CLOUD,
        lambda h, p: ["2606:2800:0220:0001:0248:1893:25c8:1946"],
    )
    assert target.address == "2606:2800:220:1:248:1893:25c8:1946"


def test_a_dns_answer_in_a_non_standard_notation_is_not_connected_to() -> None:
    with pytest.raises(UnsafeTargetError, match="does not resolve"):
        vet("http://hooks.example.com/p", LOCAL, lambda h, p: ["127.1"])


# --- IPv6 forms that carry an IPv4 address are judged by it, in every mode.

PUBLIC_V4 = IPv4Address("93.184.216.34")
ALL_OPEN = GuardPolicy(
    allow_http=True, allowed_networks=(ip_network("0.0.0.0/0"), ip_network("::/0"))
)
M32 = 0xFFFF_FFFF
EMBEDDINGS = [
    "IPv4-mapped",
    "IPv4-compatible",
    "IPv4-translated",
    "NAT64",
    "local-use NAT64",
    "6to4",
    "Teredo server",
    "Teredo client",
]


def embed(form: str, v4: IPv4Address, filler: int = 0) -> IPv6Address:
    """`v4` carried in `form`; `filler` sets the bits the form leaves free. A Teredo address's
    other IPv4 slot holds a public address, so only `v4` can make it refused."""
    n = int(v4)
    teredo = 0x2001_0000 << 96
    bits = {
        "IPv4-mapped": (0xFFFF << 32) | n,
        "IPv4-compatible": n,
        "IPv4-translated": (0xFFFF << 48) | n,
        "NAT64": int(IPv6Address("64:ff9b::")) | n,
        "local-use NAT64": int(IPv6Address("64:ff9b:1::")) | ((filler & (2**48 - 1)) << 32) | n,
        "6to4": (0x2002 << 112) | (n << 80) | (filler & (2**80 - 1)),
        "Teredo server": teredo | (n << 64) | ((filler & M32) << 32) | (~int(PUBLIC_V4) & M32),
        "Teredo client": teredo | (int(PUBLIC_V4) << 64) | ((filler & M32) << 32) | (~n & M32),
    }[form]
    return IPv6Address(bits)


def test_embed_writes_the_forms_python_reads_back() -> None:
    v4 = IPv4Address("10.1.2.3")
    assert embed("IPv4-mapped", v4).ipv4_mapped == v4
    assert embed("6to4", v4, filler=2**80 - 1).sixtofour == v4
    assert embed("Teredo server", v4).teredo == (v4, PUBLIC_V4)
    assert embed("Teredo client", v4).teredo == (PUBLIC_V4, v4)
    assert str(embed("NAT64", v4)) == "64:ff9b::a01:203"


@pytest.mark.parametrize("policy", [CLOUD, LOCAL, ALL_OPEN], ids=["cloud", "local", "all-open"])
@pytest.mark.parametrize("form", EMBEDDINGS)
@pytest.mark.parametrize("v4", ["127.0.0.1", "169.254.169.254", "10.0.0.1", "100.64.0.1"])
def test_an_ipv6_form_carrying_a_blocked_ipv4_is_refused_naming_it(
    v4: str, form: str, policy: GuardPolicy
) -> None:
    problem = address_problem(embed(form, IPv4Address(v4)), policy)
    assert problem is not None
    assert f"carries {v4}: " in problem


@pytest.mark.parametrize("form", EMBEDDINGS)
def test_carried_metadata_is_named_as_metadata(form: str) -> None:
    problem = address_problem(embed(form, IPv4Address("169.254.169.254")), LOCAL) or ""
    assert problem.endswith("169.254.169.254 is a cloud metadata address")


@pytest.mark.parametrize("form", EMBEDDINGS)
def test_local_mode_opens_literal_loopback_only_never_carried_loopback(form: str) -> None:
    assert address_problem(ip_address("127.0.0.1"), LOCAL) is None
    carried = embed(form, IPv4Address("127.0.0.1"))
    with pytest.raises(
        UnsafeTargetError, match=r"carries 127\.0\.0\.1: 127\.0\.0\.1 is a loopback"
    ):
        vet(f"http://[{carried}]:8787/hook", LOCAL, fake_resolver)


@pytest.mark.parametrize("policy", [CLOUD, LOCAL], ids=["cloud", "local"])
def test_well_known_nat64_of_a_public_address_passes(policy: GuardPolicy) -> None:
    target = vet("https://[64:ff9b::5db8:d822]/hook", policy, fake_resolver)
    assert target.address == "64:ff9b::5db8:d822"


@pytest.mark.parametrize("policy", [CLOUD, LOCAL], ids=["cloud", "local"])
@pytest.mark.parametrize("form", [f for f in EMBEDDINGS if f != "NAT64"])
def test_other_forms_are_refused_even_carrying_a_public_address(
    form: str, policy: GuardPolicy
) -> None:
    problem = address_problem(embed(form, PUBLIC_V4), policy) or ""
    assert problem.endswith("refused whatever IPv4 address it carries")


def test_a_teredo_client_is_judged_de_obfuscated() -> None:
    address = ip_address("2001:0:5db8:d822:0:0:f5ff:fffe")  # client ~f5ff:fffe = 10.0.0.1
    assert "carries 10.0.0.1: 10.0.0.1 is a private address" in (
        address_problem(address, CLOUD) or ""
    )


@pytest.mark.parametrize(
    ("resolved", "carried"),
    [("::ffff:a9fe:a9fe", "169.254.169.254"), ("64:ff9b::7f00:1", "127.0.0.1")],
)
def test_a_name_resolving_to_a_carried_address_is_refused_locally(
    resolved: str, carried: str
) -> None:
    with pytest.raises(UnsafeTargetError, match=re.escape(f"carries {carried}: ")):
        vet("http://hooks.example.com/p", LOCAL, lambda h, p: [resolved])


BLOCKED_V4_BLOCKS = [ip_network(b) for b in [*REGISTRY_IPV4, "224.0.0.0/4"]]
blocked_ipv4 = st.one_of(
    st.sampled_from([a for a in METADATA_ADDRESSES if isinstance(a, IPv4Address)]),
    st.sampled_from(BLOCKED_V4_BLOCKS).flatmap(
        lambda block: st.integers(int(block[0]), int(block[-1])).map(IPv4Address)
    ),
)


@given(v4=blocked_ipv4, form=st.sampled_from(EMBEDDINGS), filler=st.integers(0, 2**80 - 1))
def test_every_embedding_of_a_blocked_ipv4_is_refused_in_every_mode(
    v4: IPv4Address, form: str, filler: int
) -> None:
    assert address_problem(v4, CLOUD) is not None
    address = embed(form, v4, filler)
    assume(int(address) > 1)  # :: and ::1 are the unspecified and loopback addresses
    for policy in (CLOUD, LOCAL, ALL_OPEN):
        assert f"carries {v4}: " in (address_problem(address, policy) or "")
