"""The project's serializer bases: DRF's, each class building its fields and validators once."""

import copy
import functools
from collections.abc import Callable

from rest_framework import serializers
from rest_framework.utils.serializer_helpers import BindingDict


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


def _copier(field: serializers.Field) -> Callable[[serializers.Field, str, serializers.Field], serializers.Field]:
    """How an instance copies this field, decided once per class: shallow, a list of plain values or a nested
    serializer shallow with a child of its own, anything else deep (as DRF copies every field)."""
    if _copied_shallow(field):
        return _shallow_copy
    if isinstance(field, serializers.ListField) and _copied_shallow(field.child) and not _mutable_default(field):
        return _list_copy
    if isinstance(field, serializers.BaseSerializer) and not _mutable_default(field):
        return _serializer_copy
    return _deep_copy


class FieldsBuiltOnce:
    """DRF builds a serializer's fields anew for every instance: a deep copy of each declared field and, for a model
    serializer, the fields it introspects from the model: a pump's answer (its dose changes and refills, each list with
    a serializer of its own) spent 0.9 of its 1.3 ms building its seventy-odd fields. Here a class builds its fields
    once and binds them once (each its name, label and source, as DRF binds a field to any instance); each instance
    takes copies whose parent is itself, deep ones for a field that holds a mutable default or another field DRF must
    build anew, as DRF copies every field. A model serializer's own validators (unique together, unique for date),
    which DRF introspects from the model for every instance that validates, are also found once per class: they keep
    no state between calls."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # `fields` is built from the class's declared (and, for a model serializer, introspected) fields once per
        # class: a `get_fields` of the subclass's own would never be called.
        if "get_fields" in cls.__dict__:
            raise TypeError(f"{cls.__name__} builds its fields once per class: declare them instead of get_fields().")

    def _prototypes(self) -> dict[str, tuple[serializers.Field, Callable]]:
        cls = type(self)
        if "_built_fields" not in cls.__dict__:  # a subclass builds its own
            built = {}
            for name, field in super().get_fields().items():
                field.bind(field_name=name, parent=None)  # what binding sets besides the parent, set once
                built[name] = field, _copier(field)
            cls._built_fields = built
        return cls._built_fields

    @functools.cached_property
    def fields(self) -> BindingDict:
        fields = BindingDict(self)
        for name, (field, copied) in self._prototypes().items():
            fields.fields[name] = copied(field, name, self)
        return fields

    def get_validators(self):
        cls = type(self)
        if "_built_validators" not in cls.__dict__:
            cls._built_validators = super().get_validators()
        return list(cls._built_validators)


def _shallow_copy(field: serializers.Field, name: str, parent) -> serializers.Field:
    """`copy.copy(field)` without its generic protocol (a field has no `__copy__`; `copy` reduces it and rebuilds it
    from the reduction): the same attributes, a quarter of the time, for the hundred-odd fields of a pump's answer;
    its parent the instance's."""
    copied = object.__new__(type(field))
    copied.__dict__.update(field.__dict__)
    copied.parent = parent
    return copied


def _list_copy(field: serializers.ListField, name: str, parent) -> serializers.ListField:
    """A list of plain values (an observation's signs) with a child of its own, whose parent is the copy: DRF's deep
    copy builds both anew from their arguments (profiled: a fifth of an observation's input validation). The child
    keeps the rest of the binding the list gave it when it was built (its empty name and source)."""
    copied = _shallow_copy(field, name, parent)
    copied.child = _shallow_copy(field.child, "", copied)
    return copied


def _serializer_copy(field: serializers.BaseSerializer, name: str, parent) -> serializers.BaseSerializer:
    """A nested serializer (a pump's dose changes) with a child of its own for a list, as `_list_copy` copies a list:
    DRF's deep copy builds the list and its child anew from their arguments. Neither copy keeps fields the class's
    own field might have built: each builds its own, bound to itself, once used."""
    copied = _shallow_copy(field, name, parent)
    copied.__dict__.pop("fields", None)
    if isinstance(field, serializers.ListSerializer):
        copied.child = _serializer_copy(field.child, "", copied)
    return copied


def _deep_copy(field: serializers.Field, name: str, parent) -> serializers.Field:
    """As DRF copies a field: built anew from its arguments (a field holding a mutable default, e.g.), then bound."""
    copied = copy.deepcopy(field)
    copied.bind(field_name=name, parent=parent)
    return copied


class Serializer(FieldsBuiltOnce, serializers.Serializer):
    pass


class ModelSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    pass
