"""xiaowei (小微): an open-source platform for small and micro-enterprise lending."""

__version__ = "0.1.0"
