"""The ledger: classification, lots, the dual-ledger books of an account's day, the SQL store.

See docs/ledger.md. Import from the modules: ``classify``, ``lots``, ``books``, ``store``.
"""
