"""Integration tier: real servers on 127.0.0.1, no AWS and no stack."""
