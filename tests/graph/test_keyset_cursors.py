"""Cursors are keyset cursors: a page starts after its cursor's row in the list's order, whatever was
inserted or deleted meanwhile, in both directions, with NULLs in sort columns, root and nested."""

from __future__ import annotations

import base64
import json
from datetime import date
from typing import Any

from sqlalchemy import delete

from budgraph import db
from budgraph.kit.db import RequestSession
from tests import factories
from tests.conftest import GraphQLClient

ENGINES = """
query ($first: Int, $after: String, $last: Int, $before: String, $order: EngineOrder) {
  engines(first: $first, after: $after, last: $last, before: $before, orderBy: $order) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    nodes { slug }
  }
}
"""
VERSIONS = """
query ($first: Int, $after: String, $last: Int, $before: String, $order: EngineVersionOrder) {
  engineVersions(first: $first, after: $after, last: $last, before: $before, orderBy: $order) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    nodes { version releaseDate }
  }
}
"""
NESTED = """
query ($slug: String!, $first: Int, $after: String, $last: Int, $before: String) {
  engine(slug: $slug) {
    versions(first: $first, after: $after, last: $last, before: $before, orderBy: {field: RELEASE_DATE, direction: ASC}) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      nodes { version }
    }
  }
}
"""
BATCHED = """
query ($first: Int, $last: Int) {
  engines { nodes { versions(first: $first, last: $last, orderBy: {field: RELEASE_DATE, direction: DESC}) { nodes { version } } } }
}
"""
HARDWARE = "query ($after: String) { hardware(first: 1, after: $after) { totalCount nodes { sku } } }"


def _slugs(data: dict[str, Any]) -> list[str]:
    return [node["slug"] for node in data["engines"]["nodes"]]


def _info(connection: dict[str, Any]) -> tuple[bool, bool]:
    return connection["pageInfo"]["hasPreviousPage"], connection["pageInfo"]["hasNextPage"]


async def test_a_page_after_an_insert_neither_repeats_nor_skips(
    session: RequestSession, client: GraphQLClient
) -> None:
    # given five engines, and the first page of two
    for slug in ["b", "c", "d", "e", "f"]:
        await factories.engine(session, slug)
    await session.commit()
    first = (await client.data(ENGINES, {"first": 2}))["engines"]
    assert [n["slug"] for n in first["nodes"]] == ["b", "c"]

    # when engines are inserted before and inside the page just read
    for slug in ["a", "bb"]:
        await factories.engine(session, slug)
    await session.commit()
    second = (await client.data(ENGINES, {"first": 2, "after": first["pageInfo"]["endCursor"]}))["engines"]

    # then the next page starts right after "c" (with offsets it repeated "c")
    assert [n["slug"] for n in second["nodes"]] == ["d", "e"]
    assert second["totalCount"] == 7
    assert _info(second) == (True, True)
    third = (await client.data(ENGINES, {"first": 2, "after": second["pageInfo"]["endCursor"]}))["engines"]
    assert [n["slug"] for n in third["nodes"]] == ["f"]
    assert _info(third) == (True, False)


async def test_deleting_rows_around_the_cursor_keeps_the_place(
    session: RequestSession, client: GraphQLClient
) -> None:
    for slug in ["a", "b", "c", "d", "e"]:
        await factories.engine(session, slug)
    await session.commit()
    first = (await client.data(ENGINES, {"first": 2}))["engines"]
    assert [n["slug"] for n in first["nodes"]] == ["a", "b"]

    # when the cursor's own row and one before it are deleted
    await session.execute(delete(db.Engine).where(db.Engine.slug.in_(["a", "b"])))
    await session.commit()
    second = (await client.data(ENGINES, {"first": 2, "after": first["pageInfo"]["endCursor"]}))["engines"]

    # then paging goes on from the deleted row's place
    assert [n["slug"] for n in second["nodes"]] == ["c", "d"]
    assert second["totalCount"] == 3
    assert _info(second) == (False, True)
    back = (await client.data(ENGINES, {"last": 2, "before": second["pageInfo"]["endCursor"]}))["engines"]
    assert [n["slug"] for n in back["nodes"]] == ["c"]
    assert _info(back) == (False, True)


async def test_backward_pages_mirror_forward_pages(session: RequestSession, client: GraphQLClient) -> None:
    for slug, name in [("a", "Zed"), ("b", "Yak"), ("c", "Xu"), ("d", "Wren"), ("e", "Vole")]:
        await factories.engine(session, slug, name)
    await session.commit()
    order = {"field": "NAME", "direction": "DESC"}

    # the last page of the whole list, then pages before it
    last = (await client.data(ENGINES, {"last": 2, "order": order}))["engines"]
    assert [n["slug"] for n in last["nodes"]] == ["d", "e"]
    assert _info(last) == (True, False)
    middle = (
        await client.data(ENGINES, {"last": 2, "before": last["pageInfo"]["startCursor"], "order": order})
    )["engines"]
    assert [n["slug"] for n in middle["nodes"]] == ["b", "c"]
    assert _info(middle) == (True, True)
    start = (
        await client.data(ENGINES, {"last": 2, "before": middle["pageInfo"]["startCursor"], "order": order})
    )["engines"]
    assert [n["slug"] for n in start["nodes"]] == ["a"]
    assert _info(start) == (False, True)

    # between two cursors: `first` counts from the `after` side, `last` from the `before` side
    between = {"after": start["pageInfo"]["endCursor"], "before": last["pageInfo"]["endCursor"]}
    assert _slugs(await client.data(ENGINES, {**between, "first": 2, "order": order})) == ["b", "c"]
    assert _slugs(await client.data(ENGINES, {**between, "last": 2, "order": order})) == ["c", "d"]
    assert _slugs(await client.data(ENGINES, {**between, "first": 10, "order": order})) == ["b", "c", "d"]


async def test_nulls_in_a_sort_column_page_in_both_directions(
    session: RequestSession, client: GraphQLClient
) -> None:
    # given versions with equal and missing release dates
    vllm = await factories.engine(session, "vllm")
    dates = {
        "1.0.0": date(2025, 1, 1),
        "1.1.0": None,
        "1.2.0": date(2025, 3, 1),
        "1.3.0": date(2025, 1, 1),
        "1.4.0": None,
        "1.5.0": date(2025, 2, 1),
    }
    for version, released in dates.items():
        await factories.version(session, vllm, version, release_date=released)
    await session.commit()
    # NULLs last either way; equal dates by id (the order of insertion), highest id first when DESC
    expected = {
        "ASC": ["1.0.0", "1.3.0", "1.5.0", "1.2.0", "1.1.0", "1.4.0"],
        "DESC": ["1.2.0", "1.5.0", "1.3.0", "1.0.0", "1.4.0", "1.1.0"],
    }
    for direction, versions in expected.items():
        order = {"field": "RELEASE_DATE", "direction": direction}
        whole = (await client.data(VERSIONS, {"first": 10, "order": order}))["engineVersions"]
        assert [n["version"] for n in whole["nodes"]] == versions

        # when paging forward two at a time, then backward from the end
        forward: list[str] = []
        after = None
        while True:
            page = (await client.data(VERSIONS, {"first": 2, "after": after, "order": order}))[
                "engineVersions"
            ]
            forward += [n["version"] for n in page["nodes"]]
            assert _info(page) == (after is not None, len(forward) < 6)
            after = page["pageInfo"]["endCursor"]
            if not page["pageInfo"]["hasNextPage"]:
                break
        backward: list[str] = []
        before = None
        while True:
            page = (await client.data(VERSIONS, {"last": 2, "before": before, "order": order}))[
                "engineVersions"
            ]
            backward = [n["version"] for n in page["nodes"]] + backward
            assert _info(page) == (len(backward) < 6, before is not None)
            before = page["pageInfo"]["startCursor"]
            if not page["pageInfo"]["hasPreviousPage"]:
                break

        # then both walks give the whole order exactly once
        assert forward == versions
        assert backward == versions


async def test_a_cursor_only_fits_its_own_list_and_order(
    session: RequestSession, client: GraphQLClient
) -> None:
    vllm = await factories.engine(session, "vllm")
    await factories.engine(session, "sglang")
    await factories.version(session, vllm, "1.0.0", release_date=date(2025, 1, 1))
    await factories.version(session, vllm, "1.1.0", release_date=date(2025, 2, 1))
    await factories.hardware(session, "h100")
    await session.commit()
    by_name = await client.data(ENGINES, {"first": 1, "order": {"field": "NAME", "direction": "ASC"}})
    cursor = by_name["engines"]["pageInfo"]["endCursor"]

    # the same list in the same order takes it
    assert _slugs(
        await client.data(
            ENGINES, {"first": 1, "after": cursor, "order": {"field": "NAME", "direction": "ASC"}}
        )
    ) == ["vllm"]
    # another order, another direction or another list refuse it, naming the argument
    for variables in (
        {"first": 1, "after": cursor},
        {"first": 1, "after": cursor, "order": {"field": "NAME", "direction": "DESC"}},
        {"last": 1, "before": cursor, "order": {"field": "SLUG", "direction": "ASC"}},
    ):
        body = await client.execute(ENGINES, variables)
        assert [(e["extensions"]["code"], e["extensions"]["field"]) for e in body["errors"]] == [
            ("INVALID_CURSOR", "before" if "before" in variables else "after")
        ]
    assert await client.error_codes(HARDWARE, {"after": cursor}) == ["INVALID_CURSOR"]

    # a cursor whose values were tampered with is refused before it reaches SQL
    order = {"field": "RELEASE_DATE", "direction": "ASC"}
    dated = (await client.data(VERSIONS, {"first": 1, "order": order}))["engineVersions"]["pageInfo"][
        "endCursor"
    ]
    body = json.loads(base64.urlsafe_b64decode(dated))
    assert body["k"][0] == ["d", "2025-01-01"]
    for forged in (["s", "2025-01-01"], ["i", 2**70], ["s", "a\u0000b"], ["n", "NaN"], ["t", "yesterday"]):
        tampered = base64.urlsafe_b64encode(
            json.dumps({**body, "k": [forged, *body["k"][1:]]}).encode()
        ).decode()
        assert await client.error_codes(VERSIONS, {"first": 1, "after": tampered, "order": order}) == [
            "INVALID_CURSOR"
        ], forged
    for garbage in ("", "bm90IGpzb24", base64.urlsafe_b64encode(b'{"o": 1}').decode(), "x" * 10_000):
        assert await client.error_codes(VERSIONS, {"first": 1, "after": garbage}) == ["INVALID_CURSOR"]


async def test_nested_pages_are_keyset_pages_for_every_parent(
    session: RequestSession, client: GraphQLClient
) -> None:
    # given two engines with versions released on different days (one without a date)
    engines = {}
    for slug in ["sglang", "vllm"]:
        engines[slug] = await factories.engine(session, slug)
        for day, version in [(1, "1.0.0"), (3, "1.2.0"), (5, "1.4.0"), (None, "1.9.0")]:
            released = date(2025, 1, day) if day else None
            await factories.version(session, engines[slug], version, release_date=released)
    await session.commit()
    cursors = {}
    for slug in engines:
        first = (await client.data(NESTED, {"slug": slug, "first": 2}))["engine"]["versions"]
        assert [n["version"] for n in first["nodes"]] == ["1.0.0", "1.2.0"]
        cursors[slug] = first["pageInfo"]["endCursor"]

    # when versions are added before and after the cursor's place
    for slug in engines:
        await factories.version(session, engines[slug], "0.9.0", release_date=date(2024, 12, 1))
        await factories.version(session, engines[slug], "1.3.0", release_date=date(2025, 1, 4))
    await session.commit()

    for slug in engines:
        # then the next page starts after the cursor's values
        after = (await client.data(NESTED, {"slug": slug, "first": 2, "after": cursors[slug]}))["engine"]
        assert after["versions"]["totalCount"] == 6
        assert [n["version"] for n in after["versions"]["nodes"]] == ["1.3.0", "1.4.0"]
        assert _info(after["versions"]) == (True, True)
        end_cursor = after["versions"]["pageInfo"]["endCursor"]
        rest = (await client.data(NESTED, {"slug": slug, "first": 5, "after": end_cursor}))["engine"]
        assert [n["version"] for n in rest["versions"]["nodes"]] == ["1.9.0"]
        assert _info(rest["versions"]) == (True, False)
        # backward from the cursor, and past the end (an empty page still knows where it is)
        back = (await client.data(NESTED, {"slug": slug, "last": 2, "before": cursors[slug]}))["engine"]
        assert [n["version"] for n in back["versions"]["nodes"]] == ["0.9.0", "1.0.0"]
        assert _info(back["versions"]) == (False, True)
        last_cursor = rest["versions"]["pageInfo"]["endCursor"]
        empty = (await client.data(NESTED, {"slug": slug, "first": 2, "after": last_cursor}))["engine"]
        assert empty["versions"] == {
            "totalCount": 6,
            "pageInfo": {
                "hasNextPage": False,
                "hasPreviousPage": True,
                "startCursor": None,
                "endCursor": None,
            },
            "nodes": [],
        }

    # the pages of several parents come from one batch, first and last alike
    batched = (await client.data(BATCHED, {"first": 2}))["engines"]["nodes"]
    assert [[n["version"] for n in e["versions"]["nodes"]] for e in batched] == [["1.4.0", "1.3.0"]] * 2
    batched = (await client.data(BATCHED, {"last": 2}))["engines"]["nodes"]
    assert [[n["version"] for n in e["versions"]["nodes"]] for e in batched] == [["0.9.0", "1.9.0"]] * 2
    assert await client.error_codes(NESTED, {"slug": "vllm", "first": 2, "after": "garbage"}) == [
        "INVALID_CURSOR"
    ]
