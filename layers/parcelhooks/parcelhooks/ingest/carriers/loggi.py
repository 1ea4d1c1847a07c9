"""Loggi's tracking codes: the numeric `status.code` of its tracking API and webhook.

Loggi (API platform at docs.api.loggi.com) reports a package's state as a `status` object:
a numeric `code`, a short Portuguese name (`highLevelStatus`, e.g. "Entregue"), a longer
`description`, an optional `actionRequired` (what the shipper must do) and `updatedTime`
(UTC). The webhook sends `code` as a string ("5"); the TrackingAPI schema declares it an
integer. A Loggi carrier key sends that number as `carrier_status.code`; `type` left out,
and `1`, `01` and `"1"` are one code.

Loggi's own list of codes (the "TrackingAPI" reference page, about 30 codes) could not be
read from a stored copy. The rows therefore come from the webhook reference (code 5 and its
wording) and from public integrations that copied the list: a webhook receiver (gh-flynow),
an integration study with its status mapper (gh-craftsman) and integration notes
(gh-tech7). A row is kept when a cited source gives both the number and its name. The text
is the name those sources give (Loggi's `highLevelStatus`); only code 5 also has Loggi's
`description`.

Left out: 3, 24 and 25 (listed by gh-craftsman as in-transit codes, with no name anywhere
citable); 4 and 30 (also in-transit per gh-craftsman; their names, "Preparando para
entrega" and "Entregue a transportadora", appear only in one uncitable file). An unlisted
code arrives as `unknown`.
"""

from __future__ import annotations

from parcelhooks.core.statuses import Status, StatusDetail
from parcelhooks.ingest.carriers.table import CarrierTable, Row, number_key

S = Status
D = StatusDetail

SOURCES = {
    "api": "Loggi API reference, Receber Webhook (payload example, code 5) — "
    "https://docs.api.loggi.com/reference/webhook",
    "gh-flynow": "Elgrancarlo/SistemaFlyNow @ 8502f03, app/api/webhooks/h7/route.ts "
    "(Loggi webhook receiver: status code map with Loggi's names)",
    "gh-craftsman": "felipealves0891/Craftsman @ 0f3afad, "
    ".codex/tasks/integration/plan-in-009.md (Loggi integration study: codes and names); "
    "@ 4949741, src/Infra/Integrations/Loggi/LoggiTrackingStatusMapper.cs",
    "gh-tech7": "eduardomourao/TECH7 @ c509343, findings.md "
    "(notes on the Loggi tracking API: codes and names)",
}

ROWS = (
    # --- before the parcel is with Loggi -------------------------------------------------
    Row("1", S.LABEL_CREATED, D.INFO_RECEIVED, "Adicionado", ("gh-craftsman", "gh-tech7")),
    Row(
        "28",
        S.LABEL_CREATED,
        D.PICKUP_SCHEDULED,
        "Coleta pendente",
        ("gh-craftsman",),
        note="a collection from the shipper is pending",
    ),
    Row("2", S.CANCELLED, D.OTHER, "Cancelado", ("gh-flynow", "gh-craftsman", "gh-tech7")),
    # --- collected and moving through the network -----------------------------------------
    Row("14", S.POSTED, D.PICKED_UP, "Coletado", ("gh-tech7", "gh-craftsman")),
    Row("13", S.IN_TRANSIT, D.OTHER, "Conferido", ("gh-flynow", "gh-craftsman")),
    Row("15", S.IN_TRANSIT, D.OTHER, "Medido e pesado", ("gh-flynow", "gh-craftsman")),
    Row("16", S.IN_TRANSIT, D.FORWARDED, "Saiu de uma base", ("gh-flynow", "gh-craftsman")),
    Row(
        "17",
        S.IN_TRANSIT,
        D.ARRIVED_AT_FACILITY,
        "Chegou em uma base",
        ("gh-flynow", "gh-craftsman"),
    ),
    Row(
        "11",
        S.OUT_FOR_DELIVERY,
        D.TO_RECIPIENT,
        "Em rota",
        ("gh-flynow", "gh-tech7"),
        note="Loggi's delivery run; cancelling is no longer guaranteed once it is em rota",
    ),
    # --- delivery and its failures --------------------------------------------------------
    Row(
        "5",
        S.DELIVERED,
        D.TO_RECIPIENT,
        "Entregue — O pacote foi recebido no endereço de entrega.",
        ("api", "gh-flynow", "gh-craftsman", "gh-tech7"),
        note="highLevelStatus and description as in the webhook example",
    ),
    Row(
        "18",
        S.DELIVERY_ATTEMPTED,
        D.RECIPIENT_ABSENT,
        "Destinatário ausente",
        ("gh-flynow", "gh-craftsman"),
    ),
    Row(
        "21",
        S.DELIVERY_ATTEMPTED,
        D.ADDRESS_PROBLEM,
        "Endereço errado",
        ("gh-flynow", "gh-craftsman", "gh-tech7"),
        note="the shipper can correct the address through Loggi's package update API",
    ),
    Row("12", S.DELIVERY_ATTEMPTED, D.OTHER, "Imprevisto", ("gh-craftsman",)),
    Row(
        "10",
        S.AVAILABLE_FOR_PICKUP,
        D.POST_OFFICE,
        "Retirar nos correios",
        ("gh-craftsman",),
        note="handed to Correios; the recipient collects it at a post office",
    ),
    # --- exceptions -----------------------------------------------------------------------
    Row(
        "22",
        S.EXCEPTION,
        D.OTHER,
        "Aguardando ação do remetente",
        ("gh-flynow", "gh-craftsman", "gh-tech7"),
        note="the shipper (not the buyer) must act; see status.actionRequired",
    ),
    Row(
        "26",
        S.EXCEPTION,
        D.OTHER,
        "Dados incorretos ou inválidos",
        ("gh-tech7", "gh-craftsman"),
        note="gh-tech7 writes it without accents; gh-craftsman shortens it to 'Dados incorretos'",
    ),
    Row("27", S.EXCEPTION, D.OTHER, "Pacote não integrado", ("gh-craftsman", "gh-tech7")),
    Row(
        "20",
        S.EXCEPTION,
        D.HELD,
        "Pendência interna",
        ("gh-craftsman",),
        note="an internal issue at Loggi; read as held under review",
    ),
    Row(
        "29",
        S.EXCEPTION,
        D.CUSTOMS_HOLD,
        "Retido pela fiscalização",
        ("gh-craftsman",),
        note="held by the tax inspection (fiscalização), not by customs proper",
    ),
    Row(
        "6",
        S.EXCEPTION,
        D.REFUSED,
        "Recusado pelo destinatário",
        ("gh-flynow", "gh-craftsman"),
        note="gh-craftsman: 'Recusado'",
    ),
    Row("7", S.EXCEPTION, D.RETURNING, "Devolução iniciada", ("gh-flynow", "gh-craftsman")),
    Row("9", S.EXCEPTION, D.LOST, "Extraviado", ("gh-craftsman",)),
    Row("19", S.EXCEPTION, D.DAMAGED, "Avariado", ("gh-craftsman",)),
    Row("23", S.EXCEPTION, D.STOLEN, "Roubado/furtado", ("gh-craftsman",)),
    # --- back with the shipper ------------------------------------------------------------
    Row(
        "8",
        S.RETURNED_TO_SENDER,
        D.DELIVERED_TO_SENDER,
        "Devolvido",
        ("gh-flynow", "gh-craftsman"),
    ),
)

TABLE = CarrierTable(
    name="Loggi",
    how_sent="`carrier_status.code`: Loggi's numeric `status.code` (`type` left out)",
    sources=SOURCES,
    rows=ROWS,
    key=number_key,
)
