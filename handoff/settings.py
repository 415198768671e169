"""Settings of the human-handoff plugin: one typed object, read from YAML and the environment.

Every threshold of handoff detection lives here, so a deployment tunes behaviour through
configuration, not code. Precedence (highest first): values passed to the constructor,
environment variables (`HANDOFF_<NAME>`, lists and mappings as JSON), the YAML file named by
`HANDOFF_SETTINGS` (optional; a named file must exist, see `handoff/settings_file.py`), then the
defaults below.
"""

from __future__ import annotations

from functools import lru_cache
from ipaddress import ip_network
from pathlib import Path

from pydantic import BaseModel, BaseSettings, Field, root_validator, validator

from handoff.settings_file import settings_file_source
from handoff.staff_words import RUDE
from handoff.web_origins import allowed_origins

SETTINGS_FILE_ENV = "HANDOFF_SETTINGS"
# Metadata only the plugin itself writes: a customer setting it would pass for an agent's message.
RESERVED_METADATA_KEYS = frozenset({"is_external"})


class ResolveField(BaseModel):
    """The one optional field of the console's resolve form: a value the agent verified, handed back
    to the bot in the named slots (e.g. an order number the bot may look up again)."""

    label: str = Field(..., description="The field's label in the console.")
    slots: list[str] = Field(..., min_items=1, description="Slots the value is set in on resolve.")
    pattern: str | None = Field(None, description="HTML pattern the value must match; unset: any text.")
    placeholder: str = Field("", description="Example value shown in the empty field.")


class RateLimit(BaseModel):
    """How often one client may do one thing: `count` at once, then one more every
    `seconds / count` seconds (so at most `count` per `seconds` on average)."""

    count: int = Field(..., ge=1, description="How many may come at once (and per `seconds` on average).")
    seconds: float = Field(..., gt=0, description="The time in which `count` are allowed again.")


class DriftSettings(BaseModel):
    """Thresholds of the drift alarms (handoff/drift, docs/drift.md). Defaults were chosen on simulated
    streams (tests/drift/test_simulated_streams.py) and then on the drift benchmark's tuning seeds
    (bench/drift.py, docs/drift_bench.md): at most about one false alarm per 20,000 turns, rate and
    stale alarms within a few hundred turns, confidence shifts within 500 on simulated streams."""

    warmup_turns: int = Field(
        300, ge=0, description="Turns after a start or a model change (a new reference) before any alarm.",
    )
    min_samples: int = Field(
        30, ge=5, description="Observations of one subject (an intent, an answer version) before its rate is "
        "tested: its reference rate is too uncertain before.",
    )
    rate_rise: float = Field(
        0.15, gt=0, lt=1,
        description="The rise of a fallback or handoff rate the Page-Hinkley test is tuned to: it weighs each "
        "turn by how much likelier it is under the reference rate plus this than under the reference rate.",
    )
    rate_threshold: float = Field(
        9.0, gt=0,
        description="Log-likelihood ratio the Page-Hinkley statistic must exceed to raise a rate alarm; higher "
        "means fewer false alarms and later true ones.",
    )
    rate_prior_weight: float = Field(
        2.0, gt=0,
        description="A subject's reference rate starts as the rate over all subjects, worth this many turns, "
        "so a subject with few turns does not look like a rise from zero.",
    )
    confidence_reference_size: int = Field(
        150, ge=20, description="The first deciding confidences of an intent after a reset form its reference.",
    )
    confidence_window: int = Field(
        50, ge=10, description="The intent's latest confidences compared with its reference.",
    )
    confidence_test_every: int = Field(
        5, ge=1, description="An intent's window is tested again after this many new confidences.",
    )
    confidence_alpha: float = Field(
        0.001, gt=0, lt=1,
        description="Family-wise significance of one round of Kolmogorov-Smirnov tests, divided by the number "
        "of intents tested (Bonferroni).",
    )
    confidence_min_psi: float = Field(
        0.25, ge=0,
        description="Population stability index the shift must also reach (0.25: a major shift), so a tiny "
        "shift on many samples does not alarm; it is the alarm's severity.",
    )
    stale_window: int = Field(
        20, ge=1, description="The latest verdicts about one answer version that the stale count looks at.",
    )
    stale_min_count: int = Field(
        3, ge=1,
        description="Verdicts in the window calling the answer version outdated (or its answer wrong) that "
        "raise a stale-answer alarm, with `stale_min_share`.",
    )
    stale_min_share: float = Field(
        0.3, gt=0, le=1, description="Share of the window's verdicts that must call the answer outdated or wrong.",
    )
    stale_pair_turns: int = Field(
        70, ge=0,
        description="Two verdicts calling an answer version outdated (or its answer wrong), from different "
        "conversations at most this many turns apart, also raise a stale-answer alarm (0: never); agents' "
        "random slips rarely name the same version so close together.",
    )
    stale_horizon_turns: int = Field(
        1_000, ge=1,
        description="Verdicts count towards a stale-answer alarm only while they are at most this many turns "
        "old, so agents' occasional slips about a rarely handed-off answer do not add up over months.",
    )
    follow_up_conversations: int = Field(
        10_000, ge=100,
        description="Conversations whose last answer waits to learn whether the next turn hands off (the "
        "handoff rate of an answer version); the longest waiting are counted as not handed off.",
    )
    follow_up_seconds: float = Field(
        600.0, gt=0,
        description="An answer whose conversation has not written again this many seconds later (by the turns' "
        "times) counts as not handed off: customers ask for a person right after an answer that failed them, "
        "and most never write again after one that helped.",
    )
    cooldown_turns: int = Field(
        2000, ge=0,
        description="Turns after an alarm before the same kind of alarm for the same subject may be raised "
        "again (the detector also starts a new reference from the change).",
    )


# Online services whose accounts are not ours (`not_our_case_phrases`): "my instagram got hacked".
OTHER_SERVICES = ("netflix|instagram|insta|facebook|twitter|tiktok|snapchat|whatsapp|gmail|google|icloud|apple id|"
                  "microsoft|outlook|hotmail|yahoo|steam|xbox|playstation|psn|nintendo|spotify|ebay|uber|discord|"
                  "reddit|linkedin|roblox|twitch|paypal")


class HandoffSettings(BaseSettings):
    """Settings of the handoff plugin; each field's description says what it controls."""

    # --- shared state ---
    redis_url: str = Field("redis://127.0.0.1:6379/0", description="Redis holding all handoff state.")
    key_prefix: str = Field("handoff", description="Prefix of every Redis key the plugin writes.")
    rasa_key_prefix: str = Field(
        "rasa", min_length=1,
        description="`key_prefix` of Rasa's tracker and lock stores in endpoints.yml (kept in the same Redis): "
        "where erasing a customer's data finds their trackers and locks.",
    )

    # --- frustration: accumulation over the conversation ---
    frustration_threshold: float = Field(
        1.0, gt=0, description="Accumulated frustration at or above which the bot hands off."
    )
    frustration_decay: float = Field(
        0.6,
        gt=0,
        lt=1,
        description="Multiplier applied to a turn's frustration per later user turn, so old anger fades.",
    )
    single_message_cap: float = Field(
        0.7,
        gt=0,
        description="Most one message can add; below the threshold, one angry message alone never hands off.",
    )

    # --- frustration: weight of each signal (a signal's strength is in [0, 1]) ---
    sentiment_weight: float = Field(0.5, ge=0, description="Weight of negative VADER sentiment.")
    caps_weight: float = Field(0.3, ge=0, description="Weight of SHOUTING (share of all-caps words).")
    punctuation_weight: float = Field(0.2, ge=0, description="Weight of runs like '!!!' or '?!?'.")
    profanity_weight: float = Field(0.5, ge=0, description="Weight of profanity (mild 0.5, strong 1).")
    negative_feedback_weight: float = Field(
        0.4, ge=0, description="Weight of complaints about the bot's answer ('useless', 'not what I asked')."
    )
    repeated_question_weight: float = Field(
        0.3, ge=0, description="Weight of asking again what was already asked (the answer did not help)."
    )

    # --- frustration: how each signal is read ---
    sentiment_neutral_band: float = Field(
        0.05, ge=0, lt=1, description="VADER compound scores above minus this count as neutral (VADER's band)."
    )
    shout_min_words: int = Field(
        2, ge=1, description="All-caps words needed before a message counts as shouting (one is emphasis)."
    )
    repeat_similarity: float = Field(
        0.6, gt=0, le=1, description="Token Jaccard similarity at which a message rephrases an earlier one."
    )
    repeat_window: int = Field(3, ge=1, description="Earlier user turns searched for a rephrased question.")
    repeat_ignore_intents: list[str] = Field(
        ["inform", "affirm", "deny", "greet", "thanks", "goodbye"],
        description="Intents that may follow each other without meaning 'the answer did not help'.",
    )

    # --- answering only what the bot is sure of (handoff/answer_gate.py; chosen by `make tune`) ---
    intent_threshold: float = Field(
        0.20, ge=0, le=1,
        description="Intent confidence below which a message becomes an NLU fallback (the bot asks to "
        "rephrase), whatever the intent.",
    )
    answer_threshold: float = Field(
        0.60, ge=0, le=1,
        description="Confidence of the chosen FAQ answer (the sentence vector's and the words' readings "
        "combined: rasa_bot/answer_choice.py, rasa_bot/word_reading.py) below which the message becomes an "
        "NLU fallback instead of being answered.",
    )
    answer_closeness_threshold: float = Field(
        0.60, ge=0, le=1,
        description="Cosine similarity between a message and the nearest training example of the FAQ answer "
        "chosen for it (rasa_bot/answer_choice.py) below which the message becomes an NLU fallback even when "
        "the answer is confident: a question about a topic the bot never learned. 0 turns the check off.",
    )
    second_reading_intents: list[str] = Field(
        ["thanks", "goodbye", "affirm", "greet"],
        description="Small talk the classifier's next reading may stand as when a rule rules out its first "
        "(a judgement case in a message naming no case of ours, a person in one naming nobody): \"the man on "
        "your phone line was so patient, thanks\" is a thank-you. Its confidence, over what the ruled-out "
        "intents leave, must clear second_reading_threshold; otherwise the bot asks to rephrase.",
    )
    second_reading_threshold: float = Field(
        0.70, ge=0, le=1,
        description="Share of the confidence the ruled-out intents leave that a second reading must hold. Its "
        "own bar, not intent_threshold: a first reading ruled out is a sign of trouble, and the small talk "
        "that may stand instead must be clear (the bare text \"request_human\", read as a request naming "
        "nobody, leaves greet only 0.17).",
    )

    # --- other reasons to hand off ---
    fallback_streak: int = Field(2, ge=1, description="NLU fallbacks in a row that hand off.")
    fallback_intents: list[str] = Field(
        ["nlu_fallback", "out_of_scope"],
        description="Intents meaning the bot did not understand: the answer gate's fallback, and out of scope.",
    )
    judgement_intents: list[str] = Field(
        ["complaint", "dispute_charge", "account_locked", "return_problem"],
        description="Intents that need a person's judgement: handed off at once.",
    )
    judgement_cues: dict[str, list[str]] = Field(
        {
            "dispute_charge": [
                r"charged (?:me )?(?:twice|double|two times|2 times|three times|3 times|the wrong amount|too much)",
                r"(?:double|duplicate|doubled) (?:charge|charged|payment|debit|billing|transaction)s?",
                r"(?:debited|billed|deducted|took|taken|withdrew|pulled)(?: [\w']+){0,6} (?:twice|two times|double)",
                r"(?:don'?t|do not|didn'?t|can'?t) recogni[sz]e (?:this|the|a|that|one) (?:charge|payment|transaction|debit)",
                r"(?:unknown|unauthori[sz]ed|unrecogni[sz]ed|fraudulent) (?:charge|payment|transaction|debit)s?",
                (r"(?:charge|payment|transaction|debit)(?: [\w']+){0,6} (?:i|we) (?:don'?t|do not|can'?t|cannot) "
                r"(?:recogni[sz]e|remember making)"),
                r"overcharged", r"wrong amount", r"(?:dispute|contest) (?:a |the |this |that )?(?:charge|payment)",
                (r"(?:purchase|order|payment|charge|debit|transaction)s? (?:that )?i (?:never|didn'?t|did not) "
                 r"(?:make|made|place|placed|authori[sz]e|authori[sz]ed|buy|bought)"),
                (r"late fees?\S*(?: \S+){0,10} (?:paid|went out|went|was taken|left my account|was collected|came out)"
                 r"(?: \S+){0,3} on (?:time|the due date)"),
                r"paid(?: \S+){0,3} on (?:time|the due date)(?: \S+){0,8} late fee",
                (r"(?:cancell?ed|canceled)(?: \S+){0,14} (?:still|anyway|yet)(?: \S+){0,4} (?:charged|took|taken|debited|"
                 r"come out|came out|gone out|went out)"),
                (r"(?:bill|billed|billing|charg(?:e|ed|ing)|debit(?:ed|ing)?|took|taken|taking)(?: [\w']+){0,6} "
                 r"(?:already|was|been|had been) (?:fully )?(?:refunded|cancell?ed)"),
                r"(?:went|came|gone|come) out twice|(?:left|taken from|out of) my (?:account|bank) twice",
                r"the same (?:\S+ ){0,3}(?:left|went out|came out|was taken|debited|charged)(?: \S+){0,6} again",
                r"twice for the same (?:thing|order|purchase|item|plan)",
                r"(?:higher|more) than (?:what )?the (?:shop|store|merchant|till) (?:charged|said|quoted)",
                r"(?:debit|charge|payment|transaction)s?(?: [\w']+){0,6},? (?:isn'?t|is not|are not|aren'?t|not) mine",
                r"(?:debit|charge|payment|transaction)s?(?: [\w']+){0,4} (?:i )?(?:can'?t|cannot|couldn'?t) place",
                (r"(?:charged|billed|debited)(?: me)? for (?:something|an order|a purchase|things|stuff|items?) (?:that )?"
                 r"i (?:never|didn'?t|did not) (?:order|ordered|buy|bought|make|made)"),
                (r"(?:debit|charge|payment|transaction)(?: [\w']+){0,4} (?:from|for|at|to) a (?:shop|store|merchant|company) "
                 r"i'?(?:ve| have)? never (?:heard of|visited|used|been to|shopped at|bought from)"),
                (r"(?:paid|paid it|paid everything|paid the lot|paid the order) off(?: [\w']+){0,8} (?:still|again|yet)"
                 r"(?: [\w']+){0,3} (?:debited|charged|took|taken|billed|left|came out|went out|come out|gone out)"),
                (r"(?:took|taken|debited|charged)(?: [\w']+){0,5} after(?: [\w']+){0,5} (?:was |were |had been |been )?"
                 r"(?:fully )?(?:refunded|cancell?ed|paid off|paid in full)"),
                r"(?:amount|sum|instal?ments?)(?: [\w']+){0,5} (?:doesn'?t|does not|don'?t|do not) match",
                r"(?:money|payments?|anything) (?:you'?re|you are) not owed", r"stop taking money",
                r"help(?:ing|ed)? yoursel(?:f|ves) to my money",
                (r"(?:took|taken|charged|debited|collected)(?: it| the (?:money|payment|instal?ment))? (?:from|off) my "
                 r"(?:card|account|bank) (?:as well|too|again)"),
                (r"(?:only|should only|meant to|supposed to) (?:pay|be charged|owe)(?: [\w']+){0,3},? but you(?:'ve)? "
                 r"(?:took|taken|charged|debited|collected)"),
                (r"charged (?:me )?for the (?:whole|full|entire) (?:order|amount|thing|basket)(?: [\w']+){0,3},? "
                 r"(?:even though|although|though|when|but)"),
                # Tuning batch 8 (stop 26).
                r"(?:got |was |been |being )?hit twice",
                (r"charged (?:me )?(?:the )?(?:whole|full|entire) (?:amount|price|sum|thing|total)(?: [\w']+){0,3} "
                 r"(?:at once|in one go|up ?front)"),
                r"stop (?:billing|charging|debiting)(?: [\w']+){0,2} (?:me|my (?:card|account))",
                r"(?:billed|charged|debited)(?: me)?(?: for)?(?: [\w']+){0,6} (?:that )?(?:i|we) (?:had )?(?:cancell?ed|canceled)",
                r"(?:fee|charge)(?: [\w']+){0,6} (?:told|promised|said)(?: [\w']+){0,3} (?:would be|was|is|will be) free",
                r"(?:fee|charge)s?\W*(?: [\w']+){0,2} (?:out of nowhere|from nowhere|out of the blue)",
                r"late fee\S*(?: \S+){0,8} (?:failed|didn'?t|did not|forgot) to (?:collect|take|process)",
                r"(?:can'?t|cannot|couldn'?t) match (?:it |this |that )?(?:to|with) anything",
            ],
            "account_locked": [
                (r"account (?:is |was |has been |got |been )?(?:locked|frozen|blocked|suspended|deactivated|hacked|"
                r"compromised)"),
                r"(?<!not )(?<!n't )(?:locked|shut) out",
                (r"(?:access|account)(?:'s| has been| is| was| got| has)? (?:been )?(?:temporar(?:y|ily) )?"
                 r"(?:paused|restricted|disabled)"),
                r"(?:frozen|froze|suspended|suspending) (?:me|my account)", r"(?:blocked|blocking|locking) my account",
                r"(?:account|profile)(?:'s| has| was| got)?(?: been)? taken over",
                r"orders?(?: [\w']+){0,6} (?:that )?(?:aren'?t|are not|isn'?t|is not|weren'?t|wasn'?t) mine", r"(?<!not )(?<!n't )blocked out of (?:my|the) (?:account|app)",
                r"(?:been|got|was|i'?m|am) hacked",
                r"(?:suspended|blocked|frozen|locked) (?:me |my account )?without (?:a word of |any )?(?:warning|notice)",
                r"(?:card|wallet|phone) (?:was |has been |got |is )?(?:stolen|nicked|pinched)",
                r"stole my (?:card|phone|wallet|identity|details)", r"identity theft",
                (r"someone (?:else )?(?:has )?(?:used|is using|accessed|logged into|got into|changed|ordered with|"
                 r"signed up with) my (?:account|card|password|login|email|email address|identity)"),
                (r"(?:someone|somebody|a stranger|a thief|some thief)(?:'s| has| is)?(?: been)? (?:placed|placing|made|"
                 r"making|bought|buying|ordered|ordering)(?: \S+){0,4} (?:on|with|using|from) my account"),
                (r"(?:orders?|purchases?) (?:on|in|from) my (?:account|app)(?: [\w']+){0,4} (?:that )?i (?:never|didn'?t|"
                 r"did not) (?:place|placed|make|made)"),
                (r"(?:orders?|purchases?|payments?|charges?|items?|console|phone|laptop)(?: [\w']+){0,8} (?:that )?"
                 r"i know nothing about"),
                (r"(?:paylater|account|app|login|card)(?: account)? (?:was |has been |got |is being )?used by "
                 r"(?:someone|somebody) else"),
                r"address (?:isn'?t|is not|wasn'?t|was not|that isn'?t|that is not|which isn'?t|which is not) mine",
                (r"reset(?: [\w']+){0,5},? (?:and )?(?:it )?(?:still|but still)(?: [\w']+){0,3} "
                 r"(?:can'?t|cannot|won'?t|unable|says|not|doesn'?t)"),
                r"access denied", r"account (?:is |was |has been |got |been )?(?:put )?on hold",
                r"(?:can'?t|cannot|cant) get in,? (?:i )?(?:can'?t|cannot|cant) reset",
            ],
            "return_problem": [
                (r"return(?:ed)?(?: [\w']+){0,6} (?:got lost|was lost|never arrived|not received|never received|"
                r"was refused|was rejected|isn'?t showing|is not showing|not registered)"),
                (r"(?:shop|store|merchant|seller|retailer)(?: [\w']+){0,3} (?:says|claims|denies|refuses|refused|"
                r"rejected|won'?t accept)(?: [\w']+){0,6} (?:return|returned|sent back|parcel back)"),
                r"return label (?:doesn'?t|does not|won'?t|isn'?t|is not|will not) (?:work|scan|valid|print)",
                r"return(?:ed)?(?: \S+){0,4} (?:stuck|still pending|in limbo)",
                r"refund(?:ed)? (?:me )?(?:for )?(?:only )?half",
                r"refund (?:was |has been )?(?:processed|issued|confirmed)(?: [\w']+){0,3} but (?:nothing|no)",
                (r"(?:returned|refund(?:ed)?)(?:\W+[\w']+){0,14}? (?:still|yet) (?:wants?|asking for|asks for|taking|"
                 r"charging|expects?|collect\w*)(?: [\w']+){0,2} (?:the )?(?:next )?(?:payment|instal?ment)"),
            ],
            "complaint": [
                r"(?:make|file|lodge|raise|submit|register) (?:a |an )?(?:formal |official )?complaint",
                r"(?:i want|i'd like|i would like|i wish) to (?:formally )?complain", r"formal complaint",
                r"(?:it'?s|this is|that'?s|its) not good enough",
                r"i(?:'d| would) like (?:it|this) (?:noted|on record|investigated|formally noted)",
                r"how many times (?:do|must|have) i (?:have to |need to )?(?:explain|tell|repeat|send|ask)",
                (r"the same (?:documents?|thing|question|information|details|story)(?: [\w']+){0,3} "
                 r"(?:three|four|five|several|multiple|\d+) (?:separate )?times"),
                (r"wasted (?:my|hours of my|so much of my) (?:entire |whole )?(?:afternoon|day|morning|evening|time|week|"
                 r"weekend|hours?)"),
                r"thanks for nothing",
                # How our people treated the customer.
                (rf"{RUDE}(?: [\w']+){{0,3}} "
                 r"(?:chat |support |collections? |phone )?(?:agent|person|staff|guy|rep|advisor|adviser|man|woman|lady)"),
                (r"(?:your|the chat|the support|the phone|the collections?) (?:[\w']+ )?(?:agent|person|staff|guy|rep|"
                 r"advisor|adviser|team)(?: [\w']+){0,4} (?:was|were|has been|have been|is|are) (?:so |really |very |"
                 rf"incredibly |extremely )?{RUDE}"),
                r"(?:talked|talking|spoke|speaking) down to (?:me|us|my)",
                (r"(?:how|the way) (?:your|the) (?:[\w']+ )?(?:agent|person|staff|guy|rep|advisor|adviser)(?: [\w']+){0,2} "
                 r"(?:spoke|talked|treated|dealt)"),
            ],
        },
        description="Phrases (regular expressions, matched in lower case) that mark a judgement case "
        "whatever else the message says, per judgement intent; they win over a classifier that saw none.",
    )
    not_our_case_phrases: list[str] = Field(
        [
            # Someone else's account, service or dispute: our people cannot unlock a streaming account.
            rf"(?:my|their|his|her) (?:{OTHER_SERVICES})(?: account)?", rf"(?:{OTHER_SERVICES}) account",
            (r"(?:my|the|their|our) (?:phone|mobile|energy|gas|electricity|electric|water|internet|broadband|"
             r"insurance|credit card|cable|utility) (?:company|supplier|firm)"),
            r"(?:my|our|the) (?:landlord|council|employer|boss|school|university|gym)",
            rf"(?:{OTHER_SERVICES}) (?:billed|charged|took|blocked|locked|froze|suspended|banned|closed|overcharged)",
            r"(?:my|the|our) (?:vet|dentist|doctor|garage|mechanic|plumber|nursery|hospital|clinic|hairdresser)",
            r"(?:son|daughter|kid|kids|child|children)'?s? school", r"(?:work|office|company) (?:laptop|computer|pc)",
            r"(?:crypto|bitcoin|trading|betting) (?:exchange|app|account|platform|site|wallet)",
            (r"(?:not|wasn'?t|didn'?t|never) (?:paid|pay|bought|buy|ordered|use|used) (?:it |for )?(?:with|through|via|"
             r"using) (?:paylater|you)"),
            # A complaint declined, or a case our team already sorted.
            (r"(?:don'?t|do not|didn'?t|did not|not) (?:want|need|wish|mean|trying|going) to (?:make|file|lodge|raise|"
             r"submit) (?:a |an )?(?:formal |official )?complaint"),
            (r"(?:you|your team|your support|support|someone|they|an agent) (?:already )?(?:sorted|fixed|resolved|"
             r"solved|unlocked|unblocked) (?:it|that|this|everything|my account)"),
            r"(?:sorted|fine|ok|okay|resolved|worked out) in the end", r"finally (?:took|accepted|approved) (?:the|my) return",
            r"(?<!not )(?<!n't )(?:my (?:mistake|bad)|false alarm|panic over)",
            r"(?:wasn'?t|was not|isn'?t|is not) (?:actually )?(?:locked|blocked|frozen|hacked)(?: after all)?,? i",
            r"(?:was|is) (?:only|just) (?:a )?pending", r"(?:annoyed|angry|furious|upset|cross|livid) at first",
            r"(?:was|were|is) actually my (?:[\w']+ ){0,2}(?:order|purchase|charge|payment)",
            r"(?:was|is) never (?:actually )?(?:locked|blocked|frozen|hacked)",
            # An earlier message taken back, or nothing left for us to do.
            (r"(?<!n't )(?<!not )(?:ignore|disregard|forget) (?:my|the|all) (?:earlier|last|previous|above|other) "
             r"(?:message|messages|complaint|question|one)"),
            r"(?:please )?(?:ignore|disregard) all (?:that|of that|this)", r"scratch (?:that|my)(?: complaint| question| message| last)?",
            r"(?<!n't )(?<!not )(?:forget|ignore|disregard) what i (?:just )?(?:said|wrote)",
            (r"(?:number|contact details?|phone number|email) (?:for|of) (?:the|my|your) (?:[\w']+ )?(?:driver|courier|"
             r"delivery (?:driver|man|guy|person))"),
            (r"never ?mind (?:about )?(?:the|my|that) (?:charge|complaint|refund|return|dispute|question|account|order|"
             r"payment)"),
            (r"(?:no need to|you can|you may|feel free to) (?:look into (?:it|this|that)|drop (?:it|this|that)|"
             r"close (?:it|this|the case|my case)|escalate|investigate)(?: any ?more| any further| now)?"),
            r"all (?:settled|sorted|resolved) (?:now|with|so)", r"nothing (?:else|more|further) (?:is )?(?:needed|required) from you",
            r"(?:i'?m|im|i am) (?:all )?done here", r"(?:won'?t|will not|wont|not going to) (?:be )?escalat\w*",
            # No complaint meant: praise, venting about someone else, a question about people in general.
            r"no complaints?(?: here| at all)?", r"not (?:a complaint|compla\w*)", r"just venting", r"in general i mean", r"generally speaking",
            r"not (?:making|filing|raising|lodging|submitting) (?:a |an )?(?:formal )?complaint", r"no dispute",
            r"(?:just )?(?:wanted|popping in|popped in) to say(?: a)? (?:thanks|thank you|how|that|your)",
            r"(?:pass on|passing on|send|give) (?:my|our) (?:thanks|compliments)",
            # Someone else's complaint, bank or provider.
            (r"my (?:sister|brother|partner|husband|wife|mum|mom|mother|dad|father|friend|flatmate|roommate|son|"
             r"daughter|neighbou?r|gran|grandma) complains"),
            r"(?:with|against) my (?:[\w']+ ){0,3}provider",
            r"my bank (?:has |to )?(?:blocked|froze|frozen|locked|freeze|block|limited)(?: [\w']+){0,2} (?:card|account)",
        ],
        description="Phrases (regular expressions, matched in lower case) that make a message no judgement "
        "case of ours whatever else it says: someone else's account, company or dispute, a complaint declined, "
        "a case already sorted. No judgement cue decides such a message, and a classifier that reads a "
        "judgement intent in it is taken to be guessing (the bot asks to rephrase).",
    )
    details_intent: str | None = Field(
        "inform",
        description="Intent of a message made only of details the bot asks for (entities the regex extractor "
        "found: an order number, an email), whatever the classifier makes of it; unset: the classifier decides.",
    )
    human_request_intents: list[str] = Field(
        ["request_human"], description="Intents by which the customer asks for a person."
    )
    handoff_action: str = Field("action_handoff", description="Action that performs the handoff.")
    ticket_slots: list[str] | None = Field(
        None,
        description="Slots copied onto the ticket for the agent (the ones the console shows); unset: every "
        "slot the conversation has set.",
    )

    # --- priority of the ticket (1 lowest .. 5 most urgent) ---
    reason_priorities: dict[str, int] = Field(
        {"explicit_request": 3, "low_nlu_confidence": 2, "low_action_confidence": 2, "frustration": 2},
        description="Base priority per handoff reason; judgement intents use judgement_priorities.",
    )
    judgement_priorities: dict[str, int] = Field(
        {"account_locked": 5, "dispute_charge": 4, "complaint": 3, "return_problem": 3},
        description="Base priority per judgement intent; one not listed gets 3.",
    )
    priority_frustration_steps: list[float] = Field(
        [1.0, 1.5],
        description="Multiples of frustration_threshold; each one reached raises the priority one level.",
    )

    # --- limits ---
    max_message_bytes: int = Field(
        4096, ge=1, description="Longest message (UTF-8 bytes) read; longer text is cut before scoring."
    )
    max_metadata_bytes: int = Field(
        2048, ge=2,
        description="Largest `metadata` a customer's message may carry (UTF-8 bytes of compact JSON); a "
        "larger one is refused (413). What passes is kept in Rasa's tracker and sent to the action "
        "server with every action.",
    )
    customer_metadata_keys: list[str] = Field(
        ["out_channel", "thread_id", "slack_user", "slack_team"],
        description="Metadata keys a customer's message may carry into Rasa; others are dropped. The "
        "default is what the Slack channel adds (the widget sends none); list the keys your own pages "
        "or apps send. `is_external` (which marks messages the agent service records) is never allowed.",
    )

    # --- rate limits for customers (handoff/rate_limits.py; see security.md, Rate limits) ---
    conversation_message_limit: RateLimit = Field(
        RateLimit(count=20, seconds=10),
        description="Messages one conversation may send (every channel); more are refused (429) until "
        "the limit allows again. A person types far fewer.",
    )
    address_message_limit: RateLimit = Field(
        RateLimit(count=600, seconds=10),
        description="Messages one client address may send over the web channels (REST, socket.io), all its "
        "conversations together. Generous, as many customers may share an address (an office, a mobile "
        "network); it allows bench/bot_latency.py at concurrency 10 from one address.",
    )
    conversation_session_limit: RateLimit = Field(
        RateLimit(count=30, seconds=60),
        description="Times one conversation may be resumed (socket.io `session_request` with its id, e.g. a "
        "page reload).",
    )
    address_session_limit: RateLimit = Field(
        RateLimit(count=300, seconds=60),
        description="New or resumed sessions one client address may open (REST /session, socket.io "
        "`session_request`).",
    )
    conversation_typing_limit: RateLimit = Field(
        RateLimit(count=30, seconds=10),
        description="Typing indicators (`user_typing`) one conversation may send; more are dropped (the "
        "first one over the limit is answered with an error).",
    )
    address_typing_limit: RateLimit = Field(
        RateLimit(count=300, seconds=10),
        description="Typing indicators one client address may send, all its conversations together.",
    )
    conversation_feedback_limit: RateLimit = Field(
        RateLimit(count=5, seconds=60),
        description="Bot-only conversation thumbs (`bot_feedback`) one conversation may send; more are "
        "refused with an error.",
    )
    address_feedback_limit: RateLimit = Field(
        RateLimit(count=60, seconds=60),
        description="Bot-only conversation thumbs one client address may send, all its conversations together.",
    )
    bot_feedback_responses: list[str] = Field(
        ["utter_goodbye"],
        description="Responses that end a conversation: when the bot sends one in a conversation no person "
        "ever had, the widget offers the customer a thumb up/down (socket.io `bot_feedback_offer`). Empty: "
        "never offered.",
    )
    rate_limit_local_keys: int = Field(
        10_000, ge=100,
        description="While Redis cannot be reached, rate limits are counted in each process's memory, for at "
        "most this many conversations and addresses (the least recently seen are forgotten first).",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses or CIDR networks of the reverse proxies in front of the Rasa server. Only a "
        "request from one of them has its client address taken from X-Forwarded-For (read from the right, "
        "past the trusted proxies); empty: the address that connected is the client's.",
    )
    long_polls_per_address: int = Field(
        8, ge=1,
        description="Waiting REST reads (`GET .../messages?wait=`) one client address may hold at once in one "
        "process; more are refused (429). Each holds a Redis connection while it waits.",
    )
    long_polls_per_process: int = Field(
        64, ge=1,
        description="Waiting REST reads one channel process holds at once, from all addresses; more are "
        "refused (429).",
    )

    # --- agents and services ---
    agents_file: Path = Field(
        Path("var/agents.yml"),
        description="YAML file listing the agents, their roles and the SHA-256 of their login tokens (kept "
        "out of the repo, mode 600).",
    )
    max_concurrent_chats: int = Field(3, ge=1, description="Conversations one agent handles at once.")
    average_handle_seconds: int = Field(
        240, ge=1, description="Average time an agent needs per conversation; used for wait estimates."
    )
    retention_days: int = Field(
        30, ge=1, description="Days a conversation's handoff records (state, messages, closed tickets, "
        "ratings) are kept once it is closed (back with the bot, or abandoned); see security.md, Retention. "
        "Rasa's trackers expire on their own (`record_exp` in endpoints.yml).",
    )
    abandon_after_seconds: float = Field(
        120.0, gt=0,
        description="How long a queued customer whose chat widget disconnected may stay away before the "
        "ticket is closed as abandoned (the agent service checks every few seconds).",
    )
    freeze_startup_heap: bool = Field(
        True,
        description="Once a server has started (for Rasa: with its model loaded), leave the objects it "
        "holds out of Python's garbage collection, so full collections no longer pause it for hundreds "
        "of milliseconds (handoff/heap_freeze.py).",
    )
    agent_service_url: str = Field("http://127.0.0.1:5006", description="Base URL of the agent service.")
    rasa_url: str = Field("http://127.0.0.1:5005", description="Base URL of Rasa's HTTP API.")
    session_secret: str = Field(
        "",
        description="Secret that signs customer conversation ids issued by the channels, so nobody can "
        "read or write a conversation whose id they made up. Required by the channels.",
    )
    customer_block_ms: int = Field(
        20_000, ge=100, le=30_000,
        description="How long one blocking read for agent messages waits before it is renewed (ms).",
    )
    shop_origins: list[str] = Field(
        default_factory=list,
        description="Web origins (scheme://host[:port]) of the shop pages that embed the chat widget: the "
        "only origins Rasa's CORS headers and the socket.io channel accept. Empty: the agent service's "
        "own origin (it serves the demo shop page).",
    )
    outage_mode_memory: int = Field(
        100_000, ge=0,
        description="Conversations whose last known mode (bot or person) each channel process remembers, "
        "so that during a Redis outage the bot answers only a conversation this process saw with the bot; "
        "the least recently seen are forgotten first (about 200 bytes each).",
    )
    outage_mode_max_age_seconds: float = Field(
        300.0, ge=0,
        description="How long after Redis last confirmed that a conversation was with the bot the bot may "
        "still answer it during a Redis outage; older, or never seen, counts as \"a person may own it\" and "
        "the message is refused (503, retry) rather than given to the bot.",
    )
    outage_retry_after_seconds: int = Field(
        2, ge=1, le=60,
        description="Retry-After (seconds) sent with a customer message refused because Redis is "
        "unavailable.",
    )
    outbox_readers: int = Field(
        16, ge=1, le=256,
        description="Blocking reads per channel process that wait for agent messages, each for its share "
        "of the connected customers: more cost Redis connections, fewer make each read (and Redis's work "
        "for it) longer.",
    )
    redis_max_connections: int = Field(
        64, ge=8, le=10_000,
        description="Most connections one process (Rasa, agent service, action server) opens to Redis, "
        "every user counted (handoff stores, tracker and lock store, blocking reads). A burst waits for a "
        "free one instead of opening more; keep processes x this well below Redis's `maxclients`.",
    )
    redis_blocking_connections: int = Field(
        32, ge=2,
        description="Of `redis_max_connections`, those for reads that wait for new messages: the channel's "
        "`outbox_readers` and the REST channel's long polls (a long poll finding none free gets a 503 to "
        "retry). Must exceed `outbox_readers`.",
    )
    redis_pool_wait_seconds: float = Field(
        1.0, gt=0, le=30,
        description="How long a Redis command waits for a free connection when all are busy before it "
        "fails as Redis being unavailable.",
    )

    # --- capture of every turn and handoff (handoff/insights, docs/insights.md) ---
    insights_stream_maxlen: int = Field(
        100_000, ge=1000,
        description="Entries the capture stream in Redis keeps at most (`XADD MAXLEN ~`): the backlog a "
        "stopped insights consumer can catch up on before the oldest events are trimmed.",
    )
    insights_stream_expire_seconds: int = Field(
        7 * 86_400, ge=3600,
        description="The capture stream expires when nothing was published for this long (every publish "
        "renews it), so an unused stream does not stay in Redis.",
    )
    insights_buffer_events: int = Field(
        10_000, ge=100,
        description="Events a process holds in memory while Redis is slow or away; more are dropped "
        "(counted, logged), never waited for: capture never delays a customer.",
    )
    insights_database_url: str = Field(
        "sqlite:///var/insights.sqlite3",
        description="SQLAlchemy URL of the database the insights consumer writes turns and handoffs to "
        "(PostgreSQL for several machines: docs/insights.md).",
    )
    insights_consumer_name: str = Field(
        "insights-1",
        description="This consumer's name in the stream's consumer group; a consumer restarted under the "
        "same name re-reads what it had read but not yet stored.",
    )
    insights_batch_seconds: float = Field(
        0.5, ge=0.0, le=10.0,
        description="The insights consumer reads the capture stream at most this often (sooner only when a "
        "full batch waits), so it stores many turns per transaction: less CPU taken from the customers' "
        "turns on the same machine, for rows that appear up to this much later (docs/insights.md, Measured).",
    )
    insights_retention_days: int = Field(
        180, ge=1, description="Days captured turns and handoffs are kept in the insights database.",
    )
    drift: DriftSettings = Field(
        DriftSettings(),
        description="Thresholds of the drift alarms the insights consumer raises (each explained in "
        "`DriftSettings` and docs/drift.md); in the environment one JSON object, e.g. `{\"rate_threshold\": 10}`.",
    )

    # --- review queue (handoff/review, docs/review.md) ---
    review_capture_text: bool = Field(
        True,
        description="Whether a customer message's words go on the capture stream, scrubbed of personal data "
        "(emails, order and phone numbers, names) in the Rasa process; the insights database keeps them only "
        "for turns that were a fallback or a handoff, for the lead's review queue. Off: no customer words "
        "leave the tracker.",
    )

    # --- the lead's review queue and drift alarms in the console (docs/review.md, docs/drift.md) ---
    review_project_root: Path = Field(
        Path("."),
        description="The assistant's project folder: the review queue names a cluster after the nearest "
        "training examples of its `data/*.yml` (the intent or FAQ topic it adds examples to).",
    )
    review_cache_seconds: float = Field(
        60.0, ge=0, le=3600,
        description="How long the agent service reuses the clusters it computed for the review queue "
        "(`GET /api/review`, the `handoff_review_proposals` gauge) before clustering again; decisions "
        "take effect at once.",
    )
    drift_slack_poll_seconds: float = Field(
        30.0, ge=1, le=3600,
        description="How often the agent service that holds the lease looks for new open drift alarms to "
        "post into the Slack alert channel (only with Slack alerts configured).",
    )

    # --- agent service ---
    rasa_jwt_secret: str = Field(
        "",
        description="Secret that signs the JWTs of Rasa's HTTP API (`rasa run --jwt-secret`, HS256): the "
        "Rasa server refuses API calls without a token it signed, and the agent service signs a "
        "short-lived one per call. `make run` generates it into var/rasa_jwt_secret.",
    )
    metrics_token: str = Field(
        "",
        description="Bearer token that Prometheus sends to scrape `/metrics` on the Rasa processes and the "
        "agent service (which also takes an agent's token). Empty: `/metrics` answers 401 to every "
        "request. `make run` generates it into var/metrics_token (docs/metrics.md).",
    )
    rasa_token_seconds: float = Field(
        60.0, gt=0, le=3600,
        description="Lifetime of each JWT the agent service signs for one call to Rasa's HTTP API.",
    )
    rasa_timeout_seconds: float = Field(
        10.0,
        gt=0,
        description="Longest wait for one call to Rasa's HTTP API when a resolve syncs the tracker.",
    )
    rasa_sync_retry_seconds: float = Field(
        15.0,
        gt=0,
        description="First delay before retrying a failed tracker sync; doubles per failure, max 10 min.",
    )
    handoff_resolved_intent: str = Field(
        "handoff_resolved",
        description="Intent triggered in Rasa after a resolve so the bot welcomes the customer back; "
        "it must be in the domain.",
    )
    handoff_message_intent: str = Field(
        "handoff_customer_message",
        description="Intent recorded on customer messages to an agent when they are copied into the tracker.",
    )
    agent_heartbeat_seconds: float = Field(
        45.0,
        gt=0,
        description="How long an agent's presence holds without a new heartbeat from the console.",
    )

    # --- console and website widget ---
    canned_replies_file: Path = Field(
        Path("canned_replies.yml"),
        description="YAML file of the canned replies agents pick from in the console (a list of "
        "{id, title, text}); a missing file means no canned replies.",
    )
    console_origins: list[str] | None = Field(
        None,
        description="Origins (scheme://host:port) of the pages allowed to open the console WebSocket; "
        "a browser's handshake from any other origin is refused (403). Unset: the origin of "
        "agent_service_url. A client sending no Origin (not a browser) is let through to the token check.",
    )
    widget_socket_url: str | None = Field(
        None,
        description="Base URL the shop page's chat widget opens socket.io on (the Rasa server as the "
        "browser reaches it); unset: rasa_url.",
    )
    console_resolve_field: ResolveField | None = Field(
        None,
        description="The console's optional resolve field ({label, slots, pattern, placeholder}), e.g. a "
        "verified order number set in the bot's slots; unset: the resolve form has no field.",
    )
    widget_storage_key: str = Field(
        "handoffChat", regex=r"^[A-Za-z0-9_.-]+$",
        description="Prefix of the browser storage keys the chat widget keeps its conversation id and "
        "messages under; a page that embeds the widget may name its own in a `chat-storage-key` meta tag.",
    )
    demo_page_dir: Path | None = Field(
        None,
        description="Folder of a demo web page with the chat widget (index.html and its styles) that the "
        "agent service serves at /shop; unset: no demo page.",
    )
    socketio_client_file: Path = Field(
        Path("node_modules/socket.io-client/dist/socket.io.min.js"),
        description="The socket.io browser client the pages load (installed by `npm ci` at set-up).",
    )
    chartjs_file: Path = Field(
        Path("node_modules/chart.js/dist/chart.umd.js"),
        description="The chart.js browser build (UMD) the lead's dashboard in the console draws with "
        "(installed by `npm ci` at set-up).",
    )

    @validator("trusted_proxies", each_item=True)
    def _proxy_is_a_network(cls, entry: str) -> str:
        try:
            ip_network(entry.strip(), strict=False)
        except ValueError as error:
            raise ValueError(f"not an address or CIDR network: {entry!r}") from error
        return entry.strip()

    @validator("customer_metadata_keys")
    def _no_reserved_metadata_keys(cls, keys: list[str]) -> list[str]:
        reserved = sorted(set(keys) & RESERVED_METADATA_KEYS)
        if reserved:
            raise ValueError(f"{', '.join(reserved)} may never come from a customer")
        return keys

    @root_validator(skip_on_failure=True)
    def _redis_bound_fits(cls, values: dict) -> dict:
        readers, blocking, most = (values["outbox_readers"], values["redis_blocking_connections"],
                                   values["redis_max_connections"])
        if blocking <= readers:
            raise ValueError(f"redis_blocking_connections ({blocking}) must exceed outbox_readers ({readers})")
        if most - blocking < 4:
            raise ValueError(f"redis_max_connections ({most}) must leave at least 4 connections beyond "
                             f"redis_blocking_connections ({blocking})")
        return values

    def allowed_shop_origins(self) -> list[str]:
        """The origins whose pages may talk to the Rasa server from a browser (CORS, socket.io), in
        a stable order; OriginsSettingError names an entry that is not an origin."""
        return sorted(allowed_origins(self.shop_origins or None, self.agent_service_url, "shop_origins",
                                      "agent_service_url"))

    class Config:
        env_prefix = "HANDOFF_"

        @classmethod
        def customise_sources(cls, init_settings, env_settings, file_secret_settings):
            return (init_settings, env_settings, settings_file_source(SETTINGS_FILE_ENV))


@lru_cache(maxsize=1)
def get_handoff_settings() -> HandoffSettings:
    """Returns the process-wide settings, loaded once (the policy and the action must agree)."""
    return HandoffSettings()
