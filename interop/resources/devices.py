"""Device for each implanted pump (R1, T13) and DeviceMetric for its low-reservoir alarm setting (R2)."""

from django.db.models.functions import Greatest
from fhir.resources.device import Device
from fhir.resources.devicemetric import DeviceMetric

from titration.selectors import visible_pumps

from .base import FhirSource, meta, resource_id
from .coding import UCUM, concept, local_system, quantity, reference

DEVICE_PROPERTY = local_system("device-property")
DEVICE_METRIC_TYPE = local_system("device-metric-type")


def _device_reference(pump) -> dict:
    return reference("Device", resource_id("pump", pump.pk), f"{pump.model} {pump.serial}")


def pump_device(pump) -> list[Device]:
    return [
        Device.parse_obj(
            {
                "id": resource_id("pump", pump.pk),
                "meta": meta(pump),
                # T13: an explanted pump keeps its record, no longer in use.
                "status": "active" if pump.in_place else "inactive",
                "deviceName": [{"name": pump.model, "type": "model-name"}],
                "serialNumber": pump.serial,
                # T13: the expected end of battery life, when the pump is due for elective replacement.
                "expirationDate": pump.elective_replacement_at,
                "patient": reference("Patient", resource_id("patient", pump.patient_id)),
                "property": [
                    {
                        "type": concept(DEVICE_PROPERTY, "reservoir-volume", "Reservoir volume"),
                        "valueQuantity": [quantity(pump.reservoir_ml, "mL")],
                    },
                    {
                        "type": concept(DEVICE_PROPERTY, "low-reservoir-alarm-volume", "Low-reservoir alarm volume"),
                        "valueQuantity": [quantity(pump.alarm_ml, "mL")],
                    },
                    {
                        "type": concept(DEVICE_PROPERTY, "drug-concentration", "Baclofen concentration"),
                        "valueQuantity": [quantity(pump.concentration_mcg_per_ml, "mcg/mL", "ug/mL")],
                    },
                ],
            }
        )
    ]


def pump_alarm_metric(pump) -> list[DeviceMetric]:
    return [
        DeviceMetric.parse_obj(
            {
                "id": resource_id("pumpalarm", pump.pk),
                "meta": meta(pump),
                # R2: the residual volume at which the pump sounds its low-reservoir alarm, set at implant.
                "type": concept(
                    DEVICE_METRIC_TYPE,
                    "low-reservoir-alarm-volume",
                    "Low-reservoir alarm volume",
                    text=f"Low-reservoir alarm at {pump.alarm_ml} mL",
                ),
                "unit": concept(UCUM, "mL", "mL"),
                "source": _device_reference(pump),
                "operationalStatus": "on" if pump.in_place else "off",
                "category": "setting",
            }
        )
    ]


# Implant, then explant, are the only changes to what the two resources show.
PUMP_LAST_UPDATED = Greatest("implanted_at", "explanted_at")

SOURCES = [
    FhirSource(
        resource_type="Device",
        prefix="pump",
        visible=visible_pumps,
        patient_path="patient",
        last_updated=PUMP_LAST_UPDATED,
        to_resources=pump_device,
    ),
    FhirSource(
        resource_type="DeviceMetric",
        prefix="pumpalarm",
        visible=visible_pumps,
        patient_path="patient",
        last_updated=PUMP_LAST_UPDATED,
        to_resources=pump_alarm_metric,
    ),
]
