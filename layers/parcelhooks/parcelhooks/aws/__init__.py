"""Adapters to AWS: the only modules that use boto3; they import only core/ and each other."""
