"""The OpenAPI schema tells the truth: fields that can be null say so, and every status code an operation can answer
is declared with its error body."""

import pytest
from drf_spectacular.generators import SchemaGenerator

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema):
    for path, item in schema["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


@pytest.mark.parametrize(
    ("component", "field"),
    [
        ("DoseChange", "approved_by"),
        ("DoseChange", "programmed_by"),
        ("DoseChange", "rejected_by"),
        ("Trial", "closed_at"),
    ],
)
def test_fields_that_can_be_null_are_declared_nullable(schema, component, field):
    properties = schema["components"]["schemas"][component]["properties"]
    assert properties[field].get("nullable") is True


def test_every_operation_declares_401_and_every_error_has_a_body(schema):
    for path, method, operation in operations(schema):
        responses = operation["responses"]
        assert "401" in responses, (method, path)
        for code, response in responses.items():
            if code >= "400":
                assert "application/json" in response["content"], (method, path, code)


def test_operations_on_an_id_declare_404_and_writes_declare_400_and_409(schema):
    for path, method, operation in operations(schema):
        codes = set(operation["responses"])
        if "{id}" in path:
            assert "404" in codes, (method, path)
        if method == "post" and path.startswith("/api/v1/") and "{id}" in path:
            assert {"400", "403", "409"} <= codes, (method, path)


def test_a_dose_change_proposal_declares_422_and_a_trial_opening_does_not(schema):
    assert "422" in schema["paths"]["/api/v1/pumps/{id}/dose-changes/"]["post"]["responses"]
    assert "422" not in schema["paths"]["/api/v1/patients/{id}/screening-trials/"]["post"]["responses"]
