"""A serializer class builds its fields once (`wardflow/api/serializers.py`); every instance binds copies of its own,
as DRF's fields built anew would be: nothing one request binds or validates reaches another's."""

import copy
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from rest_framework import serializers

from screening.api import ObservationSerializer
from tests.screening.support import observation_body
from titration.api import DoseChangeSerializer, PumpSerializer, RefillResponseSerializer
from wardflow.api.serializers import Serializer


class DoseEntry(Serializer):
    dose_mcg = serializers.DecimalField(max_digits=6, decimal_places=1, min_value=Decimal("0"))
    segments = serializers.ListField(child=serializers.CharField(), required=False)
    notes = serializers.JSONField(default=[])


def _drf_calls(monkeypatch, serializer: type, kept: str, method: str) -> list[type]:
    """`serializer` as if no instance had built what it keeps in `kept`; the calls to DRF's own `method`, counted."""
    calls = []
    drf_own = getattr(serializers.ModelSerializer, method)

    def counted(instance):
        calls.append(type(instance))
        return drf_own(instance)

    monkeypatch.delattr(serializer, kept, raising=False)
    monkeypatch.setattr(serializers.ModelSerializer, method, counted)
    return calls


@pytest.fixture
def built_anew(monkeypatch):
    """The dose change's fields as if no instance had built them yet; the calls to DRF's own building, counted."""
    return _drf_calls(monkeypatch, DoseChangeSerializer, "_built_fields", "get_fields")


def test_a_model_serializer_introspects_its_model_once_for_every_instance(built_anew):
    first, second = DoseChangeSerializer(), DoseChangeSerializer()
    assert set(first.fields) == set(second.fields) and "new_daily_dose_mcg" in first.fields
    assert built_anew == [DoseChangeSerializer]


def test_each_instance_binds_fields_of_its_own():
    first, second = DoseChangeSerializer(context={"n": 1}), DoseChangeSerializer(context={"n": 2})
    for name in first.fields:
        assert first.fields[name] is not second.fields[name]
        assert first.fields[name].parent is first and second.fields[name].parent is second
    # A method field answers through its own serializer (T12 reads the caller from that serializer's context).
    assert first.fields["percent_change"].context == {"n": 1}
    assert second.fields["percent_change"].context == {"n": 2}


def test_a_nested_serializer_a_list_and_a_mutable_default_are_never_shared():
    first, second = PumpSerializer(), PumpSerializer()
    assert first.fields["dose_changes"].child is not second.fields["dose_changes"].child
    assert first.fields["dose_changes"].child.parent is first.fields["dose_changes"]
    entry, other = DoseEntry(), DoseEntry()
    assert entry.fields["segments"].child is not other.fields["segments"].child
    assert entry.fields["notes"].default == [] and entry.fields["notes"].default is not other.fields["notes"].default


def test_a_subclass_builds_its_own_fields_after_its_parent(monkeypatch):
    """The refill's answer adds the proposed change and its transition (T15) to the pump's fields, built after the
    pump's: a subclass never answers with the fields its parent kept."""
    for cls in (PumpSerializer, RefillResponseSerializer):
        monkeypatch.delattr(cls, "_built_fields", raising=False)
    assert not {"dose_change", "transition"} & set(PumpSerializer().fields)
    assert {"dose_change", "transition"} <= set(RefillResponseSerializer().fields)


def test_a_default_one_request_changes_does_not_reach_the_next():
    first = DoseEntry(data={"dose_mcg": "5"})
    assert first.is_valid(), first.errors
    first.validated_data["notes"].append("given late")
    second = DoseEntry(data={"dose_mcg": "-1"})
    assert not second.is_valid() and set(second.errors) == {"dose_mcg"}  # a field's own rule still applies
    third = DoseEntry(data={"dose_mcg": "5"})
    assert third.is_valid() and third.validated_data == {"dose_mcg": Decimal("5.0"), "notes": []}


def test_a_model_serializer_finds_its_validators_once_for_every_instance(monkeypatch):
    calls = _drf_calls(monkeypatch, ObservationSerializer, "_built_validators", "get_validators")
    charted = ObservationSerializer(data=observation_body(datetime(2026, 3, 2, 10, tzinfo=UTC)))
    refused = ObservationSerializer(data=observation_body(datetime(2026, 3, 2, 10, tzinfo=UTC), heart_rate="fast"))
    assert charted.is_valid(), charted.errors
    assert not refused.is_valid() and set(refused.errors) == {"heart_rate"}  # each instance still validates its own
    assert calls == [ObservationSerializer]


def test_a_list_of_plain_values_is_copied_without_being_built_anew(monkeypatch):
    assert "segments" in DoseEntry().fields  # the class's fields, built
    built = []
    monkeypatch.setattr(serializers.ListField, "__init__", lambda *args, **kwargs: built.append(args))
    entry, other = DoseEntry(), DoseEntry()
    segments = entry.fields["segments"]
    assert built == []
    assert segments.child is not other.fields["segments"].child and segments.child.parent is segments


def test_a_list_copied_shallow_still_validates_each_value_with_its_own_child():
    entry = DoseEntry(data={"dose_mcg": "5", "segments": ["08:00", {"not": "text"}]})
    assert not entry.is_valid()
    assert list(entry.errors["segments"]) == [1]
    assert DoseEntry(data={"dose_mcg": "5", "segments": ["08:00"]}).is_valid()


class Segment(Serializer):
    starts_at = serializers.TimeField()


class Program(Serializer):
    segments = Segment(many=True)


def test_a_nested_list_is_copied_without_being_built_anew(monkeypatch):
    """A pump's dose changes and refills: DRF's deep copy builds each list and its serializer anew per answer."""
    assert "dose_changes" in PumpSerializer().fields  # the class's fields, built
    built = []
    monkeypatch.setattr(serializers.ListSerializer, "__init__", lambda *args, **kwargs: built.append(args))
    first, second = PumpSerializer(context={"n": 1}), PumpSerializer(context={"n": 2})
    changes = first.fields["dose_changes"]
    assert built == []
    assert changes is not second.fields["dose_changes"] and changes.parent is first
    assert changes.child is not second.fields["dose_changes"].child and changes.child.parent is changes
    # Each nested field answers through its own root (T12 reads the caller from the root's context).
    assert changes.child.fields["percent_change"].context == {"n": 1}
    assert second.fields["dose_changes"].child.fields["percent_change"].context == {"n": 2}


def test_a_nested_list_copied_shallow_validates_each_request_on_its_own():
    refused = Program(data={"segments": [{"starts_at": "08:00"}, {"starts_at": "late"}]})
    charted = Program(data={"segments": [{"starts_at": "20:00"}]})
    assert not refused.is_valid() and list(refused.errors["segments"][1]) == ["starts_at"]
    assert charted.is_valid(), charted.errors
    assert [segment["starts_at"].hour for segment in charted.validated_data["segments"]] == [20]


def test_fields_bound_once_carry_the_names_and_sources_drf_binds():
    ours = PumpSerializer().fields
    for name, declared in PumpSerializer._declared_fields.items():
        theirs = copy.deepcopy(declared)
        theirs.bind(field_name=name, parent=None)
        bound = ours[name]
        assert (bound.field_name, bound.source, bound.source_attrs, bound.label) == (
            theirs.field_name, theirs.source, theirs.source_attrs, theirs.label,
        )  # fmt: skip


def test_a_serializer_that_would_build_its_fields_per_instance_is_refused_when_declared():
    """Its `get_fields` would never be called: the fields are built once per class."""
    with pytest.raises(TypeError, match="once per class"):

        class PerRequest(Serializer):
            def get_fields(self):
                return {"dose_mcg": serializers.DecimalField(max_digits=6, decimal_places=1)}
