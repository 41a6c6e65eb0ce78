"""The audit trail: every ``audit.decision.logged`` kept in SQL, append-only and hash-chained."""
