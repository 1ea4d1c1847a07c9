"""Adapters to AWS: the only modules that use boto3."""
