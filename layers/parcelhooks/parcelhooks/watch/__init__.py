"""The stalled/late sweep: shipments due an alert, told through the events queue."""
