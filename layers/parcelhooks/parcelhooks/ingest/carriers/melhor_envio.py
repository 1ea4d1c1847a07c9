"""Melhor Envio's codes: a label's status words and the names of its webhook events.

Melhor Envio is an aggregator: it sells labels of Correios, Jadlog, Loggi, J&T and others
and reports each label ("etiqueta", an `order` of its API, identified by a UUID) through
one life cycle of its own, not through the carriers' scans. Two vocabularies of plain
words describe that cycle, and both are rows here:

- the label's `status` (`pending`, `released`, `posted`, `delivered`, ...), as the API
  returns it (`/api/v2/me/orders`, `/api/v2/me/shipment/tracking`) and as the webhook
  body carries it in `data.status`;
- the webhook's `event` (`order.created`, `order.posted`, ...), one per step of the cycle.
  Some events have no status word we could confirm (`order.paused`, `order.suspended`),
  so the event name is the better code when the webhook is at hand.

A carrier key sends either one as `carrier_status.code` (`type` left out). Both are read
with `word_key`: case and accents do not matter, `-`/`_` read as spaces and the dot of an
event name is kept, so `order.posted` is the code `ORDER.POSTED` and `posted` is `POSTED`.

The rows come from:
- the event table of Melhor Envio's developer page "Webhooks"
  (https://docs.melhorenvio.com.br/docs/webhooks), read through a public transcription:
  the stored copy of the official page gave only its introduction (signature, scope); a
  second, independent transcription in a public integration gives the same eleven events
  with the same meanings, and the official sample body (`"event": "order.posted"` with
  `"status": "posted"`) is quoted in a public dump of the documentation;
- the status words and their Portuguese labels in Melhor Envio's own WooCommerce plugin,
  in a PrestaShop module and in E-Com Plus's app, which read them from the API. The API
  gives only the English word; the Portuguese text of a status row is the plugin's label.

Where the sources do not say more than "delivered" or "cancelled", the detail is `other`:
Melhor Envio does not say who cancelled a label, to whom it was delivered, or whether a
"posted" parcel was dropped off or collected (its services do both).
`undelivered`/`order.undelivered` ("não pôde ser entregue") is an exception with detail
`other`: no source says whether the parcel is returning, lost or held (E-Com Plus treats
it as returned). `order.paused` ("exige ação do destinatário") is also `other`, because
the page does not say what the recipient must do. `order.suspended` is `held`: in Melhor
Envio's help centre a sender suspends a posted shipment's delivery.

Left out:
- `suspended`, `paused` and `expired` as status words: the order object has
  `suspended_at` and `expired_at` and the events `order.suspended`/`order.paused` exist,
  but no citable source shows the words themselves as a `status` value;
- `to_be_generated` and `to_be_shipped`: the PrestaShop module's own states, not the API's;
- `order.canceled` and `cancelled` (spellings some integrations also accept): the page
  names the event `order.cancelled` and the API's status is `canceled`;
- the carriers' own scans, which Melhor Envio's webhook does not forward: each carrier's
  table maps them.
"""

from __future__ import annotations

from parcelhooks.core.statuses import Status, StatusDetail
from parcelhooks.ingest.carriers.table import CarrierTable, Row, word_key

S = Status
D = StatusDetail

SOURCES = {
    "me-webhooks": (
        "Vivaliz-site/site-shopvivaliz @ b8f14f8, docs/MELHORENVIO-API.md (transcription of "
        "Melhor Envio's developer page 'Webhooks', https://docs.melhorenvio.com.br/docs/webhooks:"
        " event table, headers and sample body)"
    ),
    "gh-wp": (
        "melhorenvio/wp-melhorenvio-v2 @ b757d8a, Helpers/TranslateStatusHelper.php and "
        "assets/src/admin/utils/status.js (Melhor Envio's own WooCommerce plugin)"
    ),
    "gh-ag": (
        "agtiengbr/agmelhorenvio @ 6cc281f, classes/AgMelhorEnvioLabel.php (getStatusText) and "
        "lib/enum/AgMelhorEnvioLabelsStatusesEnum.php (PrestaShop module)"
    ),
    "gh-ecom": (
        "ecomplus/app-melhor-envio @ 6ad8207, lib/melhor-envio/tracking-codes.js (E-Com Plus app;"
        " reads `status` from /api/v2/me/shipment/tracking)"
    ),
}

_PLUGIN = "label of Melhor Envio's WooCommerce plugin; the API sends only the English word"
_MODULE = "label of the PrestaShop module; the API sends only the English word"
_EVENTS = "the Webhooks page's description of the event, as transcribed"

ROWS = (
    # --- the label's status (`status`, webhook `data.status`) ---------------------------
    Row("PENDING", S.LABEL_CREATED, D.OTHER, "Pendente", ("gh-wp", "gh-ag"), note=_PLUGIN),
    Row(
        "RELEASED",
        S.LABEL_CREATED,
        D.INFO_RECEIVED,
        "Liberado",
        ("gh-wp", "gh-ag"),
        note=_PLUGIN,
    ),
    Row("PAID", S.LABEL_CREATED, D.INFO_RECEIVED, "Paga", ("gh-wp", "gh-ag"), note=_PLUGIN),
    Row("GENERATED", S.LABEL_CREATED, D.INFO_RECEIVED, "Gerada", ("gh-wp",), note=_PLUGIN),
    Row(
        "PRINTED",
        S.LABEL_CREATED,
        D.INFO_RECEIVED,
        "Etiqueta Impressa",
        ("gh-ag", "gh-wp"),
        note=_MODULE,
    ),
    Row(
        "RECEIVED",
        S.POSTED,
        D.DROPPED_OFF,
        "Recebida na transportadora",
        ("gh-ag",),
        note=_MODULE + "; the event order.received says at a Pegaki drop-off point",
    ),
    Row("POSTED", S.POSTED, D.OTHER, "Postado", ("gh-wp", "gh-ag", "gh-ecom"), note=_PLUGIN),
    Row(
        "DELIVERED",
        S.DELIVERED,
        D.OTHER,
        "Entregue",
        ("gh-wp", "gh-ag", "gh-ecom"),
        note=_PLUGIN,
    ),
    Row(
        "CANCELED",
        S.CANCELLED,
        D.OTHER,
        "Cancelado",
        ("gh-wp", "gh-ag", "gh-ecom"),
        note=_PLUGIN,
    ),
    Row(
        "UNDELIVERED",
        S.EXCEPTION,
        D.OTHER,
        "Não entregue",
        ("gh-wp", "gh-ecom"),
        note=_PLUGIN,
    ),
    # --- webhook events (`event`) -------------------------------------------------------
    Row(
        "ORDER.CREATED",
        S.LABEL_CREATED,
        D.OTHER,
        "Etiqueta é criada",
        ("me-webhooks",),
        note=_EVENTS,
    ),
    Row(
        "ORDER.PENDING",
        S.LABEL_CREATED,
        D.OTHER,
        "Etiqueta é retornada para o carrinho",
        ("me-webhooks",),
        note=_EVENTS,
    ),
    Row(
        "ORDER.RELEASED",
        S.LABEL_CREATED,
        D.INFO_RECEIVED,
        "Etiqueta é paga",
        ("me-webhooks",),
        note=_EVENTS,
    ),
    Row(
        "ORDER.GENERATED",
        S.LABEL_CREATED,
        D.INFO_RECEIVED,
        "Etiqueta é gerada",
        ("me-webhooks",),
        note=_EVENTS,
    ),
    Row(
        "ORDER.RECEIVED",
        S.POSTED,
        D.DROPPED_OFF,
        "Encomenda é recebida em um ponto de distribuição Pegaki",
        ("me-webhooks",),
        note=_EVENTS,
    ),
    Row(
        "ORDER.POSTED",
        S.POSTED,
        D.OTHER,
        "Encomenda é postada",
        ("me-webhooks",),
        note=_EVENTS,
    ),
    Row(
        "ORDER.DELIVERED",
        S.DELIVERED,
        D.OTHER,
        "Encomenda é entregue",
        ("me-webhooks",),
        note=_EVENTS,
    ),
    Row(
        "ORDER.CANCELLED",
        S.CANCELLED,
        D.OTHER,
        "Etiqueta é cancelada",
        ("me-webhooks",),
        note=_EVENTS,
    ),
    Row(
        "ORDER.UNDELIVERED",
        S.EXCEPTION,
        D.OTHER,
        "Encomenda não pôde ser entregue",
        ("me-webhooks",),
        note=_EVENTS,
    ),
    Row(
        "ORDER.PAUSED",
        S.EXCEPTION,
        D.OTHER,
        "Entrega interrompida, exige ação do destinatário",
        ("me-webhooks",),
        note=_EVENTS + "; the page does not say what the recipient must do",
    ),
    Row(
        "ORDER.SUSPENDED",
        S.EXCEPTION,
        D.HELD,
        "Encomenda é suspensa",
        ("me-webhooks",),
        note=_EVENTS,
    ),
)

TABLE = CarrierTable(
    name="Melhor Envio",
    how_sent=(
        "`carrier_status.code`: the webhook's `event` name (`order.posted`) or the label's"
        " `status` word (`posted`, the webhook's `data.status`); `type` left out"
    ),
    sources=SOURCES,
    rows=ROWS,
    key=word_key,
)
