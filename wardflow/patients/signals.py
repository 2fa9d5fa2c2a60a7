from django.dispatch import Signal

# Sent inside the transaction of a flag change, with actor, patient and changed ({field: new value}), so that
# features owning a rule can act on it (e.g. P1: screening suspends on an infection) without patients knowing them.
patient_flags_changed = Signal()

# Sent inside the transaction of an implant (T1), with actor, patient and screening_trial (the trial that led to it),
# so that what the trial still had due closes with it (screening's observations and next test dose).
pump_implanted = Signal()
