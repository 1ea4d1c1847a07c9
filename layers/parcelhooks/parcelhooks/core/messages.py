"""A short sentence for the buyer about each shipment event, in Brazilian Portuguese and English.

Merchants' templates reach it as `{{ message.pt_BR }}` and `{{ message.en }}` to tell the
buyer by WhatsApp or e-mail where the order stands. Every (status, status_detail) of
core/statuses.py has its own pair of sentences, and so has each status without a detail and
the correction event. A sentence names the order (`{order}`), the place of the event
(`{place}`, "Recife/PE") and the carrier's delivery estimate (`{date}`) when the event has
them: a part in square brackets is kept only when the event has every value it names, so
"Seu pedido[ {order}] foi entregue." reads "Seu pedido A-1001 foi entregue." or "Seu pedido
foi entregue.". Where the buyer must act (`action_required`), the sentence says what to do.
docs/statuses.md lists every sentence.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from parcelhooks.core.models import Location, ShipmentEvent
from parcelhooks.core.statuses import Status, StatusDetail


@dataclass(frozen=True, slots=True)
class BuyerMessage:
    """What to tell the buyer about an event, ready to send."""

    pt_BR: str  # noqa: N815 - the locale's own spelling, as templates read it
    en: str


S = Status
D = StatusDetail

# The carrier withdrew its previous event (core/shipments.py), whatever status it carries.
CORRECTION_SENTENCE = (
    "Houve uma correção no rastreamento do seu pedido[ {order}]: "
    "desconsidere a atualização anterior.",
    "The tracking of your order[ {order}] has been corrected: please disregard the previous "
    "update.",
)

# Told by parcelhooks (core/watch.py), whatever status the shipment is in: an apology and a
# promise to follow it up, never a blame on the buyer.
ALERT_SENTENCES: Mapping[str, tuple[str, str]] = {
    "stalled": (
        "O envio do seu pedido[ {order}] está demorando mais que o normal. Já estamos "
        "acompanhando com a transportadora e avisaremos assim que ele se mover.",
        "Your order[ {order}] is taking longer than usual to move. We are following it up "
        "with the carrier and will let you know as soon as it moves.",
    ),
    "late": (
        "Seu pedido[ {order}] passou da data de entrega prevista[ ({date})]. Já estamos "
        "acompanhando com a transportadora; desculpe pela demora.",
        "Your order[ {order}] is past its estimated delivery date[ ({date})]. We are "
        "following it up with the carrier; sorry for the delay.",
    ),
}

# (status, detail) -> (pt_BR, en); (status, None) for an event without a detail.
SENTENCES: Mapping[tuple[Status, StatusDetail | None], tuple[str, str]] = {
    (S.LABEL_CREATED, None): (
        "Seu pedido[ {order}] está sendo preparado para envio.[ Previsão de entrega: {date}.]",
        "Your order[ {order}] is being prepared for shipping.[ Estimated delivery: {date}.]",
    ),
    (S.LABEL_CREATED, D.INFO_RECEIVED): (
        "Seu pedido[ {order}] está pronto para envio e logo será postado."
        "[ Previsão de entrega: {date}.]",
        "Your order[ {order}] is ready and will be shipped soon.[ Estimated delivery: {date}.]",
    ),
    (S.LABEL_CREATED, D.PICKUP_SCHEDULED): (
        "A coleta do seu pedido[ {order}] foi agendada com a transportadora.",
        "The carrier is scheduled to collect your order[ {order}] for shipping.",
    ),
    (S.LABEL_CREATED, D.PICKUP_FAILED): (
        "A transportadora não conseguiu coletar seu pedido[ {order}] como previsto, "
        "então o envio pode atrasar um pouco.",
        "The carrier couldn't collect your order[ {order}] as planned, so shipping may take "
        "a little longer.",
    ),
    (S.LABEL_CREATED, D.OTHER): (
        "Seu pedido[ {order}] está sendo preparado para envio.[ Previsão de entrega: {date}.]",
        "Your order[ {order}] is being prepared for shipping.[ Estimated delivery: {date}.]",
    ),
    (S.POSTED, None): (
        "Seu pedido[ {order}] foi enviado[ e deve chegar até {date}].",
        "Your order[ {order}] has been shipped[ and should arrive by {date}].",
    ),
    (S.POSTED, D.DROPPED_OFF): (
        "Seu pedido[ {order}] foi postado[ em {place}][ e deve chegar até {date}].",
        "Your order[ {order}] has been shipped[ from {place}][ and should arrive by {date}].",
    ),
    (S.POSTED, D.PICKED_UP): (
        "Seu pedido[ {order}] foi coletado pela transportadora[ em {place}]"
        "[ e deve chegar até {date}].",
        "Your order[ {order}] has been picked up by the carrier[ in {place}]"
        "[ and should arrive by {date}].",
    ),
    (S.POSTED, D.AFTER_CUTOFF): (
        "Seu pedido[ {order}] foi postado[ em {place}] e segue viagem no próximo dia útil."
        "[ Previsão de entrega: {date}.]",
        "Your order[ {order}] has been shipped[ from {place}] and will be on its way the next "
        "business day.[ Estimated delivery: {date}.]",
    ),
    (S.POSTED, D.OTHER): (
        "Seu pedido[ {order}] foi enviado[ e deve chegar até {date}].",
        "Your order[ {order}] has been shipped[ and should arrive by {date}].",
    ),
    (S.IN_TRANSIT, None): (
        "Seu pedido[ {order}] está a caminho[ e deve chegar até {date}].",
        "Your order[ {order}] is on its way[ and should arrive by {date}].",
    ),
    (S.IN_TRANSIT, D.FORWARDED): (
        "Seu pedido[ {order}][ saiu de {place} e] está a caminho.[ Previsão de entrega: {date}.]",
        "Your order[ {order}][ has left {place} and] is on its way.[ Estimated delivery: {date}.]",
    ),
    (S.IN_TRANSIT, D.ARRIVED_AT_FACILITY): (
        "Seu pedido[ {order}] chegou a um centro de distribuição[ em {place}]."
        "[ Previsão de entrega: {date}.]",
        "Your order[ {order}] has arrived at a sorting facility[ in {place}]."
        "[ Estimated delivery: {date}.]",
    ),
    (S.IN_TRANSIT, D.ARRIVED_AT_DELIVERY_UNIT): (
        "Seu pedido[ {order}] chegou à unidade de entrega[ em {place}] e logo sairá para entrega.",
        "Your order[ {order}] has reached the local delivery facility[ in {place}] and will be "
        "out for delivery soon.",
    ),
    (S.IN_TRANSIT, D.DELIVERY_SCHEDULED): (
        "A entrega do seu pedido[ {order}] foi agendada[ para {date}].",
        "Delivery of your order[ {order}] has been scheduled[ for {date}].",
    ),
    (S.IN_TRANSIT, D.INTERNATIONAL_ORIGIN): (
        "Seu pedido[ {order}] está no centro de exportação[ em {place}] e logo deixará o país "
        "de origem.",
        "Your order[ {order}] is at the export facility[ in {place}] and will soon leave the "
        "country of origin.",
    ),
    (S.IN_TRANSIT, D.INTERNATIONAL_ARRIVAL): (
        "Seu pedido[ {order}] chegou ao Brasil e agora passa pela fiscalização aduaneira.",
        "Your order[ {order}] has arrived in Brazil and will now go through customs.",
    ),
    (S.IN_TRANSIT, D.CUSTOMS_PROCESSING): (
        "Seu pedido[ {order}] está passando pela fiscalização aduaneira.",
        "Your order[ {order}] is going through customs.",
    ),
    (S.IN_TRANSIT, D.CUSTOMS_CLEARED): (
        "Seu pedido[ {order}] foi liberado pela fiscalização aduaneira.",
        "Your order[ {order}] has cleared customs.",
    ),
    (S.IN_TRANSIT, D.PAYMENT_RECEIVED): (
        "O pagamento da taxa do seu pedido[ {order}] foi confirmado, e ele segue viagem até você.",
        "The fee on your order[ {order}] has been paid, and it is on its way to you again.",
    ),
    (S.IN_TRANSIT, D.CORRECTION): CORRECTION_SENTENCE,
    (S.IN_TRANSIT, D.OTHER): (
        "Seu pedido[ {order}] está a caminho[ e deve chegar até {date}].",
        "Your order[ {order}] is on its way[ and should arrive by {date}].",
    ),
    (S.OUT_FOR_DELIVERY, None): (
        "Seu pedido[ {order}] saiu para entrega.",
        "Your order[ {order}] is out for delivery.",
    ),
    (S.OUT_FOR_DELIVERY, D.TO_RECIPIENT): (
        "Seu pedido[ {order}] saiu para entrega e chega hoje.",
        "Your order[ {order}] is out for delivery and will arrive today.",
    ),
    (S.OUT_FOR_DELIVERY, D.OTHER): (
        "Seu pedido[ {order}] saiu para entrega.",
        "Your order[ {order}] is out for delivery.",
    ),
    (S.DELIVERY_ATTEMPTED, None): (
        "Tentamos entregar seu pedido[ {order}], mas não foi possível.",
        "We tried to deliver your order[ {order}], but couldn't.",
    ),
    (S.DELIVERY_ATTEMPTED, D.RECIPIENT_ABSENT): (
        "Não conseguimos entregar seu pedido[ {order}]: não havia ninguém no endereço. "
        "Uma nova tentativa será feita.",
        "We couldn't deliver your order[ {order}]: nobody was at the address. We'll try again.",
    ),
    (S.DELIVERY_ATTEMPTED, D.ADDRESS_PROBLEM): (
        "Não conseguimos entregar seu pedido[ {order}] porque o endereço está incorreto ou "
        "incompleto. Fale com a loja para corrigi-lo e evitar que o pedido seja devolvido.",
        "We couldn't deliver your order[ {order}] because the address is incorrect or "
        "incomplete. Please contact the store to correct it so the order isn't sent back.",
    ),
    (S.DELIVERY_ATTEMPTED, D.REFUSED): (
        "Seu pedido[ {order}] foi recusado no momento da entrega. Se foi um engano, "
        "fale com a loja.",
        "Your order[ {order}] was refused at delivery. If this was a mistake, please contact "
        "the store.",
    ),
    (S.DELIVERY_ATTEMPTED, D.BUSINESS_CLOSED): (
        "Tentamos entregar seu pedido[ {order}], mas o local estava fechado. "
        "Uma nova tentativa será feita no próximo dia útil.",
        "We tried to deliver your order[ {order}], but the business was closed. "
        "We'll try again on the next business day.",
    ),
    (S.DELIVERY_ATTEMPTED, D.OTHER): (
        "Não conseguimos entregar seu pedido[ {order}] desta vez. Uma nova tentativa será feita.",
        "We couldn't deliver your order[ {order}] this time. We'll try again.",
    ),
    # The estimate is the carrier's delivery promise, not a pickup deadline: never shown here.
    (S.AVAILABLE_FOR_PICKUP, None): (
        "Seu pedido[ {order}] está disponível para retirada[ em {place}]. "
        "Retire-o assim que puder.",
        "Your order[ {order}] is ready for pickup[ in {place}]. Please collect it as soon as "
        "you can.",
    ),
    (S.AVAILABLE_FOR_PICKUP, D.POST_OFFICE): (
        "Seu pedido[ {order}] está disponível para retirada na agência[ em {place}]. "
        "Para retirar, leve um documento com foto e o código de rastreamento.",
        "Your order[ {order}] is ready for pickup at the post office[ in {place}]. "
        "To collect it, please bring photo ID and your tracking number.",
    ),
    (S.AVAILABLE_FOR_PICKUP, D.LOCKER): (
        "Seu pedido[ {order}] está esperando por você no armário inteligente[ em {place}]. "
        "Retire-o logo: ele fica disponível só por alguns dias.",
        "Your order[ {order}] is waiting for you in a parcel locker[ in {place}]. "
        "Please collect it soon: it is only kept for a few days.",
    ),
    (S.AVAILABLE_FOR_PICKUP, D.PO_BOX): (
        "Seu pedido[ {order}] está disponível na sua caixa postal[ em {place}]. "
        "Retire-o assim que puder.",
        "Your order[ {order}] is waiting in your PO box[ in {place}]. Please collect it as "
        "soon as you can.",
    ),
    (S.AVAILABLE_FOR_PICKUP, D.PICKUP_POINT): (
        "Seu pedido[ {order}] já pode ser retirado no ponto de retirada[ em {place}]. "
        "Leve um documento com foto.",
        "Your order[ {order}] is ready for pickup at the pickup point[ in {place}]. "
        "Please bring photo ID.",
    ),
    (S.AVAILABLE_FOR_PICKUP, D.OTHER): (
        "Seu pedido[ {order}] está disponível para retirada[ em {place}]. "
        "Retire-o assim que puder.",
        "Your order[ {order}] is ready for pickup[ in {place}]. Please collect it as soon as "
        "you can.",
    ),
    (S.DELIVERED, None): (
        "Seu pedido[ {order}] foi entregue.",
        "Your order[ {order}] has been delivered.",
    ),
    (S.DELIVERED, D.TO_RECIPIENT): (
        "Seu pedido[ {order}] foi entregue.",
        "Your order[ {order}] has been delivered.",
    ),
    (S.DELIVERED, D.TO_NEIGHBOUR): (
        "Seu pedido[ {order}] foi entregue a um vizinho.",
        "Your order[ {order}] was left with a neighbor.",
    ),
    (S.DELIVERED, D.TO_CONCIERGE): (
        "Seu pedido[ {order}] foi entregue na portaria.",
        "Your order[ {order}] was left at your building's front desk.",
    ),
    (S.DELIVERED, D.TO_LOCKER): (
        "Seu pedido[ {order}] foi deixado na sua caixa de correspondência.",
        "Your order[ {order}] was left in your mailbox.",
    ),
    (S.DELIVERED, D.PICKED_UP): (
        "Seu pedido[ {order}] foi retirado[ em {place}].",
        "Your order[ {order}] has been collected[ in {place}].",
    ),
    (S.DELIVERED, D.OTHER): (
        "Seu pedido[ {order}] foi entregue.",
        "Your order[ {order}] has been delivered.",
    ),
    (S.RETURNED_TO_SENDER, None): (
        "Seu pedido[ {order}] foi devolvido à loja.",
        "Your order[ {order}] has been returned to the store.",
    ),
    (S.RETURNED_TO_SENDER, D.DELIVERED_TO_SENDER): (
        "Seu pedido[ {order}] foi devolvido à loja.",
        "Your order[ {order}] has been returned to the store.",
    ),
    (S.RETURNED_TO_SENDER, D.RETURNED_TO_ORIGIN_COUNTRY): (
        "Seu pedido[ {order}] foi devolvido ao país de origem.",
        "Your order[ {order}] has been sent back to its country of origin.",
    ),
    (S.RETURNED_TO_SENDER, D.OTHER): (
        "Seu pedido[ {order}] foi devolvido à loja.",
        "Your order[ {order}] has been returned to the store.",
    ),
    (S.EXCEPTION, None): (
        "Houve um imprevisto com seu pedido[ {order}]. Acompanhe o rastreamento para mais "
        "detalhes.",
        "Something unexpected happened with your order[ {order}]. Check the tracking for details.",
    ),
    (S.EXCEPTION, D.LOST): (
        "Infelizmente, seu pedido[ {order}] foi extraviado pela transportadora. "
        "Fale com a loja para resolver.",
        "Unfortunately, your order[ {order}] has been lost by the carrier. Please contact the "
        "store to sort it out.",
    ),
    (S.EXCEPTION, D.STOLEN): (
        "Infelizmente, seu pedido[ {order}] foi roubado durante o transporte. "
        "Fale com a loja para resolver.",
        "Unfortunately, your order[ {order}] was stolen in transit. Please contact the store "
        "to sort it out.",
    ),
    (S.EXCEPTION, D.DAMAGED): (
        "Infelizmente, seu pedido[ {order}] foi danificado durante o transporte. "
        "Fale com a loja para resolver.",
        "Unfortunately, your order[ {order}] was damaged in transit. Please contact the store "
        "to sort it out.",
    ),
    (S.EXCEPTION, D.DESTROYED): (
        "Infelizmente, seu pedido[ {order}] foi destruído e não será entregue. "
        "Fale com a loja para resolver.",
        "Unfortunately, your order[ {order}] has been destroyed and will not be delivered. "
        "Please contact the store to sort it out.",
    ),
    (S.EXCEPTION, D.CUSTOMS_HOLD): (
        "Seu pedido[ {order}] está retido na fiscalização aduaneira. "
        "Por enquanto, você não precisa fazer nada.",
        "Your order[ {order}] is being held by customs. There's nothing you need to do for now.",
    ),
    (S.EXCEPTION, D.SEIZED): (
        "Infelizmente, seu pedido[ {order}] foi apreendido pela fiscalização e não será "
        "entregue. Fale com a loja para resolver.",
        "Unfortunately, your order[ {order}] has been seized by the authorities and will not "
        "be delivered. Please contact the store to sort it out.",
    ),
    # "Official": a fake fee to pay is the commonest parcel scam in Brazil.
    (S.EXCEPTION, D.PAYMENT_REQUIRED): (
        "Há uma taxa a pagar para liberar seu pedido[ {order}]. Faça o pagamento no site "
        "oficial da transportadora para que ele siga para entrega.",
        "There is a tax or fee to pay before your order[ {order}] can be delivered. Please pay "
        "it on the carrier's official website.",
    ),
    (S.EXCEPTION, D.INFORMATION_REQUIRED): (
        "Para liberar seu pedido[ {order}], a transportadora precisa de informações ou "
        "documentos seus. Confira o que falta no site oficial da transportadora.",
        "The carrier needs information or documents from you to release your order[ {order}]. "
        "Please check what is needed on the carrier's official website.",
    ),
    (S.EXCEPTION, D.ADDRESS_PROBLEM): (
        "O endereço de entrega do seu pedido[ {order}] precisa ser corrigido ou completado. "
        "Fale com a loja para atualizá-lo.",
        "The delivery address for your order[ {order}] needs to be corrected or completed. "
        "Please contact the store to update it.",
    ),
    (S.EXCEPTION, D.REFUSED): (
        "Seu pedido[ {order}] foi recusado no recebimento e não será entregue. "
        "Se foi um engano, fale com a loja.",
        "Your order[ {order}] was refused on delivery and will not be delivered. "
        "If this was a mistake, please contact the store.",
    ),
    (S.EXCEPTION, D.RECIPIENT_MOVED): (
        "Não conseguimos entregar seu pedido[ {order}] porque o destinatário se mudou. "
        "Ele será devolvido à loja.",
        "We couldn't deliver your order[ {order}] because the recipient has moved. "
        "It will be returned to the store.",
    ),
    (S.EXCEPTION, D.RECIPIENT_UNKNOWN): (
        "Não conseguimos entregar seu pedido[ {order}] porque o destinatário é desconhecido "
        "no endereço. Ele será devolvido à loja.",
        "We couldn't deliver your order[ {order}] because the recipient is unknown at the "
        "address. It will be returned to the store.",
    ),
    (S.EXCEPTION, D.UNCLAIMED): (
        "Seu pedido[ {order}] não foi retirado no prazo e será devolvido à loja.",
        "Your order[ {order}] was not picked up in time and will be returned to the store.",
    ),
    (S.EXCEPTION, D.HELD): (
        "Seu pedido[ {order}] está temporariamente retido pela transportadora.",
        "Your order[ {order}] is being held by the carrier for now.",
    ),
    (S.EXCEPTION, D.DELAYED): (
        "A entrega do seu pedido[ {order}] pode levar mais tempo que o previsto."
        "[ Previsão de entrega: {date}.]",
        "Delivery of your order[ {order}] may take longer than expected."
        "[ Estimated delivery: {date}.]",
    ),
    (S.EXCEPTION, D.RETURNING): (
        "Seu pedido[ {order}] está voltando para a loja.",
        "Your order[ {order}] is on its way back to the store.",
    ),
    (S.EXCEPTION, D.OTHER): (
        "Houve um imprevisto com seu pedido[ {order}]. Acompanhe o rastreamento para mais "
        "detalhes.",
        "Something unexpected happened with your order[ {order}]. Check the tracking for details.",
    ),
    (S.CANCELLED, None): (
        "O envio do seu pedido[ {order}] foi cancelado. Em caso de dúvidas, fale com a loja.",
        "The shipment of your order[ {order}] has been canceled. If you have any questions, "
        "please contact the store.",
    ),
    (S.CANCELLED, D.BY_SENDER): (
        "A loja cancelou o envio do seu pedido[ {order}]. Em caso de dúvidas, fale com ela.",
        "The store has canceled the shipment of your order[ {order}]. If you have any "
        "questions, please contact them.",
    ),
    (S.CANCELLED, D.PICKUP_CANCELLED): (
        "A coleta do seu pedido[ {order}] pela transportadora foi cancelada.",
        "The carrier's pickup of your order[ {order}] has been canceled.",
    ),
    (S.CANCELLED, D.OTHER): (
        "O envio do seu pedido[ {order}] foi cancelado. Em caso de dúvidas, fale com a loja.",
        "The shipment of your order[ {order}] has been canceled. If you have any questions, "
        "please contact the store.",
    ),
    (S.UNKNOWN, None): (
        "Há uma nova atualização no rastreamento do seu pedido[ {order}].",
        "There's a new update on the tracking of your order[ {order}].",
    ),
}

_OPTIONAL_PART = re.compile(r"\[([^\[\]]*)\]")
_PLACEHOLDER = re.compile(r"\{(order|place|date)\}")
# Lower-case inside a name written in capitals ("RIO DE JANEIRO" is "Rio de Janeiro").
_NAME_PARTICLES = frozenset({"da", "das", "de", "do", "dos", "e"})
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _brazil_time_zone() -> tzinfo:
    # The Lambda runtime may lack the tz database; São Paulo has kept UTC-03:00 since 2019.
    try:
        return ZoneInfo("America/Sao_Paulo")
    except ZoneInfoNotFoundError:
        return timezone(timedelta(hours=-3), "BRT")


BRAZIL = _brazil_time_zone()


def sentence_templates(status: Status, detail: StatusDetail | None) -> tuple[str, str]:
    """The raw pt_BR and en sentences, placeholders and optional parts included.

    A detail that does not belong to the status gets the status's own sentence."""
    return SENTENCES.get((status, detail)) or SENTENCES[(status, None)]


def buyer_message(event: ShipmentEvent) -> BuyerMessage:
    """The sentence for the event's status and detail, with the order, place and date filled
    in when the event has them."""
    if event.alert is not None:
        pt_br, en = ALERT_SENTENCES[event.alert.kind]
    elif event.correction:
        pt_br, en = CORRECTION_SENTENCE
    else:
        pt_br, en = sentence_templates(event.status, event.status_detail)
    order = _present(event.order_id)
    place = place_name(event.location)
    estimate = event.alert.promised if event.alert else event.estimated_delivery
    day_pt_br = date_pt_br(estimate) if estimate else None
    day_en = date_en(estimate) if estimate else None
    return BuyerMessage(
        pt_BR=fill(pt_br, order=order, place=place, date=day_pt_br),
        en=fill(en, order=order, place=place, date=day_en),
    )


def fill(template: str, **values: str | None) -> str:
    """Each optional part with its placeholders filled in, or dropped when a value is missing.

    Values are inserted once, never read as template: an order id with braces stays as sent."""

    def part(match: re.Match[str]) -> str:
        text = match.group(1)
        if any(not values.get(name) for name in _PLACEHOLDER.findall(text)):
            return ""
        return _PLACEHOLDER.sub(lambda placeholder: values[placeholder.group(1)] or "", text)

    return _OPTIONAL_PART.sub(part, template)


def place_name(location: Location | None) -> str | None:
    """The city and its state ("Recife/PE"), the city alone, or None without a city."""
    if location is None or (city := _present(location.city)) is None:
        return None
    state = _present(location.state)
    name = _capitalised(city)
    return f"{name}/{state}" if state else name


def date_pt_br(moment: date) -> str:
    """12/12/2026, or 11/12/2026 às 23h30 (horário de Brasília) for an instant."""
    if not isinstance(moment, datetime):
        return moment.strftime("%d/%m/%Y")
    local = moment.astimezone(BRAZIL)
    return f"{local:%d/%m/%Y} às {local.hour}h{local.minute:02d} (horário de Brasília)"


def date_en(moment: date) -> str:
    """December 12, 2026, or December 11, 2026 at 11:30 PM (Brasília time) for an instant."""
    if not isinstance(moment, datetime):
        return f"{_MONTHS[moment.month - 1]} {moment.day}, {moment.year}"
    local = moment.astimezone(BRAZIL)
    day = f"{_MONTHS[local.month - 1]} {local.day}, {local.year}"
    clock = f"{local.hour % 12 or 12}:{local.minute:02d} {'PM' if local.hour >= 12 else 'AM'}"
    return f"{day} at {clock} (Brasília time)"


def _present(text: str | None) -> str | None:
    # A blank field says nothing: the sentence reads as if it were absent.
    return (text.strip() or None) if text else None


def _capitalised(city: str) -> str:
    # Carriers (Correios among them) often write cities in capitals; a buyer reads them better
    # as names. A city written any other way is kept as the carrier wrote it.
    if not city.isupper():
        return city
    words = city.lower().split()
    return " ".join(
        word if index and word in _NAME_PARTICLES else word.capitalize()
        for index, word in enumerate(words)
    )
