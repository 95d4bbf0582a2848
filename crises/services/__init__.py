"""Writes about crises, one module per concern: the life cycle of a crisis and its area
(lifecycle), and the audited reveal of the people affected (reveals)."""
