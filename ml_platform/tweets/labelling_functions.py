"""Labelling functions: cheap, noisy rules that vote a tweet about AI (1), not (0), or abstain.

Each is written the way a person writes a Snorkel LF after reading a few hundred tweets:
keywords, hashtags, the domains of linked pages, framework and chatbot names, the same in other
languages, rules for the look-alikes keyword rules get wrong (phone data plans, "neural" in
medicine, fashion models, pythons, the Transformers films, deep learning in the classroom), and
rules for what most of a real stream is: short replies, greetings and thanks, politics and
news, tech that is not AI — so the classifier also learns from the chatter it will meet. None
is right everywhere; the label model weighs them by how they agree (`label_model.py`) and the
analysis below shows where they overlap and conflict.
"""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

AI, NOT_AI, ABSTAIN = 1, 0, -1


@dataclass(frozen=True)
class LabellingFunction:
    name: str
    label: int  # the one label this function votes when it does not abstain
    applies: Callable[[pd.DataFrame], np.ndarray]  # tweets → bool mask
    description: str

    def __call__(self, tweets: pd.DataFrame) -> np.ndarray:
        return np.where(self.applies(tweets), self.label, ABSTAIN).astype(np.int8)


def _text_matches(pattern: str) -> Callable[[pd.DataFrame], np.ndarray]:
    compiled = re.compile(pattern, re.IGNORECASE)

    def applies(tweets: pd.DataFrame) -> np.ndarray:
        return tweets["text"].str.contains(compiled, regex=True).to_numpy(dtype=bool)

    return applies


_AI_DOMAINS = frozenset(
    {
        "arxiv.org", "huggingface.co", "paperswithcode.com", "openai.com", "kaggle.com",
        "towardsdatascience.com", "pytorch.org", "tensorflow.org", "deepmind.google",
        "blog.research.google", "anthropic.com", "mistral.ai", "distill.pub",
    }
)  # fmt: skip


def _domain(url: str) -> str:
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")


_MENTION_OR_LINK = re.compile(r"@\w+|https?://\S+")
_WORD = re.compile(r"[^\W\d_]{2,}")


def _short_reply(tweets: pd.DataFrame) -> np.ndarray:
    """Three words or fewer once mentions and links are gone ("@user Great!", "lol", "🔥🔥"):
    too little text to be about a topic, and on a real stream mostly reactions."""
    return np.array(
        [len(_WORD.findall(_MENTION_OR_LINK.sub(" ", text))) <= 3 for text in tweets["text"]],
        dtype=bool,
    )


def _links_to_ai_sites(tweets: pd.DataFrame) -> np.ndarray:
    return np.array(
        [
            any(_domain(url) in _AI_DOMAINS for url in urls.split())
            for urls in tweets["entity_urls"]
        ],
        dtype=bool,
    )


LABELLING_FUNCTIONS: tuple[LabellingFunction, ...] = (
    LabellingFunction(
        "ai_keywords",
        AI,
        _text_matches(
            r"\b(?:machine learning|deep learning|neural net(?:work)?s?|artificial intelligence|"
            r"large language models?|llms?|generative ai|gen ?ai|data science|nlp)\b"
        ),
        "the field's own names",
    ),
    LabellingFunction(
        "ai_hashtags",
        AI,
        _text_matches(
            r"#(?:ai|machinelearning|deeplearning|datascience|nlp|llms?|genai|mlops|"
            r"computervision|artificialintelligence)\b"
        ),
        "hashtags the AI community tags with",
    ),
    LabellingFunction(
        "ai_link_domains", AI, _links_to_ai_sites, "links to arXiv, Hugging Face, Kaggle, …"
    ),
    LabellingFunction(
        "ml_frameworks",
        AI,
        _text_matches(
            r"\b(?:pytorch|tensorflow|keras|scikit-learn|sklearn|jax|hugging ?face|langchain|"
            r"xgboost|cuda)\b"
        ),
        "libraries only ML people name",
    ),
    LabellingFunction(
        "model_names",
        AI,
        _text_matches(
            r"\b(?:chatgpt|gpt-?\d\w*|claude|llama ?\d|stable diffusion|copilots?|chatbots?)\b"
        ),
        "chatbots and model families (GPT needs a number: 'GPT levels' is a liver test)",
    ),
    LabellingFunction(
        "ai_other_languages",
        AI,
        _text_matches(
            r"(?:inteligencia artificial|intelligence artificielle|künstliche intelligenz|"
            r"inteligência artificial|aprendizaje automático|apprentissage automatique|"
            r"maschinelles lernen|aprendizado de máquina|redes neuronales|réseaux de neurones|"
            r"neuronale netze|\bia generativa|\bl'ia\b|\bki\b)"
        ),
        "the field's names in es/fr/de/pt",
    ),
    LabellingFunction(
        "phone_data_plans",
        NOT_AI,
        _text_matches(
            r"\b(?:data plans?|mobile data|roaming|unlimited data|prepaid|sims?|\d+ ?gb)\b"
        ),
        "'big data' and 'data' about phone contracts",
    ),
    LabellingFunction(
        "medical_neural",
        NOT_AI,
        _text_matches(
            r"\b(?:neural tube|neural pathways?|neural damage|neurolog\w*|neuropathy|"
            r"neural blockade|liver|enzymes?|stroke|patients?|pregnan\w*|surgery|nurses?)\b"
        ),
        "'neural' and lab tests in medicine",
    ),
    LabellingFunction(
        "other_senses",
        NOT_AI,
        _text_matches(
            r"\b(?:runway|catwalk|casting|catalogue|top model|snakes?|ball python|reticulated|"
            r"zoo|optimus|transformers (?:movies?|toys)|classroom|graders|school board|"
            r"marathon|puppy|tesla|model [3sxy]\b|weiwei|sweeteners?|optometrist)"
        ),
        "fashion models, pythons, the films, school, sport, cars, art",
    ),
    LabellingFunction(
        "everyday_chatter",
        NOT_AI,
        _text_matches(
            r"\b(?:game|match|goal|score|derby|league|recipe|coffee|traffic|concert|tickets|"
            r"sunset|birthday|flight|rain|snow|storm|heat|weather|gym|bakery|croissants?|cat|"
            r"laundry|tax|striker|weekend plans|partido|lluvia|spiel|regen|jogo|café)\b"
        ),
        "sport, food, weather, travel, family",
    ),
    LabellingFunction("short_reply", NOT_AI, _short_reply, "three words or fewer: a reaction"),
    LabellingFunction(
        "greetings_thanks",
        NOT_AI,
        _text_matches(
            r"\b(?:thanks|thank you|congrat\w*|good (?:morning|night|luck)|happy \w+|welcome|"
            r"grateful|merry|wishing|buenos días|gracias|bonjour|merci|danke|guten morgen|"
            r"obrigad[oa]|bom dia|grazie|buongiorno)\b"
        ),
        "greetings, thanks, wishes, in five languages",
    ),
    LabellingFunction(
        "politics_news",
        NOT_AI,
        _text_matches(
            r"\b(?:vot(?:e|ers?|ing)|election|senate|congress|governor|mayor|parliament|"
            r"campaign|polls?|breaking|hotline|emergency|hurricane|earthquake|protest\w*|"
            r"council|president|minister|town hall|statement)\b"
        ),
        "politics, elections and emergencies",
    ),
    LabellingFunction(
        "tech_not_ai",
        NOT_AI,
        _text_matches(
            r"\b(?:outage|iphone|ios|android|bitcoin|crypto|website|passwords?|breach|keyboard|"
            r"laptop|kubernetes|sql|excel|windows|5g|javascript|rust|microservices|bug)\b"
        ),
        "software, gadgets and crypto without AI words",
    ),
)


def apply_labelling_functions(
    tweets: pd.DataFrame, functions: Sequence[LabellingFunction] = LABELLING_FUNCTIONS
) -> np.ndarray:
    """The label matrix L (tweets × functions) of AI / NOT_AI / ABSTAIN votes."""
    if tweets.empty:
        return np.empty((0, len(functions)), dtype=np.int8)
    return np.column_stack([function(tweets) for function in functions])


def majority_vote(votes: np.ndarray) -> np.ndarray:
    """The baseline: the label most functions voted; ABSTAIN on a tie or when none voted."""
    ai = (votes == AI).sum(axis=1)
    not_ai = (votes == NOT_AI).sum(axis=1)
    return np.select([ai > not_ai, not_ai > ai], [AI, NOT_AI], ABSTAIN).astype(np.int8)


def analysis(
    votes: np.ndarray,
    functions: Sequence[LabellingFunction] = LABELLING_FUNCTIONS,
    gold: np.ndarray | None = None,
) -> pd.DataFrame:
    """Snorkel's LFAnalysis: per function its polarity, coverage (share of tweets it votes on),
    overlaps (share it votes on together with another function), conflicts (share where another
    function votes the other label), and, where `gold` labels are given (-1 = unknown),
    correct / incorrect / empirical accuracy of its votes on the gold-labelled tweets."""
    voted = votes != ABSTAIN
    others_voted = voted.sum(axis=1, keepdims=True) - voted > 0
    ai_votes = (votes == AI).sum(axis=1, keepdims=True)
    not_ai_votes = (votes == NOT_AI).sum(axis=1, keepdims=True)
    # another function voted the label this one did not
    disagree = np.where(
        votes == AI, not_ai_votes > 0, np.where(votes == NOT_AI, ai_votes > 0, False)
    )
    n = max(len(votes), 1)
    table = pd.DataFrame(
        {
            "function": [f.name for f in functions],
            "polarity": [
                str(sorted({int(v) for v in np.unique(col)} - {ABSTAIN})) for col in votes.T
            ],
            "coverage": voted.sum(axis=0) / n,
            "overlaps": (voted & others_voted).sum(axis=0) / n,
            "conflicts": (voted & disagree).sum(axis=0) / n,
        }
    )
    if gold is not None:
        known = (gold != ABSTAIN)[:, None] & voted
        correct = known & (votes == gold[:, None])
        table["correct"] = correct.sum(axis=0)
        table["incorrect"] = (known & ~correct).sum(axis=0)
        checked = table["correct"] + table["incorrect"]
        table["empirical_accuracy"] = np.where(
            checked > 0, table["correct"] / checked.clip(lower=1), np.nan
        )
    return table
