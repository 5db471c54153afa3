"""MovieLens ratings and movies: loaders and a writer for both public layouts.

Two layouts exist: `ml-latest` (`ratings.csv` + `movies.csv`, header, half-star ratings) and
`ml-100k` (`u.data` tab-separated without header + `u.item` pipe-separated in latin-1 with 19
genre flags). Both load to one shape, so recommenders never ask which one they got:

- ratings: `user_id:int64, movie_id:int64, rating:float64, timestamp:int64`
- movies: `movie_id:int64, title:str` (as written, year included), `year:Int64` (missing when
  the title has none), `genres:str` — '|'-joined names from `GENRES`, '' for none. A joined
  string, not a list, because it survives CSV, Parquet and warehouse tables unchanged; split
  with `genres.str.split('|')` where a list is needed.

Errors name the file, the line (header = line 1 in the CSV layouts; `u.data`/`u.item` have no
header, so their first record is line 1) and the column.

The seeded generator of the same shape lives in `ml_platform.demo_data.movielens`.
"""

import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ml_platform.core.errors import InvalidInputError
from ml_platform.core.rows import RowLocator

RATING_COLUMNS = ("user_id", "movie_id", "rating", "timestamp")
MOVIE_COLUMNS = ("movie_id", "title", "year", "genres")
MIN_RATING, MAX_RATING = 0.5, 5.0

# The 19 flag columns of u.item, in file order.
GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance",
    "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip
_NO_GENRES = "(no genres listed)"  # ml-latest's spelling of an empty genre list
_YEAR_IN_TITLE = re.compile(r"\((\d{4})(?:[-–]\d{4})?\)\s*$")
_LATEST_RATING_HEADER = ("userId", "movieId", "rating", "timestamp")
_LATEST_MOVIE_HEADER = ("movieId", "title", "genres")
_ITEM_FIELDS = ("movie_id", "title", "release_date", "video_release_date", "imdb_url", *GENRES)


@dataclass(frozen=True)
class MovieLensDataset:
    """Ratings and the movie catalogue, in the common shape described above."""

    ratings: pd.DataFrame
    movies: pd.DataFrame


# --- loaders ------------------------------------------------------------------------------


def load_ratings(path: str | Path) -> pd.DataFrame:
    """Ratings from `ratings.csv` (ml-latest) or `u.data`/`u1.base`… (ml-100k, tab-separated).

    The layout is read from the file: a first line with tabs is ml-100k, anything else is the
    CSV layout with its header. Ratings are checked to lie in 0.5–5 and each (user, movie) pair
    to appear once: a repeated pair would count twice in training and could sit on both sides
    of a split.
    """
    path = Path(path)
    hundred_k = "\t" in _first_line(path)
    if hundred_k:
        frame = _read(path, sep="\t", names=RATING_COLUMNS, header=False, encoding="utf-8")
    else:
        frame = _read(path, sep=",", names=_LATEST_RATING_HEADER, header=True, encoding="utf-8")
        frame = frame.set_axis(RATING_COLUMNS, axis=1)
    rows = RowLocator(str(path), first_line=1 if hundred_k else 2)
    # Column names as each layout's documentation spells them, for error messages.
    names = ("user id", "item id", "rating", "timestamp") if hundred_k else _LATEST_RATING_HEADER
    columns = dict(zip(RATING_COLUMNS, names, strict=True))
    ratings = pd.DataFrame(
        {
            "user_id": rows.ids(frame["user_id"], columns["user_id"]),
            "movie_id": rows.ids(frame["movie_id"], columns["movie_id"]),
            "rating": rows.numbers(frame["rating"], columns["rating"]),
            "timestamp": rows.integers(frame["timestamp"], columns["timestamp"]),
        }
    )
    rows.fail_on_first(
        ~ratings["rating"].between(MIN_RATING, MAX_RATING),
        f"column '{columns['rating']}' is {{value}}, expected {MIN_RATING} to {MAX_RATING}",
        ratings["rating"],
    )
    repeated = ratings.duplicated(["user_id", "movie_id"]).to_numpy()
    if repeated.any():
        second = int(np.flatnonzero(repeated)[0])
        user, movie = ratings.iloc[second][["user_id", "movie_id"]].astype(int)
        first_seen = int(
            np.flatnonzero(
                ((ratings["user_id"] == user) & (ratings["movie_id"] == movie)).to_numpy()
            )[0]
        )
        raise rows.error(
            second,
            f"user {user} rates movie {movie} again (first at {rows.name(first_seen)}); "
            "each (user, movie) pair must appear once",
        )
    return ratings


def load_movies(path: str | Path) -> pd.DataFrame:
    """Movies from `movies.csv` (ml-latest) or `u.item` (ml-100k: pipe-separated, latin-1)."""
    path = Path(path)
    first = _first_line(path, encoding="latin-1")
    if first.count("|") >= len(_ITEM_FIELDS) - 1:
        frame = _read(path, sep="|", names=_ITEM_FIELDS, header=False, encoding="latin-1")
        rows = RowLocator(str(path), first_line=1)
        flags = frame[list(GENRES)]
        bad = ~flags.isin(["0", "1"])
        rows.fail_on_first(bad.any(axis=1), "genre flags must be 0 or 1")
        genres = pd.Series(
            ["|".join(g for g, on in zip(GENRES, row, strict=True) if on == "1") for row in
             flags.itertuples(index=False)],
            dtype="str",
        )  # fmt: skip
        from_date = frame["release_date"].str.extract(r"(\d{4})$")[0]
        id_column = "movie id"
    else:
        frame = _read(path, sep=",", names=_LATEST_MOVIE_HEADER, header=True, encoding="utf-8")
        frame = frame.rename(columns={"movieId": "movie_id"})
        rows = RowLocator(str(path), first_line=2)
        genres = frame["genres"].str.strip().replace(_NO_GENRES, "")
        from_date = pd.Series(np.nan, index=frame.index)
        id_column = "movieId"
    titles = frame["title"].str.strip()
    year = titles.str.extract(_YEAR_IN_TITLE)[0].fillna(from_date)
    movies = pd.DataFrame(
        {
            "movie_id": rows.ids(frame["movie_id"], id_column),
            "title": titles.astype("str"),
            "year": pd.to_numeric(year).astype("Int64"),
            "genres": genres.astype("str"),
        }
    )[list(MOVIE_COLUMNS)]
    rows.fail_on_first(
        movies["movie_id"].duplicated(),
        f"column '{id_column}' repeats movie id {{value}}; ids must be unique",
        movies["movie_id"],
    )
    return movies


def validate_ratings_against_movies(
    ratings: pd.DataFrame, movies: pd.DataFrame, origin: str = "ratings"
) -> None:
    """Fail when a rating names a movie the catalogue lacks: it could never be recommended."""
    unknown = ~ratings["movie_id"].isin(movies["movie_id"])
    if unknown.any():
        missing = ratings.loc[unknown, "movie_id"].unique()
        raise InvalidInputError(
            f"{origin}: {int(unknown.sum())} rating(s) name {len(missing)} movie id(s) missing "
            f"from the movies file, e.g. {sorted(missing.tolist())[:5]}"
        )


def load_movielens(directory: str | Path) -> MovieLensDataset:
    """A MovieLens folder of either layout, ratings checked against the movies."""
    directory = Path(directory)
    if (directory / "u.data").is_file():
        ratings_path, movies_path = directory / "u.data", directory / "u.item"
    else:
        ratings_path, movies_path = directory / "ratings.csv", directory / "movies.csv"
    ratings, movies = load_ratings(ratings_path), load_movies(movies_path)
    validate_ratings_against_movies(ratings, movies, str(ratings_path))
    return MovieLensDataset(ratings, movies)


def _first_line(path: Path, encoding: str = "utf-8") -> str:
    if not path.is_file():
        raise InvalidInputError(f"{path}: file not found")
    with path.open(encoding=encoding, errors="replace") as file:
        first = file.readline()
    if not first.strip():
        raise InvalidInputError(f"{path}: file is empty")
    return first


def _read(
    path: Path, *, sep: str, names: tuple[str, ...], header: bool, encoding: str
) -> pd.DataFrame:
    """All values as stripped strings; a header (when the layout has one) must name `names`."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(
                path,
                sep=sep,
                header=0 if header else None,
                dtype=str,
                keep_default_na=False,
                index_col=False,
                encoding=encoding,
            )
    except (pd.errors.ParserError, pd.errors.ParserWarning) as error:
        raise InvalidInputError(f"{path}: a line has more fields than expected: {error}") from error
    except UnicodeDecodeError as error:
        raise InvalidInputError(f"{path}: not {encoding} text: {error}") from error
    if header:
        found = [str(c).strip() for c in frame.columns]
        missing = [c for c in names if c not in found]
        if missing:
            raise InvalidInputError(
                f"{path}: column(s) {missing} are missing; expected {list(names)}, "
                f"columns found: {found}"
            )
        frame = frame.set_axis(found, axis=1)[list(names)]
    elif frame.shape[1] != len(names):
        raise InvalidInputError(
            f"{path}: line 1 has {frame.shape[1]} fields separated by {sep!r}, "
            f"expected {len(names)}: {list(names)}"
        )
    else:
        frame.columns = list(names)
    frame = frame.apply(lambda column: column.str.strip())
    if frame.empty:
        raise InvalidInputError(f"{path}: file has no rows")
    return frame


def write_movielens(
    directory: str | Path, dataset: MovieLensDataset, layout: str = "ml-latest"
) -> dict[str, Path]:
    """Write `ratings.csv` + `movies.csv` (ml-latest) or `u.data` + `u.item` (ml-100k)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    ratings, movies = dataset.ratings, dataset.movies
    if layout == "ml-latest":
        paths = {"ratings": directory / "ratings.csv", "movies": directory / "movies.csv"}
        ratings.set_axis(_LATEST_RATING_HEADER, axis=1).to_csv(paths["ratings"], index=False)
        pd.DataFrame(
            {
                "movieId": movies["movie_id"],
                "title": movies["title"],
                "genres": movies["genres"].replace("", _NO_GENRES),
            }
        ).to_csv(paths["movies"], index=False)
    elif layout == "ml-100k":
        paths = {"ratings": directory / "u.data", "movies": directory / "u.item"}
        stars = ratings.assign(rating=ratings["rating"].round().astype("int64"))
        stars.to_csv(paths["ratings"], sep="\t", header=False, index=False)
        item = pd.DataFrame(
            {
                "movie_id": movies["movie_id"],
                "title": movies["title"],
                "release_date": "01-Jan-" + movies["year"].astype("str").replace("<NA>", ""),
                "video_release_date": "",
                "imdb_url": "",
            }
        )
        item.loc[movies["year"].isna(), "release_date"] = ""
        names = movies["genres"].str.split("|")
        for genre in GENRES:
            item[genre] = names.apply(lambda listed, genre=genre: int(genre in listed))
        item.to_csv(paths["movies"], sep="|", header=False, index=False, encoding="latin-1")
    else:
        raise InvalidInputError(f"layout is '{layout}', expected 'ml-latest' or 'ml-100k'")
    return paths
