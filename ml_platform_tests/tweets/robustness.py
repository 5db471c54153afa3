"""Families of texts a tweet classifier must not call AI, and families it must, composed from
parts (handles, words, punctuation, emoji, places, numbers) by a seeded rng rather than listed:
the suite asks how the model behaves on a kind of text, not whether it gets one string right.

Written from what real streams hold, not from the generator's templates: the words are mostly
ones the generator never uses, so the model meets them as out-of-vocabulary text, as it would
on a real stream.
"""

from collections.abc import Callable

import numpy as np

_HANDLES = ("someone", "jdoe_84", "MariaG", "the_real_tom", "newsdesk", "k8s_fan", "abc123")
_ONE_WORD = (
    "Great", "Nice", "Cool", "Thanks", "Thx", "Yes", "No", "Wow", "Perfect", "Agreed",
    "Awesome", "Brilliant", "Lovely", "Sure", "Okay", "Indeed", "Absolutely", "Congrats",
    "Sweet", "Yikes", "Facts", "True", "Bravo", "Cheers", "Noted", "Definitely", "Hilarious",
    "Gorgeous", "Respect", "Legend",
)  # fmt: skip
_PUNCTUATION = ("!", ".", "!!", "", " :)", " 😂", "!!!", "?", " <3", " 🙌")
_TIMES = ("morning", "afternoon", "evening", "night")
_AUDIENCES = ("everyone", "friends", "all", "folks", "Twitter", "fam", "y'all")
_THANKS = (
    "Thank you so much for the kind words", "Thanks for having me", "Thank you for coming out",
    "Thanks to all who voted", "Thank you for your support", "Thanks for the follow",
    "Many thanks for the birthday wishes", "Thank you, {place}", "Thanks again {handle}",
)  # fmt: skip
_PLACES = ("Ohio", "Denver", "Manchester", "Sydney", "Toronto", "Nairobi", "Kyoto", "Seville")
_TOPICAL = (
    "{place} beat the Rovers {n}-{m} in extra time", "Touchdown! {place} up by {n}",
    "Polls close at 8pm in {place}, get out and vote", "Proud to stand with the workers of {place}",
    "Flood warning for {place} until Sunday", "{n} inches of snow overnight in {place}",
    "Traffic jam on the way into {place} again", "Tax relief for families in {place} passed today",
    "The senator from {place} spoke on the floor today", "Heavy rain expected in {place} tonight",
    "Wildfire evacuation orders issued near {place}", "Our mayor visited the new hospital in {place}",
)  # fmt: skip
_EMOJI = ("😂", "🔥", "❤️", "🙏", "👀", "😭", "🎉", "👏", "💯", "😍", "🤣", "😎", "🥳", "👍", "💪")
_FOREIGN = (
    "¡Buenas noches a todos!", "Qué bonito día en {place}", "Feliz domingo amigos",
    "Bonne soirée à tous", "Je suis trop contente aujourd'hui", "On se voit demain à {place}",
    "Schönen Abend euch allen", "Wir sehen uns morgen in {place}", "Herzlichen Glückwunsch!",
    "Buona serata a tutti", "Ci vediamo domani a {place}", "Boa noite, gente!",
    "Fijne avond allemaal", "Dzień dobry wszystkim", "God morgon allihopa", "İyi akşamlar",
)  # fmt: skip

_METHODS = ("sparse attention", "contrastive pretraining", "a diffusion model", "LoRA adapters")
_TASKS = ("image segmentation", "machine translation", "protein folding", "code generation")
_PAPERS = (
    "New paper: {method} for {task}, beats the state of the art https://arxiv.org/abs/{n}.{m}",
    "Our NeurIPS paper on {method} for {task} is out! Code and weights on GitHub",
    "Preprint: scaling {method} to {task} with a 7B language model",
)
_RELEASES = (
    "We just released {name}, an open-weight {n}B language model for {task}",
    "{name} is out: our new multimodal model tops the {task} benchmark",
    "Releasing {name} today, a small LLM fine-tuned for {task} with RLHF",
)
_JOBS = (
    "We're hiring a machine learning engineer to work on {task} with PyTorch",
    "Job: senior ML researcher, large language models and {method}, remote",
    "Hiring data scientists who know deep learning for {task}. DM me",
)
_NAMES = ("Orca-2", "Falcon", "Phi-3", "Qwen", "Gemma", "OLMo")


def _handle(rng: np.random.Generator) -> str:
    return f"@{_HANDLES[int(rng.integers(len(_HANDLES)))]}"


def _pick(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    return options[int(rng.integers(len(options)))]


def _fill(rng: np.random.Generator, template: str) -> str:
    return template.format(
        place=_pick(rng, _PLACES),
        handle=_handle(rng),
        n=int(rng.integers(1, 40)),
        m=int(rng.integers(1, 40)),
        method=_pick(rng, _METHODS),
        task=_pick(rng, _TASKS),
        name=_pick(rng, _NAMES),
    )


def one_word_replies(rng: np.random.Generator) -> str:
    return f"{_handle(rng)} {_pick(rng, _ONE_WORD)}{_pick(rng, _PUNCTUATION)}"


def greetings(rng: np.random.Generator) -> str:
    text = f"Good {_pick(rng, _TIMES)} {_pick(rng, _AUDIENCES)}{_pick(rng, _PUNCTUATION)}"
    return f"{_handle(rng)} {text}" if rng.random() < 0.3 else text


def thanks(rng: np.random.Generator) -> str:
    text = _fill(rng, _pick(rng, _THANKS)) + _pick(rng, _PUNCTUATION)
    return f"{_handle(rng)} {text}" if rng.random() < 0.5 else text


def sports_politics_weather(rng: np.random.Generator) -> str:
    text = _fill(rng, _pick(rng, _TOPICAL))
    return f"{text} #{_pick(rng, _PLACES)}" if rng.random() < 0.3 else text


def link_only(rng: np.random.Generator) -> str:
    links = [
        "https://t.co/" + "".join(rng.choice(list("abcdefghkmnpqrstuvwxyz0123456789"), 10))
        for _ in range(int(rng.integers(1, 3)))
    ]
    return " ".join([_handle(rng)] * int(rng.random() < 0.3) + links)


def emoji_only(rng: np.random.Generator) -> str:
    return "".join(rng.choice(_EMOJI, int(rng.integers(1, 6))))


def other_languages(rng: np.random.Generator) -> str:
    return _fill(rng, _pick(rng, _FOREIGN)) + _pick(rng, ("", "!", " 😊", " ❤️"))


def papers(rng: np.random.Generator) -> str:
    return _fill(rng, _pick(rng, _PAPERS))


def model_releases(rng: np.random.Generator) -> str:
    return _fill(rng, _pick(rng, _RELEASES))


def ml_jobs(rng: np.random.Generator) -> str:
    return _fill(rng, _pick(rng, _JOBS))


NOT_AI_FAMILIES: dict[str, Callable[[np.random.Generator], str]] = {
    "one-word replies": one_word_replies,
    "greetings": greetings,
    "thanks": thanks,
    "sports/politics/weather": sports_politics_weather,
    "link only": link_only,
    "emoji only": emoji_only,
    "other languages' chatter": other_languages,
}
AI_FAMILIES: dict[str, Callable[[np.random.Generator], str]] = {
    "papers": papers,
    "model releases": model_releases,
    "ML jobs": ml_jobs,
}


def family_texts(
    family: Callable[[np.random.Generator], str], n: int = 150, seed: int = 0
) -> list[str]:
    """`n` texts of one family (repeats possible: the share of them called AI is the rate)."""
    rng = np.random.default_rng(seed)
    return [family(rng) for _ in range(n)]


def called_ai(
    predict: Callable[[list[str]], np.ndarray],
    threshold: float,
    families: dict[str, Callable[[np.random.Generator], str]],
    *,
    about_ai: bool,
) -> dict[str, float]:
    """Per family, the share of its texts the model calls AI, and over all of them ("all").
    A NaN probability counts as the wrong answer (a call for texts not `about_ai`, a miss for
    the others): it is no answer, and `>=` would quietly read it as "not AI" — the old model
    served NaN for every emoji-only or link-only tweet."""
    shares, total, count = {}, 0.0, 0
    for name, family in families.items():
        texts = family_texts(family)
        scores = predict(texts)
        calls = np.where(np.isnan(scores), not about_ai, scores >= threshold)
        shares[name] = float(calls.mean())
        total += float(calls.sum())
        count += len(texts)
    shares["all"] = total / count
    return shares
