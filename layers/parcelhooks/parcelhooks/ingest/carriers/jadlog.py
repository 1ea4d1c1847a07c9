"""Jadlog's tracking status words: each word's canonical status and detail.

Jadlog names a tracking event by a status *word* in capitals, without accents: `EMISSAO`,
`ENTRADA`, `TRANSFERENCIA`, `EM ROTA`, `ENTREGUE`. The embarcador REST API
(`POST /embarcador/api/tracking/consultar`) returns it as `consulta[].tracking.eventos[].status`
(with `data` and `unidade`), and repeats the latest one as `consulta[].tracking.status`; the
older SOAP service (`TrackingBean.consultar`) gave the same words as `Evento/Descricao`, and
the public tracking page (`tracking_dev.jad`) shows them in its status column, sometimes with
a trailing space. A carrier key sends the word as `carrier_status.code` (`type` is read only
when `code` is empty); case, accents, `_`/`-` and extra spaces do not matter.

Jadlog publishes no list of these words outside its integration manual (a PDF handed to
customers), so the rows come from open-source integrations and from tracking histories
captured from Jadlog's API and public tracking page and kept in public repositories. Only
words seen in real responses or in the status lists of integrations are here, each with the
meaning its sequence shows: `COLETA SOLICITADA` (collection requested) comes before the
parcel is collected; `EMISSAO` (the CT-e is issued) follows the collection or the drop-off at
a Jadlog unit, so the parcel is in Jadlog's hands; `ENTRADA` is a scan into a unit and
`TRANSFERENCIA` a dispatch to another one; `EM ROTA` is out for delivery. `ANALISE` is only
in one integration's status list ("in analysis with our team"), read as held for review.

Left out, for want of a second or citable source or of a fixed spelling: `UNITIZADO` (seen
once, in a 2018 tracking-page capture), `CANCELADA A PEDIDO` (one integration's mapping of
`tracking.status`), `NAO ENTROU NA UNIDADE` (no citable source), `DEPOSITADO NO PUDO
BR14414` (the word carries the pickup point's id, so it is not one code), and the words of
Jadlog's internal delivery reports (`ENTREGUE NO PICKUP`, `EM ROTA PICKUP`, `CUSTODIA`), seen
in one franchise dashboard only. Words such as DEVOLUCAO, EXTRAVIO or AGUARDANDO RETIRADA
were searched for and not found in any Jadlog source; a word missing here arrives as
`unknown` with its text.
"""

from __future__ import annotations

from parcelhooks.core.statuses import Status, StatusDetail
from parcelhooks.ingest.carriers.table import CarrierTable, Row, word_key

S = Status
D = StatusDetail

SOURCES = {
    "gh-vnda": "vnda/vnda-tracker @ 5b7107b, app/services/jadlog.rb and "
    "spec/services/jadlog_spec.rb (Jadlog tracking/consultar client; maps EMISSAO, ENTRADA, "
    "TRANSFERENCIA, EM ROTA, ENTREGUE)",
    "gh-eloom": "eloom/module-jadlog @ f2e337e, src/module-jadlog/Lib/Jadlog/Evento.php "
    "(Magento 2 Jadlog module; its list of Jadlog status words with customer texts)",
    "gh-tiagocordeiro": "tiagocordeiro/jadlog @ 55521ff, tests/mocks/pedido-eventos-mock.json "
    "(events of a 2018 shipment from Jadlog's TrackingBean web service)",
    "gh-woocommerce": "Jadlog/woocommerce @ d72c870, "
    "woocommerce-jadlog/tests/mockserver/initializerJson.json (Jadlog's own WooCommerce "
    "plugin; mock of the tracking/consultar response)",
    "gh-jadlog-api": "gabrielfariasnunes/jadlog-api @ 811295e, README.md (a 2023 tracking "
    "history read from Jadlog's public tracking page)",
    "gh-jadlog-bot": "agentkyo/jadlog_bot @ fda3d7f, app/database/db.json (a 2024 Jadlog "
    "Pickup tracking history stored from Jadlog's public tracking page)",
}

_COMMON = ("gh-vnda", "gh-eloom", "gh-tiagocordeiro", "gh-jadlog-api")

ROWS = (
    Row(
        "COLETA SOLICITADA",
        S.LABEL_CREATED,
        D.PICKUP_SCHEDULED,
        "COLETA SOLICITADA",
        ("gh-jadlog-api", "gh-jadlog-bot"),
    ),
    Row(
        "COLETA EFETUADA PELO MOTORISTA",
        S.POSTED,
        D.PICKED_UP,
        "COLETA EFETUADA PELO MOTORISTA",
        ("gh-jadlog-bot",),
        note="one citable capture; the same word is in another public integration's tests",
    ),
    Row("EMISSAO", S.POSTED, D.OTHER, "EMISSAO", _COMMON),
    Row("ENTRADA", S.IN_TRANSIT, D.ARRIVED_AT_FACILITY, "ENTRADA", _COMMON),
    Row("TRANSFERENCIA", S.IN_TRANSIT, D.FORWARDED, "TRANSFERENCIA", _COMMON),
    Row(
        "TRANSFERIDO PARA UNIDADE",
        S.IN_TRANSIT,
        D.FORWARDED,
        "TRANSFERIDO PARA UNIDADE",
        ("gh-jadlog-bot",),
        note="one citable capture (after TRANSFERENCIA, same document); also matched by "
        "other public tracking-page readers",
    ),
    Row("EM ROTA", S.OUT_FOR_DELIVERY, D.TO_RECIPIENT, "EM ROTA", _COMMON),
    Row("ENTREGUE", S.DELIVERED, D.TO_RECIPIENT, "ENTREGUE", (*_COMMON, "gh-woocommerce")),
    Row(
        "ANALISE",
        S.EXCEPTION,
        D.HELD,
        "ANALISE",
        ("gh-eloom",),
        note="meaning from the integration's text: 'em análise com nossa equipe'",
    ),
)

TABLE = CarrierTable(
    name="Jadlog",
    how_sent="`carrier_status.code`: Jadlog's status word of the event "
    "(`consulta[].tracking.eventos[].status`, e.g. `EM ROTA`); `type` left out",
    sources=SOURCES,
    rows=ROWS,
    key=word_key,
)
