"""J&T Express (Brazil) codes: only the collection-order statuses could be confirmed.

J&T Express Brasil runs J&T's open platform (documentation at open.jtjms-br.com, API at
openapi.jtjms-br.com/webopenplatformapi). Its tracking query (`/logistics/trace`) and its
tracking push (`logistics/statusFeedback`) return, per waybill (`billCode`), a list
`details[]` of scans with `scanTime`, `desc`, `scanType` (a word or phrase naming the scan),
`scanCode`, `problemType` and the scanning unit (`scanNetworkName`, `scanNetworkProvince`,
`scanNetworkCity`, ...). A carrier key sends the event's code as `carrier_status.code`: the
scan's `scanType` words for a tracking event, or the numeric `orderStatus` of a collection
order (`/order/getOrders`). Both are read with `word_key` (case, accents and spacing do not
matter; the order statuses are plain digits without leading zeros).

The rows are the collection-order statuses 100-104 of the Brazilian order query, read from
a public Portuguese transcription of J&T Brasil's API pages; the same five numbers and
meanings (未调派, 已调派网点, 已调派业务员, 已取件, 已取消) are in the order table of J&T's
Chinese open platform. Their Portuguese texts are the transcription's (accents restored),
not necessarily J&T's own words.

Left out, because no public source confirms them for Brazil:
- every `scanType` word. The Brazilian pages name the field but list no values, and no
  public Brazilian integration or sample shows one. Words used by J&T tenants elsewhere
  (Chinese `快件揽收`, `发件扫描`, `到件扫描`, `派件扫描`, `快件签收`, `问题件扫描`,
  `退件扫描`, `退件签收`; English `On Delivery`, `Damage Parcel`, `Lost Parcel`, ... in
  Malaysia and Mexico) may or may not be what Brazil sends.
- the numeric `scanCode`/`scanTypeCode` values (10, 20, 30, 94, 100, 110, 172, 173, 200,
  300-306, 400-405, 700-704 elsewhere): not confirmed for Brazil, and 100 would clash with
  the order status 100 under one key.
- the trace-subscription nodes (`traceNode` 1-5, 10-13, 16), which are given only as
  subscription ids: a pushed event carries its `scanType`, not the node id.
"""

from __future__ import annotations

from parcelhooks.core.statuses import Status, StatusDetail
from parcelhooks.ingest.carriers.table import CarrierTable, Row, word_key

S = Status
D = StatusDetail

SOURCES = {
    "br-doc": (
        "leonardomiranda132/integracaoJeT @ b5a2072, docs/jt-open-platform.md "
        "(Portuguese transcription of J&T Brasil's open platform pages, "
        "https://open.jtjms-br.com/#/apiDoc/orderserve/query, section 'Consultar pedido')"
    ),
}

_TRANSCRIBED = "text from a third-party Portuguese transcription of J&T's page, accents restored"

ROWS = (
    Row(
        "100",
        S.LABEL_CREATED,
        D.INFO_RECEIVED,
        "Ainda não despachado",
        ("br-doc",),
        note=_TRANSCRIBED,
    ),
    Row(
        "101",
        S.LABEL_CREATED,
        D.PICKUP_SCHEDULED,
        "Unidade despachou",
        ("br-doc",),
        note=_TRANSCRIBED,
    ),
    Row(
        "102",
        S.LABEL_CREATED,
        D.PICKUP_SCHEDULED,
        "Operador/entregador foi despachado",
        ("br-doc",),
        note=_TRANSCRIBED,
    ),
    Row("103", S.POSTED, D.PICKED_UP, "Coletado", ("br-doc",), note=_TRANSCRIBED),
    Row("104", S.CANCELLED, D.OTHER, "Cancelado", ("br-doc",), note=_TRANSCRIBED),
)

TABLE = CarrierTable(
    name="J&T Express",
    how_sent=(
        "`carrier_status.code`: the `scanType` words of a J&T Brasil scan (`details[].scanType`)"
        " or the numeric `orderStatus` of a collection order (`type` left out); only the"
        " order statuses are mapped"
    ),
    sources=SOURCES,
    rows=ROWS,
    key=word_key,
)
