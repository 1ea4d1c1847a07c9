"""The preset catalog: ready `POST /v1/subscriptions` bodies for the destinations shops in
Brazil ask for most — WhatsApp through Meta's Cloud API, Twilio or Z-API, the Bling ERP, and
e-mail to the buyer or to the merchant itself. `GET /v1/presets` serves it.

Each request shape was taken from the target's public documentation, whose address is the
preset's `docs_url`, and checked against it on 2026-12-03 (`checked_on`). A `<UPPER_SNAKE>`
marker is a value the merchant replaces before posting the body; `fill` says what each one
is. docs/destinations.md shows the exact request each target receives for a sample event.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from parcelhooks.core.models import Model

CHECKED_ON = date(2026, 12, 3)


class Placeholder(Model):
    """A `<MARKER>` in a preset's subscription body that the merchant replaces."""

    name: str
    meaning: str
    example: str


class Preset(Model):
    id: str
    name: str
    description: str
    target: str
    docs_url: str
    checked_on: date
    fill: list[Placeholder]
    subscription: dict[str, Any]


class PresetPage(Model):
    """The whole catalog (`GET /v1/presets`): short enough to need no pages."""

    data: list[Preset]


# The buyer's details travel in the event's pass-through `metadata` (see docs/destinations.md).
_BUYER_NAME = "{{ data.metadata.buyer_name | default('cliente', true) }}"
_BUYER_PHONE = "{{ data.metadata.buyer_phone | digits }}"
_ORDER = "{{ data.order_id | default(data.tracking_code, true) }}"

_BUYER_PHONE_NOTE = (
    "The event's `data.metadata.buyer_phone` must hold the buyer's number with the country "
    "code (55); an event without it is logged `render_error` and not sent."
)

_WHATSAPP_CLOUD_TEMPLATE = f"""{{
  "messaging_product": "whatsapp",
  "recipient_type": "individual",
  "to": "{_BUYER_PHONE}",
  "type": "template",
  "template": {{
    "name": "<WHATSAPP_TEMPLATE_NAME>",
    "language": {{"code": "pt_BR"}},
    "components": [
      {{
        "type": "body",
        "parameters": [
          {{"type": "text", "text": "{_BUYER_NAME}"}},
          {{"type": "text", "text": "{{{{ message.pt_BR }}}}"}},
          {{"type": "text", "text": "{{{{ data.tracking_code }}}}"}}
        ]
      }}
    ]
  }}
}}"""

_TWILIO_BODY_TEMPLATE = f"""{{
  "To": "whatsapp:+{_BUYER_PHONE}",
  "From": "whatsapp:<TWILIO_WHATSAPP_SENDER>",
  "Body": "{{{{ message.pt_BR }}}} Código de rastreio: {{{{ data.tracking_code }}}}"
}}"""

# ContentVariables is a JSON object sent as one form field: built whole, then made a string.
_TWILIO_CONTENT_TEMPLATE = f"""{{
  "To": "whatsapp:+{_BUYER_PHONE}",
  "From": "whatsapp:<TWILIO_WHATSAPP_SENDER>",
  "ContentSid": "<TWILIO_CONTENT_SID>",
  "ContentVariables": {{{{ {{"1": data.metadata.buyer_name | default('cliente', true), \
"2": message.pt_BR, "3": data.tracking_code}} | tojson | tojson }}}}
}}"""

_ZAPI_TEMPLATE = f"""{{
  "phone": "{_BUYER_PHONE}",
  "message": "Olá, {_BUYER_NAME}! {{{{ message.pt_BR }}}}\\nCódigo de rastreio: \
{{{{ data.tracking_code }}}}"
}}"""

_THANK_YOU_TEXT = f"""Olá, {_BUYER_NAME}!

{{{{ message.pt_BR }}}}

Obrigado por comprar com a gente. Se algo não estiver certo com o pedido, fale com o nosso \
atendimento.

Pedido: {_ORDER}
Código de rastreio: {{{{ data.tracking_code }}}}
Entregue em: {{{{ data.occurred_at | date_br }}}}

Equipe {{{{ subscription.metadata.store_name }}}}
"""

_THANK_YOU_HTML = f"""<p>Olá, {_BUYER_NAME}!</p>
<p>{{{{ message.pt_BR }}}}</p>
<p>Obrigado por comprar com a gente. Se algo não estiver certo com o pedido, fale com o \
nosso atendimento.</p>
<p style="color:#666;font-size:13px">Pedido {_ORDER} · código de rastreio \
{{{{ data.tracking_code }}}} · entregue em {{{{ data.occurred_at | date_br }}}}</p>
<p>Equipe {{{{ subscription.metadata.store_name }}}}</p>
"""

_DISABLED_TEXT = """Um dos seus destinos no parcelhooks foi desativado e não recebe mais eventos.

Destino: {{ data.url | default(data.subscription_id, true) }}
Assinatura: {{ data.subscription_id }}
Por quê: {% if data.disabled_by == 'gone' %}o endpoint respondeu 410 Gone\
{% else %}todas as entregas falharam por tempo demais (disjuntor){% endif %}
Detalhe: {{ data.reason }}
Desativado em: {{ data.disabled_at | date_br }} ({{ data.disabled_at }})

Enquanto estiver desativado, os eventos dele ficam retidos (held) por até 30 dias.
Depois de corrigir o endpoint:
1. reative: PATCH /v1/subscriptions/{{ data.subscription_id }} com {"enabled": true}
2. reenvie os retidos: POST /v1/subscriptions/{{ data.subscription_id }}/recover com \
{"since": "{{ data.failing_since | default(data.disabled_at, true) }}"}
"""

_EXHAUSTED_TEXT = """Uma entrega falhou em todas as tentativas e não será mais reenviada sozinha.

Entrega: {{ data.delivery_id }}
Assinatura: {{ data.subscription_id }}
Evento: {{ data.event_type }} ({{ data.event_id }})
Rastreio: {{ data.tracking_code | default('-', true) }}
Pedido: {{ data.order_id | default('-', true) }}
Tentativas: {{ data.attempts }}
Última resposta HTTP: {{ data.last_status | default('nenhuma', true) }}
Último erro: {{ data.last_error | default('-', true) }}
Última tentativa: {{ data.last_attempt_at | date_br }} ({{ data.last_attempt_at }})

Veja as tentativas em GET /v1/subscriptions/{{ data.subscription_id }}/deliveries?outcome=exhausted
Depois de corrigir o endpoint, reenvie com POST /v1/deliveries/{{ data.delivery_id }}/retry
"""

_ALERT_EMAIL = Placeholder(
    name="<ALERT_EMAIL>",
    meaning="Where the alert goes: your own address (up to 10, comma-separated).",
    example="ti@minhaloja.com.br",
)

PRESETS: tuple[Preset, ...] = (
    Preset(
        id="whatsapp-cloud-action-required",
        name="WhatsApp (Meta Cloud API): the buyer must act",
        description=(
            "Sends an approved pt_BR template message to the buyer whenever a shipment "
            "event needs the buyer to do something (pick the parcel up, pay a tax, correct "
            "the address): the filter keeps only events with `action_required: true`. "
            "The template's body takes three parameters: {{1}} the buyer's name, {{2}} the "
            "status sentence, {{3}} the tracking code. " + _BUYER_PHONE_NOTE
        ),
        target="Meta WhatsApp Cloud API",
        docs_url=(
            "https://developers.facebook.com/documentation/business-messaging/whatsapp/"
            "templates/components"
        ),
        checked_on=CHECKED_ON,
        fill=[
            Placeholder(
                name="<GRAPH_API_VERSION>",
                meaning="The Graph API version your Meta app calls.",
                example="v23.0",
            ),
            Placeholder(
                name="<PHONE_NUMBER_ID>",
                meaning="The ID of your WhatsApp business phone number (WhatsApp > API "
                "Setup in the Meta app), not the number itself.",
                example="106540352242922",
            ),
            Placeholder(
                name="<WHATSAPP_ACCESS_TOKEN>",
                meaning="A system user access token with whatsapp_business_messaging; "
                "stored as a secret header.",
                example="EAAJB...",
            ),
            Placeholder(
                name="<WHATSAPP_TEMPLATE_NAME>",
                meaning="Your approved UTILITY template in pt_BR whose body has three "
                "positional parameters, e.g. 'Olá, {{1}}! {{2}} Código de rastreio: {{3}}.'",
                example="pedido_acao_necessaria",
            ),
        ],
        subscription={
            "kind": "webhook",
            "url": "https://graph.facebook.com/<GRAPH_API_VERSION>/<PHONE_NUMBER_ID>/messages",
            "event_types": ["*"],
            "filter": {"data": {"action_required": [True]}},
            "include_stale": False,
            "method": "POST",
            "headers": [
                {
                    "name": "Authorization",
                    "value": "Bearer <WHATSAPP_ACCESS_TOKEN>",
                    "secret": True,
                }
            ],
            "content_type": "application/json",
            "template": _WHATSAPP_CLOUD_TEMPLATE,
            "description": "WhatsApp (Meta): avisar o comprador quando ele precisa agir",
        },
    ),
    Preset(
        id="twilio-whatsapp-delivered",
        name="WhatsApp (Twilio): delivered, as a session message",
        description=(
            "Sends the pt-BR delivered sentence and the tracking code as free text (`Body`). "
            "WhatsApp delivers free text only within 24 hours of the buyer's last message "
            "to you; outside that window the message fails with Twilio error 63016 and "
            "nothing reaches the buyer: use twilio-whatsapp-template-delivered for messages "
            "you start. " + _BUYER_PHONE_NOTE
        ),
        target="Twilio Programmable Messaging (WhatsApp)",
        docs_url="https://www.twilio.com/docs/messaging/api/message-resource",
        checked_on=CHECKED_ON,
        fill=[
            Placeholder(
                name="<TWILIO_ACCOUNT_SID>",
                meaning="Your Account SID (Twilio Console); in the URL and the Basic auth "
                "user name.",
                example="AC0123456789abcdef0123456789abcdef",
            ),
            Placeholder(
                name="<TWILIO_AUTH_TOKEN>",
                meaning="Your Auth Token; the Basic auth password, stored as a secret.",
                example="f2a1...",
            ),
            Placeholder(
                name="<TWILIO_WHATSAPP_SENDER>",
                meaning="Your WhatsApp sender registered in Twilio, in E.164 with the +.",
                example="+5511955550000",
            ),
        ],
        subscription={
            "kind": "webhook",
            "url": "https://api.twilio.com/2010-04-01/Accounts/<TWILIO_ACCOUNT_SID>/Messages.json",
            "event_types": ["shipment.delivered"],
            "include_stale": False,
            "method": "POST",
            "basic_auth": {"username": "<TWILIO_ACCOUNT_SID>", "password": "<TWILIO_AUTH_TOKEN>"},
            "content_type": "application/x-www-form-urlencoded",
            "template": _TWILIO_BODY_TEMPLATE,
            "description": "WhatsApp (Twilio): pedido entregue, mensagem de sessão",
        },
    ),
    Preset(
        id="twilio-whatsapp-template-delivered",
        name="WhatsApp (Twilio): delivered, as an approved content template",
        description=(
            "Sends an approved WhatsApp content template (`ContentSid`) with three variables: "
            "{{1}} the buyer's name, {{2}} the pt-BR delivered sentence, {{3}} the tracking "
            "code. Templates reach the buyer at any time, also outside the 24-hour window. "
            + _BUYER_PHONE_NOTE
        ),
        target="Twilio Programmable Messaging (WhatsApp content templates)",
        docs_url=(
            "https://www.twilio.com/docs/content/"
            "send-templates-created-with-the-content-template-builder"
        ),
        checked_on=CHECKED_ON,
        fill=[
            Placeholder(
                name="<TWILIO_ACCOUNT_SID>",
                meaning="Your Account SID (Twilio Console); in the URL and the Basic auth "
                "user name.",
                example="AC0123456789abcdef0123456789abcdef",
            ),
            Placeholder(
                name="<TWILIO_AUTH_TOKEN>",
                meaning="Your Auth Token; the Basic auth password, stored as a secret.",
                example="f2a1...",
            ),
            Placeholder(
                name="<TWILIO_WHATSAPP_SENDER>",
                meaning="Your WhatsApp sender registered in Twilio, in E.164 with the +.",
                example="+5511955550000",
            ),
            Placeholder(
                name="<TWILIO_CONTENT_SID>",
                meaning="The SID (HX...) of your WhatsApp-approved content template with "
                "variables {{1}}, {{2}} and {{3}}.",
                example="HXb5b62575e6e4ff6129ad7c8efe1f983e",
            ),
        ],
        subscription={
            "kind": "webhook",
            "url": "https://api.twilio.com/2010-04-01/Accounts/<TWILIO_ACCOUNT_SID>/Messages.json",
            "event_types": ["shipment.delivered"],
            "include_stale": False,
            "method": "POST",
            "basic_auth": {"username": "<TWILIO_ACCOUNT_SID>", "password": "<TWILIO_AUTH_TOKEN>"},
            "content_type": "application/x-www-form-urlencoded",
            "template": _TWILIO_CONTENT_TEMPLATE,
            "description": "WhatsApp (Twilio): pedido entregue, template aprovado",
        },
    ),
    Preset(
        id="zapi-status-updates",
        name="WhatsApp (Z-API): the parcel's main steps",
        description=(
            "Sends a pt-BR text to the buyer when the parcel is posted, out for delivery, "
            "not delivered on an attempt, waiting for pickup, and delivered. Z-API puts the "
            "instance token in the URL, which parcelhooks shows and logs like any URL: turn "
            "on Z-API's account security token so the secret Client-Token header is needed "
            "too. " + _BUYER_PHONE_NOTE
        ),
        target="Z-API (WhatsApp)",
        docs_url="https://developer.z-api.io/message/send-message-text",
        checked_on=CHECKED_ON,
        fill=[
            Placeholder(
                name="<ZAPI_INSTANCE_ID>",
                meaning="Your instance ID (Z-API panel, Instances).",
                example="3C2A8E1F0B9D4E7A",
            ),
            Placeholder(
                name="<ZAPI_INSTANCE_TOKEN>",
                meaning="The instance's token (Z-API panel); part of the URL path.",
                example="F1E2D3C4B5A6978812345678",
            ),
            Placeholder(
                name="<ZAPI_CLIENT_TOKEN>",
                meaning="Your account security token (Z-API panel, Security); stored as a "
                "secret header.",
                example="Fa1b2c3d4e5f60718293a4b5c6d7e8f90S",
            ),
        ],
        subscription={
            "kind": "webhook",
            "url": (
                "https://api.z-api.io/instances/<ZAPI_INSTANCE_ID>/token/<ZAPI_INSTANCE_TOKEN>"
                "/send-text"
            ),
            "event_types": [
                "shipment.posted",
                "shipment.out_for_delivery",
                "shipment.delivery_attempted",
                "shipment.available_for_pickup",
                "shipment.delivered",
            ],
            "include_stale": False,
            "method": "POST",
            "headers": [{"name": "Client-Token", "value": "<ZAPI_CLIENT_TOKEN>", "secret": True}],
            "content_type": "application/json",
            "template": _ZAPI_TEMPLATE,
            "description": "WhatsApp (Z-API): andamento da entrega para o comprador",
        },
    ),
    Preset(
        id="bling-order-delivered",
        name="Bling ERP: mark the sales order as served when delivered",
        description=(
            "Moves the Bling sales order to the situation you choose (Atendido, in a standard "
            "account) when its parcel is delivered. The URL needs Bling's own order ID: pass "
            "it in the event's `metadata.bling_order_id` (an event without it is logged "
            "`render_error`). Bling access tokens are short-lived: update the secret "
            "Authorization header (PATCH the subscription's headers) before yours expires, "
            "or deliveries fail with 401."
        ),
        target="Bling ERP API v3",
        docs_url=(
            "https://developer.bling.com.br/referencia#/Pedidos%20de%20Venda/"
            "patch_pedidos_vendas__idPedidoVenda__situacoes__idSituacao_"
        ),
        checked_on=CHECKED_ON,
        fill=[
            Placeholder(
                name="<BLING_ACCESS_TOKEN>",
                meaning="An OAuth access token of your Bling app with the sales-order "
                "scope; stored as a secret header.",
                example="eyJhbGciOi...",
            ),
            Placeholder(
                name="<BLING_SITUACAO_ID>",
                meaning="The ID of the sales-order situation to set (GET "
                "/situacoes/modulos/{idModulo} lists the sales module's); 9 is Atendido in a "
                "standard account.",
                example="9",
            ),
        ],
        subscription={
            "kind": "webhook",
            "url": (
                "https://api.bling.com.br/Api/v3/pedidos/vendas/"
                "{{ data.metadata.bling_order_id }}/situacoes/<BLING_SITUACAO_ID>"
            ),
            "event_types": ["shipment.delivered"],
            # Bling allows 3 requests a second per account, shared with its other integrations.
            "rate_limit_per_second": 2,
            "method": "PATCH",
            "headers": [
                {
                    "name": "Authorization",
                    "value": "Bearer <BLING_ACCESS_TOKEN>",
                    "secret": True,
                },
                {"name": "enable-jwt", "value": "1", "secret": False},
            ],
            "content_type": "application/json",
            "template": "{}",
            "description": "Bling: pedido de venda atendido quando entregue",
        },
    ),
    Preset(
        id="email-delivered-thank-you",
        name="E-mail: thank the buyer when the order is delivered",
        description=(
            "Sends the buyer a pt-BR thank-you e-mail (text and HTML) through Amazon SES when "
            "the parcel is delivered. The event's `data.metadata.buyer_email` must hold the "
            "buyer's address (an event without it is logged `render_error`)."
        ),
        target="E-mail through Amazon SES (parcelhooks)",
        docs_url="docs/destinations.md#e-mail-destinations",
        checked_on=CHECKED_ON,
        fill=[
            Placeholder(
                name="<STORE_NAME>",
                meaning="Your shop's name, as the e-mail signs it.",
                example="Loja Exemplo",
            ),
        ],
        subscription={
            "kind": "email",
            "event_types": ["shipment.delivered"],
            "include_stale": False,
            "email": {
                "to": "{{ data.metadata.buyer_email }}",
                "subject": f"Seu pedido {_ORDER} foi entregue. Obrigado pela compra!",
                "text": _THANK_YOU_TEXT,
                "html": _THANK_YOU_HTML,
            },
            "metadata": {"store_name": "<STORE_NAME>"},
            "description": "E-mail: agradecimento ao comprador na entrega",
        },
    ),
    Preset(
        id="email-alert-subscription-disabled",
        name="E-mail: tell me when one of my destinations is disabled",
        description=(
            "Sends you a pt-BR e-mail when parcelhooks disables one of your other "
            "subscriptions (its endpoint answered 410 Gone, or failed for too long), with "
            "what to do to bring it back."
        ),
        target="E-mail through Amazon SES (parcelhooks)",
        docs_url="docs/destinations.md#e-mail-destinations",
        checked_on=CHECKED_ON,
        fill=[_ALERT_EMAIL],
        subscription={
            "kind": "email",
            "event_types": ["subscription.disabled"],
            "email": {
                "to": "<ALERT_EMAIL>",
                "subject": "[parcelhooks] Destino desativado: "
                "{{ data.url | default(data.subscription_id, true) }}",
                "text": _DISABLED_TEXT,
            },
            "description": "Alerta: destino desativado",
        },
    ),
    Preset(
        id="email-alert-delivery-exhausted",
        name="E-mail: tell me when a delivery gave up",
        description=(
            "Sends you a pt-BR e-mail when a delivery to one of your other subscriptions "
            "failed its last attempt and was dead-lettered, with the last answer and how to "
            "send it again."
        ),
        target="E-mail through Amazon SES (parcelhooks)",
        docs_url="docs/destinations.md#e-mail-destinations",
        checked_on=CHECKED_ON,
        fill=[_ALERT_EMAIL],
        subscription={
            "kind": "email",
            "event_types": ["delivery.exhausted"],
            "email": {
                "to": "<ALERT_EMAIL>",
                "subject": "[parcelhooks] Entrega esgotada: {{ data.event_type }} "
                "{{ data.tracking_code | default('', true) }}",
                "text": _EXHAUSTED_TEXT,
            },
            "description": "Alerta: entrega esgotou as tentativas",
        },
    ),
)

_BY_ID = {entry.id: entry for entry in PRESETS}


def preset(preset_id: str) -> Preset | None:
    """The preset with this id, or None."""
    return _BY_ID.get(preset_id)


def preset_page() -> PresetPage:
    return PresetPage(data=list(PRESETS))
