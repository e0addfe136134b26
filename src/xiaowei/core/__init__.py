"""Shared kernel (共享内核): money, rounding, day counts, dates, errors, i18n.

Imports nothing of ours.
"""
