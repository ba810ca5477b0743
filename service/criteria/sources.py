"""The five source reviews the criteria come from, as bibliographic data, and citations.

``criteria.md`` and the criteria sets cite the reviews by their seed file number
(``"001 Table 2 (Milan)"``). Clinicians read them by first author and year: use
:func:`short_citation` / :func:`full_citation` for one review and :func:`cite` to turn
the seed numbers inside a text written by the project (a criterion's source, a note)
into short names. Never pass text from a patient record to :func:`cite`: a resource id
such as ``Observation/001`` would be rewritten.

How each review was identified (``Source.identified_by``): only 003 carries its own
bibliographic header; the others were matched on their title and abstract against the
publisher's or PubMed's record. Where part of a citation could not be confirmed it is
left out (``None``) rather than guessed, ``verified`` is ``False``, and ``note`` says what
is missing; the documentation shows that note beside the citation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from types import MappingProxyType

from service.records import Struct

__all__ = [
    "SOURCES",
    "Source",
    "UnknownSourceError",
    "cite",
    "cite_own",
    "full_citation",
    "seeds_in",
    "short_citation",
]


class UnknownSourceError(KeyError):
    """A seed id that names none of the five reviews."""


class Source(Struct, frozen=True):
    """One source review: who wrote it, where it appeared, and how sure we are.

    ``authors`` are in Vancouver style (``"Gut P"``) and empty when not confirmed;
    ``year``, ``volume``, ``pages`` and ``doi`` are ``None`` when not confirmed.
    ``short_name`` is what cards and pages print (first author and year).
    """

    seed: str
    short_name: str
    authors: tuple[str, ...]
    title: str
    journal: str
    year: int | None
    volume: str | None
    pages: str | None
    doi: str | None
    verified: bool
    identified_by: str
    note: str = ""

    @property
    def doi_url(self) -> str | None:
        """Return ``https://doi.org/<doi>``, or ``None`` without a DOI."""
        return None if self.doi is None else f"https://doi.org/{self.doi}"


_SOURCE_LIST = (
    Source(
        seed="000",
        short_name="Gut 2020",
        authors=("Gut P",),
        title=(
            "Liver metastases in gastroenteropancreatic neuroendocrine tumours – treatment methods"
        ),
        journal="Przegląd Gastroenterologiczny (Gastroenterology Review)",
        year=2020,
        volume="15(3)",
        pages="207-214",
        doi="10.5114/pg.2020.91501",
        verified=True,
        identified_by=(
            "The seed's abstract and introduction match, word for word, the PubMed record "
            "(PMID 33005265), PubMed Central (PMC7509904) and the publisher's page (Termedia)."
        ),
    ),
    Source(
        seed="001",
        short_name="Machairas et al.",
        authors=(
            "Machairas N",
            "Daskalakis K",
            "Felekouras E",
            "Alexandraki KI",
            "Kaltsas G",
            "Sotiropoulos GC",
        ),
        title="Currently available treatment options for neuroendocrine liver metastases",
        journal="Annals of Gastroenterology",
        year=None,
        volume=None,
        pages=None,
        doi=None,
        verified=False,
        identified_by=(
            "The seed's title and abstract match the article on the journal's own site "
            "(annalsgastro.gr, article 5506), which also gives the six authors and their "
            "affiliations (National and Kapodistrian University of Athens)."
        ),
        note=(
            "Year, volume, pages and DOI could not be confirmed from the sources available "
            "to the project; they are left out rather than guessed."
        ),
    ),
    Source(
        seed="002",
        short_name="HPB 2015 review",
        authors=(),
        title=(
            "When should a liver resection be performed in patients with liver metastases "
            "from neuroendocrine tumours? A systematic review with practice recommendations"
        ),
        journal="HPB (Oxford)",
        year=2015,
        volume="17(1)",
        pages="17-22",
        doi="10.1111/hpb.12225",
        verified=False,
        identified_by=(
            "The seed's structured abstract (1594 reports screened, 38 relevant, 3425 "
            "patients) matches the PubMed record (PMID 24636662, PMC4266436) and the "
            "publisher's page; prepared for the 2012 international consensus conference on "
            "neuroendocrine liver metastases, London."
        ),
        note=(
            "The author list could not be confirmed from the sources available to the "
            "project, which give only the first author's affiliation, University Hospital "
            "Zurich; the review is cited by journal and year, not by a guessed first author."
        ),
    ),
    Source(
        seed="003",
        short_name="Chan 2018",
        authors=("Chan MY", "Ma KW", "Chan A"),
        title="Surgical management of neuroendocrine tumor-associated liver metastases: a review",
        journal="Gland Surgery",
        year=2018,
        volume="7(1)",
        pages="28-35",
        doi="10.21037/gs.2017.11.16",
        verified=True,
        identified_by=(
            "The seed carries its own header and 'Cite this article as' line; the "
            "publisher's page (gs.amegroups.org) agrees."
        ),
    ),
    Source(
        seed="004",
        short_name="Alagusundaramoorthy 2014",
        authors=("Alagusundaramoorthy SS", "et al."),
        title="Liver metastases from neuroendocrine tumors",
        journal="World Journal of Gastroenterology",
        year=2014,
        volume="20(39)",
        pages=None,
        doi=None,
        verified=False,
        identified_by=(
            "The seed has no title page; its running header reads 'Alagusundaramoorthy SS "
            "et al. Liver metastases from neuroendocrine tumors' and its page footers "
            "'October 21, 2014 | Volume 20 | Issue 39 | WJG', pages 14354-14358."
        ),
        note=(
            "Identified from the article's running header only: the title shown is the "
            "running title, not confirmed as the full title; co-authors, page range and DOI "
            "could not be confirmed and are left out."
        ),
    ),
)

SOURCES: Mapping[str, Source] = MappingProxyType({s.seed: s for s in _SOURCE_LIST})
"""The five reviews by seed id (``"000"`` … ``"004"``), in seed order."""

_SEED = re.compile(r"(?<![\w.-])(?<![A-Za-z]/)(00[0-4])(?![\w-]|\.\d)")


def _source(seed: str) -> Source:
    try:
        return SOURCES[seed]
    except KeyError:
        raise UnknownSourceError(f"no source review with seed id {seed!r}") from None


def short_citation(seed: str) -> str:
    """Return the short name of a review (``"Gut 2020"``); raise :class:`UnknownSourceError`."""
    return _source(seed).short_name


def full_citation(seed: str, *, with_note: bool = True) -> str:
    """Return the full citation of a review, Vancouver style, with its DOI when known.

    What could not be confirmed is left out, and (unless ``with_note`` is false) the
    citation ends with the note saying so.
    """
    source = _source(seed)
    authors = ", ".join(source.authors) if source.authors else "Authors not confirmed"
    title = source.title if source.title.endswith(("?", ".")) else f"{source.title}."
    parts = [f"{authors.rstrip('.')}. {title} {source.journal}."]
    if source.year is not None:
        where = f"{source.year}"
        if source.volume is not None:
            where += f";{source.volume}"
            if source.pages is not None:
                where += f":{source.pages}"
        parts.append(f"{where}.")
    if source.doi is not None:
        parts.append(f"doi:{source.doi}.")
    if with_note and not source.verified:
        parts.append(f"({source.note})")
    return " ".join(parts)


def cite(text: str) -> str:
    """Replace every seed id (``000``-``004``) in project-written ``text`` with its short
    name: ``"001 Table 2 (Milan)"`` becomes ``"Machairas et al. Table 2 (Milan)"``.

    Idempotent. Not for text from a patient record (see the module docstring).
    """
    return _SEED.sub(lambda match: short_citation(match.group(1)), text)


@lru_cache(maxsize=512)
def cite_own(text: str) -> str:
    """:func:`cite` for the criteria's own fixed texts (a criterion's remarks, what an
    unknown result needs): a few hundred, so each is rewritten once and kept. Never for a
    reason or anything else that names a patient's resources or values (it would be
    kept in memory across patients)."""
    return cite(text)


def seeds_in(texts: Iterable[str]) -> tuple[str, ...]:
    """Return the seed ids cited in ``texts``, in seed order, each once."""
    found = {match.group(1) for text in texts for match in _SEED.finditer(text)}
    return tuple(seed for seed in SOURCES if seed in found)
