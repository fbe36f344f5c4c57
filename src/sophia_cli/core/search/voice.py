"""Customer voice: whether a query asks what people outside the company said, and its topic.

"what did customers say about X", "prospects asking for a discount", "customer complaints
about onboarding", "feedback from clients" mean external speakers. The shapes are grammar
rather than the phrasings of any one question set.
"""

from __future__ import annotations

import re

# "what did customers say about X", "prospects asking for a discount",
# "customer complaints about onboarding", "feedback from clients" mean people outside the
# company, i.e. external speakers. The shapes are written as grammar rather than as the
# phrasings of any one question set: the audience followed (past a few auxiliaries or adverbs)
# by a verb of saying, wanting or judging; an auxiliary question about the audience's doing
# ("will the customer sign", "do prospects need"); a noun of voice next to the audience
# ("customer objections", "pushback from buyers"); "from/according to customers". The
# audience as a topic ("customer discount", "customers stuck in a login loop") is no filter.
_WHO = r"(?:customers?|prospects?|clients?|buyers?)"
_VOICE_VERB = (
    r"(?:say|says|said|saying|tell|tells|told|telling|ask|asks|asked|asking|complain\w*|"
    r"mention\w*|rais(?:e|es|ed|ing)|bring(?:s|ing)? up|brought up|push(?:es|ed|ing)? back|"
    r"object(?:s|ed|ing)?|want\w*|need(?:s|ed|ing)?|request\w*|think\w*|thought|feel\w*|felt|"
    r"believ\w*|worr(?:y|ies|ied|ying)|lik(?:e|es|ed|ing)|lov(?:e|es|ed|ing)|hat(?:e|es|ed|ing)|"
    r"prefer\w*|dislik\w*|enjoy\w*|appreciat\w*|expect\w*|compar\w*|evaluat\w*|consider\w*|"
    r"question\w*|describ\w*|report\w*|"
    r"shar(?:e|es|ed|ing)|suggest\w*|propos\w*|demand\w*|insist\w*|car(?:e|es|ed|ing)|"
    r"struggl\w*|threaten\w*|hesitat\w*|decid\w*|choos\w*|chose|pick\w*|agree\w*|disagree\w*|"
    r"reject\w*|refus\w*|accept\w*|negotiat\w*|balk\w*|wonder\w*|prais\w*|criticis\w*|"
    r"criticiz\w*|point(?:s|ed|ing)? out|highlight\w*|respond\w*|repl(?:y|ies|ied|ying)|"
    r"react\w*|challeng\w*|doubt\w*|explain\w*|cit(?:e|es|ed|ing)|flag\w*|mean|meant)"
)
_AUX = (
    r"(?:do|does|did|are|is|was|were|have|has|had|been|will|would|can|could|should|may|might|"
    r"keep|keeps|kept|not|also|still|often|always|never|just|really|actually|usually|all|most|"
    r"\w+ly)"
)
_VOICE_NOUN = (
    r"(?:feedback|complaints?|objections?|concerns?|questions?|pushback|push-back|requests?|"
    r"comments?|worries|pain points?|reactions?|opinions?|views|thoughts|asks|sentiment|voice|"
    r"frustrations?|praise|criticism|wishes|wants|needs)"
)
_DET = r"(?:(?:the|our|a|an|some|any|many|most|several|few|existing|new|potential|their)\s+)*"
_AUDIENCE_SHAPES = (
    rf"{_DET}{_WHO}(?:'s|')?(?:\s+{_AUX})*\s+{_VOICE_VERB}\b",
    rf"\b(?:do|does|did|are|were|will|would|can|could|should|have|has)\s+{_DET}{_WHO}\s+\w+",
    rf"{_DET}{_WHO}(?:'s|')?\s+{_VOICE_NOUN}\b",
    rf"{_VOICE_NOUN}\s+(?:\w+\s+)?(?:from|by|of|among)\s+{_DET}{_WHO}\b",
    rf"(?:from|by|among|according to)\s+{_DET}{_WHO}\b",
)
_AUDIENCE = re.compile(r"\b(?:" + "|".join(_AUDIENCE_SHAPES) + r")", re.IGNORECASE)
# Words of the request rather than of its topic, dropped from the text once the audience is a
# filter (the topic words stay): "what did customers say about pricing" searches "pricing".
_FILLER = (
    r"what|which|how|why|when|where|who|about|regarding|re|around|concerning|over|on|of|for|"
    r"from|by|among|according|to|with|in|at|that|this|it|the|our|us|we|they|them|their|a|an|"
    r"any|some|do|does|did|are|is|was|were|be|being|been|have|has|had|will|would|can|could|"
    r"should|keep|keeps|kept|also|still|often|really|most|many|lately|recently|top|main|"
    r"biggest|common|latest"
)
_WORDS = {
    "who": re.compile(rf"\b{_WHO}(?:'s|')?(?!\w)", re.IGNORECASE),
    "voice": re.compile(rf"\b(?:{_VOICE_VERB}|{_VOICE_NOUN})\b", re.IGNORECASE),
    "filler": re.compile(rf"\b(?:{_FILLER})\b", re.IGNORECASE),
}


def audience_topic(text: str) -> tuple[bool, str]:
    """(True, the topic words) when `text` asks what customers said; (False, text) otherwise."""
    if not _AUDIENCE.search(text):
        return False, text
    kept = _WORDS["filler"].sub(" ", _WORDS["who"].sub(" ", text))
    kept = re.sub(r"(?<!\w)['’]\w*", " ", kept)  # what's → what + 's: the 's is no topic
    topic = " ".join(_WORDS["voice"].sub(" ", kept).split())
    # "customer complaints", "what do buyers worry about": the voice word is the whole topic.
    return True, topic or " ".join(kept.split()) or text


# Words asking for something said (objections, complaints, "said"): tasks are artefacts then.
SAID = re.compile(rf"\b(?:{_VOICE_NOUN}|said|says|mentioned|complained|raised)\b", re.IGNORECASE)
