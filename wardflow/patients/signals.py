from django.dispatch import Signal

# Sent inside the transaction of a flag change, with actor, patient and changed ({field: new value}), so that
# features owning a rule can act on it (e.g. P1: screening suspends on an infection) without patients knowing them.
patient_flags_changed = Signal()
