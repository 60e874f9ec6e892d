"""Videos and articles, some featuring products, that customers engage with."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analytics_pipeline.generate.arrays import IntArray, as_int
from analytics_pipeline.generate.catalog import CATEGORIES, CATEGORY_NAMES, Catalog
from analytics_pipeline.generate.names import CONTENT_TITLES
from analytics_pipeline.generate.sampling import choose

KINDS: tuple[str, ...] = ("article", "video")
_VIDEO_SHARE = 0.4
_GENERAL_SHARE = 0.1  # items about the shop in general, no category
_FEATURING_SHARE = 0.7  # of category items, the share that features products


@dataclass(frozen=True)
class Content:
    """Content items, ordered by category (general items, category -1, first).

    ``featured[featured_offsets[k]:featured_offsets[k + 1]]`` are item ``k``'s products.
    """

    kind: IntArray
    category: IntArray
    featured_offsets: IntArray
    featured: IntArray
    title: tuple[str, ...]

    @property
    def n(self) -> int:
        """Number of content items."""
        return len(self.kind)

    def featured_of(self, item: int) -> IntArray:
        """Products featured by one item."""
        return self.featured[self.featured_offsets[item] : self.featured_offsets[item + 1]]

    def featured_count(self) -> IntArray:
        """Number of featured products per item."""
        return np.diff(self.featured_offsets)


def build_content(n: int, catalog: Catalog, rng: np.random.Generator) -> Content:
    """Generate ``n`` content items.

    Parameters
    ----------
    n
        Number of items.
    catalog
        Products that items may feature.
    rng
        Random source.
    """
    shares = np.array([c.share for c in CATEGORIES])
    category = choose(rng, n, shares)
    category[rng.random(n) < _GENERAL_SHARE] = -1
    category = np.sort(category)
    kind = as_int(rng.random(n) < _VIDEO_SHARE)
    featured = [_featured(int(c), catalog, rng) for c in category]
    titles = tuple(
        _title(KINDS[k], c, f, catalog, rng)
        for k, c, f in zip(kind, category, featured, strict=True)
    )
    offsets = np.concatenate([[0], np.cumsum([len(f) for f in featured])])
    flat = np.concatenate(featured) if featured else np.zeros(0)
    return Content(
        kind=kind,
        category=as_int(category),
        featured_offsets=as_int(offsets),
        featured=as_int(flat),
        title=titles,
    )


def _featured(category: int, catalog: Catalog, rng: np.random.Generator) -> IntArray:
    """1-4 distinct products of the category, favouring popular ones (or none)."""
    if category < 0 or rng.random() >= _FEATURING_SHARE:
        return np.zeros(0, dtype=np.int64)
    members = np.flatnonzero(catalog.category == category)
    weights = catalog.popularity[members]
    size = min(len(members), int(rng.integers(1, 5)))
    return as_int(rng.choice(members, size=size, replace=False, p=weights / weights.sum()))


def _title(
    kind: str, category: int, featured: IntArray, catalog: Catalog, rng: np.random.Generator
) -> str:
    """A title about the first featured product, else the category, else the shop."""
    if len(featured):
        topic = catalog.name[int(featured[0])]
    elif category >= 0:
        topic = CATEGORY_NAMES[category]
    else:
        topic = "seasonal favourites"
    templates = CONTENT_TITLES[kind]
    title = templates[int(rng.integers(len(templates)))].format(topic=topic)
    return title[0].upper() + title[1:]
