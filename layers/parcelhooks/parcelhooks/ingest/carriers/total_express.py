"""Total Express's tracking codes: the numeric status of each event on a shipment (AWB).

Total Express's SOAP web service (`ObterTracking`, webservice v2.4) gives each event of a
shipment as a `StatusTotal` with three fields: `CodStatus` (a number), `DescStatus` (the
status's words, sometimes with a detail appended: `TRANSFERENCIA PARA: - SAO`,
`RECEBIDO CD DE: - - VIX`) and `DataStatus` (local time, no offset). A carrier key sends
the number as `carrier_status.code` (`104`, or `0104`: a code is a number, leading zeros do
not matter); `type` left out. Only the number is matched, never the words.

The rows are Total Express's own list, "Anexo 1 - Status das Encomendas" of its web service
manual (version 2.5, August 2021), with its wording. Code 0 (`ARQUIVO RECEBIDO`, the
shipment's data file received) is not in that annex but is what the service returns first
for every shipment, in every integration read. Three open-source integrations confirm the
codes: an older copy of the same list (80 codes, 2020) in php-sigep's Total Express plugin,
whose wording differs for a few codes (noted on the rows), the code map and recorded
responses of vnda-tracker, and the responses recorded in callore-testes, whose list of
status texts follows the annex's texts in the annex's order.

Left out: 70 `AVISO ENTREGA/EXECUÇÃO SERVIÇO` (a "notice of delivery or service"; no
source says whether the parcel was delivered, so it is left unmapped rather than guessed),
and 97 `INICIO DE COLETA C EDI`, seen only in one project's recorded responses and in no
list (99 `INÍCIO DE COLETA` is the listed code). The `ArrayStatusEct` events the service
adds once a parcel is handed to Correios are Correios SRO events and belong to the
`correios` vocabulary, not here.

Mapping choices: a delivery that failed at the door and is tried again (absent, address
incomplete, receiver without ID) is `delivery_attempted`; a refusal, loss, theft or damage
is an `exception`, as are returns under way; `DEVOLUÇÃO ... AO CD (CUSTÓDIA)` and
`DEVOLUÇÃO RECEBIDA NO CD` keep the parcel in the carrier's custody (`held`); an insurance
claim settled (`SINISTRO`) is `exception/other`, as the claim may be for loss, theft or
damage; a hand-over to another carrier (`REDESPACH...`) stays `in_transit/other`.
"""

from __future__ import annotations

from parcelhooks.core.statuses import Status, StatusDetail
from parcelhooks.ingest.carriers.table import CarrierTable, Row, number_key

S = Status
D = StatusDetail

SOURCES = {
    "manual": "Total Express, WebService Total Express, versão 2.5 (agosto/2021), Anexo 1 - "
    "Status das Encomendas (the carrier's manual, as published in evozago/FINANCEIRO-LB "
    "@ 895cf68, public/docs/total-express/Manual-APIWebservice-v2.5.pdf)",
    "gh-sigep": "NewtonMan/php-sigep @ 79cbea2, app/Plugin/TotalExpress/sql/"
    "total-express-schema.sql (table total_express_status; open-source integration)",
    "gh-vnda": "vnda/vnda-tracker @ 6bab1d1, app/services/total_express/status_reader.rb and "
    "spec/fixtures/total_express_with_tracking.xml (open-source integration)",
    "gh-callore": "joaocmoleta/callore-testes @ 72dde0d, app/Console/Commands/TrackingTotal.php "
    "(recorded ObterTracking responses) and lang/pt_BR/status.php (open-source integration)",
}

_M = ("manual",)
_MS = ("manual", "gh-sigep")

ROWS = (
    # --- before collection ------------------------------------------------------------
    Row(
        "0",
        S.LABEL_CREATED,
        D.INFO_RECEIVED,
        "ARQUIVO RECEBIDO",
        ("gh-sigep", "gh-vnda", "gh-callore"),
        note="not in Anexo 1; the first status of every shipment",
    ),
    Row("99", S.LABEL_CREATED, D.PICKUP_SCHEDULED, "INÍCIO DE COLETA", _M),
    Row("57", S.LABEL_CREATED, D.PICKUP_FAILED, "PRODUTO NAO DISPONIVEL PARA COLETA", _MS),
    Row("58", S.LABEL_CREATED, D.PICKUP_FAILED, "COLETA REVERSA NÃO SOLICITADA", _MS),
    Row("63", S.CANCELLED, D.PICKUP_CANCELLED, "ORDEM DE COLETA CANCELADA", _MS),
    Row("56", S.CANCELLED, D.BY_SENDER, "CANCELADO PELO REMETENTE", _MS),
    # --- collected ----------------------------------------------------------------------
    Row("83", S.POSTED, D.PICKED_UP, "COLETA REALIZADA", ("manual", "gh-sigep", "gh-callore")),
    Row(
        "84",
        S.POSTED,
        D.PICKED_UP,
        "COLETA REALIZADA C/ NÃO CONFORMIDADE",
        ("manual", "gh-sigep", "gh-vnda"),
        note="collected with a non-conformity (packaging, volumes or data)",
    ),
    Row(
        "60",
        S.POSTED,
        D.PICKED_UP,
        "RMA EXECUTADO",
        _MS,
        note="reverse-logistics (RMA) collection done",
    ),
    # --- in the network -----------------------------------------------------------------
    Row(
        "68",
        S.IN_TRANSIT,
        D.ARRIVED_AT_FACILITY,
        "COLETA RECEBIDA NO CD",
        ("manual", "gh-sigep", "gh-callore"),
    ),
    Row(
        "69",
        S.IN_TRANSIT,
        D.ARRIVED_AT_FACILITY,
        "COLETA RECEBIDA COM NC NO CD DE",
        ("manual", "gh-sigep", "gh-vnda"),
        note="received at the distribution centre with a non-conformity",
    ),
    Row("62", S.IN_TRANSIT, D.ARRIVED_AT_FACILITY, "RMA RECEBIDO NO CD", _MS),
    Row(
        "101",
        S.IN_TRANSIT,
        D.ARRIVED_AT_FACILITY,
        "RECEBIDA E PROCESSADA NO CD",
        ("manual", "gh-sigep", "gh-vnda", "gh-callore"),
    ),
    Row(
        "102",
        S.IN_TRANSIT,
        D.FORWARDED,
        "TRANSFERENCIA PARA:",
        ("manual", "gh-sigep", "gh-vnda", "gh-callore"),
        note="DescStatus carries the destination unit: TRANSFERENCIA PARA: - SAO",
    ),
    Row(
        "103",
        S.IN_TRANSIT,
        D.ARRIVED_AT_FACILITY,
        "RECEBIDO CD DE:",
        ("manual", "gh-sigep", "gh-vnda"),
        note="DescStatus carries the unit it came from: RECEBIDO CD DE: - - VIX",
    ),
    Row(
        "98",
        S.IN_TRANSIT,
        D.OTHER,
        "AGUARDANDO CUBAGEM",
        ("manual", "gh-sigep", "gh-vnda"),
        note="waiting to be measured (cubage) at the distribution centre",
    ),
    Row(
        "80",
        S.IN_TRANSIT,
        D.OTHER,
        "EM AGENDAMENTO",
        ("manual", "gh-sigep", "gh-vnda"),
        note="a delivery appointment is being arranged; no date yet",
    ),
    Row(
        "91",
        S.IN_TRANSIT,
        D.DELIVERY_SCHEDULED,
        "ENTREGA PROGRAMADA",
        ("manual", "gh-sigep", "gh-vnda"),
    ),
    Row(
        "92",
        S.IN_TRANSIT,
        D.CUSTOMS_PROCESSING,
        "EM ANALISE DO POSTO FISCAL",
        ("manual", "gh-sigep", "gh-vnda"),
        note="held for a state tax checkpoint's inspection; php-sigep: PROBLEMAS FISCAIS",
    ),
    Row(
        "38",
        S.IN_TRANSIT,
        D.OTHER,
        "REDESPACHADO CORREIO",
        ("manual", "gh-sigep", "gh-vnda"),
        note="handed to Correios for delivery; Correios' events follow as ArrayStatusEct",
    ),
    Row(
        "106",
        S.IN_TRANSIT,
        D.OTHER,
        "REDESPACHO TRANSPORTADORA",
        _MS,
        note="handed to another carrier for delivery",
    ),
    Row(
        "107",
        S.IN_TRANSIT,
        D.OTHER,
        "REDESPACHO POR CONTA DO CLIENTE",
        _MS,
        note="handed to another carrier, at the customer's expense",
    ),
    Row(
        "109",
        S.IN_TRANSIT,
        D.OTHER,
        "REDESPACHO PARCEIRO LOCAL",
        _M,
        note="handed to a local partner for delivery",
    ),
    # --- out for delivery, delivered, for pickup ----------------------------------------
    Row(
        "104",
        S.OUT_FOR_DELIVERY,
        D.TO_RECIPIENT,
        "PROCESSO DE ENTREGA",
        ("manual", "gh-sigep", "gh-vnda", "gh-callore"),
    ),
    Row(
        "1",
        S.DELIVERED,
        D.TO_RECIPIENT,
        "ENTREGA REALIZADA",
        ("manual", "gh-sigep", "gh-vnda", "gh-callore"),
    ),
    Row(
        "29",
        S.AVAILABLE_FOR_PICKUP,
        D.POST_OFFICE,
        "CLIENTE RETIRA NA TRANSPORTADORA",
        ("manual", "gh-sigep", "gh-vnda"),
        note="the recipient collects it at the carrier's unit",
    ),
    Row("128", S.AVAILABLE_FOR_PICKUP, D.OTHER, "DISPONÍVEL PARA RETIRADA", _M),
    Row(
        "144",
        S.AVAILABLE_FOR_PICKUP,
        D.PICKUP_POINT,
        "DISPONÍVEL PARA RETIRADA REDE PUDO",
        _M,
    ),
    # --- delivery attempted -------------------------------------------------------------
    Row(
        "21",
        S.DELIVERY_ATTEMPTED,
        D.RECIPIENT_ABSENT,
        "CLIENTE AUSENTE/ ESTABELECIMENTO FECHADO",
        ("manual", "gh-sigep", "gh-vnda"),
    ),
    Row(
        "8",
        S.DELIVERY_ATTEMPTED,
        D.RECIPIENT_ABSENT,
        "DUAS OU MAIS VEZES AUSENTE/FECHADO",
        _MS,
    ),
    Row(
        "6",
        S.DELIVERY_ATTEMPTED,
        D.ADDRESS_PROBLEM,
        "ENDERECO DESTINATARIO NAO LOCALIZADO",
        _MS,
    ),
    Row("44", S.DELIVERY_ATTEMPTED, D.ADDRESS_PROBLEM, "FALTA BLOCO DO EDIFICIO / SALA", _MS),
    Row(
        "45",
        S.DELIVERY_ATTEMPTED,
        D.ADDRESS_PROBLEM,
        "FALTA NOME DE CONTATO / DEPARTAMENTO / RAMAL",
        _MS,
    ),
    Row("46", S.DELIVERY_ATTEMPTED, D.ADDRESS_PROBLEM, "FALTA NUMERO APT/CASA", _MS),
    Row("47", S.DELIVERY_ATTEMPTED, D.ADDRESS_PROBLEM, "NUMERO INDICADO NÃO LOCALIZADO", _MS),
    Row(
        "95",
        S.DELIVERY_ATTEMPTED,
        D.ADDRESS_PROBLEM,
        "FALTA DE COMPLEMENTO FISICO",
        _MS,
        note="the address lacks its complement; php-sigep files it with codes 44-47",
    ),
    Row(
        "20",
        S.DELIVERY_ATTEMPTED,
        D.OTHER,
        "ESPERA SUPERIOR A 20 MINUTOS",
        _MS,
        note="the courier waited more than 20 minutes to deliver and left",
    ),
    Row(
        "49",
        S.DELIVERY_ATTEMPTED,
        D.OTHER,
        "AREA RESTRITA DE ACESSO",
        _M,
        note="php-sigep's older list has AREA URBANA NAO ATENDIDA for 49; the manual's kept",
    ),
    Row("59", S.DELIVERY_ATTEMPTED, D.OTHER, "RECEBEDOR SEM IDENTIFICACAO", _MS),
    Row(
        "64",
        S.DELIVERY_ATTEMPTED,
        D.OTHER,
        "DINHEIRO OU CHEQUE NAO DISPONIVEL",
        _MS,
        note="cash on delivery: the recipient had no cash or cheque to pay",
    ),
    # --- refused ------------------------------------------------------------------------
    Row("9", S.EXCEPTION, D.REFUSED, "RECUSADA - MERCADORIA EM DESACORDO", _MS),
    Row(
        "11",
        S.EXCEPTION,
        D.REFUSED,
        "RECUSADA - AVARIA DA MERCADORIA / EMBALAGEM",
        _MS,
        note="refused because the goods or packaging were damaged",
    ),
    Row("16", S.EXCEPTION, D.REFUSED, "RECUSADA - PEDIDO / COLETA EM DUPLICIDADE", _MS),
    Row("40", S.EXCEPTION, D.REFUSED, "CANCELADO PELO DESTINATARIO", _MS),
    Row("52", S.EXCEPTION, D.REFUSED, "RECUSADO POR TERCEIROS", _MS),
    Row("55", S.EXCEPTION, D.REFUSED, "RECUSA - FALTA DE COMPRA", _MS),
    # --- recipient or address not deliverable -------------------------------------------
    Row("39", S.EXCEPTION, D.RECIPIENT_MOVED, "DESTINATARIO MUDOU-SE", _MS),
    Row(
        "42",
        S.EXCEPTION,
        D.RECIPIENT_MOVED,
        "DESTINATARIO DEMITIDO",
        _MS,
        note="the recipient no longer works at the company address",
    ),
    Row("41", S.EXCEPTION, D.RECIPIENT_UNKNOWN, "DESTINATARIO DESCONHECIDO", _MS),
    Row("43", S.EXCEPTION, D.OTHER, "DESTINATARIO FALECEU", _MS),
    Row("53", S.EXCEPTION, D.ADDRESS_PROBLEM, "CONFLITO CEP/LOCALIDADE", _MS),
    Row(
        "13",
        S.EXCEPTION,
        D.OTHER,
        "LOCALIDADE FORA DO PERIMETRO URBANO",
        _MS,
        note="an area the carrier does not serve; php-sigep: CIDADE NAO ATENDIDA",
    ),
    Row(
        "12",
        S.EXCEPTION,
        D.OTHER,
        "SERVIÇO NÃO ATENDIDO",
        ("manual", "gh-sigep", "gh-vnda"),
        note="vnda's recorded response adds the reason: - Falta de Arquivo EDI",
    ),
    Row(
        "65",
        S.EXCEPTION,
        D.OTHER,
        "VALOR DE COD DIVERGENTE",
        _MS,
        note="the cash-on-delivery amount does not match",
    ),
    # --- delays -------------------------------------------------------------------------
    Row("37", S.EXCEPTION, D.DELAYED, "FORA DE ROTA", _MS),
    Row("48", S.EXCEPTION, D.DELAYED, "INTEMPERIES", _MS),
    Row("50", S.EXCEPTION, D.DELAYED, "VEICULO ENTREGADOR AVARIADO", _MS),
    Row("51", S.EXCEPTION, D.DELAYED, "NÃO VISITADO", _MS),
    Row("74", S.EXCEPTION, D.DELAYED, "PERDA DE EMBARQUE POR HORÁRIO DE CORTE", _MS),
    Row("93", S.EXCEPTION, D.DELAYED, "PROBLEMAS OPERACIONAIS", _MS),
    # --- held ---------------------------------------------------------------------------
    Row("15", S.EXCEPTION, D.HELD, "EMBALAGEM EM ANALISE", _MS),
    Row(
        "25",
        S.EXCEPTION,
        D.HELD,
        "DEVOLUÇÃO EM ANDAMENTO AO CD (CUSTÓDIA)",
        ("manual", "gh-sigep", "gh-vnda"),
        note="going back to the distribution centre, into the carrier's custody",
    ),
    Row(
        "26",
        S.EXCEPTION,
        D.HELD,
        "DEVOLUÇÃO RECEBIDA NO CD",
        _MS,
        note="back at the distribution centre, in the carrier's custody",
    ),
    Row(
        "73",
        S.EXCEPTION,
        D.HELD,
        "(NÃO USAR) AGUARDANDO FREQUENCIA PARA DEVOLUÇÃO",
        _MS,
        note="withdrawn (NÃO USAR); php-sigep: AGUARDANDO AUTORIZAÇÃO PARA DEVOLUÇÃO",
    ),
    Row("72", S.EXCEPTION, D.OTHER, "DEVOLUÇÃO REJEITADA PELO REMETENTE", _MS),
    # --- returning, returned ------------------------------------------------------------
    Row("71", S.EXCEPTION, D.RETURNING, "DEVOLUÇÃO EM ANDAMENTO PARA O REMETENTE", _MS),
    Row(
        "34",
        S.EXCEPTION,
        D.RETURNING,
        "DEVOLVIDO PELOS CORREIOS",
        _MS,
        note="Correios gave a redispatched parcel back to Total Express",
    ),
    Row("146", S.EXCEPTION, D.RETURNING, "DEVOLUÇÃO REDE PUDO", _M),
    Row("147", S.EXCEPTION, D.RETURNING, "EM PROCESSO DE DEVOLUÇÃO REDE PUDO", _M),
    Row("145", S.EXCEPTION, D.UNCLAIMED, "ENCOMENDA EXPIRADA REDE PUDO", _M),
    Row("61", S.RETURNED_TO_SENDER, D.DELIVERED_TO_SENDER, "DEVOLVIDA AO REMETENTE", _MS),
    # --- lost, stolen, damaged, destroyed, seized ---------------------------------------
    Row("142", S.EXCEPTION, D.LOST, "EXTRAVIO", ("manual", "gh-callore")),
    Row("18", S.EXCEPTION, D.LOST, "EXTRAVIO / HUB", _MS),
    Row("19", S.EXCEPTION, D.LOST, "EXTRAVIO POR DIVERGÊNCIA DE COLETA", _MS),
    Row("23", S.EXCEPTION, D.LOST, "EXTRAVIO DE MERCADORIA EM TRANSITO", _MS),
    Row(
        "24",
        S.EXCEPTION,
        D.LOST,
        "ACAREAÇÃO SEM SUCESSO \u2013 MERCADORIA EXTRAVIADA",
        _MS,
        note="the inquiry into a disputed delivery failed; the parcel is declared lost",
    ),
    Row("30", S.EXCEPTION, D.LOST, "EXTRAVIO / AGENTE", _MS),
    Row("31", S.EXCEPTION, D.LOST, "EXTRAVIO / COURIER OU MOTORISTA", _MS),
    Row("32", S.EXCEPTION, D.LOST, "EXTRAVIO / TRANSFERÊNCIA AEREA", _MS),
    Row("33", S.EXCEPTION, D.LOST, "EXTRAVIO / TRANSFERÊNCIA RODOVIARIA", _MS),
    Row(
        "35",
        S.EXCEPTION,
        D.LOST,
        "EXTRAVIO / ROUBO - TRANSPORTADORAS",
        _MS,
        note="lost or stolen; the code does not say which",
    ),
    Row(
        "36",
        S.EXCEPTION,
        D.LOST,
        "EXTRAVIO / ROUBO - ECT",
        _MS,
        note="lost or stolen at Correios; the code does not say which",
    ),
    Row(
        "94",
        S.EXCEPTION,
        D.LOST,
        "EXTRAVIO PARCIAL",
        _MS,
        note="part of the shipment (some volumes) is lost",
    ),
    Row("27", S.EXCEPTION, D.STOLEN, "ROUBO DE CARGA", _MS),
    Row("141", S.EXCEPTION, D.STOLEN, "ROUBO", _M),
    Row("14", S.EXCEPTION, D.DAMAGED, "MERCADORIA AVARIADA", _MS),
    Row("143", S.EXCEPTION, D.DAMAGED, "AVARIA", _M),
    Row(
        "90",
        S.EXCEPTION,
        D.DESTROYED,
        "ENCOMENDA DESCARTADA (DESTRUIÇÃO)",
        _MS,
        note="php-sigep: ENCOMENDA DESCARTADA",
    ),
    Row(
        "96",
        S.EXCEPTION,
        D.SEIZED,
        "CONFISCADO RFB",
        _M,
        note="confiscated by the Receita Federal",
    ),
    Row(
        "10",
        S.EXCEPTION,
        D.OTHER,
        "SINISTRO LIQUIDADO",
        ("manual", "gh-sigep", "gh-callore"),
        note="the claim (loss, theft or damage) was settled; the parcel will not arrive",
    ),
    Row(
        "22",
        S.EXCEPTION,
        D.OTHER,
        "MERCADORIA ENVIADA PARA SALVADOS",
        _M,
        note="sent to salvage after a claim; the parcel will not arrive",
    ),
    Row(
        "148",
        S.EXCEPTION,
        D.OTHER,
        "SINISTRO POR ERRO OPERACIONAL",
        _M,
        note="a claim opened for an operational error",
    ),
)

TABLE = CarrierTable(
    name="Total Express",
    how_sent="`carrier_status.code`: Total Express's numeric `CodStatus` (ObterTracking "
    "`StatusTotal`), e.g. `104`; `type` left out",
    sources=SOURCES,
    rows=ROWS,
    key=number_key,
)
