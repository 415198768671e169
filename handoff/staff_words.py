"""Words about our own people, shared by the person-request rules and the complaint cues.

"Your agent was rude" is a complaint about staff, not a request for a person: `person_request` must not
read it as one and the complaint cue in `settings` must catch it, so both take the adjectives from here.
"""

RUDE = r"(?:rude|condescending|patroni[sz]ing|dismissive|disrespectful|unprofessional)"
