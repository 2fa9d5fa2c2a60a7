"""The project's serializer bases: DRF's, each class building its fields and validators once."""

import copy
from collections.abc import Callable

from rest_framework import serializers


def _mutable_default(field: serializers.Field) -> bool:
    return isinstance(field.default, list | dict | set)


def _copied_shallow(field: serializers.Field) -> bool:
    """A field whose copy may share the attributes it does not rebind (validators, choices, messages) with the field
    it was copied from: one that holds no other field (a nested serializer or list binds its child to itself) and no
    mutable default."""
    return not (
        isinstance(field, serializers.BaseSerializer)
        or hasattr(field, "child")
        or hasattr(field, "child_relation")
        or _mutable_default(field)
    )


def _copier(field: serializers.Field) -> Callable[[serializers.Field], serializers.Field]:
    """How an instance copies this field, decided once per class: shallow, a list of plain values shallow with a
    child of its own, anything else deep (as DRF copies every field)."""
    if _copied_shallow(field):
        return _shallow_copy
    if isinstance(field, serializers.ListField) and _copied_shallow(field.child) and not _mutable_default(field):
        return _list_copy
    return copy.deepcopy


class FieldsBuiltOnce:
    """DRF builds a serializer's fields anew for every instance: a deep copy of each declared field and, for a model
    serializer, the fields it introspects from the model: a pump's answer (its dose changes and refills, each list with
    a serializer of its own) spent 0.9 of its 1.3 ms building its seventy-odd fields. Here a class builds its fields
    once and keeps them unbound; each instance binds its own copies (binding sets a copy's name and parent, nothing the
    copies share), deep ones for a field that holds other fields or a mutable default, as DRF copies every field.
    A model serializer's own validators (unique together, unique for date), which DRF introspects from the model for
    every instance that validates, are also found once per class: they keep no state between calls."""

    def get_fields(self):
        cls = type(self)
        if "_built_fields" not in cls.__dict__:  # a subclass builds its own
            cls._built_fields = {name: (field, _copier(field)) for name, field in super().get_fields().items()}
        return {name: copied(field) for name, (field, copied) in cls._built_fields.items()}

    def get_validators(self):
        cls = type(self)
        if "_built_validators" not in cls.__dict__:
            cls._built_validators = super().get_validators()
        return list(cls._built_validators)


def _shallow_copy(field: serializers.Field) -> serializers.Field:
    """`copy.copy(field)` without its generic protocol (a field has no `__copy__`; `copy` reduces it and rebuilds it
    from the reduction): the same attributes, a quarter of the time, for the hundred-odd fields of a pump's answer."""
    copied = object.__new__(type(field))
    copied.__dict__.update(field.__dict__)
    return copied


def _list_copy(field: serializers.ListField) -> serializers.ListField:
    """A list of plain values (an observation's signs) with a child of its own, whose parent is the copy: DRF's deep
    copy builds both anew from their arguments (profiled: a fifth of an observation's input validation). The child
    keeps the rest of the binding the list gave it when it was built (its empty name and source)."""
    copied = _shallow_copy(field)
    copied.child = _shallow_copy(field.child)
    copied.child.parent = copied
    return copied


class Serializer(FieldsBuiltOnce, serializers.Serializer):
    pass


class ModelSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    pass
