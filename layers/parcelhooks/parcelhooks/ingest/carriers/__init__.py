"""Each carrier's own status codes (one module per vocabulary) and its raw event objects."""
