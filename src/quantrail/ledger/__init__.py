"""The ledger: classification, lots, the dual-ledger books of an account's day, the SQL store,
the service that books fills from the bus, and the end-of-day reports.

See docs/ledger.md. Import from the modules: ``classify``, ``lots``, ``books``, ``store``,
``journal``, ``sql``, ``booking``, ``befday``, ``service``, ``report``.
"""
