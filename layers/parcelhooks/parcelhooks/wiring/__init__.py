"""One module per function, named after it: its settings read once, its flow built from
them and the AWS adapters, once per container. Only the handlers import these; nothing in
aws/ or a flow does (tests/unit/test_layout.py)."""
