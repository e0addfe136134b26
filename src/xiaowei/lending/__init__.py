"""The loan and its life (贷款生命周期), pure: products, schedules, ledger, accrual, delinquency."""
