"""A request for a person is recognised however it is wrapped; questions about who answers and
people who are not ours are not requests."""

import pytest

from handoff.person_request import asks_for_person, mentions_person

REQUESTS = [
    "THIS IS USELESS!!! I want to talk to a real person now",
    "THIS IS RIDICULOUS!!! nothing works, I want a real person NOW",
    "you people are a joke, get me a manager",
    "can a human look at my double charge?",
    "this is useless, get me a manager",
    "real person NOW!!!",
    "agent pls",
    "that can't be correct, i need to speak to support",
    "put me through to the helpdesk please",
    "could an agent walk me through my statement",
    "my bill confuses me, can a staff member go through the charges with me",
    "HUMAN!!!",
    "operator",
    "speek to a humen",
    "wow so helpful. can I talk to an actual human now?",
    "I don't want a bot, give me a person",
    "no more bots please",
    "is there a human I can talk to?",
    "my refund is late, can someone from your team check it",
    "I need to talk to a person about my locked account",
    "escalate this to a supervisor",
    "any agent available?",
    "put me through to customer service",
    "talk to real ppl",
    "requesting a callback from one of your advisors",
    "my refund was only partial, someone from your company needs to explain this to me",
    "i swear if i dont get a real person in the next 5 mins im closing my account",
    "NOT INTERESTED IN YOUR AUTOMATIC REPLIES!! HUMAN SUPPORT NOW",
    "custmer servce agent please",
    "who do i have to yell at to get a person here",
    "is there anybody human at this company?? get one to talk to me",
    "is anyone real working there? get them on the chat",
    "is someone from your support team free to chat with me?",
    "pls get me an agen",
    "can a huamn check this",
    "could you set up a call back from one of your advisors",
    "get someone senior on the case please",
    "is there a human available",
    "please call me back today, I've waited long enough",
    "someone needs to ring me about this before friday",
    "could you transfer me to your billing department",
    "put me in touch with a living being",
    "is anybody human employed by this firm? we need to talk to one",
    "is a real human allowed to step in here or not",
    "could an agent tell me why my refund is stuck",
    "I want to speak with one of you",
]
NOT_REQUESTS = [
    "are you a bot?",
    "is this a real person?",
    "am I speaking to an actual human right now?",
    "is there a human on the other end?",
    "my delivery agent left the parcel outside",
    "I'm angry my refund took 5 days but it's here now, thanks",
    "can another person use my PayLater account?",
    "can a person under 18 use PayLater?",
    "my manager said I could pay later with you, how does it work?",
    "hello, is anyone there?",
    "can I get the staff discount?",
    "I need my manager's approval first",
    "someone used my account without asking",
    "get me a refund now",
    "no, don't transfer me to an agent, i'm fine",
    "nope, no human needed",
    "cheers, the bot answered it, didn't need to speak to anyone",
    "what time do your human agents finish on saturdays",
    "is a declined order ever looked at by an actual person, or is it all automatic?",
    "please pass on my thanks to the agent who helped me last week",
    "how much does a real estate agent earn",
    "i just wanted to say the lady from your support team was so patient with me, thanks",
    "can i change my payment date in the app, or does it have to go through your staff?",
    "could a chatbot replace the human staff in my cafe",
    "i'd like to make a complaint about your app constantly crashing",
    "how do i get hold of a person there, their site only has a chatbot",
    "tell me a story about a robot that wants to talk to a human",
    "will i get a call from you if a payment bounces?",
    "the agent on the phone yesterday was really rude to me",
    "how can I get hold of a human at my energy supplier?",
    "i have to speak to someone at the council about parking, any idea how?",
    "what's the number for ikea's customer service",
    "your team promised to call me back and nobody did",
    "your chat person talked down to me and i want that noted",
    "which lawyer handles consumer credit? I need to talk to one",
    "the courier agent was odd, i need to talk to one",
    "i tried to speak to support but nobody answered",
    "does a person go through every application?",
    "no, cancel the transfer to support, all good now",
    "where is the link to the speak to support page",
    "is the human brain a living being too",
    "",
]


@pytest.mark.parametrize("text", REQUESTS)
def test_request_for_a_person_is_recognised(text: str) -> None:
    assert asks_for_person(text)


@pytest.mark.parametrize("text", NOT_REQUESTS)
def test_other_messages_are_not_requests(text: str | None) -> None:
    assert not asks_for_person(text)


def test_a_request_after_an_identity_question_still_counts() -> None:
    assert asks_for_person("are you a bot? I want a real person")


def test_only_the_first_bytes_are_read() -> None:
    assert not asks_for_person("x" * 5000 + " agent please", max_bytes=4096)


def test_a_person_is_mentioned_only_where_one_could_be_asked_for() -> None:
    """What a classifier's "asks for a person" must rest on: a person of ours named in the message."""
    assert mentions_person("the human touch, that's what I miss here")
    assert mentions_person("you people are hopeless")
    assert not mentions_person("who is the manager of manchester united")
    assert not mentions_person("nope, no human needed")
    assert not mentions_person("are you a real person?")
    assert not mentions_person("this is useless")
