"""The chaos and load run's outside observer: loopback receivers and the delivery ledger."""
