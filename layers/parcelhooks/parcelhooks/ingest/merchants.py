"""Who a carrier may send to: merchants in its key's scope, and only merchants that exist.

A carrier key can be scoped to a list of merchants, so a leaked key cannot sign
"delivered" webhooks to every merchant; and an event for a merchant id that was never
issued a key is refused, so a typo in `merchant_id` is an error the carrier sees, not
an event that silently reaches nobody.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Protocol

from parcelhooks.core.errors import Detail, ForbiddenError, ValidationFailedError
from parcelhooks.ingest.events import CarrierEventIn


class MerchantDirectory(Protocol):
    def merchants_known(self, merchant_ids: Collection[str]) -> set[str]:
        """Which of these merchant ids were ever issued a key."""
        ...


class MerchantGate:
    """Checks a request's merchants before anything is claimed or queued."""

    def __init__(self, directory: MerchantDirectory) -> None:
        self._directory = directory
        # A merchant that existed once always did: remembered for the container's life.
        self._known: set[str] = set()

    def check(
        self, carrier: str, scope: frozenset[str] | None, events: Sequence[CarrierEventIn]
    ) -> None:
        outside = _details(
            events,
            lambda merchant: scope is not None and merchant not in scope,
            "this carrier key may not send events for merchant {merchant!r}",
            "merchant_not_allowed",
        )
        if outside:
            raise ForbiddenError(
                f"carrier {carrier}'s key may not send for some of these merchants; "
                "nothing was accepted",
                outside,
            )
        unknown = self._unknown({event.merchant_id for event in events})
        problems = _details(
            events,
            lambda merchant: merchant in unknown,
            "no merchant {merchant!r} exists (no key was ever issued for it)",
            "unknown_merchant",
        )
        if problems:
            raise ValidationFailedError(
                f"{len(problems)} problem(s) in the request; nothing was accepted", problems
            )

    def _unknown(self, merchant_ids: set[str]) -> set[str]:
        to_ask = merchant_ids - self._known
        if to_ask:
            self._known |= self._directory.merchants_known(to_ask)
        return merchant_ids - self._known


def _details(
    events: Sequence[CarrierEventIn],
    refused: Callable[[str], bool],
    message: str,
    kind: str,
) -> list[Detail]:
    return [
        {
            "loc": f"events[{index}].merchant_id" if len(events) > 1 else "merchant_id",
            "message": message.format(merchant=event.merchant_id),
            "type": kind,
        }
        for index, event in enumerate(events)
        if refused(event.merchant_id)
    ]
