from .printing import record_printing

__all__ = ["record_printing"]
