"""Which proxy an endpoint's requests take, read from environment variables."""

from __future__ import annotations

import pytest

from agents.models.proxies import Proxy, proxy_for

CORP = "http://proxy.corp:3128"


def test_the_endpoints_scheme_picks_the_variable() -> None:
    env = {"HTTP_PROXY": "http://plain:1", "HTTPS_PROXY": "http://tls:2"}
    assert proxy_for("http://api.test/v1", env) == Proxy("http://plain:1")
    assert proxy_for("https://api.test/v1", env) == Proxy("http://tls:2")


def test_lower_case_wins_over_upper_case_and_an_empty_value_is_unset() -> None:
    assert proxy_for("https://api.test", {"https_proxy": CORP, "HTTPS_PROXY": "http://x:1"}) == (
        Proxy(CORP)
    )
    assert proxy_for("https://api.test", {"https_proxy": "", "HTTPS_PROXY": CORP}) == Proxy(CORP)


def test_all_proxy_is_the_fallback_and_no_variable_means_direct() -> None:
    assert proxy_for("https://api.test", {"ALL_PROXY": CORP}) == Proxy(CORP)
    assert proxy_for("https://api.test", {"HTTP_PROXY": CORP}) is None
    assert proxy_for("https://api.test", {}) is None


def test_a_proxy_without_a_scheme_is_http_and_credentials_are_split_off() -> None:
    assert proxy_for("https://api.test", {"HTTPS_PROXY": "proxy.corp:3128"}) == Proxy(CORP)
    with_user = proxy_for(
        "https://api.test", {"HTTPS_PROXY": "http://bob:s%3Acret@proxy.corp:3128"}
    )
    assert with_user == Proxy(CORP, "bob", "s:cret") and str(with_user) == CORP


@pytest.mark.parametrize(
    ("no_proxy", "url", "direct"),
    [
        ("*", "https://api.openai.com/v1", True),
        ("openai.com", "https://api.openai.com/v1", True),
        ("openai.com", "https://notopenai.com/v1", False),
        (".openai.com", "https://api.openai.com/v1", True),
        ("*.openai.com", "https://api.openai.com/v1", True),
        ("api.test:8443", "https://api.test:8443/v1", True),
        ("api.test:8443", "https://api.test/v1", False),
        ("10.0.0.0/8", "http://10.1.2.3:8000/v1", True),
        ("10.0.0.0/8", "http://11.1.2.3:8000/v1", False),
        ("192.168.1.5", "http://192.168.1.5/v1", True),
        ("fd00::/8", "http://[fd00::5]:8000/v1", True),
        (" vllm.internal , other ", "http://VLLM.internal:8000/v1", True),
        ("", "https://api.test/v1", False),
    ],
)
def test_no_proxy_entries(no_proxy: str, url: str, direct: bool) -> None:
    env = {"HTTP_PROXY": CORP, "HTTPS_PROXY": CORP, "NO_PROXY": no_proxy}
    assert (proxy_for(url, env) is None) is direct


@pytest.mark.parametrize(
    "url", ["http://localhost:8000/v1", "http://127.0.0.1:8000/v1", "http://[::1]:8000/v1"]
)
def test_loopback_endpoints_always_go_direct(url: str) -> None:
    assert proxy_for(url, {"HTTP_PROXY": CORP, "ALL_PROXY": CORP}) is None


def test_https_proxies_are_usable_and_socks_proxies_are_refused_without_their_password() -> None:
    assert proxy_for("https://api.test", {"HTTPS_PROXY": "https://p:443"}) == Proxy("https://p:443")
    with pytest.raises(ValueError, match="not a proxy this client can use") as refused:
        proxy_for("https://api.test", {"HTTPS_PROXY": "socks5://u:hunter2@p:1080"})
    assert "hunter2" not in str(refused.value)
    assert str(refused.value).startswith("HTTPS_PROXY=socks5://p:1080")
