"""Seeded FEBRL-like person records: clean targets, corrupted sources, the truth, and feedback.

The public FEBRL data is 5,000 records; matching has to be shown on millions, with a known truth.
This generator reproduces the statistics of FEBRL4 (originals vs their duplicates) at any size:
the per-field missing rates, how many fields a duplicate gets wrong and which ones, and how
(typo, OCR slip, phonetic spelling, space, missing, whole value replaced, names swapped). The
population holds the collisions that make matching hard: long-tailed names, households sharing
a surname and address, neighbours, shared birthdays, and new people related to existing ones.
Vocabularies are small built-in lists plus a syllable generator for the long tail.
"""

from bisect import bisect
from collections.abc import Callable
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path

import numpy as np
import pandas as pd

from ml_platform.core.errors import InvalidInputError

COLUMNS = (
    "given_name", "surname", "street_number", "address_1", "address_2",
    "suburb", "postcode", "state", "date_of_birth", "soc_sec_id",
)  # fmt: skip

# --- FEBRL4 statistics the generator reproduces (dataset4a originals vs dataset4b duplicates) ---

# Share of originals with the field missing.
TARGET_MISSING = {
    "given_name": 0.022, "surname": 0.010, "street_number": 0.032, "address_1": 0.020,
    "address_2": 0.084, "suburb": 0.011, "state": 0.010, "date_of_birth": 0.019,
}  # fmt: skip

# Share of duplicates whose field differs from the original, by how:
# (made missing, replaced by another value, a space inserted/removed/moved, typo). Swaps apart.
CHANGES = {
    "given_name": (0.026, 0.108, 0.009, 0.135),
    "surname": (0.012, 0.081, 0.007, 0.183),
    "street_number": (0.031, 0.097, 0.0, 0.027),
    "address_1": (0.025, 0.042, 0.112, 0.181),
    "address_2": (0.094, 0.029, 0.097, 0.188),
    "suburb": (0.012, 0.051, 0.025, 0.156),
    "postcode": (0.0, 0.009, 0.0, 0.147),
    "state": (0.012, 0.025, 0.0, 0.012),
    "date_of_birth": (0.022, 0.025, 0.0, 0.042),
    "soc_sec_id": (0.0, 0.038, 0.0, 0.050),
}
SWAPPED_NAMES = 0.042  # given name and surname exchanged
SWAPPED_ADDRESSES = 0.023  # address_1 and address_2 exchanged
# Duplicates by number of fields that differ from their original (none are exact copies).
DIFFERING_FIELDS = {1: 1488, 2: 1690, 3: 1155, 4: 480, 5: 152, 6: 34, 7: 1}

# Population structure (no FEBRL counterpart: FEBRL has no households, the real world does).
HOUSEHOLD_SHARE = 0.25  # targets living with another target: same surname and address
FAMILY_SHARE = 0.35  # new people who are family of a target: same surname and address
NEIGHBOUR_SHARE = 0.15  # new people living in the same street as a target
NAMESAKE_SHARE = 0.10  # of family: also the same given name (junior/senior)

# --- vocabularies (written for this project; the long tail comes from the syllable generator) ---
# Space-separated words; '_' joins the words of one value ('de_silva').

_GIVEN_NAMES = """
jack joshua thomas emily jessica lachlan sophie james william chloe benjamin olivia daniel
matthew charlotte samuel emma nicholas ella ryan liam grace hannah jacob isabella ethan sarah
luke georgia dylan mia lily jayden cooper ruby harrison amelia riley zoe mitchell madison
oliver jasmine noah lauren lucas amy alexander rebecca max stephanie connor nicole blake
michelle callum kate jordan katie tyler megan zachary laura hayden rachel kyle samantha bailey
danielle jesse natalie jake melissa isaac kimberley nathan courtney brandon brooke aidan paige
caleb tayla lincoln abbey hunter alyssa logan jade mason caitlin charlie bianca henry alana
george brianna edward kirra harry tahlia charles shannon robert holly john ashleigh david
alexandra michael victoria peter elizabeth paul mary andrew margaret mark patricia stephen
jennifer christopher linda anthony susan richard karen kevin helen brian sandra gary donna
steven carol timothy ruth scott sharon jason dorothy craig joan adam judith simon joyce shane
valerie wayne beverley darren shirley brett doris glenn jean dean marjorie troy gwen grant
irene keith maureen kenneth kathleen ronald eileen raymond bridget frank catherine arthur
anne albert louise walter julia ernest lucy harold alice leslie phoebe stanley matilda norman
eva francis isla patrick ava sean zara declan layla kieran eliza brendan imogen owen
annabelle rhys scarlett evan harriet ewan claudia angus madeleine hamish michaela fraser
vanessa tristan tiana jasper keeley felix lucinda hugo breana sebastian jacinta xavier tegan
elijah erin levi siobhan archie ebony toby jemma jaimee kayla chelsea
"""
_SURNAMES = """
smith jones williams brown wilson taylor johnson white martin anderson thompson nguyen
thomas walker harris lee ryan robinson kelly king davis wright evans roberts green hall wood
jackson clarke campbell webb reid mason matthews george murphy mitchell turner hughes edwards
hill scott moore young morris stewart ward baker harrison bell cooper james lewis watson
wilkinson allen price carter shaw richardson marshall graham russell kennedy murray fraser
ross hunter robertson gray johnston mcdonald morgan collins cook bennett bailey cox barnes
fisher dixon chapman hamilton ellis gibson holmes singh chen wang li zhang tran pham le ho vo
patel sharma khan ali rossi russo bianchi romano ferrari colombo costa esposito papadopoulos
georgiou schmidt muller schneider fischer weber meyer wagner becker hoffmann zimmermann
kowalski nowak novak horvat jovanovic petrovic oconnor obrien osullivan mccarthy byrne doyle
gallagher quinn walsh brennan kavanagh fitzgerald burke lynch nolan sullivan daly mcgregor
mckenzie macleod sinclair henderson paterson crawford gordon douglas ferguson hay duncan boyd
watt kerr burns crane pearce parker page lane knight stone hart hayes wallace fox butler
simpson pearson day rogers foster griffiths powell woods palmer lloyd hudson holland barker
spencer walters harvey stevens jenkins nicholson armstrong gardner saunders black lawrence
kaur tan lim wong ng chan liu yang huang zhou wu xu sun ma zhu hu guo lin he luo doan bui
de_silva fernando perera costello moretti ricci greco bruno galli conti mancini rizzo lombardi
dimitriou nikolaou karagiannis haddad khoury nasser saleh abboud van_der_berg de_jong jansen
visser bakker smit mulder hansen nielsen andersen larsen olsen berg lindqvist
"""
_STREET_WORDS = """
acacia wattle banksia jacaranda grevillea waratah boronia kurrajong bottlebrush casuarina
melaleuca myrtle cedar laurel magnolia camellia jasmine orchid heather willow oak elm ash
flinders cook hume hovell sturt leichhardt oxley burke wills lawson blaxland wentworth
macquarie bligh phillip darling bourke gipps fitzroy denison lachlan victoria albert
elizabeth alexandra regent princes kings queens church station railway bridge mill market
high park hill ridge valley bay beach river creek lake forest ocean harbour garden
london oxford cambridge york windsor bristol kent essex devon cornwall sussex surrey
canning swan murray hawkesbury nepean derwent tamar yarra torrens brisbane hunter clarence
anzac federation jubilee coronation wirraway kookaburra lorikeet rosella currawong brolga
wombat koala wallaby possum echidna platypus emu jabiru ibis pelican heron osprey kestrel
"""
# Street type -> FEBRL share (per 1000 addresses).
_STREET_TYPES = {
    "street": 440, "crescent": 180, "place": 175, "circuit": 85, "avenue": 40, "close": 38,
    "drive": 23, "court": 14, "road": 8, "garden": 4, "way": 4, "terrace": 3, "circle": 2,
    "grove": 2, "lane": 2, "loop": 1, "parade": 1, "retreat": 1, "rise": 1, "highway": 1,
}  # fmt: skip
# State -> (share of people per 1000, postcode ranges).
_STATES = {
    "nsw": (341, [(2000, 2599), (2620, 2899)]),
    "vic": (250, [(3000, 3999)]),
    "qld": (190, [(4000, 4999)]),
    "wa": (95, [(6000, 6799)]),
    "sa": (78, [(5000, 5799)]),
    "tas": (26, [(7000, 7799)]),
    "act": (14, [(2600, 2619), (2900, 2914)]),
    "nt": (6, [(800, 899)]),
}
_SUBURBS = {
    "nsw": """parramatta, blacktown, penrith, liverpool, campbelltown, bankstown, hurstville,
    chatswood, hornsby, manly, dee why, bondi, randwick, maroubra, marrickville, newtown, ryde,
    balmain, strathfield, auburn, ashfield, burwood, fairfield, cabramatta, castle hill,
    baulkham hills, kellyville, rouse hill, epping, eastwood, north ryde, gosford, wyong,
    the entrance, newcastle, maitland, cessnock, raymond terrace, taree, forster, coffs harbour,
    south grafton, lismore, ballina, byron bay, tweed heads, armidale, tamworth, dubbo, orange,
    bathurst, lithgow, katoomba, goulburn, wagga wagga, albury, griffith, queanbeyan, nowra,
    wollongong, dapto, kiama, shellharbour, bowral, mittagong, batemans bay, moruya, bega,
    merimbula, broken hill, port macquarie, winston hills, mount druitt, st marys""",
    "vic": """frankston, ballarat, bendigo, geelong, hoppers crossing, st albans, brighton,
    mildura, shepparton, wodonga, wangaratta, benalla, seymour, traralgon, morwell, sale,
    bairnsdale, warrnambool, hamilton, portland, horsham, ararat, colac, torquay, werribee,
    point cook, sunbury, melton, craigieburn, reservoir, preston, coburg, brunswick, essendon,
    footscray, sunshine, st kilda, prahran, richmond, hawthorn, camberwell, box hill,
    doncaster, ringwood, croydon, lilydale, dandenong, springvale, clayton, oakleigh,
    glen waverley, mount waverley, berwick, pakenham, cranbourne, mornington, rosebud,
    carrum downs, elwood, mitcham""",
    "qld": """toowoomba, bundaberg, cairns, townsville, mackay, rockhampton, gladstone,
    hervey bay, maryborough, gympie, nambour, caloundra, noosa heads, southport,
    surfers paradise, robina, nerang, ipswich, logan central, springwood, redcliffe,
    strathpine, caboolture, chermside, indooroopilly, toowong, kenmore, carindale, wynnum,
    mount gravatt, sunnybank, inala, beenleigh, dalby, kingaroy, chinchilla, emerald, mount isa""",
    "sa": """adelaide, glenelg, marion, noarlunga, salisbury, elizabeth, gawler, mount barker,
    murray bridge, port augusta, port lincoln, whyalla, mount gambier, victor harbor, unley,
    norwood, prospect, modbury""",
    "wa": """perth, fremantle, joondalup, midland, armadale, rockingham, mandurah, bunbury,
    busselton, albany, geraldton, kalgoorlie, broome, karratha, port hedland, scarborough,
    subiaco, cottesloe, morley, cannington""",
    "tas": "hobart, launceston, devonport, burnie, kingston, glenorchy, ulverstone, sorell",
    "act": "belconnen, tuggeranong, woden, gungahlin, braddon, kambah, dickson, kingston",
    "nt": "darwin, palmerston, alice springs, katherine, casuarina, nightcliff",
}
_PROPERTY_SUFFIXES = """park village vlge lodge house farm downs station homestead estate manor
gardens court towers views retirement_village caravan_park aged_care_facility hostel
hospital cottage hall centre"""
_PROPERTY_THE = "willows oaks pines elms gables laurels meadows grange lodge mews poplars cedars"
_UNIT_PREFIXES = "villa unit flat apt sec rsd lot suite"
_SUBURB_PREFIXES = "north south east west mount port upper lower glen st"
_SUBURB_SUFFIXES = "park hills heights beach valley creek downs bay point vale gardens"

# Syllables for the long tail of names: onset + vowel + middle (+ vowel + middle) + ending.
_ONSETS = "b br c ch cl cr d dr f fr g gr h j k l m n p pr r s sh st t tr v w y"
_VOWELS = "a e i o u a e i o u a e i o ai ea ee oo ou"
_MIDDLES = "b d g k l m n r s t v l n r s t m d nd nt rt st ll tt ss rd ld lt mb ck ch th ng"
_ENDINGS = {
    "surname": "son ton ley man er ford well worth ham by ington ett s ins kins ard ey ow ski "
    "berg ini elli as os an en ic ovic ock ick ing y ie e a o i more field wood stone",
    "given": "a ah ia ie y ella ina an en on el yn lyn iel o us ette ara ley ine ey ly ton den",
    "place": "ville ton wood dale field ford bury vale ley gong ong ara alla inga bah wong "
    "ridge mere more stead brook lands burn lea by ham ing oo ee up arra oona",
}

_RUDE = "fuck|shit|cunt|nigg|wank|slut|whore|cock|dick|twat|rape|piss|fag|tits|arse|bitch"

# --- keyboard and spelling confusions used by typos ---

_KEYBOARD_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")
_OCR = [("0", "o"), ("o", "0"), ("1", "l"), ("l", "1"), ("5", "s"), ("s", "5"), ("rn", "m"),
        ("m", "rn"), ("cl", "d"), ("d", "cl"), ("vv", "w"), ("w", "vv"), ("g", "q"), ("i", "l"),
        ("e", "c"), ("h", "b"), ("u", "v")]  # fmt: skip
_PHONETIC = [("ph", "f"), ("f", "ph"), ("ck", "k"), ("c", "k"), ("k", "c"), ("ie", "y"),
             ("y", "ie"), ("ee", "ea"), ("ea", "ee"), ("ou", "ow"), ("s", "z"), ("z", "s"),
             ("ll", "l"), ("tt", "t"), ("nn", "n"), ("ss", "s"), ("rr", "r"), ("mm", "m"),
             ("l", "ll"), ("t", "tt"), ("n", "nn"), ("r", "rr"), ("th", "t"), ("ae", "e"),
             ("i", "y"), ("x", "ks"), ("qu", "kw")]  # fmt: skip
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_DIGITS = "0123456789"
_SECOND_TYPO = 0.2  # FEBRL: about one typo'd value in five is two edits away
_DIGIT_COLUMNS = ("street_number", "postcode", "date_of_birth", "soc_sec_id")

Edit = Callable[[str, float, float], str]  # value, two uniforms -> edited value
Typo = Callable[[str, list[float]], str]  # value, six uniforms -> a different value


@dataclass
class PersonDataset:
    """Targets (clean originals), sources (to match), truth (source_id, target_id), feedback."""

    targets: pd.DataFrame
    sources: pd.DataFrame
    truth: pd.DataFrame
    feedback: pd.DataFrame


def generate_person_records(
    n_targets: int,
    n_sources: int,
    *,
    seed: int = 42,
    match_share: float = 0.8,
    feedback_size: int = 200,
) -> PersonDataset:
    """Targets and sources like FEBRL4: a `match_share` of sources copy one distinct target each.

    Matching is one-to-one as in FEBRL4: a source matches at most one target and a target at most
    one source. The other sources are new people, half of them family or neighbours of a target.
    Feedback is about half true matches (the more corrupted ones preferred) and half look-alike
    non-matches (family, neighbours, or the same surname and postcode).
    """
    n_matched = round(match_share * n_sources)
    if min(n_targets, n_sources, feedback_size) < 0 or not 0 <= match_share <= 1:
        raise InvalidInputError(
            "n_targets, n_sources and feedback_size must be >= 0 and match_share in [0, 1]; got "
            f"{n_targets=}, {n_sources=}, {feedback_size=}, {match_share=}"
        )
    if n_matched > n_targets:
        raise InvalidInputError(
            f"match_share {match_share} of {n_sources} sources is {n_matched} matches, more than "
            f"the {n_targets} targets; matching is one-to-one"
        )
    n_new = n_sources - n_matched
    if n_targets + n_new > 9_000_000:
        raise InvalidInputError(
            f"{n_targets + n_new} distinct people asked for; 7-digit social security ids allow "
            "at most 9,000,000"
        )
    rng = np.random.default_rng(seed)
    vocabulary = _Vocabulary(rng, n_targets + n_sources)
    social_security_ids = rng.choice(9_000_000, n_targets + n_new, replace=False) + 1_000_000

    people = _people(vocabulary, n_targets, social_security_ids[:n_targets])
    _join_households(rng, people)
    targets = _with_missing_values(rng, people)

    matched = rng.choice(n_targets, n_matched, replace=False)
    newcomers, related = _new_people(vocabulary, targets, n_new, social_security_ids[n_targets:])
    originals = {c: np.concatenate([targets[c][matched], newcomers[c]]) for c in COLUMNS}
    sources, n_differing = _corrupt(vocabulary, originals)

    order = rng.permutation(n_sources)  # source ids carry no hint of the match
    source_ids = np.empty(n_sources, dtype=object)
    source_ids[order] = _ids("s", n_sources)  # row order[k] gets the (k+1)-th id
    target_ids = _ids("t", n_targets)
    truth = pd.DataFrame({"source_id": source_ids[:n_matched], "target_id": target_ids[matched]})
    feedback = _feedback(
        rng, feedback_size, targets, sources, source_ids, target_ids, matched,
        related, n_differing,
    )  # fmt: skip
    return PersonDataset(
        targets=_frame(rng, target_ids, targets, np.arange(n_targets), "2024-01-01"),
        sources=_frame(rng, source_ids, sources, order, "2024-07-01"),
        truth=_as_text(truth.sort_values("source_id", ignore_index=True)),
        feedback=feedback,
    )


@dataclass
class DedupeDataset:
    """One table with duplicates (FEBRL3's shape) and each record's true entity."""

    records: pd.DataFrame
    entity: pd.Series  # record id → entity id


def generate_dedupe_records(
    n_entities: int, *, seed: int = 42, duplicate_share: float = 0.5, max_duplicates: int = 5
) -> DedupeDataset:
    """Records of ``n_entities`` people, a ``duplicate_share`` of them with 1–``max_duplicates``
    corrupted copies (FEBRL's corruption model), shuffled into one table.

    The people live in households (same surname and address) and neighbourhoods like the link
    generator's targets, so family members are the look-alikes a dedupe must keep apart.
    """
    if n_entities < 1 or not 0 <= duplicate_share <= 1 or max_duplicates < 1:
        raise InvalidInputError(
            "n_entities and max_duplicates must be >= 1 and duplicate_share in [0, 1]; got "
            f"{n_entities=}, {duplicate_share=}, {max_duplicates=}"
        )
    if n_entities > 9_000_000:
        raise InvalidInputError(f"{n_entities} people asked for; at most 9,000,000")
    rng = np.random.default_rng(seed)
    vocabulary = _Vocabulary(rng, 2 * n_entities)
    social_security_ids = rng.choice(9_000_000, n_entities, replace=False) + 1_000_000
    people = _people(vocabulary, n_entities, social_security_ids)
    _join_households(rng, people)
    originals = _with_missing_values(rng, people)

    duplicated = np.flatnonzero(rng.random(n_entities) < duplicate_share)
    # FEBRL3 has few copies per person far more often than many: copies ~ 1 + geometric
    copies = np.minimum(rng.geometric(0.5, len(duplicated)), max_duplicates)
    of_entity = np.repeat(duplicated, copies)
    duplicates, _ = _corrupt(vocabulary, {c: originals[c][of_entity] for c in COLUMNS})

    records = {c: np.concatenate([originals[c], duplicates[c]]) for c in COLUMNS}
    entity = np.concatenate([np.arange(n_entities), of_entity])
    order = rng.permutation(len(entity))  # record ids carry no hint of the entity
    ids = np.empty(len(entity), dtype=object)
    ids[order] = _ids("r", len(entity))  # row order[k] of the table gets the (k+1)-th id
    frame = _frame(rng, ids, records, order, "2024-01-01")
    truth = pd.Series(
        _ids("e", n_entities)[entity], index=pd.Index(ids, name="id"), name="entity"
    ).astype("str")
    return DedupeDataset(records=frame, entity=truth)


def write_person_dataset(directory: str | Path, dataset: PersonDataset) -> dict[str, Path]:
    """Write targets/sources/truth/feedback CSVs (records in FEBRL column order, empty = missing)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name in ("targets", "sources", "truth", "feedback"):
        paths[name] = directory / f"{name}.csv"
        getattr(dataset, name).to_csv(paths[name], index=False)
    return paths


class _Vocabulary:
    """Value pools with long-tailed popularity, and draws of clean values per column.

    Pool sizes and Zipf shapes are fitted so that 5,000 people have FEBRL's number of distinct
    values and head shares; pools grow with the square root of the population (Heaps' law), so
    a million people are not a few thousand names recycled.
    """

    def __init__(self, rng: np.random.Generator, population: int) -> None:
        self.rng = rng
        scale = max(1.0, population / 5_000) ** 0.5
        given = _with_tail(rng, _words(_GIVEN_NAMES), "given", int(1_000 * scale))
        surnames = _with_tail(rng, _words(_SURNAMES), "surname", int(10_000 * scale))
        properties = self._properties(int(6_000 * scale))
        self.pools = {
            "given_name": (given, _popularity(len(given), 16, 1.1)),
            "surname": (surnames, _popularity(len(surnames), 4, 1.0)),
            "address_2": (properties, _popularity(len(properties), 2, 0.6)),
        }
        words = np.concatenate([_words(_STREET_WORDS), surnames[::3], given[::2]])
        streets = pd.unique(words)[: int(2_500 * scale)]
        self.streets = (streets, _popularity(len(streets), 64, 0.8))
        self.street_types = _weighted(_STREET_TYPES)
        suburbs, postcodes, states = self._suburbs(int(2_000 * scale))
        self.place_columns = {"suburb": suburbs, "postcode": postcodes, "state": states}
        self.place_popularity = _popularity(len(suburbs), 16, 0.7)

    def draw(self, column: str, k: int) -> np.ndarray:
        """`k` clean values of one column, each drawn on its own (replacement values)."""
        if column in self.pools:
            values, p = self.pools[column]
            return values[self.rng.choice(len(values), k, p=p)]
        if column == "street_number":
            # Log-normal: FEBRL's median is 23, a tenth are above 150.
            numbers = np.clip(np.rint(np.exp(self.rng.normal(3.15, 1.45, k))), 1, 9_999)
            return numbers.astype(int).astype(str).astype(object)
        if column == "address_1":
            streets, p = self.streets
            names = streets[self.rng.choice(len(streets), k, p=p)]
            types = self.street_types[0][
                self.rng.choice(len(self.street_types[0]), k, p=self.street_types[1])
            ]
            return names + " " + types
        if column in self.place_columns:
            return self.place_columns[column][self.places(k)]
        if column == "date_of_birth":
            days = self.rng.integers(0, 36_524, k)  # 1900-01-01 .. 1999-12-31, as in FEBRL
            dates = np.datetime64("1900-01-01") + days
            year = dates.astype("datetime64[Y]")
            month = dates.astype("datetime64[M]")
            yyyymmdd = ((year.astype(int) + 1970) * 10_000 + (month - year).astype(int) * 100
                        + (dates - month).astype(int) + 101)  # fmt: skip
            return yyyymmdd.astype(str).astype(object)
        if column == "soc_sec_id":
            return self.rng.integers(1_000_000, 10_000_000, k).astype(str).astype(object)
        raise KeyError(column)

    def places(self, k: int) -> np.ndarray:
        """Indexes into the suburb table, so suburb, postcode and state stay consistent."""
        return self.rng.choice(len(self.place_popularity), k, p=self.place_popularity)

    def _properties(self, size: int) -> np.ndarray:
        """address_2 values: property/village names, 'the willows', 'villa 3'-style units."""
        rng = self.rng
        words = _syllable_names(rng, "place", size)
        # A place word, with a suffix ('x lodge'), 'the willows', a unit ('villa 3'), two words.
        kind = rng.choice(5, size, p=[0.3, 0.35, 0.05, 0.15, 0.15])
        suffixes = np.array(_words(_PROPERTY_SUFFIXES), dtype=object)
        the = np.array(_words(_PROPERTY_THE), dtype=object)
        units = np.array(_words(_UNIT_PREFIXES), dtype=object)
        numbers = np.exp(rng.normal(1.5, 1.2, size)).astype(int) + 1
        other = np.roll(words, 1)
        values = np.select(
            [kind == 0, kind == 1, kind == 2, kind == 3],
            [
                words,
                words + " " + suffixes[rng.integers(len(suffixes), size=size)],
                "the " + the[rng.integers(len(the), size=size)],
                units[rng.integers(len(units), size=size)]
                + " "
                + numbers.astype(str).astype(object),
            ],
            default=words + " " + other,
        )
        return pd.unique(values)

    def _suburbs(self, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Suburb table: listed suburbs with their state, then generated ones, each a postcode."""
        rng = self.rng
        listed = [(s.strip(), state) for state, text in _SUBURBS.items() for s in text.split(",")]
        listed = [listed[i] for i in rng.permutation(len(listed))]  # popularity is not by state
        names, states = [name for name, _ in listed], [state for _, state in listed]
        state_names, state_shares = _weighted({k: v[0] for k, v in _STATES.items()})
        extra = size - len(names)
        generated = _syllable_names(rng, "place", extra)
        affix = rng.random(extra)
        prefixes = np.array(_words(_SUBURB_PREFIXES), dtype=object)
        suffixes = np.array(_words(_SUBURB_SUFFIXES), dtype=object)
        prefixes = prefixes[rng.integers(len(prefixes), size=extra)]
        suffixes = suffixes[rng.integers(len(suffixes), size=extra)]
        generated = np.where(affix < 0.15, prefixes + " " + generated, generated)
        generated = np.where(affix > 0.8, generated + " " + suffixes, generated)
        suburbs = np.concatenate([np.array(names, dtype=object), generated])
        all_states = np.concatenate(
            [
                np.array(states, dtype=object),
                state_names[rng.choice(len(state_names), extra, p=state_shares)],
            ]
        )
        postcodes = np.empty(len(suburbs), dtype=object)
        for state, (_, ranges) in _STATES.items():
            rows = np.flatnonzero(all_states == state)
            codes = np.concatenate([np.arange(low, high + 1) for low, high in ranges])
            postcodes[rows] = [f"{c:04d}" for c in rng.choice(codes, len(rows))]
        return suburbs, postcodes, all_states


def _words(text: str) -> list[str]:
    return [word.replace("_", " ") for word in text.split()]


def _weighted(shares: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    values = np.array(list(shares), dtype=object)
    weights = np.array(list(shares.values()), dtype=float)
    return values, weights / weights.sum()


def _popularity(size: int, offset: float, exponent: float) -> np.ndarray:
    """Zipf–Mandelbrot shares by rank: a few very common values and a long tail, as in FEBRL."""
    weights = 1.0 / (np.arange(size) + offset) ** exponent
    return weights / weights.sum()


def _syllable_names(rng: np.random.Generator, kind: str, size: int) -> np.ndarray:
    """Pronounceable made-up names (may repeat), so a million people need no name list.

    Random syllables can spell a swear word; those are drawn a few extra and dropped.
    """
    drawn = size + size // 10 + 10

    def pick(parts: str) -> np.ndarray:
        options = np.array(parts.split(), dtype=object)
        return options[rng.integers(len(options), size=drawn)]

    longer = rng.random(drawn) < 0.25
    middle = np.where(longer, pick(_VOWELS) + pick(_MIDDLES), "")
    names = pick(_ONSETS) + pick(_VOWELS) + pick(_MIDDLES) + middle + pick(_ENDINGS[kind])
    rude = pd.Series(names, dtype="str").str.contains(_RUDE).to_numpy()
    return names[~rude][:size]


def _with_tail(rng: np.random.Generator, head: list[str], kind: str, size: int) -> np.ndarray:
    """The listed names first (most popular), then distinct generated ones up to `size`."""
    tail = pd.unique(_syllable_names(rng, kind, 2 * size))
    tail = tail[~pd.Series(tail).isin(head).to_numpy()][: size - len(head)]
    return np.concatenate([pd.unique(np.array(head, dtype=object)), tail])


def _people(vocabulary: _Vocabulary, n: int, social_security_ids: np.ndarray) -> dict:
    """`n` clean, complete person records as object arrays, one per column."""
    drawn = ("given_name", "surname", "street_number", "address_1", "address_2", "date_of_birth")
    people = {c: vocabulary.draw(c, n) for c in drawn}
    place = vocabulary.places(n)
    people |= {column: values[place] for column, values in vocabulary.place_columns.items()}
    people["soc_sec_id"] = social_security_ids.astype(str).astype(object)
    return {c: people[c] for c in COLUMNS}


_ADDRESS = ("street_number", "address_1", "address_2", "suburb", "postcode", "state")


def _join_households(rng: np.random.Generator, people: dict) -> None:
    """Move some people in with another: same surname and address, the classic false match."""
    n = len(people["surname"])
    members = np.flatnonzero(rng.random(n) < HOUSEHOLD_SHARE)
    heads = np.setdiff1d(np.arange(n), members)
    if len(heads) == 0:
        return
    head = heads[rng.integers(len(heads), size=len(members))]
    for column in ("surname", *_ADDRESS):
        people[column][members] = people[column][head]


def _with_missing_values(rng: np.random.Generator, people: dict) -> dict:
    """Originals are not complete either: FEBRL's originals miss values at `TARGET_MISSING` rates."""
    result = {c: values.copy() for c, values in people.items()}
    for column, rate in TARGET_MISSING.items():
        result[column][rng.random(len(result[column])) < rate] = None
    return result


def _new_people(
    vocabulary: _Vocabulary, targets: dict, n: int, social_security_ids: np.ndarray
) -> tuple[dict, np.ndarray]:
    """Sources with no target; family and neighbours of a target are the hard ones.

    Returns the records and, per record, the target it is related to (-1 for strangers).
    """
    rng = vocabulary.rng
    people = _people(vocabulary, n, social_security_ids)
    n_targets = len(targets["surname"])
    kind = rng.random(n)
    related = np.full(n, -1)
    if n_targets:
        is_related = kind < FAMILY_SHARE + NEIGHBOUR_SHARE
        related[is_related] = rng.integers(n_targets, size=is_related.sum())
    family = np.flatnonzero((related >= 0) & (kind < FAMILY_SHARE))
    neighbours = np.flatnonzero((related >= 0) & (kind >= FAMILY_SHARE))
    for column in ("surname", *_ADDRESS):
        people[column][family] = targets[column][related[family]]
    namesakes = family[rng.random(len(family)) < NAMESAKE_SHARE]
    people["given_name"][namesakes] = targets["given_name"][related[namesakes]]
    for column in ("address_1", "suburb", "postcode", "state"):
        people[column][neighbours] = targets[column][related[neighbours]]
    return _with_missing_values(rng, people), related


def _corrupt(vocabulary: _Vocabulary, originals: dict) -> tuple[dict, np.ndarray]:
    """Source records as FEBRL's duplicates: every record has 1–7 fields changed.

    The number of changed fields follows `DIFFERING_FIELDS`; names/addresses are swapped at the
    FEBRL rates; the remaining changes go to fields drawn with weights that make each field's
    share of changes match `CHANGES`; each change is then missing/replaced/space/typo in the
    field's FEBRL proportions. Returns the records and the number of changed fields per record.
    """
    rng = vocabulary.rng
    result = {c: values.copy() for c, values in originals.items()}
    n = len(result["surname"])
    if n == 0:
        return result, np.zeros(0, dtype=int)
    sizes, counts = zip(*DIFFERING_FIELDS.items())
    differing = rng.choice(np.array(sizes), n, p=np.array(counts) / sum(counts))
    present = np.column_stack([pd.notna(result[c]) for c in COLUMNS])
    slots = differing.copy()
    for first, second, rate in (
        ("given_name", "surname", SWAPPED_NAMES),
        ("address_1", "address_2", SWAPPED_ADDRESSES),
    ):
        a, b = COLUMNS.index(first), COLUMNS.index(second)
        can = present[:, a] & present[:, b] & (result[first] != result[second]) & (slots >= 2)
        swap = can & (rng.random(n) < rate / max(can.mean(), 1e-9))
        result[first][swap], result[second][swap] = result[second][swap], result[first][swap]
        present[swap, a] = present[swap, b] = False  # no further change to swapped fields
        slots -= 2 * swap

    target = np.array([sum(CHANGES[c]) for c in COLUMNS])
    noise = rng.exponential(size=present.shape)
    weights = _field_weights(present, slots, noise, target)
    chosen = _choose(present, slots, noise, weights)
    for j, column in enumerate(COLUMNS):
        rows = np.flatnonzero(chosen[:, j])
        how = rng.choice(4, len(rows), p=np.array(CHANGES[column]) / target[j])
        result[column][rows[how == 0]] = None
        _replace(vocabulary, column, result[column], rows[how == 1])
        _edit(rng, result[column], rows[how == 2], _respace)
        _edit(rng, result[column], rows[how == 3], _typo_for(column))
    return result, differing


def _choose(
    available: np.ndarray, slots: np.ndarray, noise: np.ndarray, weights: np.ndarray
) -> np.ndarray:
    """Per record, `slots` available fields drawn without replacement with `weights` (Efraimidis–
    Spirakis: the smallest exponential/weight keys win)."""
    keys = np.where(available, noise / weights, np.inf)
    ordered = np.sort(keys, axis=1)
    threshold = ordered[np.arange(len(keys)), np.clip(slots - 1, 0, keys.shape[1] - 1)]
    return (keys <= np.where(slots > 0, threshold, -np.inf)[:, None]) & available


def _field_weights(
    available: np.ndarray, slots: np.ndarray, noise: np.ndarray, target: np.ndarray
) -> np.ndarray:
    """Weights whose draws give each field its `target` share of records.

    Draws without replacement have no closed-form marginals, so fit by fixed-point iteration
    on a sample of the records themselves (their missing values limit what can change).
    """
    sample = slice(0, 20_000)
    weights = target.copy()
    for _ in range(40):
        rate = _choose(available[sample], slots[sample], noise[sample], weights).mean(axis=0)
        weights = weights * (target / np.maximum(rate, 1e-6)) ** 0.8
    return weights


def _replace(vocabulary: _Vocabulary, column: str, values: np.ndarray, rows: np.ndarray) -> None:
    """Whole value replaced by another plausible one (never by the same value)."""
    for _ in range(10):
        if len(rows) == 0:
            return
        new = vocabulary.draw(column, len(rows))
        same = new == values[rows]
        values[rows[~same]] = new[~same]
        rows = rows[same]
    _edit(vocabulary.rng, values, rows, _typo_for(column))


def _edit(rng: np.random.Generator, values: np.ndarray, rows: np.ndarray, edit: Typo) -> None:
    """Apply a string edit to `values[rows]`, with pre-drawn uniforms (fast in a Python loop).

    Edge spaces an edit leaves ('flat 5' -> 'flat ') are stripped, as any loader would.
    """
    if len(rows) == 0:
        return
    uniforms = rng.random((len(rows), 6)).tolist()
    values[rows] = [edit(value, u).strip() for value, u in zip(values[rows], uniforms)]


def _typo_for(column: str) -> Typo:
    """Digit fields keep their shape (a date stays 8 digits); text gets any typo."""
    if column == "date_of_birth":
        return _date_typo
    return _digit_typo if column in _DIGIT_COLUMNS else _text_typo


def _keyboard_neighbours() -> dict[str, str]:
    """Keys next to each key on a QWERTY keyboard (digits only beside digits): the commonest slip.

    Each letter row sits half a key right of the row above, so key i touches i and i+1 above
    and i-1 and i below.
    """
    neighbours = {}
    for r, row in enumerate(_KEYBOARD_ROWS):
        for i, key in enumerate(row):
            near = row[max(i - 1, 0) : i] + row[i + 1 : i + 2]
            if r > 1:
                near += _KEYBOARD_ROWS[r - 1][i : i + 2]
            if 0 < r < len(_KEYBOARD_ROWS) - 1:
                near += _KEYBOARD_ROWS[r + 1][max(i - 1, 0) : i + 1]
            neighbours[key] = near
    return neighbours


_NEAR = _keyboard_neighbours()


def _substitute(value: str, a: float, b: float) -> str:
    """One character replaced, by a neighbouring key 70% of the time (never by itself)."""
    i = int(a * len(value))
    old = value[i]
    alphabet = _DIGITS if old.isdigit() else _LETTERS
    near = _NEAR.get(old, "")
    new = near[int(b / 0.7 * len(near))] if near and b < 0.7 else alphabet[int(b * len(alphabet))]
    if new == old:
        new = alphabet[(alphabet.index(old) + 1) % len(alphabet)] if old in alphabet else "e"
    return value[:i] + new + value[i + 1 :]


def _insert(value: str, a: float, b: float) -> str:
    i = int(a * (len(value) + 1))
    near = _NEAR.get(value[min(i, len(value) - 1)], "") or _LETTERS
    return value[:i] + near[int(b * len(near))] + value[i:]


def _delete(value: str, a: float, b: float) -> str:
    if len(value) < 2:
        return value
    i = int(a * len(value))
    return value[:i] + value[i + 1 :]


def _transpose(value: str, a: float, b: float) -> str:
    if len(value) < 2:
        return value
    i = int(a * (len(value) - 1))
    return value[:i] + value[i + 1] + value[i] + value[i + 2 :]


def _move(value: str, a: float, b: float) -> str:
    """A character moved elsewhere: '19121126' -> '19211126'."""
    if len(value) < 2:
        return value
    i, j = int(a * len(value)), int(b * (len(value) - 1))
    rest = value[:i] + value[i + 1 :]
    return rest[:j] + value[i] + rest[j:]


def _confuse(pairs: list[tuple[str, str]]) -> Edit:
    """An edit replacing one occurrence of a confusable spelling (OCR or phonetic)."""

    def edit(value: str, a: float, b: float) -> str:
        first = int(a * len(pairs))  # the first pair that applies, from a random start
        for old, new in pairs[first:] + pairs[:first]:
            if old in value:
                i = -1
                for _ in range(1 + int(b * value.count(old))):
                    i = value.find(old, i + 1)
                return value[:i] + new + value[i + len(old) :]
        return value

    return edit


_TEXT_EDITS = [(_substitute, 0.30), (_insert, 0.18), (_delete, 0.18), (_transpose, 0.14),
               (_confuse(_OCR), 0.08), (_confuse(_PHONETIC), 0.12)]  # fmt: skip
_DIGIT_EDITS = [(_transpose, 0.45), (_move, 0.15), (_substitute, 0.40)]


def _typing(edits: list[tuple[Edit, float]]) -> Typo:
    """A typo function: one edit (sometimes two) drawn from `edits`, guaranteed to change."""
    functions = [edit for edit, _ in edits]
    cumulative = list(accumulate(share for _, share in edits))

    def typo(value: str, u: list[float]) -> str:
        pick = functions[min(bisect(cumulative, u[0] * cumulative[-1]), len(functions) - 1)]
        result = pick(value, u[1], u[2])
        if u[3] < _SECOND_TYPO:
            second = functions[int(u[4] * len(functions))]
            result = second(result, u[5], u[1])
        return result if result != value else _substitute(value, u[1], u[2])

    return typo


_text_typo = _typing(_TEXT_EDITS)
_digit_typo = _typing(_DIGIT_EDITS)


def _date_typo(value: str, u: list[float]) -> str:
    """A digit slip after the century, which FEBRL never corrupts ('19121126' -> '19211126')."""
    return value[:2] + _digit_typo(value[2:], u)


def _respace(value: str, u: list[float]) -> str:
    """Words run together, a space moved ('ngunawa ldrive') or inserted ('har risn')."""
    spaces = [i for i, c in enumerate(value) if c == " "]
    if spaces and u[0] < 0.75:
        i = spaces[int(u[1] * len(spaces))]
        joined = value[:i] + value[i + 1 :]
        if u[0] < 0.4:
            return joined
        j = min(max(i + (1 if u[2] < 0.5 else -1), 1), len(joined) - 1)
        moved = joined[:j] + " " + joined[j:]
        return moved if moved != value else joined
    if len(value) < 2:
        return _text_typo(value, u)
    j = 1 + int(u[1] * (len(value) - 1))
    return value[:j] + " " + value[j:]


def _feedback(
    rng: np.random.Generator,
    size: int,
    targets: dict,
    sources: dict,
    source_ids: np.ndarray,
    target_ids: np.ndarray,
    matched: np.ndarray,
    related: np.ndarray,
    n_differing: np.ndarray,
) -> pd.DataFrame:
    """Labelled pairs like those a reviewer sees: hard matches and look-alike non-matches.

    Matches are drawn with weight (changed fields)², so the model learns from the hard ones.
    Non-matches are half new people paired with the relative or neighbour they resemble, half
    matched sources paired with another target of the same surname (and postcode when possible),
    topped up with more relatives when too few such targets exist.
    """
    n_matched = len(matched)
    positives = min(size // 2, n_matched)
    hardness = n_differing[:n_matched].astype(float) ** 2
    p = hardness / hardness.sum() if n_matched else None
    chosen = rng.choice(n_matched, positives, replace=False, p=p)
    pairs = [(chosen, matched[chosen], 1)]

    negatives = size - positives
    relatives = rng.permutation(n_matched + np.flatnonzero(related >= 0))
    wanted = negatives - min(negatives // 2, len(relatives))
    candidates = rng.permutation(n_matched)[: 3 * wanted]
    for key in (("surname", "postcode"), ("surname",)):
        if wanted <= 0 or len(candidates) == 0:
            break
        found = _other_sharing(rng, targets, sources, key, candidates, matched[candidates])
        hit = found >= 0
        pairs.append((candidates[hit][:wanted], found[hit][:wanted], 0))
        wanted -= min(hit.sum(), wanted)
        candidates = candidates[~hit]
    relatives = relatives[: negatives - sum(len(s) for s, _, label in pairs if label == 0)]
    pairs.append((relatives, related[relatives - n_matched], 0))

    feedback = pd.DataFrame(
        {
            "source_id": np.concatenate([source_ids[s] for s, _, _ in pairs]),
            "target_id": np.concatenate([target_ids[t] for _, t, _ in pairs]),
            "label": np.concatenate([np.full(len(s), label) for s, _, label in pairs]),
        }
    )
    feedback = feedback.sample(frac=1, random_state=rng).reset_index(drop=True)
    return _as_text(feedback).astype({"label": "int64"})


def _other_sharing(
    rng: np.random.Generator,
    targets: dict,
    sources: dict,
    key: tuple[str, ...],
    rows: np.ndarray,
    exclude: np.ndarray,
) -> np.ndarray:
    """For each source row, a random target other than `exclude` with equal `key`; -1 if none."""

    def keys(records: dict, index: np.ndarray | slice) -> pd.Series:
        joined = pd.Series(records[key[0]][index], dtype="str")
        for column in key[1:]:
            joined = joined + "|" + pd.Series(records[column][index], dtype="str")
        return joined

    codes, uniques = pd.factorize(keys(targets, slice(None)))  # missing key -> -1
    wanted = uniques.get_indexer(keys(sources, rows))  # -1 when no target has the key
    order = np.argsort(codes, kind="stable")
    start = np.searchsorted(codes[order], wanted, "left")
    size = np.maximum(np.searchsorted(codes[order], wanted, "right") - start, 1)
    offset = rng.integers(0, size)
    found = order[np.minimum(start + offset, len(order) - 1)]
    # Drew the true target: its neighbour in the block, if the block has one.
    neighbour = order[np.minimum(start + (offset + 1) % size, len(order) - 1)]
    found = np.where(found == exclude, neighbour, found)
    return np.where((wanted >= 0) & (found != exclude), found, -1)


def _ids(prefix: str, n: int) -> np.ndarray:
    """'t0000001'-style ids: zero-padded so they sort, and carrying no other information."""
    numbers = pd.Series(np.arange(1, n + 1)).astype("str").str.zfill(max(7, len(str(n))))
    return (prefix + numbers).to_numpy(dtype=object)


def _frame(
    rng: np.random.Generator, ids: np.ndarray, records: dict, rows: np.ndarray, start: str
) -> pd.DataFrame:
    """`records` taken in `rows` order, with `modified_at` increasing down the file."""
    frame = pd.DataFrame({"id": ids[rows], **{c: records[c][rows] for c in COLUMNS}})
    seconds = np.cumsum(rng.integers(1, 60, len(frame)))
    # Formatted from parts: strftime over millions of stamps takes seconds.
    days, seconds = np.divmod(seconds, 86_400)
    dates = np.datetime64(start) + np.arange(days.max(initial=0) + 1).astype("timedelta64[D]")
    two = np.array([f"{i:02d}" for i in range(60)], dtype=object)
    frame["modified_at"] = (
        np.datetime_as_string(dates).astype(object)[days] + "T" + two[seconds // 3600] + ":"
        + two[seconds // 60 % 60] + ":" + two[seconds % 60] + "Z"
    )  # fmt: skip
    return _as_text(frame)


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype({c: "str" for c in frame.columns if c != "label"})
