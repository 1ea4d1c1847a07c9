"""Secret header values, sealed with the stack's KMS key: the merchant API seals them (it
can encrypt, never decrypt), the fan-out opens them to send them.

Each value is bound to its merchant and subscription by KMS's encryption context, so a
sealed value copied into another subscription's item does not open. The fan-out keeps what
it opened for the life of its container: one KMS call per value, not per delivery.
"""

from __future__ import annotations

import base64
import binascii
import threading
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from parcelhooks.core.errors import SecretsUnavailableError, SecretsUnreadableError
from parcelhooks.core.models import Subscription

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient

# Enough for every secret header of every endpoint a busy container sends to.
MAX_OPENED = 4096
# KMS's answers that pass: asked again later, the same value opens.
TRANSIENT_KMS_ERRORS = frozenset(
    {
        "ThrottlingException",
        "KMSInternalException",
        "DependencyTimeoutException",
        "KeyUnavailableException",
        "LimitExceededException",
    }
)


def _context(merchant_id: str, subscription_id: str) -> dict[str, str]:
    return {"parcelhooks:merchant": merchant_id, "parcelhooks:subscription": subscription_id}


class KmsSealer:
    """The merchant API's half: seal only."""

    def __init__(self, kms: KMSClient, key_id: str) -> None:
        self._kms = kms
        self._key_id = key_id

    def seal(self, merchant_id: str, subscription_id: str, value: str) -> str:
        response = self._kms.encrypt(
            KeyId=self._key_id,
            Plaintext=value.encode(),
            EncryptionContext=_context(merchant_id, subscription_id),
        )
        return base64.b64encode(response["CiphertextBlob"]).decode("ascii")


class KmsOpener:
    """The fan-out's half: open, and remember what was opened."""

    def __init__(self, kms: KMSClient) -> None:
        self._kms = kms
        self._opened: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def open(self, subscription: Subscription) -> dict[str, str]:
        opened: dict[str, str] = {}
        for header in subscription.headers:
            if header.sealed is not None:
                opened[header.sealed] = self._open_one(subscription, header.sealed)
        return opened

    def _open_one(self, subscription: Subscription, sealed: str) -> str:
        key = (subscription.id, sealed)
        with self._lock:
            known = self._opened.get(key)
        if known is not None:
            return known
        try:
            response = self._kms.decrypt(
                CiphertextBlob=base64.b64decode(sealed, validate=True),
                EncryptionContext=_context(subscription.merchant_id, subscription.id),
            )
            value = response["Plaintext"].decode()
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in TRANSIENT_KMS_ERRORS:
                raise SecretsUnavailableError(f"KMS {code}") from error
            raise SecretsUnreadableError(f"KMS {code or 'error'}") from error
        except BotoCoreError as error:  # a timeout, a connection that failed
            raise SecretsUnavailableError(type(error).__name__) from error
        except (binascii.Error, UnicodeDecodeError) as error:
            raise SecretsUnreadableError("a sealed value is damaged") from error
        with self._lock:
            if len(self._opened) >= MAX_OPENED:
                self._opened.clear()
            self._opened[key] = value
        return value
