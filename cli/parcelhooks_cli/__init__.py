"""The `parcelhooks` command for ops: keys, a local webhook receiver (more to come)."""
