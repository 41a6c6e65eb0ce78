"""The audit trail: an append-only, hash-chained SQL record of every decision."""
