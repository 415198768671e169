"""Judgement cases are recognised by their unmistakable phrases, whatever else the message asks."""

import pytest

from handoff.answer_gate import SOURCE_INTENT, SOURCE_JUDGEMENT_CUE, SelectedAnswer, decide_answer
from handoff.judgement_cues import cued_judgement_intents
from handoff.settings import HandoffSettings

SETTINGS = HandoffSettings(intent_threshold=0.5, answer_threshold=0.5)


@pytest.mark.parametrize(("text", "intent"), [
    ("YOU CHARGED ME TWICE FOR THE SAME ORDER!!! and when is my next payment due?", "dispute_charge"),
    ("there's a payment on my statement i don't recognise", "dispute_charge"),
    ("my account has been frozen, how do late fees work now?", "account_locked"),
    ("someone stole my card last night", "account_locked"),
    ("the shop claims they never got my return, I have the receipt", "return_problem"),
    ("the return label won't scan at the post office", "return_problem"),
    ("I'd like to make a formal complaint", "complaint"),
    ("there's a debit for a purchase i never made, can i change my card?", "dispute_charge"),
    ("a LATE FEE?? i paid it on the due date!!", "dispute_charge"),
    ("i paid on time and still got a late fee", "dispute_charge"),
    ("the shop cancelled the order but you still took the first instalment", "dispute_charge"),
    ("somebody has been placing orders on my account overnight", "account_locked"),
    ("my return has been stuck for five weeks", "return_problem"),
    ("they refunded only half of what i sent back", "return_problem"),
    ("there's a debit from you on friday that is not mine", "dispute_charge"),
    ("some charge on my card i can't place at all", "dispute_charge"),
    ("there are orders on my account that i never placed", "account_locked"),
    ("charged for something i never ordered, how long do refunds take?", "dispute_charge"),
    ("a payment to a shop i've never heard of is on my statement", "dispute_charge"),
    ("now i'm shut out of my account completely", "account_locked"),
    ("suspended without a word of warning, and i never missed a payment", "account_locked"),
    ("someone ordered with my email address and i never signed up", "account_locked"),
    ("locked out again since the reset email expired, what now", "account_locked"),
    ("i paid everything off early but you've still charged me this month", "dispute_charge"),
    ("i paid it off in march and yet you debited me again", "dispute_charge"),
    ("you took the instalment after the order was fully refunded", "dispute_charge"),
    ("the amount on my statement doesn't match the plan in the app", "dispute_charge"),
    ("give back the money you're not owed", "dispute_charge"),
    ("blocked out of the app since this morning", "account_locked"),
    ("oh great, a late fee on a payment that went out on the due date", "dispute_charge"),
    ("the shop cancelled it and confirmed by email, yet 27.50 has still come out this week", "dispute_charge"),
    ("why bill me for a purchase that was already refunded", "dispute_charge"),
    ("the same 20 euros went out on monday and was debited again on friday", "dispute_charge"),
    ("the app says my access has been restricted", "account_locked"),
    ("you froze my account without telling me", "account_locked"),
    ("there are two orders on there that aren't mine", "account_locked"),
    ("they sent a refund for half of what i returned", "return_problem"),
    ("the shop says the refund was processed but nothing changed on my plan", "return_problem"),
    ("three weeks without an answer, it's not good enough", "complaint"),
    ("you keep helping yourself to my money every month", "dispute_charge"),
    ("paid the instalment by transfer and you took it from my card again", "dispute_charge"),
    ("the invoice says i should only pay 30 but you charged 60", "dispute_charge"),
    ("charged for the full amount even though two items went back", "dispute_charge"),
    ("there is an order on my plan i know nothing about", "account_locked"),
    ("i think my account was used by someone else last night", "account_locked"),
    ("the order ships to an address that isn't mine", "account_locked"),
    ("the phone agent was so condescending to me", "complaint"),
    ("your collections guy talked down to my husband", "complaint"),
    ("my card got hit twice for one instalment", "dispute_charge"),
    ("you charged the whole amount up front instead of splitting it", "dispute_charge"),
    ("why am i being billed for the order that i cancelled last week", "dispute_charge"),
    ("a late fee, when it was your system that failed to collect the money", "dispute_charge"),
    ("i reset the password twice and it still says wrong details", "account_locked"),
    ("the app says access denied every time", "account_locked"),
    ("the refund went through at the shop but you still want the next instalment", "return_problem"),
    ("how many times do i have to explain this to your staff", "complaint"),
    ("thanks for nothing, paylater", "complaint"),
])
def test_a_cue_names_its_judgement_intent(text: str, intent: str) -> None:
    assert cued_judgement_intents(text, SETTINGS)[:1] == [intent]


@pytest.mark.parametrize("text", [
    "how do late fees work", "can I return an item I bought last week", "how do I change my card",
    "what happens if a payment fails", "", None,
    "what is the late fee if i don't pay on time", "how do i make a return", "can i pay half now and half later",
    "i made a purchase yesterday, when is the first payment",
    "i'm not locked out, i just forgot my password", "i'm not locked out of my account, where do i see my plan",
    "i wasn't shut out, the app just crashed", "when is the next instalment taken after i pay off the first one",
])
def test_routine_questions_have_no_cue(text: str | None) -> None:
    assert cued_judgement_intents(text, SETTINGS) == []


def test_a_cue_wins_over_a_confident_faq_but_not_over_a_classified_case_with_its_own_cue() -> None:
    cued = decide_answer("you charged me twice!!! how do refunds work?", "faq", 0.99,
                         SelectedAnswer("faq/refund_timeline", 0.9), SETTINGS)
    assert (cued.intent, cued.source, cued.classified_intent) == ("dispute_charge", SOURCE_JUDGEMENT_CUE, "faq")
    classified = decide_answer("you charged me twice and I want to complain formally", "complaint", 0.9, None, SETTINGS)
    assert classified.intent == "complaint"


def test_a_cue_of_another_case_wins_over_a_classified_case_without_a_cue() -> None:
    """"your so-called security team let it happen" makes the classifier read a complaint; the account
    taken over is the case. A classified case with a cue of its own keeps the classifier's reading."""
    taken = decide_answer("my account's been taken over and your security team hasn't lifted a finger", "complaint",
                          0.99, None, SETTINGS)
    assert (taken.intent, taken.source, taken.classified_intent) == ("account_locked", SOURCE_JUDGEMENT_CUE, "complaint")
    both = decide_answer("my account is frozen and i want to make a formal complaint", "complaint", 0.99, None, SETTINGS)
    assert (both.intent, both.source) == ("complaint", SOURCE_INTENT)


def test_cues_of_an_intent_that_is_not_a_judgement_intent_are_ignored() -> None:
    settings = HandoffSettings(judgement_intents=["complaint"])
    assert cued_judgement_intents("you charged me twice", settings) == []


@pytest.mark.parametrize("text", [
    "my netflix account is locked because someone changed the password",
    "my instagram got hacked, how do I get it back",
    "my phone company charged me twice for roaming",
    "how do I file a complaint against my landlord?",
    "no, I don't want to make a complaint, I was only asking",
    "my account was locked last week but your team sorted it, thanks",
    "forget my last message, the second charge was my own order",
    "scratch that, the parcel turned up at my neighbour",
    "you can close the case, the shop refunded me today",
    "the dentist charged me twice for one filling",
    "my kids school billed us twice for the trip",
    "the order wasnt paid with paylater, it was cash, but it never arrived",
    "forget what i said about the charge, it was mine",
    "do you have the phone number for the dpd driver, he took my parcel back",
])
def test_someone_elses_case_or_a_settled_one_has_no_cue(text: str) -> None:
    assert cued_judgement_intents(text, SETTINGS) == []


@pytest.mark.parametrize("text", [
    "my account is locked and someone ordered a playstation on it",
    "my mobile provider did a sim swap and now my account is blocked",
    "a stranger has been ordering things on my account",
])
def test_our_own_case_keeps_its_cue_when_it_names_a_product_or_provider(text: str) -> None:
    assert cued_judgement_intents(text, SETTINGS)[:1] == ["account_locked"]


def test_a_judgement_intent_read_into_someone_elses_case_is_a_guess() -> None:
    guessed = decide_answer("my instagram account is locked, any tips?", "account_locked", 0.99, None, SETTINGS)
    assert (guessed.intent, guessed.sure) == ("nlu_fallback", False)
    ours = decide_answer("my paylater account is locked, any tips?", "account_locked", 0.99, None, SETTINGS)
    assert (ours.intent, ours.sure) == ("account_locked", True)


@pytest.mark.parametrize("text", [
    "you charged me twice and you keep ignoring my last message",
    "you charged me twice. never mind the app, fix the charge",
])
def test_a_case_that_only_mentions_earlier_messages_keeps_its_cue(text: str) -> None:
    assert cued_judgement_intents(text, SETTINGS)[:1] == ["dispute_charge"]
