"""Writes about notifications, one module per concern: campaigns (validation, dry run,
launch with its fan-out, close), sending (claims, delivery, retries, the sweep),
check-ins (the answers behind the link), and erasure (a person's rows, for the privacy app).
"""
