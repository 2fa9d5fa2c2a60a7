import pytest
import time_machine

from tests.interop.support import T0


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller
