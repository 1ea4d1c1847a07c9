"""Correios SRO events: every published (type, status) pair, its canonical status and detail.

An SRO event is named by two parts: a *type* (letters: `BDE`, `OEC`, `PAR`, ...) and a
*status* number under it (`01`, `20`, ...). The old SRO web service returned them as
`tipo` (the letters) and `status` (the number); the Rastro API returns the letters as
`codigo` and the number as `tipo`. Ours are `carrier_status.type` and
`carrier_status.code`, in the old service's sense.

The rows come from Correios' published list of event statuses ("Lista de Status de
eventos", SRO web service manual, 2016-2017) as embedded in two public code bases, and
from the updated list of the SEI Correios module; where they disagree the newer text is
kept. docs/statuses.md lists every row with its sources; this table is the data, and the
only place a code is mapped.
"""

from __future__ import annotations

from parcelhooks.core.statuses import Status, StatusDetail
from parcelhooks.ingest.carriers.table import CodeMeaning

S = Status
D = StatusDetail

# BDE, BDI and BDR, the outcomes of a delivery ("baixa"), share their status numbers and
# meanings in every published list.
BAIXA = ("BDE", "BDI", "BDR")


# What one SRO (type, status) pair stands for, and Correios' own words for it.
SroEvent = CodeMeaning


_FORWARDED = "Objeto em trânsito - por favor aguarde / Objeto encaminhado"
_RECEIVED = "Objeto recebido na Unidade dos Correios"

# (types, status numbers, canonical status, detail, Correios' text in Portuguese)
_ROWS: tuple[tuple[tuple[str, ...], tuple[int, ...], Status, StatusDetail, str], ...] = (
    # --- BDE / BDI / BDR: the outcome of a delivery run ---------------------------------
    (BAIXA, (0, 1, 70), S.DELIVERED, D.TO_RECIPIENT, "Objeto entregue ao destinatário"),
    (
        BAIXA,
        (2,),
        S.DELIVERY_ATTEMPTED,
        D.RECIPIENT_ABSENT,
        "Carteiro não atendido - Entrega não realizada - Objeto estará disponível para "
        "retirada na unidade a ser informada",
    ),
    (
        BAIXA,
        (3, 12),
        S.EXCEPTION,
        D.UNCLAIMED,
        "Remetente não retirou objeto na Unidade dos Correios - Objeto em análise de destinação",
    ),
    (
        BAIXA,
        (4,),
        S.EXCEPTION,
        D.REFUSED,
        "Cliente recusou-se a receber o objeto - Objeto será devolvido ao remetente",
    ),
    (
        BAIXA,
        (5,),
        S.EXCEPTION,
        D.RETURNING,
        "A entrega não pode ser efetuada - Objeto será devolvido ao remetente",
    ),
    (
        BAIXA,
        (6,),
        S.EXCEPTION,
        D.RECIPIENT_UNKNOWN,
        "Cliente desconhecido no local - Objeto será devolvido ao remetente",
    ),
    (
        BAIXA,
        (7, 8),
        S.EXCEPTION,
        D.RETURNING,
        "Endereço incorreto - Entrega não realizada - Objeto será devolvido ao remetente",
    ),
    (
        BAIXA,
        (9,),
        S.EXCEPTION,
        D.DELAYED,
        "Objeto ainda não chegou à unidade - Por favor, aguarde",
    ),
    (
        BAIXA,
        (10,),
        S.EXCEPTION,
        D.RECIPIENT_MOVED,
        "Cliente mudou-se - Entrega não realizada - Objeto será devolvido ao remetente",
    ),
    (
        BAIXA,
        (13,),
        S.EXCEPTION,
        D.DAMAGED,
        "Objeto atingido por incêndio em unidade operacional",
    ),
    (BAIXA, (14,), S.CANCELLED, D.BY_SENDER, "Desistência de postagem pelo remetente"),
    (
        BAIXA,
        (15,),
        S.IN_TRANSIT,
        D.ARRIVED_AT_DELIVERY_UNIT,
        "Recebido na unidade de distribuição - Por determinação judicial o objeto será "
        "entregue em até 7 dias",
    ),
    (
        BAIXA,
        (18,),
        S.DELIVERY_ATTEMPTED,
        D.RECIPIENT_ABSENT,
        "Carteiro não atendido - Entrega não realizada - Será realizada nova tentativa de "
        "entrega no sábado",
    ),
    (
        BAIXA,
        (19,),
        S.DELIVERY_ATTEMPTED,
        D.ADDRESS_PROBLEM,
        "Endereço incorreto - Entrega não realizada - Objeto sujeito a atraso na entrega ou "
        "a devolução ao remetente",
    ),
    (
        BAIXA,
        (20,),
        S.DELIVERY_ATTEMPTED,
        D.RECIPIENT_ABSENT,
        "Carteiro não atendido - Entrega não realizada - Será realizada nova tentativa de entrega",
    ),
    (
        BAIXA,
        (21,),
        S.EXCEPTION,
        D.RETURNING,
        "Carteiro não atendido - Entrega não realizada - Objeto será devolvido ao remetente",
    ),
    (BAIXA, (22,), S.EXCEPTION, D.OTHER, "Objeto devolvido aos Correios"),
    (
        BAIXA,
        (23,),
        S.RETURNED_TO_SENDER,
        D.DELIVERED_TO_SENDER,
        "Objeto entregue ao remetente",
    ),
    (
        BAIXA,
        (24,),
        S.AVAILABLE_FOR_PICKUP,
        D.PO_BOX,
        "Objeto disponível para retirada em Caixa Postal",
    ),
    (
        BAIXA,
        (25,),
        S.DELIVERY_ATTEMPTED,
        D.BUSINESS_CLOSED,
        "Empresa sem expediente - Entrega não realizada - Entrega deverá ocorrer no próximo "
        "dia útil",
    ),
    (
        BAIXA,
        (26,),
        S.EXCEPTION,
        D.UNCLAIMED,
        "Destinatário não retirou objeto no prazo - Objeto será devolvido ao remetente",
    ),
    (BAIXA, (28,), S.EXCEPTION, D.DAMAGED, "Objeto e/ou conteúdo avariado"),
    (BAIXA, (29,), S.EXCEPTION, D.LOST, "Objeto não localizado"),
    (BAIXA, (30,), S.EXCEPTION, D.DELAYED, "Saída não efetuada - Em tratamento, aguarde"),
    (
        BAIXA,
        (31,),
        S.IN_TRANSIT,
        D.PAYMENT_RECEIVED,
        "Pagamento confirmado - Entrega em até 40 dias úteis",
    ),
    (
        BAIXA,
        (32,),
        S.IN_TRANSIT,
        D.DELIVERY_SCHEDULED,
        "Objeto com data de entrega agendada",
    ),
    (
        BAIXA,
        (33,),
        S.EXCEPTION,
        D.RETURNING,
        "A entrega não pode ser efetuada - Destinatário não apresentou documento exigido - "
        "Objeto será devolvido ao remetente",
    ),
    (
        BAIXA,
        (34,),
        S.DELIVERY_ATTEMPTED,
        D.ADDRESS_PROBLEM,
        "A entrega não pode ser efetuada - Logradouro com numeração irregular - Objeto "
        "sujeito a atraso na entrega ou a devolução ao remetente",
    ),
    (
        BAIXA,
        (35,),
        S.DELIVERY_ATTEMPTED,
        D.OTHER,
        "Coleta ou entrega de objeto não efetuada - Será realizada nova tentativa de coleta "
        "ou entrega",
    ),
    (
        BAIXA,
        (36,),
        S.EXCEPTION,
        D.RETURNING,
        "Coleta ou entrega de objeto não efetuada - Objeto será devolvido ao remetente",
    ),
    (
        BAIXA,
        (37,),
        S.EXCEPTION,
        D.DAMAGED,
        "Objeto e/ou conteúdo avariado por acidente com veículo",
    ),
    (
        BAIXA,
        (38,),
        S.EXCEPTION,
        D.HELD,
        "Objeto endereçado à empresa falida - Objeto será encaminhado para entrega ao "
        "administrador judicial",
    ),
    (
        BAIXA,
        (39,),
        S.EXCEPTION,
        D.HELD,
        "A entrega não pode ser efetuada - Objeto em análise de destinação",
    ),
    (
        BAIXA,
        (40,),
        S.EXCEPTION,
        D.CUSTOMS_HOLD,
        "Não foi autorizada a entrada do objeto no país pelos órgãos fiscalizadores - Objeto "
        "em análise de destinação",
    ),
    (
        BAIXA,
        (41,),
        S.EXCEPTION,
        D.HELD,
        "A entrega do objeto está condicionada à composição do lote",
    ),
    (
        BAIXA,
        (42,),
        S.EXCEPTION,
        D.RETURNING,
        "Lote de objetos incompleto - Objeto será devolvido ao remetente",
    ),
    (
        BAIXA,
        (43,),
        S.EXCEPTION,
        D.SEIZED,
        "Objeto apreendido por órgão de fiscalização ou outro órgão anuente",
    ),
    (
        BAIXA,
        (44,),
        S.EXCEPTION,
        D.CUSTOMS_HOLD,
        "Aguardando órgão anuente apresentar documentação fiscal",
    ),
    (
        BAIXA,
        (45,),
        S.IN_TRANSIT,
        D.ARRIVED_AT_DELIVERY_UNIT,
        "Objeto recebido na unidade de distribuição - Entrega prevista para o próximo dia útil",
    ),
    (
        BAIXA,
        (46,),
        S.DELIVERY_ATTEMPTED,
        D.OTHER,
        "Tentativa de entrega não efetuada - Entrega prevista para o próximo dia útil",
    ),
    (
        BAIXA,
        (47,),
        S.IN_TRANSIT,
        D.DELIVERY_SCHEDULED,
        "Saída para entrega cancelada - Será efetuada nova saída para entrega",
    ),
    (
        BAIXA,
        (48,),
        S.EXCEPTION,
        D.RETURNING,
        "Retirada em Unidade dos Correios não autorizada pelo remetente - Objeto será "
        "devolvido ao remetente",
    ),
    (
        BAIXA,
        (49,),
        S.EXCEPTION,
        D.RETURNING,
        "As dimensões do objeto impossibilitam o tratamento e a entrega - Objeto será "
        "devolvido ao remetente",
    ),
    (BAIXA, (50, 51, 52), S.EXCEPTION, D.STOLEN, "Objeto roubado"),
    (BAIXA, (53,), S.IN_TRANSIT, D.OTHER, "Objeto reimpresso e reenviado"),
    (
        BAIXA,
        (54,),
        S.EXCEPTION,
        D.PAYMENT_REQUIRED,
        "Para recebimento do objeto, é necessário o pagamento do ICMS Importação",
    ),
    (
        BAIXA,
        (55,),
        S.EXCEPTION,
        D.CUSTOMS_HOLD,
        "Solicitada revisão do tributo estabelecido",
    ),
    (
        BAIXA,
        (56,),
        S.EXCEPTION,
        D.CUSTOMS_HOLD,
        "Objeto com declaração aduaneira ausente ou incorreta - Objeto em tratamento e "
        "sujeito a devolução",
    ),
    (
        BAIXA,
        (57,),
        S.IN_TRANSIT,
        D.CUSTOMS_CLEARED,
        "Revisão de tributo concluída - Objeto liberado",
    ),
    (
        BAIXA,
        (58,),
        S.EXCEPTION,
        D.PAYMENT_REQUIRED,
        "Revisão de tributo concluída - Tributo alterado - O valor do tributo pode ter "
        "aumentado ou diminuído",
    ),
    (
        BAIXA,
        (59,),
        S.EXCEPTION,
        D.PAYMENT_REQUIRED,
        "Revisão de tributo concluída - Tributo mantido - Poderá haver incidência de juros e multa",
    ),
    (
        BAIXA,
        (60,),
        S.EXCEPTION,
        D.HELD,
        "O objeto encontra-se aguardando prazo para refugo",
    ),
    (
        BAIXA,
        (61,),
        S.EXCEPTION,
        D.DESTROYED,
        "Objeto refugado - Devolução proibida por órgão anuente ou não contratada pelo remetente",
    ),
    (
        BAIXA,
        (62,),
        S.EXCEPTION,
        D.RETURNING,
        "Em devolução à origem por determinação da Receita Federal",
    ),
    (
        BAIXA,
        (63,),
        S.EXCEPTION,
        D.HELD,
        "Pagamento não efetuado no prazo - Objeto em análise de destinação",
    ),
    (
        BAIXA,
        (64,),
        S.EXCEPTION,
        D.RETURNING,
        "Solicitação de dados não atendida - Objeto será devolvido ao remetente",
    ),
    (
        BAIXA,
        (66,),
        S.EXCEPTION,
        D.DELAYED,
        "Área com distribuição sujeita a prazo diferenciado - Restrição de entrega "
        "domiciliar temporária",
    ),
    (
        BAIXA,
        (67,),
        S.DELIVERED,
        D.TO_NEIGHBOUR,
        "Objeto entregue ao destinatário - Entrega realizada em endereço vizinho, conforme "
        "autorizado pelo remetente",
    ),
    # Older lists: "aguardando retirada em armário inteligente, disponível por até 3 dias";
    # newer: "entregue na Caixa de Correios Inteligente". Either way the buyer must collect it.
    (
        BAIXA,
        (68,),
        S.AVAILABLE_FOR_PICKUP,
        D.LOCKER,
        "Objeto aguardando retirada em armário inteligente (Caixa de Correios Inteligente)",
    ),
    (BAIXA, (69,), S.EXCEPTION, D.DELAYED, "Objeto com atraso na entrega"),
    (
        BAIXA,
        (71, 72, 73, 74, 75, 76),
        S.EXCEPTION,
        D.SEIZED,
        "Objeto apreendido por autoridade (ANVISA, Bombeiros, Exército, IBAMA, Polícia "
        "Federal, Polícia Civil/Militar) - O objeto está em poder da autoridade competente",
    ),
    (BAIXA, (77,), S.EXCEPTION, D.CUSTOMS_HOLD, "Evento RFB - Aguardando DTRAT"),
    (BAIXA, (79,), S.CANCELLED, D.OTHER, "Postagem inexistente"),
    (BAIXA, (80, 98), S.EXCEPTION, D.LOST, "Objeto extraviado / não localizado no fluxo postal"),
    (
        BAIXA,
        (81,),
        S.EXCEPTION,
        D.CUSTOMS_HOLD,
        "Não foi autorizada a saída do objeto do país pelos órgãos fiscalizadores - Objeto "
        "em análise de destinação",
    ),
    (
        BAIXA,
        (82,),
        S.EXCEPTION,
        D.ADDRESS_PROBLEM,
        "Necessário complementar endereço de entrega",
    ),
    (
        BAIXA,
        (83,),
        S.EXCEPTION,
        D.HELD,
        "Ação necessária à liberação do objeto não realizada pelo cliente - Objeto em "
        "análise de destinação",
    ),
    (
        BAIXA,
        (84,),
        S.EXCEPTION,
        D.DELAYED,
        "Verificando situação do objeto - Por favor, aguarde",
    ),
    (
        BAIXA,
        (85,),
        S.IN_TRANSIT,
        D.OTHER,
        "Código do objeto fora do padrão - Objeto será entregue sem rastreamento",
    ),
    (
        BAIXA,
        (86,),
        S.EXCEPTION,
        D.DAMAGED,
        "Objeto com conteúdo avariado - Sem condições de entrega",
    ),
    (BAIXA, (87,), S.EXCEPTION, D.DELAYED, "Objeto destinado a outro país"),
    (
        BAIXA,
        (89,),
        S.EXCEPTION,
        D.RETURNING,
        "Localidade desconhecida no Brasil - Objeto será devolvido ao remetente",
    ),
    # --- posting, collection and moving through the network -----------------------------
    (("PO",), (0, 1), S.POSTED, D.DROPPED_OFF, "Objeto postado"),
    (
        ("PO",),
        (9,),
        S.POSTED,
        D.AFTER_CUTOFF,
        "Objeto postado após o horário limite da unidade - Sujeito a encaminhamento no "
        "próximo dia útil",
    ),
    (("CO",), (1,), S.POSTED, D.PICKED_UP, "Objeto coletado"),
    (("CO",), (2, 3), S.LABEL_CREATED, D.PICKUP_SCHEDULED, "A coletar / Coletando"),
    (("CO",), (4, 14), S.LABEL_CREATED, D.OTHER, "Pedido transferido / Transformado em e-ticket"),
    (("CO",), (5, 13), S.LABEL_CREATED, D.PICKUP_FAILED, "Tentativa de coleta / Não coletado"),
    (
        ("CO",),
        (6, 9),
        S.CANCELLED,
        D.PICKUP_CANCELLED,
        "2ª tentativa de coleta / Coleta cancelada",
    ),
    (
        ("CO",),
        (7, 12),
        S.LABEL_CREATED,
        D.INFO_RECEIVED,
        "Aguardando objeto na agência / Aguardando objeto de entrega",
    ),
    (("CO",), (8,), S.DELIVERED, D.OTHER, "Entregue"),
    (("CO",), (10,), S.CANCELLED, D.BY_SENDER, "Desistência do cliente"),
    (("CO",), (11,), S.EXCEPTION, D.DAMAGED, "Objeto sinistrado"),
    (("RO",), (0, 1), S.IN_TRANSIT, D.FORWARDED, _FORWARDED),
    (("DO",), (0, 1, 2), S.IN_TRANSIT, D.FORWARDED, _FORWARDED),
    (("TRI",), (0,), S.IN_TRANSIT, D.FORWARDED, _FORWARDED),
    (("PMT",), (1,), S.IN_TRANSIT, D.FORWARDED, _FORWARDED),
    (("CD",), (0, 1, 2, 3), S.IN_TRANSIT, D.ARRIVED_AT_FACILITY, _RECEIVED),
    (("CMT",), (0,), S.IN_TRANSIT, D.ARRIVED_AT_FACILITY, _RECEIVED),
    (("CUN",), (0, 1), S.IN_TRANSIT, D.ARRIVED_AT_FACILITY, _RECEIVED),
    (("CAR", "CMR"), (1,), S.IN_TRANSIT, D.ARRIVED_AT_FACILITY, "Conferido"),
    (
        ("EST",),
        (1, 2, 3, 4, 5, 6, 9),
        S.IN_TRANSIT,
        D.CORRECTION,
        "Favor desconsiderar a informação anterior",
    ),
    # --- out for delivery, waiting for pickup -----------------------------------------
    (
        ("OEC",),
        (0, 1),
        S.OUT_FOR_DELIVERY,
        D.TO_RECIPIENT,
        "Objeto saiu para entrega ao destinatário",
    ),
    # Out for delivery *to the sender*: the return leg, not good news for the buyer.
    (
        ("OEC", "LDE"),
        (9,),
        S.EXCEPTION,
        D.RETURNING,
        "Objeto saiu para entrega ao remetente",
    ),
    (("LDE",), (0,), S.EXCEPTION, D.RETURNING, "Objeto saiu para entrega ao remetente"),
    (
        ("LDI",),
        (0, 1, 3, 4, 11, 13, 14),
        S.AVAILABLE_FOR_PICKUP,
        D.POST_OFFICE,
        "Objeto aguardando retirada no endereço indicado - Para retirá-lo, é preciso informar "
        "o código do objeto e apresentar documentação",
    ),
    (
        ("LDI",),
        (2,),
        S.AVAILABLE_FOR_PICKUP,
        D.PO_BOX,
        "Objeto disponível para retirada em Caixa Postal",
    ),
    # --- holds, returns and losses -------------------------------------------------------
    (
        ("BLQ",),
        (1, 2, 4, 5, 11, 21, 22, 41, 42),
        S.EXCEPTION,
        D.HELD,
        "Solicitação de suspensão de entrega recebida / Entrega de objeto bloqueada",
    ),
    (("BLQ",), (31,), S.EXCEPTION, D.LOST, "Extravio varejo pós-indenizado"),
    (
        ("BLQ",),
        (51,),
        S.EXCEPTION,
        D.CUSTOMS_HOLD,
        "Objeto bloqueado por necessidade de revisão de impostos/tributos",
    ),
    (
        ("BLQ",),
        (24, 44, 61),
        S.IN_TRANSIT,
        D.OTHER,
        "Desbloqueado (objeto indenizado, com conteúdo proibido/perigoso, ou outro)",
    ),
    (
        ("BLQ",),
        (54,),
        S.IN_TRANSIT,
        D.CUSTOMS_CLEARED,
        "Desbloqueio de objeto com revisão de impostos/tributos",
    ),
    (
        ("FC",),
        (1, 47),
        S.EXCEPTION,
        D.RETURNING,
        "Objeto será devolvido por solicitação do contratante/remetente",
    ),
    (("FC",), (2,), S.IN_TRANSIT, D.DELIVERY_SCHEDULED, "Objeto com data de entrega agendada"),
    (
        ("FC",),
        (3,),
        S.EXCEPTION,
        D.DELAYED,
        "Objeto mal encaminhado - Encaminhamento a ser corrigido",
    ),
    (
        ("FC",),
        (4,),
        S.DELIVERY_ATTEMPTED,
        D.ADDRESS_PROBLEM,
        "Endereço incorreto - Entrega não realizada - Objeto sujeito a atraso na entrega ou "
        "a devolução ao remetente",
    ),
    (("FC",), (5,), S.EXCEPTION, D.OTHER, "Objeto devolvido aos Correios"),
    (
        ("FC",),
        (7,),
        S.DELIVERY_ATTEMPTED,
        D.BUSINESS_CLOSED,
        "Empresa sem expediente - Entrega não realizada - Entrega deverá ocorrer no próximo "
        "dia útil",
    ),
    (
        ("FC",),
        (8,),
        S.EXCEPTION,
        D.DELAYED,
        "Área com distribuição sujeita a prazo diferenciado - Restrição de entrega "
        "domiciliar temporária",
    ),
    (
        ("FC",),
        (9,),
        S.EXCEPTION,
        D.UNCLAIMED,
        "Remetente não retirou objeto na Unidade dos Correios - Objeto em análise de destinação",
    ),
    (
        ("FC",),
        (10,),
        S.IN_TRANSIT,
        D.ARRIVED_AT_DELIVERY_UNIT,
        "Objeto recebido na unidade de distribuição - Entrega deverá ocorrer no próximo dia útil",
    ),
    (
        ("FC",),
        (11,),
        S.EXCEPTION,
        D.DESTROYED,
        "Objeto destruído com autorização do remetente",
    ),
    (
        ("FC",),
        (12, 19, 24, 27, 32, 33, 34, 35, 37),
        S.IN_TRANSIT,
        D.CUSTOMS_PROCESSING,
        "Objeto encaminhado para fiscalização (ANVISA, ANATEL, Receita Federal, INMETRO, "
        "Polícia Federal, VIGIAGRO, Exército, IBAMA) ou para emissão de DSI",
    ),
    (
        ("FC",),
        (13,),
        S.EXCEPTION,
        D.INFORMATION_REQUIRED,
        "Fiscalizado ANATEL - Seguir orientações do site da ANATEL. Prazo: 10 dias corridos",
    ),
    (
        ("FC",),
        (26,),
        S.EXCEPTION,
        D.PAYMENT_REQUIRED,
        "RFB - Objeto tributado - Emissão da nota de tributação",
    ),
    (("FC",), (29,), S.EXCEPTION, D.SEIZED, "Objeto encaminhado para apreensão"),
    (
        ("FC",),
        (31,),
        S.EXCEPTION,
        D.CUSTOMS_HOLD,
        "Aguardando autorização para exportação",
    ),
    (
        ("FC",),
        (41, 42),
        S.EXCEPTION,
        D.HELD,
        "Problemas na documentação do objeto (procure a agência de postagem) / Objeto contém "
        "líquido, impossibilitando seu transporte",
    ),
    (("FC",), (51,), S.EXCEPTION, D.STOLEN, "Objeto roubado"),
    (("FC",), (55,), S.IN_TRANSIT, D.OTHER, "Encomenda unitizada finalizada"),
    (
        ("IDC",),
        (1, 2, 3, 4, 5, 6, 7),
        S.EXCEPTION,
        D.LOST,
        "Objeto não localizado - Houve indenização dos valores correspondentes",
    ),
    # --- international (PAR: "país de destino", customs and its payments) --------------
    (
        ("PAR",),
        (10, 19),
        S.IN_TRANSIT,
        D.CUSTOMS_CLEARED,
        "Fiscalização aduaneira finalizada",
    ),
    (
        ("PAR",),
        (11, 17, 30),
        S.EXCEPTION,
        D.PAYMENT_REQUIRED,
        "Aguardando pagamento (do despacho postal ou dos tributos)",
    ),
    (
        ("PAR",),
        (12, 21, 22, 32),
        S.IN_TRANSIT,
        D.CUSTOMS_PROCESSING,
        "Encaminhado para fiscalização aduaneira / Informações prestadas pelo cliente em "
        "análise / Aguardando confirmação de pagamento pela operadora",
    ),
    (
        ("PAR",),
        (13,),
        S.RETURNED_TO_SENDER,
        D.RETURNED_TO_ORIGIN_COUNTRY,
        "Objeto devolvido ao país de origem",
    ),
    (
        ("PAR",),
        (14,),
        S.EXCEPTION,
        D.CUSTOMS_HOLD,
        "Revisão de tributos solicitada pelo cliente",
    ),
    (("PAR",), (15,), S.IN_TRANSIT, D.ARRIVED_AT_FACILITY, "Objeto recebido em <unidade>"),
    (
        ("PAR",),
        (16,),
        S.IN_TRANSIT,
        D.INTERNATIONAL_ARRIVAL,
        "Objeto recebido pelos Correios do Brasil",
    ),
    (
        ("PAR",),
        (18,),
        S.IN_TRANSIT,
        D.INTERNATIONAL_ORIGIN,
        "Objeto recebido na unidade de exportação no país de origem",
    ),
    (
        ("PAR",),
        (20,),
        S.EXCEPTION,
        D.DAMAGED,
        "Objeto recebido pelos Correios do Brasil com embalagem danificada",
    ),
    (
        ("PAR",),
        (23, 24, 40),
        S.EXCEPTION,
        D.RETURNING,
        "Devolução ao remetente (autorizada pela Receita Federal, ou a pedido do cliente)",
    ),
    (
        ("PAR",),
        (25,),
        S.EXCEPTION,
        D.INFORMATION_REQUIRED,
        "Faltam informações. Sua ação é necessária",
    ),
    (
        ("PAR",),
        (26,),
        S.EXCEPTION,
        D.REFUSED,
        "Destinatário recusou o objeto - Objeto em análise de destinação",
    ),
    (
        ("PAR",),
        (27, 31),
        S.IN_TRANSIT,
        D.PAYMENT_RECEIVED,
        "Pagamento confirmado / Despacho postal pago na origem",
    ),
    (("PAR",), (28,), S.IN_TRANSIT, D.FORWARDED, "Encaminhado para a unidade de tratamento"),
    (
        ("PAR",),
        (33,),
        S.EXCEPTION,
        D.PAYMENT_REQUIRED,
        "Pagamento não confirmado pela operadora - Entre em contato com sua operadora",
    ),
    (
        ("PAR",),
        (34, 42),
        S.IN_TRANSIT,
        D.CUSTOMS_CLEARED,
        "Objeto liberado / Liberado sem tributação",
    ),
    (
        ("PAR",),
        (41,),
        S.EXCEPTION,
        D.HELD,
        "Prazo de pagamento encerrado - Objeto em análise de destinação",
    ),
)


def sro_number(code: str) -> str:
    """`1`, `01` and `001` are one status: digits as two, anything else upper-cased."""
    code = code.strip()
    if code.isascii() and code.isdigit():
        return f"{int(code):02d}"
    return code.upper()


def _build() -> dict[tuple[str, str], SroEvent]:
    table: dict[tuple[str, str], SroEvent] = {}
    for types, numbers, status, detail, text in _ROWS:
        for event_type in types:
            for number in numbers:
                key = (event_type, f"{number:02d}")
                # A pair listed twice would mean two readings of one code: refuse to load.
                if key in table:
                    raise ValueError(f"SRO {key} is listed twice")
                table[key] = SroEvent(status, detail, text)
    return table


SRO_EVENTS: dict[tuple[str, str], SroEvent] = _build()
