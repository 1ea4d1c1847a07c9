import pytest

from testkit.factories import subscription


@pytest.mark.parametrize(
    ("event_types", "event_type", "wanted"),
    [
        (["*"], "shipment.delivered", True),
        (["shipment.delivered"], "shipment.delivered", True),
        (["shipment.delivered"], "shipment.posted", False),
        (["shipment.posted", "shipment.delivered"], "shipment.delivered", True),
        (["shipment.delivered"], "shipment.delivered_late", False),
    ],
)
def test_a_subscription_wants_exact_types_or_everything(event_types, event_type, wanted) -> None:
    assert subscription(event_types=event_types).wants(event_type) is wanted
