"""keywords: sets content.keywords, the words that say most about a document.

A Tributary Python function (functions/python runs it). It scores each word
of content.text by how often it occurs, leaving out common English words and
words shorter than three letters, and keeps the best max_keywords of them in
order of score, then of first appearance. Standard library only.

metadata:
  max_keywords  how many keywords to keep (an integer, 1 to 100; default 5)

describe.json beside this file is the metadata's JSON Schema, uploaded with
the module so that the API refuses bad metadata when a worker is saved;
init() checks the same rules when the worker starts.
"""

import collections
import re

DEFAULT_MAX_KEYWORDS = 5
MAX_MAX_KEYWORDS = 100
MIN_WORD_LENGTH = 3

# Common English words that carry no topic; a short list on purpose: the
# score already favours words a document repeats.
STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because
been before being below between both but by can could did do does doing down
during each few for from further had has have having he her here hers herself
him himself his how i if in into is it its itself just me more most my myself
no nor not now of off on once only or other our ours ourselves out over own
same she should so some such than that the their theirs them themselves then
there these they this those through to too under until up very was we were
what when where which while who whom why will with would you your yours
yourself yourselves one two new may many much must us via per
""".split())

WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")

max_keywords = DEFAULT_MAX_KEYWORDS


def init(metadatas):
    """Checks the metadata once: a bad max_keywords, or a setting this
    function does not have, stops the worker."""
    global max_keywords
    metadatas = metadatas or {}
    unknown = sorted(set(metadatas) - {"max_keywords"})
    if unknown:
        raise ValueError("metadata %s: not a setting of keywords (it has max_keywords)" % unknown[0])
    value = metadatas.get("max_keywords", DEFAULT_MAX_KEYWORDS)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_MAX_KEYWORDS:
        raise ValueError("metadata max_keywords: want an integer from 1 to %d, got %r" % (MAX_MAX_KEYWORDS, value))
    max_keywords = value


def keywords(text, limit):
    """The limit best-scoring words of text, lower-cased."""
    counts = collections.Counter()
    first = {}
    for i, match in enumerate(WORD.finditer(text)):
        word = match.group().lower()
        if len(word) < MIN_WORD_LENGTH or word in STOPWORDS:
            continue
        counts[word] += 1
        first.setdefault(word, i)
    ranked = sorted(counts, key=lambda w: (-counts[w], first[w]))
    return ranked[:limit]


def process(message, consumer_name, metadatas):
    content = message.get("content")
    if not isinstance(content, dict) or not isinstance(content.get("text"), str):
        raise ValueError("content.text: want a string")
    content["keywords"] = keywords(content["text"], max_keywords)
    return message
