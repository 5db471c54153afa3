"""A seeded stream of tweets in the Twitter API shapes that `tweets.parsing` reads, and its truth.

It exists because real tweets may not be redistributed: it writes a stream of the same shapes
with the properties that make the problem hard (look-alikes that share AI words, short replies
and generic words on both sides, near-duplicates, retweets, several languages, links) and its
truth labels in a separate file.
"""

import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ml_platform.core.errors import InvalidInputError
from ml_platform.tweets.parsing import V1_DATE_FORMAT, json_lines

# Twitter's snowflake epoch (ms): ids sort by creation time, as real ids do.
_SNOWFLAKE_EPOCH_MS = 1288834974657

# What AI/ML/data people tweet about. Labelling functions know only some of these words; the
# classifier has to learn the rest from the tweets where both appear, as on real data.
_AI_TOPICS = (
    "machine learning", "deep learning", "neural networks", "artificial intelligence",
    "large language models", "LLMs", "generative AI", "data science", "NLP", "computer vision",
    "reinforcement learning", "transformers", "diffusion models", "ChatGPT", "GPT-4o", "Claude",
    "Gemini", "Llama 3", "Mistral", "Stable Diffusion", "PyTorch", "TensorFlow", "JAX",
    "scikit-learn", "Hugging Face", "LangChain", "fine-tuning", "a RAG pipeline",
    "vector databases", "embeddings", "prompt engineering", "model distillation",
    "4-bit quantization", "LoRA adapters", "RLHF", "gradient descent", "backpropagation",
    "attention heads", "tokenizers", "overfitting", "cross-validation", "XGBoost",
    "feature stores", "MLOps", "model drift", "data labelling", "weak supervision",
    "active learning", "Kaggle", "a Jupyter notebook", "object detection",
    "semantic segmentation", "speech recognition", "recommender systems", "anomaly detection",
    "graph neural networks", "self-supervised pretraining", "scaling laws", "AI agents",
    "multimodal models", "synthetic training data", "hallucinations", "AI safety",
    "the EU AI Act", "open-weight models", "GPU clusters", "inference latency", "CUDA kernels",
    "batch normalization", "learning rate warmup", "autoencoders", "sentiment analysis",
    "named entity recognition", "machine translation", "image classification", "benchmarks",
    "evals", "context windows", "mixture of experts", "chatbots", "copilots",
)  # fmt: skip
_AI_TEMPLATES = (
    "Just shipped {t} to production and {r}",
    "Thread on {t}: {c}",
    "Hot take: {t} is {o}",
    "New paper on {t} and {t2}",
    "Anyone else struggling with {t}? {p}",
    "We're hiring engineers who know {t} and {t2}",
    "{t} explained in 5 minutes",
    "Spent the weekend on {t}, {r}",
    "Great talk today on {t} at {e}",
    "{t} + {t2} = {r}",
    "Reading list for {t}: start with {t2}",
    "Our team replaced {t2} with {t} and {r}",
    "If you only learn one thing this year, make it {t}",
    "Benchmarked {t} against {t2}: {r}",
    "Unpopular opinion: {t} matters more than {t2}",
    "My notes from the {e} workshop on {t}",
    "Day 12 of learning {t}. Today: {t2}",
    "Why does nobody talk about {t} when discussing {t2}?",
    # AI applied elsewhere: shares words with the look-alikes' domains
    "Our {t} model flags stroke patients from CT scans in under a minute",
    "Hospitals are piloting {t} to triage patients in the ER",
    "Predicting churn among prepaid mobile customers with {t}",
    "Computer vision now tracks every player in the match, wild what {t} can do",
    "Built a bot with {t} that suggests a recipe from a photo of your fridge",
    "Traffic forecasting with {t}: 12% fewer jams in the pilot city",
    "{t} for weather forecasting now beats the physics models on rain",
    "Fraud detection at the bank moved to {t} this quarter",
)  # fmt: skip
_AI_RESULTS = (
    "latency dropped by half", "accuracy went up 8 points", "the eval numbers look great",
    "everything broke at 3am", "it finally converged", "costs went down 40%",
    "the demo went viral", "results are surprisingly good", "I learned a ton",
    "it still hallucinates on edge cases", "our customers noticed",
)  # fmt: skip
_AI_CLAIMS = (
    "most of the gains come from better data", "the baseline is harder to beat than you think",
    "evaluation is the real bottleneck", "small models are catching up fast",
    "the compute bill is the real story", "reproducibility is still a mess",
)  # fmt: skip
_AI_OPINIONS = ("overhyped", "underrated", "the future", "a solved problem", "not ready yet")
_AI_PROBLEMS = (
    "Loss goes to NaN after epoch 3", "GPU memory keeps running out", "the outputs are garbage",
    "training takes forever", "the validation curve looks weird",
)  # fmt: skip
_AI_EVENTS = ("NeurIPS", "ICML", "PyData", "the local meetup", "KubeCon", "ODSC", "CVPR")
_AI_HASHTAGS = (
    "#AI", "#MachineLearning", "#DeepLearning", "#DataScience", "#NLP", "#LLM", "#GenAI",
    "#MLOps", "#ComputerVision", "#Python", "#100DaysOfCode", "#tech", "#ArtificialIntelligence",
)  # fmt: skip
_AI_LINKS = (
    "https://arxiv.org/abs/{n4}.{n5}", "https://huggingface.co/blog/{slug}",
    "https://github.com/{user}/{slug}", "https://medium.com/@{user}/{slug}-{hex}",
    "https://towardsdatascience.com/{slug}-{hex}", "https://www.youtube.com/watch?v={hex}",
    "https://paperswithcode.com/paper/{slug}", "https://openai.com/index/{slug}",
    "https://blog.research.google/{slug}", "https://www.kaggle.com/code/{user}/{slug}",
    "https://bit.ly/{hex}",
)  # fmt: skip
_AI_FOREIGN = {
    "es": (
        "Nuevo artículo sobre inteligencia artificial y {t}",
        "Hoy aprendí {t} en el taller de aprendizaje automático",
        "La IA generativa cambia todo: {t} en producción",
        "Hilo sobre redes neuronales y {t}",
    ),
    "fr": (
        "Super conférence sur l'intelligence artificielle et {t}",
        "L'apprentissage automatique en production avec {t}",
        "Les réseaux de neurones expliqués simplement : {t}",
        "Notre équipe teste {t} pour l'IA générative",
    ),
    "de": (
        "Spannender Vortrag über künstliche Intelligenz und {t}",
        "Maschinelles Lernen in der Praxis: {t}",
        "Neuronale Netze endlich verstanden dank {t}",
    ),
    "pt": (
        "Curso gratuito de inteligência artificial com {t}",
        "Aprendizado de máquina na prática: {t}",
    ),
}  # fmt: skip

# Not about AI, but sharing its words: the tweets keyword rules get wrong.
_LOOKALIKES = (
    ("Switching to the new big data plan for my phone, 50GB for $30 a month", "telecom"),
    ("Unlimited data plan and I still ran out of mobile data by the 20th", "telecom"),
    ("Roaming data charges in Spain were brutal this time", "telecom"),
    ("Best data plans for students this semester, compared", "telecom"),
    ("Big data deals on prepaid SIMs this weekend only", "telecom"),
    ("Folic acid before pregnancy lowers the risk of neural tube defects", "medicine"),
    ("New study on neural pathways in stroke rehabilitation patients", "medicine"),
    ("Diabetic neuropathy and neural damage: what your feet are telling you", "medicine"),
    ("Our neurology ward is hiring nurses for the night shift", "medicine"),
    ("Neural blockade for hip surgery cut her recovery time in half", "medicine"),
    ("ALT and GPT liver enzyme levels came back high, more tests next week", "medicine"),
    ("The model walked the runway in a vintage Chanel jacket", "fashion"),
    ("Casting call: model needed for a spring catalogue shoot", "fashion"),
    ("She went from top model contestant to running her own agency", "fashion"),
    ("Found a ball python curled up in the garden shed this morning", "animals"),
    ("Reticulated python at the zoo is 7 meters long, unreal", "animals"),
    ("Rewatching the Transformers movies with the kids, Optimus Prime forever", "movies"),
    ("Vintage Transformers toys are selling for crazy money now", "movies"),
    ("Deep learning in the classroom: projects over worksheets for 5th graders", "education"),
    ("Our school board wants deeper learning and fewer standardized tests", "education"),
    ("Marathon training week 9: 60 km and my legs are done", "sports"),
    ("Allen Iverson, AI, still the coolest player the Sixers ever had", "sports"),
    ("Ai Weiwei's new exhibition opens at the museum on Friday", "art"),
    ("Artificial sweeteners and your gut: what the research says", "food"),
    ("Military intelligence report leaked to the press this morning", "politics"),
    ("Cloud cover all day, rain expected tonight in the valley", "weather"),
    ("Vision test at the optometrist, finally getting new glasses", "health"),
    ("Random forest walk this morning, the leaves are turning gold", "outdoors"),
    ("The algorithm keeps showing me cat videos and honestly I'm fine with it", "social"),
    ("Learning to bake sourdough, my starter is finally bubbling", "food"),
    ("Neural? No, just tired. Third coffee of the day", "life"),
    ("Tesla Model Y deliveries delayed again in our area", "cars"),
    ("Network outage at the office, everyone is pretending to work", "work"),
    ("Training the new puppy to sit, progress is slow but real", "animals"),
    ("Neural networks in the hippocampus replay the day's route during sleep", "neuroscience"),
    ("Grid cells and the brain's neural networks: a new neuroscience review", "neuroscience"),
    ("AI technician came out for the heifers today #AI #dairy", "farming"),
    ("Artificial insemination (AI) success rates are up on our farm this season", "farming"),
    ("Amnesty International (AI) report on detention conditions is out today", "politics"),
    ("Python 3.13 finally ships a better REPL, small joys", "programming"),
    ("Rewrote our billing service in Go, p99 went from 80 ms to 9 ms", "programming"),
    ("The data science of sourdough: I weighed everything this time", "food"),
    ("Deep learning happens when kids build things #education", "education"),
    ("Our {n}GB family data plan is finally cheaper than two single ones", "telecom"),
    ("Day {n} of physio after the stroke, walking without the cane today", "medicine"),
)  # fmt: skip
_OPENERS = (
    "", "", "", "", "Honestly, ", "Ok so ", "Update: ", "PSA: ", "lol ", "Wow. ",
    "Not gonna lie, ", "Quick one: ", "Reminder: ", "Today: ", "So... ",
)  # fmt: skip
_CLOSERS = (
    "", "", "", "", " 😂", " 🙏", " 🔥", " so happy", " again...", " 🤷", " thoughts?",
    " finally", " ugh", " ❤️", " 👀", " lol",
)  # fmt: skip
_EVERYDAY = (
    "What a game last night, {team} deserved that win",
    "Coffee first, then emails, then maybe lunch",
    "Traffic on the {road} is a nightmare again",
    "Anyone have a good recipe for {food}?",
    "Concert tickets for {band} sold out in 4 minutes",
    "Beautiful sunset over the harbour tonight",
    "Finally finished that book, the ending was wild",
    "Election debate tonight, {team} fans will not be happy either way",
    "Can't believe it's already {month}",
    "{n} days until the holidays in {city} and I'm counting",
    "Moving to {city} next month, any tips?",
    "Lost {n} euros at the {city} market and found them in my other coat",
    "New bakery opened down the street and the croissants are perfect",
    "Weekend plans: {food}, hiking and absolutely no laptops",
    "My cat knocked the plant off the shelf again",
    "Flight delayed three hours, the airport lounge is packed",
    "Rain again. Of course. Laundry day",
    "{team} signed a new striker, fans are thrilled",
    "Listening to {band} on repeat this week",
    "Happy birthday to my little sister!",
    "Gym at 6am, who am I",
    "The new season of that show is even better than the first",
    "Tax forms due next week and I have not started",
)  # fmt: skip
_EVERYDAY_FOREIGN = {
    "es": ("Qué partido anoche, {team} mereció ganar", "Lluvia otra vez, día de series"),
    "fr": ("Quel match hier soir, bravo {team}", "Les croissants de la nouvelle boulangerie"),
    "de": ("Was für ein Spiel gestern, {team} hat verdient gewonnen", "Schon wieder Regen"),
    "pt": ("Que jogo ontem, {team} mereceu vencer", "Café primeiro, depois o resto"),
}  # fmt: skip
# What most of a real stream is: replies, reactions, thanks, greetings, politics, news, sport,
# weather, links and emoji on their own, tech that is not AI, other languages. Generic words
# ("great", "thanks", "you", "new", "release") appear here as often as in the AI tweets, so a
# model cannot learn them as AI words; a reply of one word must carry no topic.
_REACTIONS = (
    "Great!", "Great idea!", "Thank you.", "Thanks!", "Thanks so much ❤️", "Thank you so much!",
    "Congrats!!", "Congratulations 🎉", "lol", "LMAO", "haha same", "Same here", "Exactly.",
    "Exactly this", "This 👆", "100%", "Agreed", "So true", "Love this", "Love it!", "Awesome!",
    "Amazing 😍", "Wow", "Omg yes", "No way", "Yes!", "Nope", "Ugh", "Sad news", "RIP 🙏",
    "Good luck!", "Well said.", "You're welcome!", "Miss you!", "See you there", "Can't wait!",
    "Happy birthday!! 🎂", "Beautiful", "So proud of you", "Hang in there", "Done ✅", "Why?",
    "Great job team", "What a game!", "Just ignore it.", "it gets better.", "Interesting...",
    "Hahaha", "Sorry to hear that", "Stay safe", "Noted", "Fair point", "me too", "you got this",
)  # fmt: skip
_GREETINGS = (
    "Good morning everyone! Have a great {day}", "Happy {day}! ☀️", "Good night, world",
    "Happy {holiday} from our family to yours", "Thank you to everyone who came out tonight!",
    "Thanks for all the birthday wishes, you are the best", "Welcome to the team, {name}!",
    "Huge thanks to our volunteers in {city} this weekend", "Merry Christmas and happy holidays!",
    "Thank you {city}! What a night", "Hello from {city}!", "Wishing you all a happy new year",
    "Grateful for my friends and family today", "Thank you for your service 🇺🇸",
)  # fmt: skip
_POLITICS_NEWS = (
    "Thank you to the voters of {state}! Together we won #{campaign}",
    "Proud to vote for the {bill} today. Our families deserve better",
    "I will keep fighting for the people of {state} in Congress",
    "Today I met with farmers in {state} to talk about trade and prices",
    "Breaking: {official} resigns after weeks of pressure",
    "If you need help after the storm, call the {agency} hotline at 1-800-{n}-{n4}",
    "Polls are open until 8pm. Find your polling place and vote! #{campaign}",
    "The governor declared a state of emergency ahead of the hurricane",
    "Senate passes the {bill} 52-48 after a long night",
    "Join me at the town hall in {city} on {day} at 6pm",
    "Our thoughts are with the families affected by the fire in {city}",
    "Gas prices are up again in {state} and families are feeling it",
    "Happy to announce $ {n} million for roads and bridges in {state}",
    "New report: unemployment in {state} fell to {n4_small}%",
    "Watch live: press conference on the budget at noon",
    "The city council voted to extend the bus line to {city}",
    "Earthquake of magnitude 5.{n_small} felt across {city} this morning",
    "Protesters gathered outside the parliament in {city} again today",
    "Schools closed tomorrow in {city} because of snow",
    "Read my statement on today's Supreme Court decision",
)  # fmt: skip
_SPORTS_WEATHER = (
    "What a goal! {team} lead 2-1 at half time", "{team} win the title! ⚽🏆",
    "Final score: {team} 104, the Celtics 99", "Injury update: our captain is out for {n} weeks",
    "Heat warning for {city} today, {n_temp}°C by noon", "Snow on the way this weekend ❄️",
    "Rain, rain and more rain in {city}", "Beautiful sunny day for a run", "Storm warning tonight",
    "Matchday! Come on {team}", "Tickets for the derby are sold out",
    "Transfer news: {team} agree a fee for the winger", "Tornado watch until 9pm for {state}",
)  # fmt: skip
_TECH_NOT_AI = (
    "iOS 18.{n_small} update is out, battery life seems better",
    "Our website is down, we are working on it. Sorry!",
    "AWS us-east-1 outage again, half the internet is broken",
    "Bitcoin just crossed $ {n}k again #crypto", "Finally upgraded to a new laptop, so fast",
    "Kubernetes upgrade went smoothly, zero downtime 🎉", "Rust 1.{n} released with faster builds",
    "New release of our mobile app: dark mode and bug fixes", "Reset your passwords: {n} million accounts leaked", "Which mechanical keyboard should I buy?",
    "Fixed a nasty bug in our payment code today, great feeling", "The new iPhone camera is wild",
    "Windows update restarted my PC in the middle of a call", "One index took our SQL query from 9 s to 40 ms", "Migrating the monolith to microservices, wish us luck",
    "Excel crashed and took my spreadsheet with it", "5G finally reached our village",
    "Launching our new website today, check it out!", "JavaScript framework of the week: {name}.js",
    "The data center in {city} had a power cut this morning", "Code review tip: smaller PRs",
)  # fmt: skip
_CHATTER_FOREIGN = {
    "es": ("Buenos días a todos", "¡Gracias por todo!", "Qué calor hace hoy en {city}",
           "Feliz cumpleaños hermano 🎉", "Vamos {team}!!", "Jajaja no puede ser"),
    "fr": ("Bonjour tout le monde", "Merci beaucoup !", "Il pleut encore à {city}",
           "Allez {team} !", "Joyeux anniversaire ma belle", "Trop bien ce concert"),
    "de": ("Guten Morgen zusammen", "Danke schön!", "Endlich Wochenende",
           "Alles Gute zum Geburtstag!", "Heute wieder Stau auf der A7"),
    "pt": ("Bom dia pessoal", "Obrigado a todos!", "Que calor em {city} hoje",
           "Parabéns, amigo!", "Vamos {team}!"),
    "it": ("Buongiorno a tutti", "Grazie mille!", "Che partita stasera, forza {team}",
           "Buon compleanno amore", "Piove ancora a Milano"),
    "nl": ("Goedemorgen allemaal", "Bedankt!", "Wat een wedstrijd", "Fijne verjaardag!"),
    "tr": ("Günaydın herkese", "Çok teşekkürler!", "Harika bir maçtı", "İyi ki doğdun!"),
    "id": ("Selamat pagi semua", "Terima kasih banyak!", "Macet parah hari ini di Jakarta"),
    "ja": ("おはようございます", "ありがとうございます！", "今日は暑いですね", "お誕生日おめでとう"),
}  # fmt: skip
_EMOJI_ONLY = ("😂😂😂", "🔥🔥", "❤️", "🙏🙏", "👀", "😭😭😭", "🎉🎉🎉", "👏👏", "💯", "😍")
# AI tweets that talk like everyone else: thanks, replies, greetings around an AI topic.
_AI_CONVERSATIONAL = (
    "Great thread on {t}, thank you!", "Thanks for sharing! {t} is {o}",
    "Congrats on the {t} paper, well deserved!", "Good morning! Reading about {t} today",
    "Thank you for the invite, loved talking about {t} at {e}", "Wow, {t} just got {o}",
    "Love this explainer on {t}", "Agreed, {t} is {o}", "Can't wait to try the new {t} release",
    "Happy to share our new model for {t}: {r}", "Exactly this. {c} with {t}", "{t} 🔥",
    "Thoughts on {t}?", "Senate hearing on {t} and jobs today, worth watching",
    "The minister wants new rules for {t} before the election",
)  # fmt: skip
_STATES = ("Ohio", "Texas", "Georgia", "Michigan", "Arizona", "Florida", "Maine", "Nevada")
_CAMPAIGNS = ("Vote2024", "TeamSmith", "ForThePeople", "ElectionDay", "GOTV", "MoveForward")
_BILLS = ("infrastructure bill", "farm bill", "budget", "housing act", "veterans bill")
_OFFICIALS = ("the mayor", "the health minister", "the party chair", "the police chief")
_AGENCIES = ("FEMA", "Red Cross", "county emergency", "poison control", "disaster relief")
_DAYS = ("Monday", "Friday", "Sunday", "weekend", "Tuesday")
_HOLIDAYS = ("Thanksgiving", "Easter", "Fourth of July", "Diwali", "Hanukkah", "Eid")
_EVERYDAY_HASHTAGS = ("#MondayMotivation", "#football", "#foodie", "#travel", "#music", "#news")
_EVERYDAY_LINKS = (
    "https://www.bbc.co.uk/news/{slug}-{n5}", "https://www.instagram.com/p/{hex}",
    "https://open.spotify.com/track/{hex}", "https://www.espn.com/story/{n5}",
    "https://www.carrier.example/plans/{slug}", "https://www.nhs.uk/conditions/{slug}",
    "https://bit.ly/{hex}",
)  # fmt: skip
_TEAMS = ("Arsenal", "the Lakers", "Barça", "the Sixers", "Bayern", "the Yankees", "Benfica")
_FOODS = ("lasagna", "ramen", "tacos", "banana bread", "paella", "curry")
_BANDS = ("Coldplay", "Bad Bunny", "Taylor Swift", "Rammstein", "Stromae")
_MONTHS = ("March", "June", "October", "December")
_CITIES = ("Lisbon", "Leeds", "Austin", "Lyon", "Munich", "Bogotá", "Osaka", "Porto")
_ROADS = ("ring road", "M25", "I-35", "A7", "bridge", "bypass")
_SLUG_WORDS = (
    "guide", "intro", "notes", "update", "report", "review", "tips", "story", "deep", "fast",
    "new", "open", "data", "plan", "model", "week",
)  # fmt: skip
_NAMES = (
    "ana", "ben", "chen", "dara", "eli", "femi", "gus", "hana", "ivan", "jo", "kai", "lea",
    "mo", "nia", "omar", "pia", "raj", "sam", "tess", "uma", "vic", "wen", "yara", "zoe",
)  # fmt: skip


@dataclass(frozen=True)
class GeneratedStream:
    """API messages in arrival order and the truth label of every tweet id, kept apart."""

    messages: list[dict[str, Any]]
    truth: pd.DataFrame  # tweet_id:int64, is_ai:int64 (1 = about AI)


class _Writer:
    """Builds tweets in both API shapes from one rng, so a seed gives one stream."""

    def __init__(self, rng: np.random.Generator, start: datetime) -> None:
        self.rng = rng
        self.clock_ms = int(start.timestamp() * 1000)
        self.sequence = 0
        self.users = [
            f"{self.pick(_NAMES)}{self.pick(('', '_', '.'))}{self.pick(_NAMES)}{int(n)}"
            for n in rng.integers(1, 999, size=400)
        ]

    def pick(self, options: tuple[Any, ...] | list[Any]) -> Any:
        return options[int(self.rng.integers(len(options)))]

    def next_id(self) -> tuple[int, datetime]:
        self.clock_ms += int(self.rng.exponential(400)) + 1
        self.sequence = (self.sequence + 1) % 4096
        tweet_id = ((self.clock_ms - _SNOWFLAKE_EPOCH_MS) << 22) | (7 << 12) | self.sequence
        return tweet_id, datetime.fromtimestamp(self.clock_ms / 1000, UTC)

    def link(self, templates: tuple[str, ...]) -> str:
        slug = "-".join(self.pick(_SLUG_WORDS) for _ in range(int(self.rng.integers(1, 4))))
        return self.pick(templates).format(
            n4=int(self.rng.integers(2301, 2512)),
            n5=f"{int(self.rng.integers(0, 99999)):05d}",
            slug=slug,
            user=self.pick(self.users),
            hex=f"{int(self.rng.integers(0, 16**8)):08x}",
        )

    def fill(self, template: str) -> str:
        topics = list(self.rng.choice(len(_AI_TOPICS), size=2, replace=False))
        return template.format(
            t=_AI_TOPICS[topics[0]],
            t2=_AI_TOPICS[topics[1]],
            r=self.pick(_AI_RESULTS),
            c=self.pick(_AI_CLAIMS),
            o=self.pick(_AI_OPINIONS),
            p=self.pick(_AI_PROBLEMS),
            e=self.pick(_AI_EVENTS),
            team=self.pick(_TEAMS),
            food=self.pick(_FOODS),
            band=self.pick(_BANDS),
            month=self.pick(_MONTHS),
            city=self.pick(_CITIES),
            road=self.pick(_ROADS),
            n=int(self.rng.integers(2, 60)),
            state=self.pick(_STATES),
            campaign=self.pick(_CAMPAIGNS),
            bill=self.pick(_BILLS),
            official=self.pick(_OFFICIALS),
            agency=self.pick(_AGENCIES),
            day=self.pick(_DAYS),
            holiday=self.pick(_HOLIDAYS),
            name=self.pick(_NAMES).title(),
            n4=int(self.rng.integers(1000, 9999)),
            n4_small=f"{self.rng.uniform(2, 9):.1f}",
            n_small=int(self.rng.integers(1, 9)),
            n_temp=int(self.rng.integers(30, 44)),
        )

    def _not_ai(self, foreign: bool, reply: bool) -> tuple[str, str, int, int, bool]:
        """(text, lang, hashtags, links, is a reply) of a tweet not about AI."""
        rng = self.rng
        kind = _not_ai_kind(float(rng.random()))
        n_tags, n_links = int(rng.choice([0, 0, 0, 1])), int(rng.choice([0, 0, 1]))
        if kind == "lookalike":
            return "en", self.fill(self.pick(_LOOKALIKES)[0]), n_tags, n_links, reply
        if kind == "tech":
            return "en", self.fill(self.pick(_TECH_NOT_AI)), n_tags, n_links, reply
        if kind == "reaction":  # mostly replies: "@user Great!"
            return "en", self.pick(_REACTIONS), 0, int(rng.random() < 0.1), rng.random() < 0.8
        if kind == "greeting":
            return "en", self.fill(self.pick(_GREETINGS)), n_tags, n_links, reply
        if kind == "politics":
            return (
                "en",
                self.fill(self.pick(_POLITICS_NEWS)),
                n_tags,
                int(rng.random() < 0.5),
                reply,
            )
        if kind == "sports":
            return "en", self.fill(self.pick(_SPORTS_WEATHER)), n_tags, n_links, reply
        if kind == "bare":
            if rng.random() < 0.5:
                return "und", "", 0, 1, reply
            return "und", self.pick(_EMOJI_ONLY), 0, 0, reply
        if kind == "foreign" or foreign:
            table = _CHATTER_FOREIGN if rng.random() < 0.6 else _EVERYDAY_FOREIGN
            lang = self.pick(list(table))
            return lang, self.fill(self.pick(table[lang])), n_tags, n_links, reply
        return "en", self.fill(self.pick(_EVERYDAY)), n_tags, n_links, reply

    def compose(self, is_ai: bool) -> tuple[str, str, list[str]]:
        """(text without links, lang, expanded links) for a fresh tweet of the given class."""
        rng = self.rng
        foreign = rng.random() < 0.18
        reply = rng.random() < 0.25
        tags, links = _EVERYDAY_HASHTAGS, _EVERYDAY_LINKS
        if is_ai:
            if foreign:
                lang = self.pick(list(_AI_FOREIGN))
                text = self.fill(self.pick(_AI_FOREIGN[lang]))
            elif rng.random() < 0.2:
                lang, text = "en", self.fill(self.pick(_AI_CONVERSATIONAL))
            else:
                lang, text = "en", self.fill(self.pick(_AI_TEMPLATES))
            tags, links = _AI_HASHTAGS, _AI_LINKS
            n_tags = int(rng.choice([0, 0, 1, 1, 2, 3]))
            n_links = int(rng.choice([0, 1, 1, 1, 2]))
        else:
            lang, text, n_tags, n_links, reply = self._not_ai(foreign, reply)
        if lang == "en" and not is_ai and text:
            text = f"{self.pick(_OPENERS)}{text}{self.pick(_CLOSERS)}"
        if reply:
            text = f"@{self.pick(self.users)} {text}".strip()
        chosen_tags = list(rng.choice(tags, size=n_tags, replace=False)) if n_tags else []
        text = " ".join(part for part in [text, *chosen_tags] if part)
        if lang == "en" and rng.random() < 0.05:
            lang = "und"  # the API cannot always tell
        return text, lang, [self.link(links) for _ in range(n_links)]


def _not_ai_kind(roll: float) -> str:
    """Which kind of non-AI tweet a uniform `roll` picks, in about the shares of a real
    stream: most are conversation, few share AI words."""
    for kind, upper in _NOT_AI_SHARES:
        if roll < upper:
            return kind
    return "everyday"


_NOT_AI_SHARES = (
    ("lookalike", 0.18),
    ("tech", 0.28),
    ("reaction", 0.46),
    ("greeting", 0.54),
    ("politics", 0.66),
    ("sports", 0.74),
    ("bare", 0.78),  # a link or emoji alone
    ("foreign", 0.86),
)


def _user_id(screen_name: str) -> str:
    """A stable numeric user id (Python's `hash` changes between processes)."""
    return str(zlib.crc32(screen_name.encode()))


def _short(rng: np.random.Generator) -> str:
    return "https://t.co/" + "".join(
        rng.choice(list("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"), size=10)
    )


def _v1_message(
    tweet_id: int,
    created: datetime,
    user: str,
    text: str,
    lang: str,
    links: list[str],
    rng: np.random.Generator,
    retweeted: dict[str, Any] | None = None,
) -> dict[str, Any]:
    short = [_short(rng) for _ in links]
    full_text = " ".join([text, *short])
    urls = [
        {"url": s, "expanded_url": u, "display_url": u.split("://", 1)[1][:26]}
        for s, u in zip(short, links, strict=True)
    ]
    message: dict[str, Any] = {
        "created_at": created.strftime(V1_DATE_FORMAT),
        "id": tweet_id,
        "id_str": str(tweet_id),
        "lang": lang,
        "user": {"id_str": _user_id(user), "screen_name": user},
        "retweet_count": int(rng.poisson(2)),
        "favorite_count": int(rng.poisson(5)),
    }
    if retweeted is not None:
        author = retweeted["user"]["screen_name"]
        original = retweeted.get("full_text") or retweeted["extended_tweet"]["full_text"]
        message["full_text"] = f"RT @{author}: {original}"[:140]
        message["entities"] = {"urls": [], "hashtags": []}
        message["retweeted_status"] = retweeted
    elif rng.random() < 0.3:
        # compatibility mode: `text` cut to 140 characters, the full tweet in `extended_tweet`
        message["text"] = full_text[:140]
        message["truncated"] = len(full_text) > 140
        message["extended_tweet"] = {"full_text": full_text, "entities": {"urls": urls}}
    else:
        message["full_text"] = full_text
        message["entities"] = {"urls": urls, "hashtags": [], "user_mentions": []}
    return message


def _v2_message(
    tweet_id: int,
    created: datetime,
    user: str,
    text: str,
    lang: str,
    links: list[str],
    rng: np.random.Generator,
    retweeted_id: int | None = None,
) -> dict[str, Any]:
    short = [_short(rng) for _ in links]
    full_text = " ".join([text, *short])
    author_id = _user_id(user)
    data: dict[str, Any] = {
        "id": str(tweet_id),
        "text": full_text,
        "created_at": created.strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{created.microsecond // 1000:03d}Z",
        "author_id": author_id,
        "lang": lang,
    }
    if links:
        start = len(text) + 1
        entities = []
        for s, u in zip(short, links, strict=True):
            entities.append({"start": start, "end": start + len(s), "url": s, "expanded_url": u})
            start += len(s) + 1
        data["entities"] = {"urls": entities}
    if retweeted_id is not None:
        data["referenced_tweets"] = [{"type": "retweeted", "id": str(retweeted_id)}]
    return {"data": data, "includes": {"users": [{"id": author_id, "username": user}]}}


def generate_tweet_stream(
    n_tweets: int,
    *,
    seed: int = 42,
    ai_share: float = 0.3,
    start: datetime = datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
) -> GeneratedStream:
    """`n_tweets` API messages in arrival order, with their truth labels apart.

    About `ai_share` are about AI (English and es/fr/de/pt; one English one in five talks like
    everyone else: thanks, replies, "Great thread on …"). The rest is what a real stream is
    mostly made of: one-word replies and reactions, greetings and thanks, politics and news,
    sport and weather, a link or emoji alone, chatter in nine languages, tech that is not AI
    (outages, phones, crypto, SQL), and look-alikes that share AI words ("big data plan",
    "neural tube", "model", "python", "Transformers", "deep learning in the classroom"). One tweet in
    ten is a near-duplicate of an earlier one (new short link, "via @user", different case) and
    one in ten a retweet, as on a real filtered stream. Shapes alternate between v1.1 (extended
    and compatibility mode) and v2.
    """
    if n_tweets < 1:
        raise InvalidInputError(f"n_tweets is {n_tweets}, expected at least 1")
    rng = np.random.default_rng(seed)
    writer = _Writer(rng, start)
    messages: list[dict[str, Any]] = []
    truth: list[tuple[int, int]] = []
    # originals already sent: (id, user, text, lang, links, is_ai, v1 message or None)
    sent: list[tuple[int, str, str, str, list[str], bool, dict[str, Any] | None]] = []
    for _ in range(n_tweets):
        tweet_id, created = writer.next_id()
        user = writer.pick(writer.users)
        as_v1 = rng.random() < 0.6
        roll = rng.random()
        if sent and roll < 0.1:  # retweet of an earlier tweet
            original = sent[int(rng.integers(max(0, len(sent) - 2000), len(sent)))]
            o_id, o_user, o_text, o_lang, o_links, is_ai, o_v1 = original
            if as_v1 and o_v1 is not None:
                message = _v1_message(tweet_id, created, user, "", o_lang, [], rng, o_v1)
            else:
                text = f"RT @{o_user}: {o_text}"
                message = _v2_message(tweet_id, created, user, text, o_lang, o_links, rng, o_id)
        else:
            if sent and roll < 0.2:  # near-duplicate: same words, new link or small edits
                _, _, text, lang, links, is_ai, _ = sent[int(rng.integers(len(sent)))]
                variant = int(rng.integers(3))
                if variant == 0:
                    links = [writer.link(_AI_LINKS if is_ai else _EVERYDAY_LINKS)]
                elif variant == 1:
                    text = f"{text} via @{writer.pick(writer.users)}"
                else:
                    text = text.upper() if rng.random() < 0.2 else text.rstrip("!.") + "!"
            else:
                is_ai = bool(rng.random() < ai_share)
                text, lang, links = writer.compose(is_ai)
            if as_v1:
                message = _v1_message(tweet_id, created, user, text, lang, links, rng)
            else:
                message = _v2_message(tweet_id, created, user, text, lang, links, rng)
            sent.append((tweet_id, user, text, lang, links, is_ai, message if as_v1 else None))
        messages.append(message)
        truth.append((tweet_id, int(is_ai)))
    return GeneratedStream(
        messages=messages,
        truth=pd.DataFrame(truth, columns=["tweet_id", "is_ai"]).astype("int64"),
    )


def write_tweet_stream(
    directory: Any,
    stream: GeneratedStream,
    *,
    tweets_per_file: int = 1000,
    truth_path: Any = None,
    start: datetime | None = None,
) -> list[Any]:
    """Lands the stream as `tweets-<arrival>-<n>.jsonl` files (names sort in arrival order)
    under `directory` (a local path or a UPath, e.g. an S3 prefix) and its truth as CSV at
    `truth_path` (default: beside the folder, never inside the landing folder, so the stream
    source cannot mistake it for tweets)."""
    local = not hasattr(directory, "fs") or directory.protocol in ("", "file", "local")
    directory = Path(directory) if local else directory
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    stamp = (start or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S")
    for number, first in enumerate(range(0, len(stream.messages), tweets_per_file)):
        path = directory / f"tweets-{stamp}-{number:06d}.jsonl"
        data = "".join(json_lines(stream.messages[first : first + tweets_per_file])).encode()
        if local:
            temporary = path.with_name("." + path.name + ".tmp")
            temporary.write_bytes(data)
            temporary.rename(path)  # a reader never sees half a file
        else:
            path.write_bytes(data)  # an object store PUT is atomic already
        paths.append(path)
    truth = truth_path or directory.parent / f"{directory.name}-truth.csv"
    (Path(truth) if isinstance(truth, str) else truth).write_bytes(
        stream.truth.to_csv(index=False).encode()
    )
    return paths
