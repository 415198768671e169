"""Recognises a customer asking for a person, however the request is phrased or wrapped.

The intent classifier learns requests for a person from examples, but a request inside an angry or
mixed message ("THIS IS USELESS!!! I want a real person now", "can a human look at my double
charge?") is outweighed by the rest of the message. A request for a person must always win, so this
reads each clause of the message for a person of ours ("human", "agent", "someone from your team",
with common misspellings) together with a cue that the customer wants them: a verb before ("talk
to", "put me through to", "I'd rather have"), words after ("... please", "... needed", "... to look
at this"), or nothing else at all ("agent pls"). A refusal of the bot ("no more bots") counts too.
Questions about who is answering ("are you a real person?"), people who are not ours ("my delivery
agent", "my manager said"), declined offers ("don't transfer me to anyone") and questions about
opening hours ("until when can I reach a person?") are not requests.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from functools import lru_cache

from rapidfuzz.distance import OSA

from handoff.detect import normalise_text
from handoff.staff_words import RUDE

# Nouns for a person of ours, and the spellings customers type for them.
_NOUNS = (
    "human", "person", "agent", "representative", "rep", "advisor", "adviser", "consultant", "specialist",
    "operator", "manager", "supervisor", "staff", "employee", "colleague", "customer", "service", "support",
    "care", "team", "member", "people", "being",
)
_SPELLINGS = {
    "humans": "human", "humen": "human", "hooman": "human", "hoomans": "human", "humn": "human", "humna": "human", "hman": "human",
    "humain": "human", "hu": "human", "persons": "person", "persn": "person", "agents": "agent", "agnet": "agent",
    "agant": "agent", "reps": "rep", "representatives": "representative", "advisors": "advisor",
    "consultants": "consultant", "specialists": "specialist", "operators": "operator", "managers": "manager",
    "manger": "manager", "supervisors": "supervisor", "employees": "employee", "colleagues": "colleague",
    "custumer": "customer", "costumer": "customer", "services": "service", "w": "with", "wiht": "with",
    "u": "you", "ur": "your", "yr": "your", "pls": "please", "plz": "please", "plse": "please",
    "speek": "speak", "ppl": "people", "tlak": "talk", "gimme": "give me", "wanna": "want to", "lemme": "let me",
}
# Real words one letter away from a noun: never corrected into it.
_NOT_TYPOS = frozenset({
    "operate", "personal", "humid", "agency", "manage", "managed", "manages", "supervise", "serve", "served",
    "custom", "customs", "humane", "care", "cares", "cared", "car", "core", "cure", "team", "tea", "teams",
    "member", "members", "being", "people", "peoples", "urgent", "parent", "parents", "repay", "rep",
    "staffs", "stuff", "supports", "supported", "services", "servicing", "support", "service", "customer",
    "person", "agent", "human", "advice", "advise", "advised", "specialise", "specialist", "consult",
    "consulting", "employ", "employed", "colleges", "college", "employer", "employers", "persona",
})
_FUZZY_NOUNS = ("human", "person", "agent", "representative", "consultant", "specialist", "operator",
                "manager", "supervisor", "employee", "colleague", "customer", "service", "support")

_QUALITY = (
    r"(?:(?:real|actual|live|living|proper|human|different|other|competent|qualified|senior|breathing|"
    r"fucking|freaking|bloody|damn|goddamn|flesh and blood|paylater|support|customer service|customer "
    r"support|customer care|service|friendly|nice|competent) )*"
)
_STRONG = (
    r"(?:human (?:support|help|assistance|contact)|live (?:help|assistance)|human(?: being)?|(?:living|breathing) being|person|agent|rep|representative|advisor|adviser|consultant|specialist|operator|"
    r"manager|supervisor|staff(?: member)?|employee|colleague|team member|"
    r"member of (?:staff|(?:the |your |our )?(?:[\w]+ )?(?:team|staff))|customer (?:service|support|care)"
    r"(?: team| agent| rep| person)?|support (?:team|staff|person|agent|specialist)|service (?:team|desk)|"
    r"live (?:chat|support))"
    # "the staff discount", "the agent portal": a thing, not a person.
    r"(?! (?:discount|account|number|portal|app|login|code|id|page|card|programme|program|price|rate|sale))"
)
# Someone, anyone, people: only when they are ours ("someone from your team", "one of your people").
_WEAK = (
    r"(?:(?:someone|somebody|anyone|anybody|one) (?:real|human|(?:from|at|on|in|of|who works (?:for|at|in)) "
    r"(?:your|the|paylater|support|customer service)(?: support| customer service| paylater)?"
    r"(?: team| staff| company| side| end)?)|"
    r"(?:one of your|your) (?:people|team|humans|staff|workers?)|(?:your|ur) (?:boss|bosses|superior)|"
    r"(?:an? )?(?:real|actual) (?:people|someone|somebody)|(?:someone|somebody) real|"
    r"(?:someone|somebody) who (?:actually )?works (?:there|here|for you|at paylater|for paylater)|"
    r"(?:real |actual )?(?:lady|gentleman|man|woman|guy) from (?:the|your) (?:company|team|support)|"
    r"real (?:lady|gentleman|man|woman))"
)
_PERSON = rf"(?:{_QUALITY}{_STRONG}|{_WEAK})"
_OF_YOURS = r"(?: of (?:yours|ours)| from (?:your |the )?[\w]+(?: [\w]+)?(?: team)?)?"
# "someone", "anyone" asked for directly: "speak to someone", "get me somebody", "have someone call me".
_ASK_SOMEONE = re.compile(
    r"(?<!\w)(?:(?:talk(?:ing)?|speak(?:ing)?|chat(?:ting)?) (?:to|with)|(?:connect|put|transfer|patch|pass|hand)"
    r" (?:me |us )?(?:through |over |on )?(?:to|with)|(?:get|give|find|bring|send) (?:me |us )?)"
    r" ?(?:someone|somebody|anyone|anybody|one of you)(?!\w)"
    r"|(?<!\w)(?:let|have|get) (?:someone|somebody) (?:call|ring|phone|email|contact|look|check|get back)(?!\w)"
    r"|(?<!\w)(?:can|could|please|pls) (?:someone|somebody) (?:please )?(?:call|ring|phone|email|contact|"
    r"get back|get in touch|reach out)(?!\w)"
    r"|(?<!\w)(?:someone|somebody) (?:can|could) (?:help|call|ring|phone|contact)(?: \w+)? (?:by phone|on the phone|"
    r"call|ring)(?!\w)"
    # After asking whether anyone is there: "get one to talk to me", "get them on the chat".
    r"|(?<!\w)(?:get|put) (?:one|them|someone|somebody)(?: (?:senior|real|competent|qualified|else|human))? "
    r"(?:on(?: (?:the |this )?(?:chat|phone|line|case))?|to (?:talk|speak|chat|write) (?:to|with) (?:me|us))(?!\w)"
    r"|(?<!\w)(?:i|we) (?:need|want|have|would like|'d like) to (?:talk|speak|chat) (?:to|with) one of you(?!\w)"
    # A call from us is a person: "can you arrange a call from you guys", "if i don't get a call from you today".
    r"|(?<!will i )(?<!do i )(?<!would i )(?<!\w)(?:arrange|get|want|need|expect|book|schedule|request|organise|"
    r"organize|set up) (?:a |an )?(?:phone |quick )?(?:call|callback|call back|ring)(?: back)? (?:from|with) "
    r"(?:you|your|one of|someone|somebody|paylater)(?!\w)"
    r"|(?<!\w)(?:need|want|would like|'d like) (?:someone|somebody) to (?:go through|go over|explain|help|call|ring|phone|"
    r"look|check|talk|speak|walk me)(?!\w)"
    r"|(?<!\w)(?:looked at|handled|checked|reviewed|dealt with|sorted) by (?:someone|somebody)(?!\w)"
    r"|(?<!\w)(?:someone|somebody|anyone|anybody)(?: [\w']+){0,3}? (?:who|that) i (?:can|could) (?:talk|speak|chat) "
    r"(?:to|with)(?!\w)"
    r"|(?<!\w)(?:someone|somebody|anyone|anybody)(?: there| here)? who (?:isn'?t|is not|'s not|ain'?t) an? "
    r"(?:bot|machine|robot|computer|ai)(?!\w)"
    # A call from one of us asked for ("call me back", "someone needs to phone me today"), not one promised.
    r"|(?:^|(?<!\w)(?:please|can you|could you|will you|just|so) )(?:call|ring|phone) (?:me|us) back(?!\w)"
    r"|(?<!\w)(?:someone|somebody) (?:needs? to|has to|must|should|better) (?:call|ring|phone|contact) (?:me|us)(?!\w)"
    # Our support asked for by that name alone: "i need to speak to support", "put me through to the helpdesk";
    # not a past try ("i tried to speak to support") nor a page of it ("support page").
    r"|(?<!tried to )(?<!already )(?<!\w)(?:(?:talk|speak|chat) (?:to|with)|(?:connect|put|transfer|patch|pass|hand)"
    r" (?:me|us) (?:through |over )?(?:to|with)) (?:the |your |paylater )?(?:support|help ?desk)(?!\w)"
    r"(?! (?:page|article|section|docs|site|website|bot|chat ?bot|email|ticket|form|hours))"
    # A team of ours asked for by name: "connect me to the fraud team".
    r"|(?<!\w)(?:connect|put|transfer|patch|pass|hand) (?:me|us) (?:through |over )?(?:to|with) (?:the |your |a )?"
    r"(?:[\w-]+ ){0,2}(?:team|department|dept)(?!\w)"
)
# A person the customer says they do not need: "no human needed", "quicker than waiting for an agent".
_NEGATED_PERSON = re.compile(
    r"(?<!\w)(?<!if )(?:no|not|without|didn'?t need|did not need|don'?t need|do not need|no need for|"
    rf"than waiting for|instead of) (?:(?:an?|any|the|a real|to talk to|to speak to) )*{_PERSON}(?: needed)?"
)
# A person mention that is about people in general, not a request: "can a person under 18 use it".
_GENERAL_PERSON = re.compile(
    r"(?:a|any|another|one|the|each|every) person (?:under|over|aged|of (?:age|\d+|legal)|who is|with(?:out)?|"
    r"can use|may use)"
)

_PRE_CUE = (
    r"(?:talk(?:ing)?|speak(?:ing)?|chat(?:ting)?|writ(?:e|ing)|discuss(?:ing)?|connect(?:ed)?|forward|route|"
    r"transfer(?:red)?|put|patch|hook|loop|switch|get|give|bring|reach|contact|escalate|pass|hand|have|see|"
    r"ask(?:ed|ing)?|demand(?:ing)?|want(?:ed)?|need(?:ed)?|like|prefer|preference|rather|appreciate|"
    r"require|request(?:ing)?|is there|are there|any chance|looking for|in touch|deal with|sort|go over|"
    r"take over|send|fetch|find|call ?back|ring back|arrange|book|schedule|expect|(?:looked at|handled|reviewed|checked|dealt with) by)"
)
_REQUEST_BEFORE = re.compile(rf"(?<!\w){_PRE_CUE}(?: [\w']+){{0,5}}? {_PERSON}(?!\w)")
_REQUEST_AFTER = re.compile(
    rf"(?<!\w){_PERSON}{_OF_YOURS} (?:(?:please|now|right now|asap|urgently|immediately|needed|required|"
    r"(?:be )?available|(?:free|around) (?:to|for) (?:a )?(?:chat|talk|speak|help)|needs? to (?:explain|look|check|call|help|sort|handle|contact)|"
    r"online|here|instead|on (?:the|this) chat|would be (?:nice|great|good|better|helpful)|"
    r"is (?:\w+ )?what i(?: am|'m)? (?:need|want|after|asking for)|"
    r"(?:to|can|could|would|will|(?:allowed|able|going|about) to) (?:please )?(?:pick|take|look|check|help|call|ring|phone|handle|review|"
    r"sort|contact|get back|deal|fix|explain|answer|assist|read|go over|go through|investigate|email|reply|respond|"
    r"message|text|join|confirm|step in))(?!\w))"
)
_PERSON_ACTS = re.compile(
    rf"(?<!\w)(?:can|could|please|let|have)(?: please)? (?:(?:a|an|one of (?:your|the)|one|some|your|the) )?"
    rf"{_PERSON}{_OF_YOURS} "
    r"(?:please )?(?:look|check|help|call|ring|phone|handle|review|sort|contact|get back|take|deal|fix|explain|"
    r"give|pick|answer|tell|show|"
    r"assist|read|go over|go through|walk me through|investigate|email|reply|respond|message|text|join|confirm|step in|follow up|get in touch)(?!\w)"
)
_FILLER = (
    r"(?:please|now|asap|right now|immediately|thanks|thx|hello|hi|hey|ok|okay|just|a|an|only|i said|"
    r"already|seriously|damn it|dammit|ffs|omg|need|want|give me|get me|me|talk to|speak to|speak with|"
    r"if possible|for real|i'm begging you|im begging you|kthx|needed|required|hello|anyone|again|"
    r"to|want to|for me)"
)
_BARE = re.compile(rf"^(?:{_FILLER} )*(?:(?:{_QUALITY}{_STRONG}|{_WEAK}) )*(?:{_QUALITY}{_STRONG}|{_WEAK})"
                   rf"(?: {_FILLER})*$")
_REFUSE_BOT = re.compile(
    r"(?<!\w)(?:no|not|stop|enough|done with|sick of|tired of|fed up with|cut the|"
    r"(?:don'?t|do not|dont) (?:want|need)(?: to (?:talk|speak|chat) (?:to|with))?) "
    r"(?:(?:a|an|the|this|more|talking to|chatting with|your|another|with the|with this) )*"
    r"(?:stupid |useless |dumb |damn )?(?:bot|bots|robot|robots|machine|chatbot|computer|ai|automated (?:chat|answers?))"
    r"(?: (?:please|anymore|any more|thanks|thx|crap|nonsense|stuff))?(?!\w)(?! (?:or|and)\b)"
)
# Questions about who answers: a request only if they also ask to talk ("is there a human I can talk to?").
_IDENTITY = re.compile(
    r"^(?:[\w']+ ){0,3}?(?:am i|are we|are you|r you|ru|is this|is that|is it(?! possible)|is there|is anyone|is somebody|"
    r"is someone|who am i|who is|who's|are there)(?: [\w']+){0,4}? (?:real|actual|human|person|people|bot|"
    r"robot|machine|ai|agent|someone|somebody|anyone|anybody|computer|automated|program|staff)(?!\w)"
)
_TALK = re.compile(r"(?<!\w)(?:(?:i|we|me|us) (?:[\w']+ ){0,2}?(?:talk|speak|chat|write) (?:to|with)|"
                   r"who (?:isn'?t|is not|'s not|ain'?t) an? (?:bot|machine|robot|computer|ai)|put them on|"
                   r"(?:free|available|around|able) to (?:talk|chat|speak|help|assist)|"
                   r"(?:available|around|free)(?: now| right now| today| at the moment)?$|"
                   r"(?:i|we|who|that) (?:can|could)|get them|get me|put me|connect me|transfer me|"
                   r"i (?:want|need)|give me)(?!\w)")
# Questions about opening hours or about how something is done mention a person without asking for
# one now: "until when can I reach a person?", "do I have to talk to somebody to delete my account?",
# "is a declined order looked at by a person, or is it all automatic?".
_HOURS = re.compile(
    r"^(?:[\w']+ ){0,2}?(?:when|what time|until when|until what time|till when|how long|what hours|at what time|"
    r"during what hours|(?<!who )do i (?:have|need) to(?! do to)|does it (?:have|need) to|is it necessary|must i)(?!\w)"
    r"|(?<!\w)or (?:is it|is that|does it happen) (?:all |fully |completely )?automatic|or can i do it"
    r"|(?<!\w)or (?:does it|do i|does that) (?:have|need) to go through"
)
# One of our people as the customer describes them afterwards ("the lady from your team was very kind").
_STAFF = r"(?:lady|gentleman|man|woman|guy|girl|person|agent|advisor|adviser|rep|staff|team|colleague|employee)"
_VERY = r"(?:very |so |really |super |extremely |incredibly )?"
# People who are not ours, and requests the customer turns down ("I'd rather not speak to anyone").
_NOT_OURS = re.compile(
    r"(?<!\w)(?:(?:my|his|her|their|the|a|an|our|your) )?(?:delivery|courier|shop|shop's|store|store's|bank|"
    r"bank's|travel|real estate|estate|insurance|booking|sales|dhl|ups|post office|postal|parcel|local|own|line|"
    r"phone company's|football|team's|club's|hotel|airline) (?:agent|person|manager|guy|staff|people|employee|rep)s?"
    r"|(?<!\w)(?:human (?:resources|rights|nature|error|body|race|history)|manager of|staff (?:discount|room))"
    r"|(?<!\w)(?:hiring|jobs?|vacanc\w*|careers?|work as|become an?|apply (?:as|for)) [^.?!,;]*"
    r"|(?<!\w)(?:pass on|give|send|say) (?:my |our )?(?:thanks|compliments|regards|thank you)[^.?!;]*"
    r"|(?<!\w)(?:my|his|her|their|our) (?:manager|boss|supervisor|colleague|employee)s?"
    r"|(?<!\w)(?:human|person|agent|someone|somebody) (?:at|from|in) the (?:shop|store|bank|post office|courier)"
    # Someone at another organisation ("a person at my bank", "someone at hmrc", "amazon's customer service").
    r"|(?<!\w)(?:human|person|agent|someone|somebody|anyone|anybody|rep|representative)s? at (?:(?:my|his|her|their|"
    r"a|an|the) )?(?!paylater|you\b|your\b|ur\b|this\b|head office|headquarters|hq\b|the (?:company|office|other end)\b)"
    r"[\w&'-]+"
    r"|(?<!\w)(?!paylater's|company's|team's)[\w&-]+'s (?:customer (?:service|support|care)|support|help ?(?:line|desk)|"
    r"call cent(?:re|er)|complaints?|staff|agents?|people)"
    r"|(?<!\w)(?:(?:the|human) )*(?:staff|employees|people|workers) (?:in|at|of|for) my"
    # Another company's people ("how do i reach a real human there") and made-up ones ("a joke about a robot
    # asking to speak to the manager").
    r"|(?<!\w)how (?:do|can|could|would|should) (?:i|we|you|one) (?:ever )?(?:reach|get|contact|talk to|speak to|"
    r"speak with|get hold of|get through to) (?:a |an )?"
    r"(?:real |actual |live )?(?:human|person|agent|someone|somebody|anyone) there(?!\w)"
    r"|(?<!\w)(?:joke|story|poem|riddle|song) about[^.?!;]*"
    # Praise for someone who already helped: "the man from your team was very kind to me".
    rf"|(?<!\w){_STAFF}(?: [\w']+){{0,5}} (?:was|were|has been|have been) {_VERY}"
    r"(?:kind|helpful|patient|nice|lovely|friendly|polite|brilliant|amazing|great|wonderful)(?!\w)"
    # ... or treated them badly: a complaint about our people, not a request for one.
    rf"|(?<!\w){_STAFF}(?: [\w']+){{0,5}} (?:was|were|has been|have been|is|are) {_VERY}"
    rf"{RUDE}(?!\w)"
    r"|(?<!\w)(?:lady|gentleman|man|woman|guy|girl|person|agent|advisor|adviser|rep|staff|colleague|employee)"
    r"(?: [\w']+){0,3} (?:talked|spoke) down to"
)
_DECLINED = re.compile(
    r"(?<!\w)(?<!if i )(?<!if we )(?<!unless i )(?:don'?t|do not|dont|didn'?t|did not|no need to|never|"
    r"not going to|won'?t|no need for|without) (?:\w+ ){0,2}?"
    r"(?:transfer|connect|put|pass|hand|get|give|need|want|bother|escalate|an?|any)(?!\w)[^.?!,;]*"
)
_NOT_TALKING = re.compile(
    r"(?<!\w)(?:not|never|without|rather not|didn'?t|did not)(?: [\w']+){0,3}? (?:talk|speak|chat)\w*(?: to| with)?"
    rf"(?: [\w']+){{0,3}}? (?:{_PERSON}|anyone|anybody|someone|somebody)(?!\w)"
)
_MENTION = re.compile(
    rf"(?<!\w)(?:{_QUALITY}{_STRONG}|{_WEAK}|someone|somebody|anyone|anybody|bot|bots|robot|machine|chatbot|"
    r"you (?:people|guys|lot))(?!\w)"
)
# "one" standing for the person the message asked about: "is there any human there? I need to talk to one".
_TALK_TO_ONE = re.compile(r"(?<!\w)(?:i|we) (?:need|want|have|would like|'d like) to (?:talk|speak|chat) (?:to|with) one(?!\w)")
_NAMES_PERSON = re.compile(rf"(?<!\w){_PERSON}(?!\w)")
_SENTENCE = re.compile(r"(?<=[.?!;:])\s+|\s*\n\s*|\s*[.?!;:]+$")
_CLAUSE = re.compile(r"[.?!;:,\n]+|\s+-\s+|\s+(?:but|although|though)\s+")


def asks_for_person(text: str | None, max_bytes: int = 4096) -> bool:
    """Whether the message asks to be served by a person (a member of our support team)."""
    clean = _plain(text or "", max_bytes)
    if not clean:
        return False
    if _REFUSE_BOT.search(_DECLINED.sub(" ", clean)) and not _IDENTITY.search(_words(clean)):
        return True
    if _TALK_TO_ONE.search(_words(clean)) and _NAMES_PERSON.search(_ours(clean)):
        return True
    for sentence, words in _sentences_that_may_ask(clean):
        if any(pattern.search(words) for pattern in (_PERSON_ACTS, _REQUEST_BEFORE, _ASK_SOMEONE)):
            return True
        for clause in _CLAUSE.split(sentence):
            clause_words = _ours(clause)
            if clause_words and (_BARE.match(clause_words) or _REQUEST_AFTER.search(clause_words)):
                return True
    return False


def mentions_person(text: str | None, max_bytes: int = 4096) -> bool:
    """Whether the message names a person of ours (or turns the bot down) where it could be asking
    for one: outside questions about who answers, opening hours, people in general, people who are
    not ours, and requests turned down. A classifier's "asks for a person" without this is a guess
    from the message's other words."""
    clean = _plain(text or "", max_bytes)
    if _REFUSE_BOT.search(_DECLINED.sub(" ", clean)):
        return True
    return any(_MENTION.search(words) for _sentence, words in _sentences_that_may_ask(clean))


def _sentences_that_may_ask(clean: str) -> Iterator[tuple[str, str]]:
    """Each sentence that could ask for someone, with its words as `_ours` leaves them: not a question
    about who answers (unless it also asks to talk), about opening hours or about people in general."""
    for sentence in _SENTENCE.split(clean):
        words = _ours(sentence)
        if not words or (_IDENTITY.search(words) and not _TALK.search(words)):
            continue
        if _HOURS.search(words) or _GENERAL_PERSON.search(words):
            continue
        yield sentence, words


def _ours(text: str) -> str:
    """The words of `text` without people who are not ours and without requests turned down (each
    clause on its own: "my english is not perfect, I want to speak with a person" is a request)."""
    kept = []
    for clause in _CLAUSE.split(_NOT_OURS.sub(" ", text)):
        words = _words(_DECLINED.sub(" ", clause))
        kept.append(_NOT_TALKING.sub(" ", _NEGATED_PERSON.sub(" ", words)))
    return " ".join(" ".join(kept).split())


def _plain(text: str, max_bytes: int) -> str:
    """Lower case and compatibility-folded, cut to `max_bytes`; sentence marks kept for splitting."""
    return normalise_text(text, max_bytes).lower()


def _words(text: str) -> str:
    """The words of a sentence or clause, misspellings of the person nouns corrected, punctuation gone."""
    return " ".join(_spelled(word) for word in re.findall(r"[\w']+", text))


@lru_cache(maxsize=4096)
def _spelled(word: str) -> str:
    """The word as the patterns expect it: a known misspelling or a near miss of a person noun fixed."""
    if word in _SPELLINGS:
        return _SPELLINGS[word]
    if len(word) < 4 or word in _NOT_TYPOS or word in _NOUNS:
        return word
    candidates = [noun for noun in _FUZZY_NOUNS if abs(len(noun) - len(word)) <= 1 and noun[:2] == word[:2]]
    # One slip of the finger ("agen", "huamn": a letter lost, or two swapped), or a long word near enough.
    slips = [noun for noun in candidates if OSA.distance(word, noun, score_cutoff=1) <= 1]
    match = slips or (difflib.get_close_matches(word, candidates, n=1, cutoff=0.85) if len(word) >= 5 else [])
    return match[0] if match else word
