"""What crosses every app for one person, one module per concern: the export, the erasure
(crypto-shredding, re-applying erasures after a restore), the ledger file, the retention purge.

Each app erases and exports its own rows (accounts, registrations, crises,
notifications); these modules call them in the lock order of docs/architecture.md.
"""
