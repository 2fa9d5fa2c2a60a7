import pytest
import time_machine


@pytest.fixture
def clock(request):
    """The ward's clock stopped at the test module's `T0`."""
    with time_machine.travel(request.module.T0, tick=False) as traveller:
        yield traveller
