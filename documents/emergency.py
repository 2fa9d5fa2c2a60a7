"""What the emergency card tells whoever finds the patient unwell, in plain words (W1, O1; the drug's monograph).
The signs are keyed by the protocol's sign codes, so the card names every sign the ward charts and no other."""

from dataclasses import dataclass

# W1: the early signs of intrathecal baclofen withdrawal, then the advanced ones.
WITHDRAWAL_EARLY = {
    "return_of_spasticity": "stiffness and spasms coming back as they were before the pump",
    "pruritus": "itching",
    "hypotension": "low blood pressure",
    "paresthesias": "tingling or pins and needles",
}
WITHDRAWAL_ADVANCED = {
    "high_fever": "high temperature",
    "altered_mental_status": "confusion or a change in alertness",
    "rebound_spasticity": "spasticity worse than it ever was",
    "muscle_rigidity": "rigid muscles",
}
# O1: the signs of an overdose, from the mildest to the gravest.
OVERDOSE = {
    "drowsiness": "drowsiness",
    "lightheadedness": "feeling light-headed",
    "dizziness": "dizziness",
    "somnolence": "unusual sleepiness",
    "respiratory_depression": "slow or shallow breathing",
    "seizure": "seizures",
    "rostral_hypotonia": "floppiness spreading up the body",
    "loss_of_consciousness": "loss of consciousness",
    "coma": "coma",
}


@dataclass(frozen=True)
class Danger:
    title: str
    rule: str
    signs: str
    what_to_do: tuple[str, ...]


WITHDRAWAL = Danger(
    title="Withdrawal: delivery stopped or pump empty",
    rule="W1",
    signs=f"Early: {', '.join(WITHDRAWAL_EARLY.values())}. Later: {', '.join(WITHDRAWAL_ADVANCED.values())}. "
    "It can start within hours of the delivery stopping and can become life-threatening.",
    what_to_do=(
        "Take the patient to an emergency department now and show this card.",
        "Intrathecal delivery must be restored, at or close to the daily dose on this card, without delay.",
        "Baclofen by mouth is not enough on its own to stop intrathecal withdrawal.",
        "Call the implanting centre.",
    ),
)
OVERDOSE_DANGER = Danger(
    title="Overdose: too much baclofen",
    rule="O1",
    signs=f"{', '.join(OVERDOSE.values()).capitalize()}. It can come on suddenly or build up slowly.",
    what_to_do=(
        "Check airway, breathing and circulation; call the emergency team if any is at risk.",
        "Bring the patient to hospital now: the pump's reservoir may need emptying.",
        "Call the implanting centre.",
    ),
)
DANGERS = (WITHDRAWAL, OVERDOSE_DANGER)
