"""Powertools Logger and Metrics, shared by every function (one place to configure them)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

logger = Logger(service="parcelhooks")
NAMESPACE = "parcelhooks"
metrics = Metrics(namespace=NAMESPACE, service="parcelhooks")
