"""Promotional posts (promo codes, discounts, giveaways, spam links): content that says nothing about how people feel.

Spam and giveaway copy storms are a large part of real brand traffic ("Code promo Brivolle exclusif F3VXXH 🔥
livraison gratuite", "🎁 CONCOURS … RT + follow pour gagner"). Sentiment models trained on opinions read them
anyhow: the trained French model reads that promo code post as negative (P(neg) 0.44-0.70 for its emoji
variants), the lexicon reads some as complaints, and a storm of 135 copies then looks like a surge of negative
posts (a false crisis on the detection suite's test split). This module recognises the *genre* and the pipeline
(`nlp.pipeline`) takes a promotional post read as negative out of the negative counts, unless it carries a
genuine complaint ("code promo qui marche pas, arnaque").

`PromoSignal.read(text)` → `PromoReading(score, markers, complaint)`. A post is promotional when its markers
add up to `THRESHOLD`: one marker is ordinary talk ("le code promo fonctionne aussi sur les accessoires ?",
"la livraison gratuite, le top"), two of different kinds are the genre (a code *and* its value, a discount
*and* a link, a giveaway *and* its RT mechanics). French and English, on accent- and case-folded text (NFKD also
maps the "𝗖𝗢𝗗𝗘 𝗣𝗥𝗢𝗠𝗢" letters spammers use to plain ones); emoji are ignored. A few substring checks decide
which patterns can match at all (most posts: none); the complaint pattern runs only on promotional posts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nlp import text as T
from vigie.core.models import Sentiment
from vigie.core.text import fold

VERSION = "promo/1"
# Markers must add up to this: two markers of different kinds (see the module docstring).
THRESHOLD = 2.0

_DASH = "[-\u2212\u2013\u2014]"  # hyphen, minus sign, en and em dashes: "-70%", "−70 %", "–70%"
_NUM = r"\d{1,2}(?:[.,]\d)?"

# name → (weight, pattern over folded text). A kind counts once however often it matches.
_MARKERS: dict[str, tuple[float, str]] = {
    # The phrase alone is ordinary talk ("le code promo marche ?"); with a code after it, see _CODE_VALUE.
    "code": (1.5, r"\b(?:codes? promos?|promo ?codes?|codes? (?:de )?reduc(?:tion)?s?|codes? (?:avantage|remise)"
                  r"|coupons?(?: codes?)?|discount codes?|vouchers?(?: codes?)?|bons? de reduction"
                  r"|(?:use|utilise[rz]?|avec|with|entre[rz]?|enter) (?:le |the |mon |my )?code)\b"),
    "discount": (1.5, rf"(?<![\w%]){_DASH} ?{_NUM} ?%|\b{_NUM} ?% (?:off|de (?:reduc|remise|rabais)\w*|discount)"
                      rf"|\b(?:jusqu'?a|up to) {_DASH}? ?{_NUM} ?%|\b(?:\d+ ?(?:€|eur|euros|\$) (?:de reduc\w*|off))\b"
                      r"|\bprix (?:casses?|barres?|fous)\b|\bbogo\b|\b(?:1|un) (?:achete|achetee)s?,? (?:1|un) offerte?s?\b"
                      r"|\bbuy (?:one|1),? get (?:one|1)\b"),
    "shipping": (1.0, r"\b(?:livraisons? (?:gratuites?|offertes?)|frais de (?:port|livraison) (?:offerts|gratuits)"
                      r"|free (?:shipping|delivery)|ships? free)\b"),
    "giveaway": (1.5, r"\b(?:jeux? ?concours|concours|giveaways?|tirages? au sort|a gagner|(?:pour|et) (?:tenter de |essayer de )?"
                      r"gagner|gagnez|to win|chance to win|win (?:a|an|one|this|the)|sweepstakes?)\b"),
    "mechanics": (1.0, r"\b(?:rt|retweete?z?|like|follow|abonne[-\w]*)\s*(?:\+|&|et|and|and a|,)\s*(?:rt|follow|like|"
                       r"retweet|abonne[-\w]*|partage)\b|\b(?:rt|retweete?z?|retweet)(?= (?:pour|to)\b)"
                       r"|\b(?:mentionne|tague|identifie|tag|mention)[sz]? (?:\d|deux|trois|two|three|un|une|a) "
                       r"(?:amis?|ami\(e\)s|friends?|potes?|personnes?)\b"),
    "urgency": (1.0, r"\b(?:aujourd'?hui seulement|(?:ce soir|today|tonight|this weekend|ce week-?end) only"
                     r"|seulement aujourd'?hui|offre (?:limitee|flash|exclusive|speciale)|vente flash|flash sale"
                     r"|limited (?:time|offer|stock)|derniers? (?:jours|heures)|dernieres? heures|derniere chance"
                     r"|last chance|jusqu'?a minuit|ends (?:tonight|today|soon)|stocks? limites?|while stocks? last"
                     r"|dans la limite des stocks)\b"),
    "link": (1.0, r"\b(?:bit\.ly|tinyurl\.com|amzn\.to|goo\.gl|cutt\.ly|t\.ly|shorturl\.at|rb\.gy|is\.gd|ow\.ly|"
                  r"linktr\.ee)/|\b(?:lien en bio|link in (?:my )?bio|lien dans (?:ma )?bio)\b"),
    "hashtag": (1.0, r"#(?:promos?|codepromo|promocode|bonplans?|bonsplans|deals?|dealoftheday|concours|jeuconcours|"
                     r"giveaways?|soldes|sales?|ad|pub|sponsoris[eé]|sponsored|r[eé]duction|discount|coupons?|freebie|"
                     r"gratuit|win|contest|sweepstakes?)\b"),
    "pitch": (0.5, r"\b(?:exclusif|exclusive|exclu|offre speciale|special offer|bons? plans?|profitez|profitez-en|"
                   r"commandez|shop now|order now|buy now|grab yours|ne ratez pas|don'?t miss(?: out)?|cliquez|"
                   r"click (?:here|the link)|en profiter)\b"),
}
_MARKER_RES = {name: re.compile(pattern) for name, (_, pattern) in _MARKERS.items()}

# Substrings (of the lower-cased text) without which a kind's pattern cannot match: most posts contain none, and
# looking for them costs far less than the patterns (≈4 µs per post instead of ≈45 µs with one big
# pattern; bench/promo_signal.py). "mechanics" and "pitch" have none: together they weigh less than THRESHOLD, so a post
# without any anchor cannot be promotional, and they are read only when an anchored kind matched.
_ANCHORS: dict[str, tuple[str, ...]] = {
    "code": ("code", "coupon", "voucher", "bon de r", "bons de r"),
    "discount": ("%", "réduc", "reduc", " off", "prix ", "bogo", "acheté", "achete", "buy "),
    "shipping": ("livraison", "frais de ", "ship", "deliver"),
    "giveaway": ("concours", "giveaway", "tirage", "gagn", "win", "sweepstake"),
    "urgency": ("seulement", "only", "limit", "derni", "last chance", "minuit", "ends ", "stock", "flash", "offre "),
    "link": (".ly/", "tinyurl", "amzn.to", "goo.gl", "shorturl", "rb.gy", "is.gd", "linktr", " bio"),
    "hashtag": ("#",),
}
_KIND_OF_ANCHOR = {anchor: name for name, anchors in _ANCHORS.items() for anchor in anchors}


def _trie_pattern(words: list[str]) -> str:
    """One pattern for a set of literal words, common prefixes factored ("co(?:de|ncours|upon)"): `re` then reads
    each character of a post about once instead of trying every word at every position (≈4 µs per post against
    ≈8 µs for `in` checks or a plain alternation, measured)."""
    trie: dict[str, dict] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, dict]) -> str:
        alternatives = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if not alternatives:
            return ""
        body = alternatives[0] if len(alternatives) == 1 else "(?:" + "|".join(alternatives) + ")"
        return f"(?:{body})?" if "" in node else body

    return emit(trie)


_ANCHOR_RE = re.compile(_trie_pattern(list(_KIND_OF_ANCHOR)))
_UNANCHORED = tuple(name for name in _MARKERS if name not in _ANCHORS)
_UNANCHORED_WEIGHT = sum(_MARKERS[name][0] for name in _UNANCHORED)
# Letters styled by Unicode (fullwidth, mathematical bold/sans/script): "𝗖𝗢𝗗𝗘 𝗣𝗥𝗢𝗠𝗢" has no lower case of its
# own; NFKD (in `fold`) maps it to plain letters.
_STYLED = re.compile("[\uff00-\uffef\U0001d400-\U0001d7ff]")

# A code *value* after the code phrase (within a few words): "code promo Brivolle exclusif F3VXXH", "use code
# SAVE20". Read on the accent-stripped text with its case: a code is capitals and digits, at least one digit or
# five capitals (so "code promo Brivolle" alone is not a code).
_CODE_VALUE = re.compile(
    r"(?i:\b(?:code|coupon|voucher)s?\b)(?:\W+[\w'-]+){0,3}?\W+(?=[A-Z]*\d|[A-Z]{5})[A-Z0-9]{4,15}\b")
CODE_VALUE_WEIGHT = 1.0

# A genuine complaint inside a promotional post keeps the model's reading: the promo does not work, is a
# lie, a scam, or the writer is angry about it. Folded text; the crisis lexicon's terms count too (pipeline).
_COMPLAINT_RE = re.compile(
    r"\b(?:(?:ne |n'|n )?(?:marche|marchent|fonctionne|fonctionnent|passe|passent|s'applique|s applique)"
    r"(?: toujours| meme| plus)? (?:pas|plus|jamais)|(?:pas|jamais|plus) (?:applique|appliquee|pris en compte|"
    r"valide|valable|recu|recue|arrive|arrivee|livre|livree)s?|n'?a pas (?:marche|fonctionne)"
    r"|(?:does ?n'?t|did ?n'?t|does not|did not|won'?t|will not|never) (?:work|apply|arrive|show up|come)"
    r"|not (?:working|valid|applied|applying)|never (?:received|arrived|got)"
    r"|invalides?|(?:est|a|deja|already|is|has) (?:expire|expiree|expired)|perimee?s?|refusee?s?|bidons?|faux|fausses?|fake|scams?|scammers?|arnaque\w*|"
    r"escroc\w*|arnaqueurs?|mensong\w*|menteu\w*|trompeu\w*|honte|honteux|nul(?:le)?s?|decu[es]?|decevant\w*|"
    r"pire|inadmissible|scandal\w*|inacceptable|ras le bol|marre|invalid|expired|declined|rejected|bogus|"
    r"misleading|rip-?off|ripped off|worst|disappointed|disappointing|terrible|awful|useless|lies?|lying|liars?|"
    r"false advertising|publicite mensongere)\b")


@dataclass(frozen=True)
class PromoReading:
    score: float
    markers: tuple[str, ...]  # the kinds of promotional marker found, in pattern order
    complaint: str | None = None  # the complaint words found in a promotional post (as folded), if any

    @property
    def promotional(self) -> bool:
        return self.score >= THRESHOLD

    @property
    def neutral_promo(self) -> bool:
        """Promotional with no complaint of its own: its words say nothing about how the writer feels."""
        return self.promotional and self.complaint is None


NOT_PROMO = PromoReading(0.0, ())


def neutral_sentiment(reading: PromoReading, read_as: Sentiment) -> tuple[Sentiment, str]:
    """The sentiment of a promotional post the model read as negative, and the note that says who decided what:
    neutral, scored by this rule (`Sentiment.model` = `promo/1`, no probabilities: the rule is not calibrated),
    with the model's own reading kept in the note."""
    p_neg = f", P(neg) {read_as.probs['neg']:.2f}" if read_as.probs and "neg" in read_as.probs else ""
    note = (f"promotional post ({', '.join(reading.markers)}): sentiment neutral by {VERSION}; "
            f"{read_as.model} read it {read_as.label}{p_neg}")
    return Sentiment("neu", 0.0, VERSION), note


class PromoSignal:
    """`read(text)` → `PromoReading`. Stateless; built once per Analyzer."""

    version = VERSION

    def read(self, text: str) -> PromoReading:
        low = text.lower()
        styled = _STYLED.search(low) is not None
        if styled:
            low = fold(text).lower()
        hinted = {_KIND_OF_ANCHOR[m.group(0)] for m in _ANCHOR_RE.finditer(low)}
        if not hinted or (hinted == {"hashtag"} and not _MARKER_RES["hashtag"].search(low)):
            return NOT_PROMO  # (most hashtags are brand names: their pattern reads the lower-cased text, unfolded)
        folded = fold(low)
        found = {name for name in hinted if _MARKER_RES[name].search(folded)}
        if not found:
            return NOT_PROMO
        score = sum(_MARKERS[name][0] for name in found)
        value = "code" in found and _CODE_VALUE.search(T.strip_accents(text)) is not None
        score += CODE_VALUE_WEIGHT if value else 0.0
        if score + _UNANCHORED_WEIGHT >= THRESHOLD:
            for name in _UNANCHORED:
                if _MARKER_RES[name].search(folded):
                    found.add(name)
                    score += _MARKERS[name][0]
        names = tuple(name for name in _MARKERS if name in found) + (("code value",) if value else ())
        if score < THRESHOLD:
            return PromoReading(score, names)
        complaint = _COMPLAINT_RE.search(folded)
        return PromoReading(score, names, complaint.group(0) if complaint else None)
