"""The article of a page, as a reader view shows it: title, byline and text, without the
navigation, ads and scripts around it (trafilatura; see README, Benchmarks, for why)."""

from __future__ import annotations

from dataclasses import dataclass

import trafilatura

from .address import WebError

MAX_ARTICLE_CHARS = 40_000  # the context is the model's RAM: a long article is cut


@dataclass(frozen=True)
class Article:
    url: str
    title: str
    byline: str
    text: str
    truncated: bool = False

    def as_data(self) -> str:
        """The article as the model reads it (inside an untrusted-data block)."""
        head = [
            f"Title: {self.title}" if self.title else "",
            f"By: {self.byline}" if self.byline else "",
        ]
        body = self.text + (
            "\n[... the rest of the article was left out]" if self.truncated else ""
        )
        return "\n".join([*filter(None, head), "", body])


def extract_article(document: str, url: str, *, max_chars: int = MAX_ARTICLE_CHARS) -> Article:
    """The main article of an HTML (or plain text) ``document`` fetched from ``url``."""
    title = byline = text = ""
    if document.lstrip()[:1] != "<":  # plain text: the whole of it is the article
        text = document.strip()
    else:
        found = trafilatura.bare_extraction(
            document,
            url=url,
            favor_recall=True,  # a reader must not lose the article's paragraphs
            include_comments=False,
            include_tables=True,
            with_metadata=True,
        )
        if found is not None:
            text, title, byline = (
                (value or "").strip() for value in (found.text, found.title, found.author)
            )
    if not text:
        raise WebError(f"{url}: no readable text was found on this page")
    return _cut(Article(url, title, byline, text), max_chars)


def _cut(article: Article, max_chars: int) -> Article:
    if len(article.text) <= max_chars:
        return article
    cut = article.text.rfind("\n", 0, max_chars)
    text = article.text[: cut if cut > max_chars // 2 else max_chars]
    return Article(article.url, article.title, article.byline, text, truncated=True)
