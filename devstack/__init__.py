"""Local stack tooling: MiniStack + the SAM template, for `make run` and the integration tests."""
