"""Questions like "what are people saying about pricing" are answered by search.

With an LLM configured, the top hits are summarised with citations ([1], [2], ...); without
one, the answer says how many texts matched and where the best hit came from.
"""

from __future__ import annotations

from datetime import date

from sophia_cli.core.bi import parse_llm
from sophia_cli.core.bi.answer import Answer
from sophia_cli.core.bi.interpretation import SearchInterpretation
from sophia_cli.core.bi.parse_rules import SearchIntent
from sophia_cli.core.errors import SophiaError
from sophia_cli.core.search.search import SearchFilters, SearchResults, search
from sophia_cli.core.settings import Settings

SUMMARY_HITS = 8


def _summary(settings: Settings, intent: SearchIntent, results: SearchResults) -> str | None:
    """An LLM summary of the hits citing them as [n], or None without a usable LLM."""
    if not results.hits or not parse_llm.llm_available(settings):
        return None

    quotes = "\n".join(
        f"[{i}] {hit.source} {hit.author} {hit.time:%Y-%m-%d}: {hit.snippet}" if hit.time
        else f"[{i}] {hit.source} {hit.author}: {hit.snippet}"
        for i, hit in enumerate(results.hits[:SUMMARY_HITS], start=1)
    )  # fmt: skip
    prompt = (
        f"Summarise in at most three sentences what people say about {intent.topic!r}, "
        f"citing the excerpts as [n]. Use only these excerpts:\n{quotes}"
    )
    try:
        text = parse_llm.complete_text(settings, [{"role": "user", "content": prompt}])
    except SophiaError:
        return None
    return " ".join(text.split())


def answer_search(settings: Settings, intent: SearchIntent, as_of: date, parser: str) -> Answer:
    """An Answer whose rows are search hits."""
    since = intent.time_range.start if intent.time_range else None
    until = intent.time_range.end if intent.time_range else None
    filters = SearchFilters(since=since, until=until)
    results = search(settings, intent.topic, filters=filters, limit=10, as_of=as_of,
                     voice=intent.external_only)  # fmt: skip
    summary = _summary(settings, intent, results)
    if summary is None:
        if results.hits:
            best = results.hits[0]
            summary = (f"{len(results.hits)} texts mention {intent.topic!r}; the best match is "
                       f"from {best.source} ({best.author}): {best.snippet}")  # fmt: skip
        else:
            summary = f"Nothing indexed mentions {intent.topic!r}."
    rows = [
        [hit.source, hit.author, hit.time.isoformat() if hit.time else None, hit.snippet, hit.url]
        for hit in results.hits
    ]
    return Answer(
        answer=summary,
        interpretation=SearchInterpretation(
            search=intent.topic, since=since.isoformat() if since else None,
            until=until.isoformat() if until else None,
            external_only=results.filters.external_only, mode=results.mode, parser=parser,
            note=results.note,
        ),
        sql="", columns=["source", "author", "time", "snippet", "url"], rows=rows,
        source="llm" if summary and parse_llm.llm_available(settings) and results.hits else "rules",
        as_of=as_of,
    )  # fmt: skip
