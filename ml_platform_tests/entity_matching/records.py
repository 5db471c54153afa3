"""Small hand-made person records whose right answers a reader can see."""

import pandas as pd

COLUMNS = {
    "given_name": "name",
    "surname": "name",
    "street_number": "number",
    "address_1": "address",
    "address_2": "address",
    "suburb": "text",
    "postcode": "code",
    "state": "code",
    "date_of_birth": "date",
    "soc_sec_id": "code",
}

FIELDS = list(COLUMNS)


def people(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["id", *FIELDS], dtype="string")
    return frame


TARGETS = people(
    [
        (
            "t1",
            "michaela",
            "neumann",
            "8",
            "stanley street",
            "miami",
            "winston hills",
            "4223",
            "nsw",
            "19151111",
            "5304218",
        ),
        (
            "t2",
            "courtney",
            "painter",
            "12",
            "pinkerton circuit",
            "bega flats",
            "richlands",
            "4560",
            "vic",
            "19161214",
            "4066625",
        ),
        (
            "t3",
            "charles",
            "green",
            "38",
            "salkauskas crescent",
            "kela",
            "dapto",
            "4566",
            "nsw",
            "19480930",
            "4365168",
        ),
        (
            "t4",
            "vanessa",
            "parr",
            "905",
            "macquoid place",
            "broadbridge manor",
            "south grafton",
            "2135",
            "sa",
            "19951119",
            "9239102",
        ),
        (
            "t5",
            "harrison",
            "green",
            "38",
            "salkauskas crescent",
            "kela",
            "dapto",
            "4566",
            "nsw",
            "19760301",
            "7712345",
        ),
    ]
)

SOURCES = people(
    [
        # a typo in the first name and a transposed postcode
        (
            "s1",
            "michafla",
            "neumann",
            "8",
            "stanley street",
            "miami",
            "winston hills",
            "4232",
            "nsw",
            "19151111",
            "5304218",
        ),
        # first and last name swapped, date of birth missing
        (
            "s2",
            "painter",
            "courtney",
            "12",
            "pinkerton circuit",
            None,
            "richlands",
            "4560",
            "vic",
            None,
            "4066625",
        ),
        # a space inserted into the surname, day and month swapped
        (
            "s3",
            "vanessa",
            "pa rr",
            "905",
            "macquoid place",
            "broadbridge manor",
            "south grafton",
            "2135",
            "sa",
            "19951911",
            "9239102",
        ),
        # the brother of t3 at the same address: a different person
        (
            "s4",
            "oliver",
            "green",
            "38",
            "salkauskas crescent",
            "kela",
            "dapto",
            "4566",
            "nsw",
            "19790612",
            "3318811",
        ),
    ]
)
TRUTH = pd.DataFrame({"source_id": ["s1", "s2", "s3"], "target_id": ["t1", "t2", "t4"]})
