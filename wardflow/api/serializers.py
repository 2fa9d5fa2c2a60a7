"""The project's serializer bases: DRF's, each class building its fields once."""

import copy

from rest_framework import serializers


def _copied_shallow(field: serializers.Field) -> bool:
    """A field whose copy may share the attributes it does not rebind (validators, choices, messages) with the field
    it was copied from: one that holds no other field (a nested serializer or list binds its child to itself) and no
    mutable default."""
    return not (
        isinstance(field, serializers.BaseSerializer)
        or hasattr(field, "child")
        or hasattr(field, "child_relation")
        or isinstance(field.default, list | dict | set)
    )


class FieldsBuiltOnce:
    """DRF builds a serializer's fields anew for every instance: a deep copy of each declared field and, for a model
    serializer, the fields it introspects from the model: a pump's answer (its dose changes and refills, each list with
    a serializer of its own) spent 0.9 of its 1.3 ms building its seventy-odd fields. Here a class builds its fields
    once and keeps them unbound; each instance binds its own copies (binding sets a copy's name and parent, nothing the
    copies share), deep ones for a field that holds other fields or a mutable default, as DRF copies every field."""

    def get_fields(self):
        cls = type(self)
        if "_built_fields" not in cls.__dict__:  # a subclass builds its own
            cls._built_fields = super().get_fields()
        return {
            name: copy.copy(field) if _copied_shallow(field) else copy.deepcopy(field)
            for name, field in cls._built_fields.items()
        }


class Serializer(FieldsBuiltOnce, serializers.Serializer):
    pass


class ModelSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    pass
