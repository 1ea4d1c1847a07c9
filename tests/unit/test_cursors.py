"""Page cursors are opaque and signed: a forged, altered or borrowed one is a 400, never a 500."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parcelhooks.aws.pages import CursorSigner
from parcelhooks.core.errors import InvalidCursorError
from testkit.factories import FORGED_CURSORS

KEY = frozenset({"merchant_id", "subscription_id"})
SIGNER = CursorSigner(lambda: b"k" * 32)


def _start(merchant: str = "merchant-a") -> dict[str, str]:
    return {"merchant_id": merchant, "subscription_id": "sub_1"}


def test_a_cursor_comes_back_as_the_key_it_was_made_from() -> None:
    cursor = SIGNER.encode("subscriptions/merchant-a", _start())
    assert cursor is not None
    assert SIGNER.decode("subscriptions/merchant-a", cursor, KEY) == _start()


def test_no_last_key_is_no_cursor_and_no_cursor_is_the_first_page() -> None:
    assert SIGNER.encode("subscriptions/merchant-a", None) is None
    assert SIGNER.decode("subscriptions/merchant-a", None, KEY) == {}
    assert SIGNER.decode("subscriptions/merchant-a", "", KEY) == {}


def test_a_cursor_of_another_listing_is_refused() -> None:
    cursor = SIGNER.encode("subscriptions/merchant-b", _start("merchant-b"))
    with pytest.raises(InvalidCursorError):
        SIGNER.decode("subscriptions/merchant-a", cursor, KEY)
    with pytest.raises(InvalidCursorError):
        SIGNER.decode("deliveries/merchant-b", cursor, KEY)


def test_a_cursor_signed_with_another_key_is_refused() -> None:
    cursor = CursorSigner(lambda: b"x" * 32).encode("subscriptions/merchant-a", _start())
    with pytest.raises(InvalidCursorError):
        SIGNER.decode("subscriptions/merchant-a", cursor, KEY)


@pytest.mark.parametrize("cursor", [c for c in FORGED_CURSORS if c])
def test_forged_cursors_are_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursorError):
        SIGNER.decode("subscriptions/merchant-a", cursor, KEY)


def test_one_changed_character_is_refused() -> None:
    cursor = SIGNER.encode("subscriptions/merchant-a", _start())
    assert cursor is not None
    for index in range(len(cursor)):
        changed = cursor[:index] + ("A" if cursor[index] != "A" else "B") + cursor[index + 1 :]
        with pytest.raises(InvalidCursorError):
            SIGNER.decode("subscriptions/merchant-a", changed, KEY)


def test_a_signed_key_of_the_wrong_shape_is_refused() -> None:
    cursor = SIGNER.encode("subscriptions/merchant-a", {"merchant_id": "merchant-a", "x": "y"})
    with pytest.raises(InvalidCursorError):
        SIGNER.decode("subscriptions/merchant-a", cursor, KEY)


@given(st.text(max_size=300))
def test_any_text_is_a_start_key_or_an_invalid_cursor(cursor: str) -> None:
    try:
        start = SIGNER.decode("subscriptions/merchant-a", cursor, KEY)
    except InvalidCursorError:
        return
    assert start == {}
