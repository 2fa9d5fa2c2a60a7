"""Shared by the tests of the compiled reads (wardflow/compiled.py)."""

from wardflow.compiled import columns


def columns_of(instance) -> dict:
    """Every column of a model instance, as read: what a compiled read must give exactly as the ORM gives it."""
    return {name: getattr(instance, name) for name in columns(type(instance))}
