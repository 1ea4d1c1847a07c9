"""Mercado Envios (Mercado Livre's shipping): every published shipment status and sub-status.

A Mercado Livre shipment (`GET /shipments/{id}`) has a `status` (`ready_to_ship`,
`shipped`, `delivered`, ...) and, under it, a `substatus` (`printed`, `out_for_delivery`,
...) or `null`. The same sub-status word can mean different things under two statuses
(`receiver_absent` under `shipped` is an attempt, under `not_delivered` the end of the
road), so a code is the pair. A carrier key sends the status as `carrier_status.type` and
the sub-status as `carrier_status.code`; the row for a status alone (`shipped`) is for a
status sent with no sub-status. Mercado Livre's own notification (topic `shipments`) only
names the shipment; the status is read from the shipment resource.

The rows are the `/shipment_statuses` list as Mercado Livre's developer documentation
prints it ("Gerenciamento de Envios", 2026), checked against two open-source integrations
that list the same codes. Its names are English; the Portuguese texts are Mercado Livre's
own only where its Portuguese pages give them (the ME1 "Status de pedidos e rastreamento"
table and the "Status e substatus Front vs API" tracking table); every other text is a
short translation of the English name and says so in `note`. `shipped/unauthorized_receiver`
is only in the ME1 table, where a seller reports a failed delivery.

How codes were mapped: a shipment that the seller (or the Full warehouse) is still
preparing is `label_created`, whatever internal step it is at; collection steps are
`pickup_scheduled`. `stale`, `delayed` and, before delivery, the `claimed_me` and
`negative_feedback` variants (a late shipment the buyer complained about) are
`exception`/`delayed`; under `not_delivered` the last two are `other`. Under `shipped`,
failed deliveries are `delivery_attempted`; under `not_delivered` the same reasons are
exceptions, as the shipment will not be delivered. Mercado Livre closes some shipments as
`delivered` on the buyer's feedback or silence (`inferred`, `no_action_taken`,
`fulfilled_feedback`); they stay `delivered`/`other`. `cancelled` sub-statuses are
`cancelled`/`other`: none says who cancelled. A few documented sub-statuses whose meaning
Mercado Livre does not explain (`shipped/failover`, `shipped/waiting_for_confirmation`,
`shipped/reclaimed`) are mapped by their status alone, with the generic detail.

Left out: the statuses `not_verified`, `closed`, `active` and `not_specified`, listed with
no sub-status and no explanation; none says where a parcel stands. The order statuses
(`paid`, `confirmed`, ...) and the return (claim) statuses are other resources, not
shipment codes.
"""

from __future__ import annotations

from parcelhooks.core.statuses import Status, StatusDetail
from parcelhooks.ingest.carriers.table import CarrierTable, Row, status_substatus_key

S = Status
D = StatusDetail

SOURCES = {
    "api": "Mercado Livre developers, Gerenciamento de Envios: /shipment_statuses and "
    "'Status e substatus Front vs API' — "
    "https://developers.mercadolivre.com.br/pt_br/gerenciamento-de-envios",
    "me1": "Mercado Livre developers, Status de pedidos e rastreamento (ME1), 'Status e "
    "substatus de envio' — "
    "https://developers.mercadolivre.com.br/pt-br/status-de-pedidos-rastreamento",
    "gh-wolfx": "wolfxweb/apiwolfx @ 7515f0b, STATUS_MERCADO_LIVRE.md (open-source integration)",
    "gh-meli": "ctmil/meli_oerp @ d2ae072, models/sale_order.py (open-source Odoo connector)",
}

# Where each pair was read: the documentation's list, and the integrations that repeat it.
A = ("api",)
AW = ("api", "gh-wolfx")
AWM = ("api", "gh-wolfx", "gh-meli")
AM = ("api", "gh-meli")

T = "text translated from the English name in /shipment_statuses"
T_VAGUE = "meaning not documented: mapped by its status alone; " + T

ROWS = (
    # --- statuses with no sub-status --------------------------------------------------
    Row("to_be_agreed", S.LABEL_CREATED, D.OTHER, "A combinar", AWM, note=T),
    Row("pending", S.LABEL_CREATED, D.INFO_RECEIVED, "Pendente", AWM, note=T),
    Row("handling", S.LABEL_CREATED, D.INFO_RECEIVED, "Estamos preparando o seu pacote", AWM),
    Row("ready_to_ship", S.LABEL_CREATED, D.INFO_RECEIVED, "Pronto para envio", AWM, note=T),
    Row("shipped", S.IN_TRANSIT, D.OTHER, "Enviado", ("api", "me1", "gh-wolfx", "gh-meli")),
    Row(
        "delivered",
        S.DELIVERED,
        D.TO_RECIPIENT,
        "Entregue ao comprador",
        ("api", "me1", "gh-wolfx", "gh-meli"),
    ),
    Row("not_delivered", S.EXCEPTION, D.OTHER, "Não entregue", AWM, note=T),
    Row("cancelled", S.CANCELLED, D.OTHER, "Cancelado", AWM, note=T),
    Row("error", S.EXCEPTION, D.OTHER, "Erro", AWM, note=T),
    Row(
        "stale_ready_to_ship",
        S.EXCEPTION,
        D.DELAYED,
        "Pronto para envio, sem despacho no prazo",
        AWM,
        note=T,
    ),
    Row("stale_shipped", S.EXCEPTION, D.DELAYED, "Enviado, sem atualização no prazo", AWM, note=T),
    # --- pending: the shipment exists, the sale or its shipping is not settled yet -------
    Row("pending/cost_exceeded", S.LABEL_CREATED, D.OTHER, "Custo de envio excedido", AWM, note=T),
    Row(
        "pending/under_review",
        S.LABEL_CREATED,
        D.OTHER,
        "Em revisão (ex.: suspeita de fraude)",
        AWM,
        note=T,
    ),
    Row("pending/reviewed", S.LABEL_CREATED, D.OTHER, "Revisado", AWM, note=T),
    Row("pending/fraudulent", S.EXCEPTION, D.OTHER, "Fraudulento", AWM, note=T),
    Row(
        "pending/waiting_for_payment",
        S.LABEL_CREATED,
        D.OTHER,
        "Aguardando a confirmação do pagamento do frete",
        AWM,
        note=T,
    ),
    Row("pending/shipment_paid", S.LABEL_CREATED, D.INFO_RECEIVED, "Frete pago", AWM, note=T),
    Row("pending/creating_route", S.LABEL_CREATED, D.INFO_RECEIVED, "Rota criada", AW, note=T),
    Row("pending/manufacturing", S.LABEL_CREATED, D.OTHER, "Em fabricação", AW, note=T),
    Row("pending/buffered", S.LABEL_CREATED, D.OTHER, "Envio em espera (buffer)", AW, note=T),
    Row(
        "pending/creating_shipping_order",
        S.LABEL_CREATED,
        D.INFO_RECEIVED,
        "Criando a ordem de envio",
        AW,
        note=T,
    ),
    # --- handling: paid, the seller prepares it; no label yet ---------------------------
    Row("handling/regenerating", S.LABEL_CREATED, D.INFO_RECEIVED, "Regenerando", AWM, note=T),
    Row(
        "handling/waiting_for_label_generation",
        S.LABEL_CREATED,
        D.INFO_RECEIVED,
        "Aguardando a geração da etiqueta",
        AWM,
        note=T,
    ),
    Row("handling/invoice_pending", S.LABEL_CREATED, D.OTHER, "Nota fiscal pendente", AWM, note=T),
    Row(
        "handling/waiting_for_return_confirmation",
        S.LABEL_CREATED,
        D.OTHER,
        "Aguardando confirmação da devolução",
        AWM,
        note=T,
    ),
    Row("handling/return_confirmed", S.LABEL_CREATED, D.OTHER, "Devolução confirmada", AWM, note=T),
    Row("handling/manufacturing", S.LABEL_CREATED, D.OTHER, "Em fabricação", AWM, note=T),
    Row(
        "handling/agency_unavailable", S.LABEL_CREATED, D.OTHER, "Agência indisponível", AW, note=T
    ),
    # --- ready_to_ship: label ready; the parcel is being handed over --------------------
    Row(
        "ready_to_ship/ready_to_print",
        S.LABEL_CREATED,
        D.INFO_RECEIVED,
        "Etiqueta pronta para imprimir",
        AWM,
        note=T,
    ),
    Row(
        "ready_to_ship/invoice_pending",
        S.LABEL_CREATED,
        D.OTHER,
        "Nota fiscal pendente",
        A,
        note=T,
    ),
    Row(
        "ready_to_ship/printed", S.LABEL_CREATED, D.INFO_RECEIVED, "Etiqueta impressa", AWM, note=T
    ),
    Row(
        "ready_to_ship/in_pickup_list",
        S.LABEL_CREATED,
        D.PICKUP_SCHEDULED,
        "Na lista de coleta",
        AWM,
        note=T,
    ),
    Row(
        "ready_to_ship/ready_for_pkl_creation",
        S.LABEL_CREATED,
        D.INFO_RECEIVED,
        "Pronto para a criação da PKL",
        AWM,
        note=T,
    ),
    Row(
        "ready_to_ship/ready_for_pickup",
        S.LABEL_CREATED,
        D.PICKUP_SCHEDULED,
        "Pronto para coleta",
        AWM,
        note=T,
    ),
    Row(
        "ready_to_ship/ready_for_dropoff",
        S.LABEL_CREATED,
        D.INFO_RECEIVED,
        "Pronto para ser levado ao ponto de despacho",
        AWM,
        note=T,
    ),
    # "Status e substatus Front vs API" (cross docking): "A caminho".
    Row("ready_to_ship/picked_up", S.POSTED, D.PICKED_UP, "O vendedor enviou o seu pacote", AWM),
    Row(
        "ready_to_ship/stale",
        S.EXCEPTION,
        D.DELAYED,
        "Pronto para envio há muito tempo, sem despacho",
        AWM,
        note=T,
    ),
    Row(
        "ready_to_ship/dropped_off",
        S.POSTED,
        D.DROPPED_OFF,
        "Entregue em um ponto Melipoint",
        AWM,
        note=T,
    ),
    Row("ready_to_ship/delayed", S.EXCEPTION, D.DELAYED, "Atrasado", AW, note=T),
    Row(
        "ready_to_ship/claimed_me",
        S.EXCEPTION,
        D.DELAYED,
        "Envio atrasado, com reclamação do comprador",
        AW,
        note=T,
    ),
    Row(
        "ready_to_ship/waiting_for_last_mile_authorization",
        S.LABEL_CREATED,
        D.OTHER,
        "Aguardando autorização da última milha",
        AW,
        note=T,
    ),
    Row(
        "ready_to_ship/rejected_in_hub",
        S.EXCEPTION,
        D.OTHER,
        "Recusado no centro de distribuição",
        AW,
        note=T,
    ),
    Row("ready_to_ship/in_transit", S.IN_TRANSIT, D.OTHER, "Em trânsito", AW, note=T),
    # Full (fulfillment): Mercado Livre's warehouse prepares the parcel from the seller's stock.
    Row(
        "ready_to_ship/in_warehouse",
        S.LABEL_CREATED,
        D.OTHER,
        "No armazém do Mercado Livre",
        AWM,
        note=T,
    ),
    Row(
        "ready_to_ship/ready_to_pack", S.LABEL_CREATED, D.OTHER, "Pronto para embalar", AWM, note=T
    ),
    # "Status e substatus Front vs API" (cross docking): "Recebido no centro de distribuição de
    # ..." (the place's name follows).
    Row(
        "ready_to_ship/in_hub",
        S.IN_TRANSIT,
        D.ARRIVED_AT_FACILITY,
        "Recebido no centro de distribuição",
        AWM,
    ),
    Row(
        "ready_to_ship/measures_ready",
        S.IN_TRANSIT,
        D.OTHER,
        "Medidas e peso registrados",
        AWM,
        note=T,
    ),
    Row(
        "ready_to_ship/waiting_for_carrier_authorization",
        S.LABEL_CREATED,
        D.OTHER,
        "Aguardando autorização da transportadora",
        AWM,
        note=T,
    ),
    # "Status e substatus Front vs API" (cross docking): "A caminho".
    Row(
        "ready_to_ship/authorized_by_carrier",
        S.POSTED,
        D.OTHER,
        "O vendedor enviou o seu pacote",
        AWM,
    ),
    Row(
        "ready_to_ship/in_packing_list",
        S.LABEL_CREATED,
        D.INFO_RECEIVED,
        "Incluído na lista de despacho",
        AWM,
        note=T,
    ),
    Row(
        "ready_to_ship/in_plp",
        S.LABEL_CREATED,
        D.INFO_RECEIVED,
        "Incluído na PLP (pré-lista de postagem)",
        AWM,
        note=T,
    ),
    Row("ready_to_ship/on_hold", S.EXCEPTION, D.HELD, "Em espera", AW, note=T),
    Row("ready_to_ship/packed", S.LABEL_CREATED, D.OTHER, "Embalado", AW, note=T),
    Row(
        "ready_to_ship/on_route_to_pickup",
        S.LABEL_CREATED,
        D.PICKUP_SCHEDULED,
        "A caminho da coleta",
        AW,
        note=T,
    ),
    Row(
        "ready_to_ship/picking_up",
        S.LABEL_CREATED,
        D.PICKUP_SCHEDULED,
        "Coletando",
        AW,
        note=T,
    ),
    Row(
        "ready_to_ship/shipping_order_initialized",
        S.LABEL_CREATED,
        D.INFO_RECEIVED,
        "Ordem de envio iniciada",
        AW,
        note=T,
    ),
    Row(
        "ready_to_ship/looking_for_driver",
        S.LABEL_CREATED,
        D.OTHER,
        "Procurando entregador",
        AW,
        note=T,
    ),
    # --- shipped: on its way to the buyer ------------------------------------------------
    Row("shipped/delayed", S.EXCEPTION, D.DELAYED, "Atrasado", AWM, note=T),
    Row(
        "shipped/waiting_for_withdrawal",
        S.AVAILABLE_FOR_PICKUP,
        D.OTHER,
        "Aguardando retirada",
        AWM,
        note=T,
    ),
    Row(
        "shipped/contact_with_carrier_required",
        S.EXCEPTION,
        D.OTHER,
        "É necessário entrar em contato com a transportadora",
        AWM,
        note=T,
    ),
    Row(
        "shipped/receiver_absent",
        S.DELIVERY_ATTEMPTED,
        D.RECIPIENT_ABSENT,
        "Entrega sem sucesso por comprador ausente",
        ("api", "me1", "gh-wolfx", "gh-meli"),
    ),
    Row("shipped/reclaimed", S.IN_TRANSIT, D.OTHER, "Reclamado", AWM, note=T_VAGUE),
    Row("shipped/not_localized", S.EXCEPTION, D.LOST, "Não localizado", AWM, note=T),
    Row(
        "shipped/forwarded_to_third",
        S.IN_TRANSIT,
        D.OTHER,
        "Encaminhado a um terceiro",
        AWM,
        note=T,
    ),
    Row("shipped/soon_deliver", S.IN_TRANSIT, D.OTHER, "Será entregue em breve", AWM, note=T),
    Row(
        "shipped/refused_delivery",
        S.DELIVERY_ATTEMPTED,
        D.REFUSED,
        "Entrega recusada",
        AWM,
        note=T,
    ),
    Row(
        "shipped/bad_address",
        S.DELIVERY_ATTEMPTED,
        D.ADDRESS_PROBLEM,
        "Entrega sem sucesso por endereço incorreto",
        ("api", "me1", "gh-wolfx", "gh-meli"),
    ),
    Row("shipped/changed_address", S.IN_TRANSIT, D.OTHER, "Endereço alterado", AW, note=T),
    Row(
        "shipped/negative_feedback",
        S.EXCEPTION,
        D.DELAYED,
        "Envio parado, com avaliação negativa do comprador",
        AWM,
        note=T,
    ),
    Row(
        "shipped/need_review",
        S.EXCEPTION,
        D.OTHER,
        "Status da transportadora em revisão",
        AWM,
        note=T,
    ),
    Row("shipped/stale", S.EXCEPTION, D.DELAYED, "Envio parado, sem atualização", A, note=T),
    Row(
        "shipped/operator_intervention",
        S.EXCEPTION,
        D.OTHER,
        "Requer a intervenção de um operador",
        AWM,
        note=T,
    ),
    Row(
        "shipped/claimed_me",
        S.EXCEPTION,
        D.DELAYED,
        "Envio parado, com reclamação do comprador",
        AM,
        note=T,
    ),
    Row("shipped/retained", S.EXCEPTION, D.HELD, "Retido durante o trajeto", AWM, note=T),
    Row(
        "shipped/out_for_delivery",
        S.OUT_FOR_DELIVERY,
        D.TO_RECIPIENT,
        "Saiu para entrega ao comprador",
        ("api", "me1", "gh-wolfx"),
    ),
    Row("shipped/delivery_failed", S.DELIVERY_ATTEMPTED, D.OTHER, "Falha na entrega", AW, note=T),
    Row(
        "shipped/waiting_for_confirmation",
        S.IN_TRANSIT,
        D.OTHER,
        "Aguardando confirmação",
        AW,
        note=T_VAGUE,
    ),
    Row(
        "shipped/at_the_door",
        S.OUT_FOR_DELIVERY,
        D.TO_RECIPIENT,
        "Na porta do comprador",
        AW,
        note=T,
    ),
    Row(
        "shipped/buyer_edt_limit_stale",
        S.EXCEPTION,
        D.DELAYED,
        "Prazo de entrega prometido ao comprador vencido",
        AW,
        note=T,
    ),
    Row("shipped/delivery_blocked", S.EXCEPTION, D.HELD, "Entrega bloqueada", AW, note=T),
    Row(
        "shipped/awaiting_tax_documentation",
        S.EXCEPTION,
        D.HELD,
        "Aguardando documentação fiscal",
        AW,
        note=T,
    ),
    Row(
        "shipped/dangerous_area",
        S.DELIVERY_ATTEMPTED,
        D.OTHER,
        "Entrega sem sucesso por região perigosa",
        ("api", "me1", "gh-wolfx"),
    ),
    Row(
        "shipped/unauthorized_receiver",
        S.DELIVERY_ATTEMPTED,
        D.OTHER,
        "Entrega sem sucesso por pessoa não autorizada para receber",
        ("me1",),
    ),
    Row(
        "shipped/buyer_rescheduled",
        S.IN_TRANSIT,
        D.DELIVERY_SCHEDULED,
        "Entrega reagendada pelo comprador",
        AW,
        note=T,
    ),
    Row("shipped/failover", S.IN_TRANSIT, D.OTHER, "Contingência (failover)", AW, note=T_VAGUE),
    Row("shipped/picked_up", S.POSTED, D.PICKED_UP, "Coletado", A, note=T),
    Row("shipped/dropped_off", S.POSTED, D.DROPPED_OFF, "Entregue no ponto de despacho", A, note=T),
    Row("shipped/at_customs", S.IN_TRANSIT, D.CUSTOMS_PROCESSING, "Na alfândega", AW, note=T),
    Row(
        "shipped/delayed_at_customs",
        S.EXCEPTION,
        D.CUSTOMS_HOLD,
        "Atrasado na alfândega",
        AW,
        note=T,
    ),
    Row(
        "shipped/left_customs",
        S.IN_TRANSIT,
        D.CUSTOMS_CLEARED,
        "Liberado pela alfândega",
        AW,
        note=T,
    ),
    Row(
        "shipped/missing_sender_payment",
        S.EXCEPTION,
        D.HELD,
        "Falta o pagamento do remetente",
        AW,
        note=T,
    ),
    Row(
        "shipped/missing_sender_documentation",
        S.EXCEPTION,
        D.HELD,
        "Falta a documentação do remetente",
        AW,
        note=T,
    ),
    Row(
        "shipped/missing_recipient_documentation",
        S.EXCEPTION,
        D.INFORMATION_REQUIRED,
        "Falta a documentação do destinatário",
        AW,
        note=T,
    ),
    Row(
        "shipped/missing_recipient_payment",
        S.EXCEPTION,
        D.PAYMENT_REQUIRED,
        "Falta o pagamento do destinatário",
        AW,
        note=T,
    ),
    Row(
        "shipped/import_taxes_paid",
        S.IN_TRANSIT,
        D.PAYMENT_RECEIVED,
        "Impostos de importação pagos",
        AW,
        note=T,
    ),
    # --- delivered (some by Mercado Livre's inference, not a carrier's scan) --------------
    Row("delivered/damaged", S.DELIVERED, D.OTHER, "Entregue com avaria", AWM, note=T),
    Row(
        "delivered/fulfilled_feedback",
        S.DELIVERED,
        D.OTHER,
        "Entrega confirmada pela avaliação do comprador",
        AWM,
        note=T,
    ),
    Row(
        "delivered/no_action_taken",
        S.DELIVERED,
        D.OTHER,
        "Considerado entregue: o comprador não se manifestou",
        AWM,
        note=T,
    ),
    Row("delivered/double_refund", S.DELIVERED, D.OTHER, "Reembolso duplo", AWM, note=T),
    Row("delivered/inferred", S.DELIVERED, D.OTHER, "Entrega inferida", AW, note=T),
    # --- not_delivered: it will not reach the buyer --------------------------------------
    Row(
        "not_delivered/returning_to_sender",
        S.EXCEPTION,
        D.RETURNING,
        "Não entregue - Em devolução ao vendedor",
        ("api", "me1", "gh-wolfx", "gh-meli"),
    ),
    Row(
        "not_delivered/receiver_absent",
        S.EXCEPTION,
        D.OTHER,
        "Não entregue: destinatário ausente",
        A,
        note=T,
    ),
    Row("not_delivered/to_review", S.EXCEPTION, D.OTHER, "Envio encerrado", AWM, note=T),
    Row("not_delivered/destroyed", S.EXCEPTION, D.DESTROYED, "Destruído", AWM, note=T),
    Row(
        "not_delivered/waiting_for_withdrawal",
        S.AVAILABLE_FOR_PICKUP,
        D.OTHER,
        "Não entregue: aguardando retirada",
        AW,
        note=T,
    ),
    Row(
        "not_delivered/negative_feedback",
        S.EXCEPTION,
        D.OTHER,
        "Não entregue, por avaliação negativa do comprador",
        AW,
        note=T,
    ),
    Row("not_delivered/not_localized", S.EXCEPTION, D.LOST, "Não localizado", AW, note=T),
    Row("not_delivered/double_refund", S.EXCEPTION, D.OTHER, "Reembolso duplo", AW, note=T),
    Row(
        "not_delivered/cancelled_measurement_exceeded",
        S.CANCELLED,
        D.OTHER,
        "Envio cancelado por medidas excedidas",
        AWM,
        note=T,
    ),
    Row(
        "not_delivered/returned_to_hub",
        S.EXCEPTION,
        D.OTHER,
        "Devolvido ao centro de distribuição",
        AWM,
        note=T,
    ),
    Row(
        "not_delivered/returned_to_agency",
        S.EXCEPTION,
        D.OTHER,
        "Devolvido à agência",
        AWM,
        note=T,
    ),
    Row(
        "not_delivered/picked_up_for_return",
        S.EXCEPTION,
        D.RETURNING,
        "Coletado para devolução",
        AWM,
        note=T,
    ),
    Row(
        "not_delivered/claimed_me",
        S.EXCEPTION,
        D.OTHER,
        "Não entregue, com reclamação do comprador",
        A,
        note=T,
    ),
    # The Full warehouse is where the parcel started: going back there is the return leg.
    Row(
        "not_delivered/returning_to_warehouse",
        S.EXCEPTION,
        D.RETURNING,
        "Retornando ao armazém",
        AWM,
        note=T,
    ),
    Row(
        "not_delivered/returning_to_hub",
        S.EXCEPTION,
        D.OTHER,
        "Retornando ao centro de distribuição",
        AW,
        note=T,
    ),
    Row(
        "not_delivered/soon_to_be_returned",
        S.EXCEPTION,
        D.RETURNING,
        "Será devolvido em breve",
        AW,
        note=T,
    ),
    Row("not_delivered/return_failed", S.EXCEPTION, D.OTHER, "Falha na devolução", AW, note=T),
    Row("not_delivered/in_storage", S.EXCEPTION, D.HELD, "Em armazenagem", AW, note=T),
    Row(
        "not_delivered/pending_recovery",
        S.EXCEPTION,
        D.OTHER,
        "Recuperação pendente",
        AW,
        note=T,
    ),
    Row(
        "not_delivered/agency_unavailable",
        S.EXCEPTION,
        D.OTHER,
        "Agência indisponível",
        A,
        note=T,
    ),
    Row(
        "not_delivered/rejected_damaged",
        S.EXCEPTION,
        D.DAMAGED,
        "Recusado por avaria",
        AW,
        note=T,
    ),
    Row("not_delivered/refused_delivery", S.EXCEPTION, D.REFUSED, "Entrega recusada", A, note=T),
    Row(
        "not_delivered/refunded_by_delay",
        S.EXCEPTION,
        D.DELAYED,
        "Reembolsado por atraso",
        AW,
        note=T,
    ),
    Row("not_delivered/delayed", S.EXCEPTION, D.DELAYED, "Atrasado", A, note=T),
    Row(
        "not_delivered/delayed_to_hub",
        S.EXCEPTION,
        D.DELAYED,
        "Atrasado a caminho do centro de distribuição",
        AW,
        note=T,
    ),
    Row("not_delivered/shipment_stopped", S.EXCEPTION, D.HELD, "Envio interrompido", AW, note=T),
    Row(
        "not_delivered/awaiting_tax_documentation",
        S.EXCEPTION,
        D.HELD,
        "Aguardando documentação fiscal",
        A,
        note=T,
    ),
    Row("not_delivered/retained", S.EXCEPTION, D.HELD, "Retido", AW, note=T),
    Row("not_delivered/stolen", S.EXCEPTION, D.STOLEN, "Roubado", AWM, note=T),
    Row(
        "not_delivered/returned",
        S.RETURNED_TO_SENDER,
        D.DELIVERED_TO_SENDER,
        "Devolvido",
        AWM,
        note=T,
    ),
    Row("not_delivered/confiscated", S.EXCEPTION, D.SEIZED, "Confiscado", AWM, note=T),
    Row(
        "not_delivered/damaged",
        S.EXCEPTION,
        D.DAMAGED,
        "Pacote avariado no centro de distribuição",
        A,
        note=T,
    ),
    Row("not_delivered/lost", S.EXCEPTION, D.LOST, "Pacote extraviado", AWM, note=T),
    Row("not_delivered/recovered", S.EXCEPTION, D.OTHER, "Recuperado", AW, note=T),
    Row(
        "not_delivered/returned_to_warehouse",
        S.RETURNED_TO_SENDER,
        D.OTHER,
        "Devolvido ao armazém",
        AWM,
        note=T,
    ),
    Row("not_delivered/not_recovered", S.EXCEPTION, D.LOST, "Não recuperado", AW, note=T),
    Row(
        "not_delivered/detained_at_customs",
        S.EXCEPTION,
        D.CUSTOMS_HOLD,
        "Retido na alfândega",
        AW,
        note=T,
    ),
    Row("not_delivered/detained_at_origin", S.EXCEPTION, D.HELD, "Retido na origem", AW, note=T),
    Row(
        "not_delivered/unclaimed",
        S.EXCEPTION,
        D.UNCLAIMED,
        "Não retirado pelo vendedor",
        AW,
        note=T,
    ),
    Row(
        "not_delivered/import_tax_rejected",
        S.EXCEPTION,
        D.REFUSED,
        "Imposto de importação recusado",
        AW,
        note=T,
    ),
    Row(
        "not_delivered/import_tax_expired",
        S.EXCEPTION,
        D.OTHER,
        "Prazo do imposto de importação expirado",
        AW,
        note=T,
    ),
    Row(
        "not_delivered/rider_not_found",
        S.EXCEPTION,
        D.OTHER,
        "Entregador não encontrado",
        AW,
        note=T,
    ),
    # --- cancelled ------------------------------------------------------------------------
    Row("cancelled/recovered", S.CANCELLED, D.OTHER, "Recuperado", AWM, note=T),
    Row("cancelled/label_expired", S.CANCELLED, D.OTHER, "Etiqueta expirada", AWM, note=T),
    Row(
        "cancelled/cancelled_manually",
        S.CANCELLED,
        D.OTHER,
        "Cancelado manualmente",
        AWM,
        note=T,
    ),
    Row("cancelled/fraudulent", S.CANCELLED, D.OTHER, "Cancelado por fraude", AWM, note=T),
    Row("cancelled/return_expired", S.CANCELLED, D.OTHER, "Devolução expirada", AWM, note=T),
    Row(
        "cancelled/return_session_expired",
        S.CANCELLED,
        D.OTHER,
        "Sessão de devolução expirada",
        AWM,
        note=T,
    ),
    Row("cancelled/unfulfillable", S.CANCELLED, D.OTHER, "Não pode ser atendido", AWM, note=T),
    # Also on the Gerenciamento de Envios page: a re-purchase with "entrega a combinar"
    # leaves the first shipment cancelled/closed_by_user.
    Row(
        "cancelled/closed_by_user",
        S.CANCELLED,
        D.OTHER,
        "O usuário mudou a forma de envio e cancelou a anterior",
        AW,
        note=T,
    ),
    # Also on the Gerenciamento de Envios page: a split shipment is cancelled/pack_splitted.
    Row(
        "cancelled/pack_splitted",
        S.CANCELLED,
        D.OTHER,
        "Pacote dividido no carrinho; o envio foi cancelado",
        AW,
        note=T,
    ),
    Row(
        "cancelled/shipped_outside_me",
        S.CANCELLED,
        D.OTHER,
        "Enviado por fora do Mercado Envios",
        AW,
        note=T,
    ),
    Row(
        "cancelled/shipped_outside_me_trusted",
        S.CANCELLED,
        D.OTHER,
        "Enviado por fora do Mercado Envios por vendedor confiável",
        AW,
        note=T,
    ),
    Row("cancelled/inferred_shipped", S.CANCELLED, D.OTHER, "Envio inferido", AW, note=T),
    Row(
        "cancelled/service_unavailable",
        S.CANCELLED,
        D.OTHER,
        "Serviço indisponível",
        AW,
        note=T,
    ),
    Row("cancelled/dismissed", S.CANCELLED, D.OTHER, "Descartado", AW, note=T),
    Row("cancelled/time_expired", S.CANCELLED, D.OTHER, "Prazo expirado", AW, note=T),
    Row(
        "cancelled/pack_partially_cancelled",
        S.CANCELLED,
        D.OTHER,
        "Pacote parcialmente cancelado",
        AW,
        note=T,
    ),
    Row("cancelled/rejected_manually", S.CANCELLED, D.OTHER, "Rejeitado manualmente", AW, note=T),
    Row("cancelled/closed_store", S.CANCELLED, D.OTHER, "Loja fechada", AW, note=T),
    Row("cancelled/out_of_range", S.CANCELLED, D.OTHER, "Fora da área de cobertura", AW, note=T),
)

TABLE = CarrierTable(
    name="Mercado Envios",
    how_sent="`carrier_status.type`: the shipment `status` (`shipped`); "
    "`carrier_status.code`: its `substatus` (`out_for_delivery`), or empty when it has none",
    sources=SOURCES,
    rows=ROWS,
    key=status_substatus_key,
)
