"""Shared kernel (共享内核): money, rounding, day counts, dates and errors. Imports nothing of ours."""
