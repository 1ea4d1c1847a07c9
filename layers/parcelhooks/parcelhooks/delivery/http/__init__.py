"""The fan-out's HTTP client: the SSRF guard (netguard), HTTP/1.1 as bytes (wire), kept-alive
connections (pool), and the sender that ties them into one POST per delivery (sender)."""
