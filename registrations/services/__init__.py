"""Writes to the register, one module per concern: profiles, trips, the registration's
removal (for the privacy app's erasure and retention), and one-off upgrades.

Import the module you need (``from registrations.services import trips``); what
crosses apps for one person (export, erasure, retention) is the privacy app's.
"""
