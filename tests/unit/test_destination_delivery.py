"""The fan-out sends each destination its own request: filtered, rendered, signed; a template
that cannot render the event is logged `render_error` and sends nothing."""

import asyncio
import json
from datetime import UTC, datetime
from urllib.parse import parse_qsl

from standardwebhooks import Webhook

from parcelhooks.core.deliveries import DeliveryJob, delivery_id_of
from parcelhooks.core.ids import delivery_id
from parcelhooks.core.models import EmailDestination, Location, StoredHeader
from parcelhooks.delivery.outcomes import AttemptResult
from parcelhooks.delivery.webhook import webhook_body
from testkit.factories import NOW, shipment_event, subscription
from testkit.fakes import FanoutKit

ERP_URL = "https://erp.example.com/orders/{{ data.order_id }}/tracking"
WHATSAPP_TEMPLATE = (
    '{"messaging_product": "whatsapp", "to": "{{ data.metadata.buyer_phone | digits }}", '
    '"type": "text", "text": {"body": "{{ message.pt_BR }}"}}'
)


def _run(kit: FanoutKit, message: str) -> None:
    asyncio.run(kit.fanout.handle_message(message))


def _event(**overrides: object):  # type: ignore[no-untyped-def]
    fields: dict[str, object] = {
        "order_id": "A/1001 x",
        "metadata": {"buyer_phone": "+55 (81) 99999-0000", "buyer_email": "ana@example.com"},
        "location": Location(city="Recife", state="PE"),
    }
    fields.update(overrides)
    return shipment_event(**fields)


def test_an_event_the_filter_does_not_match_is_neither_sent_nor_logged() -> None:
    only_correios = subscription(filter={"data": {"carrier": ["correios"]}})
    kit = FanoutKit([only_correios])
    _run(kit, _event(carrier="loggi").model_dump_json())
    assert kit.sender.requests == [] and kit.log.attempts == []


def test_an_event_the_filter_matches_is_sent() -> None:
    delivered_only = subscription(filter={"data": {"status": ["delivered"]}})
    kit = FanoutKit([delivered_only])
    _run(kit, _event().model_dump_json())
    assert len(kit.sender.requests) == 1
    assert kit.log.attempts[0].outcome == "delivered"


def test_an_erp_gets_a_put_to_its_own_path_with_its_secret_token_and_a_signed_body() -> None:
    erp = subscription(
        url=ERP_URL,
        method="PUT",
        headers=[
            StoredHeader(name="Authorization", sealed="sealed:Bearer erp-token-123"),
            StoredHeader(name="X-Shop", value="loja-1"),
        ],
        template='{"status": "{{ data.status }}", "code": "{{ data.tracking_code }}"}',
    )
    kit = FanoutKit([erp], now=datetime.now(UTC))
    _run(kit, _event().model_dump_json())
    [request] = kit.sender.requests
    assert request.method == "PUT"
    # The order id is one path segment, whatever it holds.
    assert request.url == "https://erp.example.com/orders/A%2F1001%20x/tracking"
    assert request.headers["Authorization"] == "Bearer erp-token-123"
    assert request.headers["X-Shop"] == "loja-1"
    assert json.loads(request.body) == {"status": "delivered", "code": "QB123456785BR"}
    # The Standard Webhooks headers sign the rendered body.
    Webhook(erp.secrets[0].secret).verify(request.body, request.headers)


def _erp_and_plain() -> FanoutKit:
    erp = subscription(
        id="sub_erp",
        url=ERP_URL,
        headers=[StoredHeader(name="Authorization", sealed="sealed:Bearer erp-token-123")],
    )
    return FanoutKit([erp, subscription(id="sub_plain")])


def test_a_key_that_will_not_open_its_secrets_is_a_render_error_and_the_others_go_out() -> None:
    kit = _erp_and_plain()
    kit.secrets.failing = "disabled"
    _run(kit, _event().model_dump_json())
    assert [r.url for r in kit.sender.requests] == ["https://hooks.example.com/parcel"]
    by_subscription = {a.subscription_id: a for a in kit.log.attempts}
    assert by_subscription["sub_plain"].outcome == "delivered"
    erp = by_subscription["sub_erp"]
    assert erp.outcome == "render_error" and "will not open" in (erp.error or "")
    assert kit.retries.jobs == []  # asking again would not help: the merchant sets them again


def test_secrets_kms_throttles_put_that_delivery_off_and_the_others_go_out() -> None:
    kit = _erp_and_plain()
    plain = next(s for s in kit.subscriptions.items.values() if s.id == "sub_plain")
    kit.secrets.failing = "throttled"
    _run(kit, _event().model_dump_json())  # the message settles: nothing raised
    [request] = kit.sender.requests
    assert request.url == plain.url
    by_subscription = {a.subscription_id: a for a in kit.log.attempts}
    assert by_subscription["sub_plain"].outcome == "delivered"
    # Not an attempt: put off, and asked again from the retry queue.
    assert by_subscription["sub_erp"].outcome == "deferred"
    [job] = kit.retries.jobs
    assert (job.subscription_id, job.attempt) == ("sub_erp", 1)


def test_a_whatsapp_sender_gets_its_own_body_with_the_buyers_sentence_in_portuguese() -> None:
    whatsapp = subscription(template=WHATSAPP_TEMPLATE)
    kit = FanoutKit([whatsapp])
    _run(kit, _event().model_dump_json())
    body = json.loads(kit.sender.requests[0].body)
    assert body["to"] == "5581999990000"
    assert body["text"]["body"].startswith("Seu pedido A/1001 x foi entregue")


def test_a_form_destination_gets_its_fields_form_encoded() -> None:
    twilio = subscription(
        content_type="application/x-www-form-urlencoded",
        template='{"To": "whatsapp:+{{ data.metadata.buyer_phone | digits }}", "Body": "ok"}',
    )
    kit = FanoutKit([twilio])
    _run(kit, _event().model_dump_json())
    [request] = kit.sender.requests
    assert request.content_type == "application/x-www-form-urlencoded"
    assert parse_qsl(request.body.decode()) == [("To", "whatsapp:+5581999990000"), ("Body", "ok")]


def test_a_subscription_with_no_destination_fields_gets_our_json_posted_as_before() -> None:
    plain = subscription()
    kit = FanoutKit([plain])
    event = _event()
    _run(kit, event.model_dump_json())
    [request] = kit.sender.requests
    assert (request.method, request.content_type) == ("POST", "application/json")
    assert request.url == plain.url and request.body == webhook_body(event)
    assert kit.secrets.opened == 0


def test_a_template_that_fails_on_the_event_is_logged_render_error_and_sends_nothing() -> None:
    broken = subscription(template='{"to": "{{ data.metadata.missing_key }}"}')
    kit = FanoutKit([broken])
    _run(kit, _event().model_dump_json())
    assert kit.sender.requests == []
    [line] = kit.log.attempts
    assert line.outcome == "render_error"
    assert "missing_key" in (line.error or "")
    # Counted in its own metric; never retried blindly, never dead-lettered, not done.
    assert kit.telemetry.unrendered_records == [line]
    assert kit.retries.jobs == [] and kit.dead_letters.dead == []
    assert delivery_id("evt_01TEST", broken.id, NOW) not in kit.log.done


def test_a_render_error_is_sent_by_the_merchants_retry_once_the_template_is_fixed() -> None:
    broken = subscription(template='{"to": "{{ data.metadata.missing_key }}"}')
    kit = FanoutKit([broken])
    event = _event()
    _run(kit, event.model_dump_json())
    fixed = broken.model_copy(update={"template": '{"to": "{{ data.order_id }}"}'})
    kit.subscriptions.items[(fixed.merchant_id, fixed.id)] = fixed
    retry = DeliveryJob(
        delivery_id=delivery_id_of(event, fixed.id),
        event=event,
        subscription_id=fixed.id,
        merchant_id=fixed.merchant_id,
        attempt=1,
        due_at=NOW,
        first_attempt_at=NOW,
        last_attempt_at=NOW,
        force=True,
        origin="merchant",
    )
    _run(kit, retry.model_dump_json())
    assert json.loads(kit.sender.requests[0].body) == {"to": "A/1001 x"}
    assert [line.outcome for line in kit.log.attempts] == ["render_error", "delivered"]


def test_an_email_destination_sends_the_rendered_mail_through_the_mailer() -> None:
    thanks = subscription(
        kind="email",
        url=None,
        email=EmailDestination(
            to="{{ data.metadata.buyer_email }}",
            subject="Pedido {{ data.order_id }} entregue",
            text="{{ message.pt_BR }}",
        ),
    )
    kit = FanoutKit([thanks])
    _run(kit, _event().model_dump_json())
    [mail] = kit.mailer.sent
    assert mail.to == ("ana@example.com",) and mail.subject == "Pedido A/1001 x entregue"
    assert mail.text is not None and mail.text.startswith("Seu pedido A/1001 x foi entregue")
    assert kit.sender.requests == []
    assert kit.log.attempts[0].outcome == "delivered"


def test_an_email_ses_throttled_is_retried_on_the_schedule() -> None:
    thanks = subscription(
        kind="email",
        url=None,
        email=EmailDestination(to="loja@example.com", subject="Oi", text="ok"),
    )
    kit = FanoutKit([thanks])
    kit.mailer.answers = [AttemptResult(400, 3.0, error="ses_Throttling")]
    _run(kit, _event().model_dump_json())
    [job] = kit.retries.jobs
    assert (job.attempt, job.last_status, job.last_error) == (2, 400, "ses_Throttling")


def test_an_email_to_something_that_is_no_address_is_a_render_error() -> None:
    thanks = subscription(
        kind="email",
        url=None,
        email=EmailDestination(to="{{ data.order_id }}", subject="Oi", text="ok"),
    )
    kit = FanoutKit([thanks])
    _run(kit, _event().model_dump_json())
    assert kit.mailer.sent == []
    assert kit.log.attempts[0].outcome == "render_error"
