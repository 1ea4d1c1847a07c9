"""The merchant API: subscriptions, secrets, test events, deliveries, shipments — for the key's
merchant."""

from datetime import UTC, datetime, timedelta
from functools import cache
from http import HTTPStatus
from typing import Annotated, Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from parcelhooks.api.edge import (
    acting_as_merchant,
    caller_of,
    error_response,
    install_error_handlers,
    json_response,
    portal_api_path,
    refuse_non_json,
    refuse_unread_input,
    refuse_unreadable_json,
    refuse_unroutable_path,
)
from parcelhooks.api.errors import ErrorCode
from parcelhooks.api.portal_assets import portal_asset_response
from parcelhooks.auth.portal import (
    CsrfError,
    PortalSignInError,
    cleared_session_cookie,
    csrf_header,
    csrf_token_of_cookie,
    session_cookie,
    set_session_cookie,
)
from parcelhooks.auth.portal_models import PortalLinkIn, PortalLinkOut, SignedIn, SignInIn
from parcelhooks.core.api_keys import Role
from parcelhooks.core.deliveries import LogFilter, OutcomeFilter
from parcelhooks.core.models import Timestamp
from parcelhooks.core.observability import logger
from parcelhooks.ingest.public import TRACKING_CODE_RULE
from parcelhooks.merchant_api.deliveries import (
    AttemptPage,
    DeliveryOut,
    LoggedEventType,
    Recovered,
    RecoverIn,
    Resent,
    TrackingCodeFilter,
)
from parcelhooks.merchant_api.models import (
    SubscriptionIn,
    SubscriptionOut,
    SubscriptionPage,
    SubscriptionPatch,
)
from parcelhooks.merchant_api.openapi import build_document, ok
from parcelhooks.merchant_api.presets import PresetPage, preset_page
from parcelhooks.merchant_api.previews import PreviewEventIn, PreviewIn, PreviewOut
from parcelhooks.merchant_api.shipments import OrderShipmentsOut, ShipmentsOut
from parcelhooks.wiring import admin as wiring

# A missing or malformed setting fails the cold start with its name, not the first request.
wiring.settings()

app = APIGatewayRestResolver(enable_validation=True)
install_error_handlers(app)
app.use(middlewares=[refuse_unread_input])


def _merchant() -> str:
    return caller_of(app, Role.MERCHANT).owner_id


@app.post(
    "/v1/subscriptions",
    tags=["subscriptions"],
    responses=ok(201, SubscriptionOut, "Created; `secret` is shown in full only now"),
)
def create_subscription(subscription: SubscriptionIn) -> Response[str]:
    """Subscribe a URL; the answer holds its signing secret, shown in full only here."""
    created = wiring.subscriptions().create(_merchant(), subscription)
    return json_response(201, created.model_dump_json())


@app.post(
    "/v1/subscriptions/preview",
    tags=["subscriptions"],
    responses=ok(200, PreviewOut, "What would be sent; nothing is stored or sent"),
)
def preview_subscription(request: PreviewIn) -> PreviewOut:
    """The exact request (or e-mail) a subscription with this body would get for a sample
    event, or why its templates cannot render it; a body create would refuse is a 400."""
    return wiring.subscriptions().preview(_merchant(), request)


@app.post(
    "/v1/subscriptions/<subscription_id>/preview",
    tags=["subscriptions"],
    responses=ok(200, PreviewOut, "What would be sent; nothing is sent"),
)
def preview_stored_subscription(subscription_id: str, request: PreviewEventIn) -> PreviewOut:
    """The exact request (or e-mail) this subscription would get for a sample event (with
    your `data` laid over it), or why its templates cannot render it."""
    return wiring.subscriptions().preview_stored(_merchant(), subscription_id, request)


@app.get(
    "/v1/presets",
    tags=["subscriptions"],
    responses=ok(200, PresetPage, "Ready subscriptions for common targets"),
)
def list_presets() -> PresetPage:
    """Subscriptions for WhatsApp senders, ERPs and e-mail, each with what to fill in."""
    return preset_page()


@app.get(
    "/v1/subscriptions",
    tags=["subscriptions"],
    responses=ok(200, SubscriptionPage, "A page of subscriptions"),
)
def list_subscriptions(
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> SubscriptionPage:
    """The merchant's subscriptions in creation order, a page at a time."""
    return wiring.subscriptions().list(_merchant(), limit, cursor)


@app.get(
    "/v1/subscriptions/<subscription_id>",
    tags=["subscriptions"],
    responses=ok(200, SubscriptionOut, "The subscription and its health; `secret` masked"),
)
def get_subscription(subscription_id: str) -> SubscriptionOut:
    """The subscription, with its endpoint's health: state, failures, held and pending."""
    return wiring.subscriptions().get(_merchant(), subscription_id)


@app.patch(
    "/v1/subscriptions/<subscription_id>",
    tags=["subscriptions"],
    responses=ok(200, SubscriptionOut, "The updated subscription"),
)
def update_subscription(subscription_id: str, patch: SubscriptionPatch) -> SubscriptionOut:
    """Change url, event_types, description, limits or enabled; `enabled: true` re-enables it
    and resets its circuit breaker (held deliveries stay held: recover them)."""
    return wiring.subscriptions().update(_merchant(), subscription_id, patch)


@app.delete(
    "/v1/subscriptions/<subscription_id>",
    tags=["subscriptions"],
    responses=ok(204, None, "Deleted"),
)
def delete_subscription(subscription_id: str) -> Response[str]:
    wiring.subscriptions().delete(_merchant(), subscription_id)
    return Response(status_code=204, body="")


@app.post(
    "/v1/subscriptions/<subscription_id>/rotate-secret",
    tags=["subscriptions"],
    responses=ok(200, SubscriptionOut, "The new secret, in full this once"),
)
def rotate_secret(subscription_id: str) -> SubscriptionOut:
    """A new secret, shown once; the previous one keeps signing for 24 hours."""
    return wiring.subscriptions().rotate_secret(_merchant(), subscription_id)


@app.post(
    "/v1/subscriptions/<subscription_id>/test",
    tags=["deliveries"],
    responses=ok(202, Resent, "Queued for delivery"),
)
def send_test_event(subscription_id: str) -> Response[str]:
    """Send a `webhook.test` event through the normal delivery path."""
    sent = wiring.delivery_admin().send_test(_merchant(), subscription_id)
    return json_response(202, sent.model_dump_json())


@app.get(
    "/v1/subscriptions/<subscription_id>/deliveries",
    tags=["deliveries"],
    responses=ok(200, AttemptPage, "Attempts, newest event first"),
)
def list_deliveries(
    subscription_id: str,
    *,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
    outcome: Annotated[OutcomeFilter | None, Query()] = None,
    event_type: Annotated[LoggedEventType | None, Query()] = None,
    tracking_code: Annotated[
        TrackingCodeFilter | None,
        Query(
            description=f"{TRACKING_CODE_RULE}; an S10 code in any case. Lines written "
            "before the log kept tracking codes have none, so they never match."
        ),
    ] = None,
    since: Annotated[
        Timestamp | None,
        Query(
            description="RFC 3339 with an offset: deliveries of events taken in from this "
            "second on."
        ),
    ] = None,
    until: Annotated[
        Timestamp | None,
        Query(
            description="RFC 3339 with an offset: deliveries of events taken in up to this "
            "second, included."
        ),
    ] = None,
) -> AttemptPage:
    """Every attempt, newest event first with each delivery's attempts together: status
    code, latency, error, attempt number, next attempt; and the deliveries not attempted
    (`skipped_stale`, `held`). The filters combine; pages
    may come up short, even empty, while `next_cursor` says there is more; a cursor is good
    only with the filters it was handed out under."""
    only = LogFilter(
        outcome=outcome,
        event_type=event_type,
        tracking_code=tracking_code,
        since=since,
        until=until,
    )
    return wiring.delivery_admin().attempts(
        _merchant(), subscription_id, limit=limit, cursor=cursor, only=only
    )


@app.get(
    "/v1/deliveries/<delivery_id>",
    tags=["deliveries"],
    responses=ok(200, DeliveryOut, "The delivery, what it sends now, and its attempts"),
)
def get_delivery(delivery_id: str) -> DeliveryOut:
    """One delivery: its event's webhook body, the request (or e-mail) the subscription's
    destination renders for it now, secrets masked (rendered when read: the log keeps no
    request, so its items stay small), and every attempt, newest first."""
    return wiring.delivery_admin().delivery(_merchant(), delivery_id)


@app.post(
    "/v1/deliveries/<delivery_id>/retry",
    tags=["deliveries"],
    responses=ok(202, Resent, "Queued for delivery now"),
)
def retry_delivery(delivery_id: str) -> Response[str]:
    """Send one delivery again now, whatever its earlier attempts did."""
    sent = wiring.delivery_admin().retry(_merchant(), delivery_id)
    return json_response(202, sent.model_dump_json())


@app.post(
    "/v1/subscriptions/<subscription_id>/recover",
    tags=["deliveries"],
    responses=ok(202, Recovered, "What was queued again"),
)
def recover(subscription_id: str, request: RecoverIn) -> Response[str]:
    """Send again every delivery since `since` whose last attempt failed or that was held
    while the subscription was disabled, oldest event first (100 per call)."""
    done = wiring.delivery_admin().recover(_merchant(), subscription_id, request.since)
    return json_response(202, done.model_dump_json())


@app.get(
    "/v1/shipments/<tracking_code>",
    tags=["shipments"],
    responses=ok(200, ShipmentsOut, "The shipments under this tracking code, one per carrier"),
)
def get_shipment(
    tracking_code: Annotated[
        str,
        Path(description=f"As ingest took it: {TRACKING_CODE_RULE}; an S10 code in any case"),
    ],
    carrier: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
) -> ShipmentsOut:
    """A shipment's latest status and its events in sequence order, to catch up without
    waiting for webhooks; every carrier's shipment under this code unless `carrier` says."""
    # API Gateway REST leaves the path percent-encoded and the resolver matches it as it is:
    # decoded here, once, so that `%2D` is `-` as in the code ingest stored.
    return wiring.shipments().get(_merchant(), unquote(tracking_code), carrier)


@app.get(
    "/v1/shipments",
    tags=["shipments"],
    responses=ok(200, OrderShipmentsOut, "The shipments of this order, by tracking code"),
)
def find_shipments_of_order(
    order_id: Annotated[
        str,
        Query(
            min_length=1,
            max_length=128,
            description="The order id the carrier's events named (`order_id`), as sent",
        ),
    ],
) -> OrderShipmentsOut:
    """Every shipment of one of your orders, each as `GET /v1/shipments/{tracking_code}`
    gives it: for an order shipped in several parcels, or when only the order is known."""
    return wiring.shipments().of_order(_merchant(), order_id)


@app.post(
    "/v1/portal/links",
    tags=["portal"],
    responses=ok(201, PortalLinkOut, "A one-time sign-in link to the merchant portal"),
)
def create_portal_link(request: PortalLinkIn) -> Response[str]:
    """A single-use link that signs its holder in to the portal as you, for `ttl_s`."""
    link = wiring.portal().issue_link(_merchant(), ttl=timedelta(seconds=request.ttl_s))
    out = PortalLinkOut(
        token=link.token, path=f"/portal/#link={link.token}", expires_at=link.expires_at
    )
    return json_response(201, out.model_dump_json())


@app.post("/portal/session", include_in_schema=False)
def sign_in(request: SignInIn) -> Response[str]:
    """A session in an HttpOnly cookie, for a portal link (used up) or a merchant key."""
    portal = wiring.portal()
    try:
        if request.link is not None:
            session = portal.exchange_link(request.link)
        else:
            session = portal.sign_in_with_key(request.key or "", wiring.api_keys())
    except PortalSignInError as error:
        logger.info("portal sign-in refused", reason=error.reason)
        raise
    body = SignedIn(
        merchant_id=session.merchant_id,
        csrf_token=session.csrf_token,
        expires_at=session.expires_at,
    )
    return Response(
        status_code=201,
        content_type="application/json",
        body=body.model_dump_json(),
        headers={"Set-Cookie": set_session_cookie(session, datetime.now(UTC))},
    )


@app.get("/portal/session", include_in_schema=False)
def current_session() -> SignedIn:
    """The signed-in session and its CSRF token (same-origin reads only), after a reload."""
    session = wiring.portal().session(
        session_cookie(app.current_event.headers), method="GET", csrf_token=None
    )
    return SignedIn(
        merchant_id=session.merchant_id,
        csrf_token=csrf_token_of_cookie(app.current_event.headers),
        expires_at=session.expires_at,
    )


# The router reads `/portal/` as `/portal`: one route serves both.
@app.get("/portal", include_in_schema=False)
def portal_page() -> Response[str]:
    """The portal's page; `/portal` without its slash is sent to `/portal/`, so the page's
    relative addresses (assets, session, api) resolve under it."""
    if not app.current_event.path.endswith("/"):
        return Response(status_code=308, body="", headers={"Location": "portal/"})
    return portal_asset_response("index.html")


@app.get("/portal/assets/<name>", include_in_schema=False)
def portal_asset(name: str) -> Response[str]:
    return portal_asset_response(name)


@app.delete("/portal/session", include_in_schema=False)
def sign_out() -> Response[str]:
    wiring.portal().sign_out(session_cookie(app.current_event.headers))
    return Response(status_code=204, body="", headers={"Set-Cookie": cleared_session_cookie()})


def _portal_call(event: dict[str, Any], context: LambdaContext) -> dict[str, Any] | None:
    """A portal call runs as the merchant its session proved, or is answered 401/403."""
    path = portal_api_path(event)
    if path is None:
        return None
    headers = event.get("headers") or {}
    try:
        session = wiring.portal().session(
            session_cookie(headers),
            method=str(event.get("httpMethod") or ""),
            csrf_token=csrf_header(headers),
        )
    except PortalSignInError as error:
        logger.info("portal call without a session", reason=error.reason)
        return error_response(HTTPStatus.UNAUTHORIZED, ErrorCode.UNAUTHORIZED, str(error))
    except CsrfError as error:
        return error_response(HTTPStatus.FORBIDDEN, ErrorCode.FORBIDDEN, str(error))
    return app.resolve(acting_as_merchant(event, session.merchant_id, path), context)


@app.get("/v1/openapi.json", include_in_schema=False)
def openapi_document() -> dict[str, Any]:
    """The API's OpenAPI 3.1 document; public, so tools can read it without a key."""
    return public_document()


@cache
def public_document() -> dict[str, Any]:
    return build_document(
        app.get_openapi_schema().model_dump(by_alias=True, exclude_none=True, mode="json")
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return (
        refuse_unroutable_path(event)
        or refuse_non_json(event)
        or refuse_unreadable_json(event)
        or _portal_call(event, context)
        or app.resolve(event, context)
    )
