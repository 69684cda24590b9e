"""Hardware SKUs and their prices: lists, filters, ordering, cheapest price, node lookup, mutations."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from budgraph import db
from budgraph.kit.db import RequestSession, StatementCounter
from budgraph.kit.ids import to_global_id
from tests import factories
from tests.conftest import GraphQLClient

HARDWARE = """
query ($filter: HardwareFilter, $orderBy: HardwareOrder, $first: Int, $after: String) {
  hardware(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor } nodes { sku }
  }
}
"""

HARDWARE_SKU = """
query ($id: ID, $sku: String) {
  hardwareSku(id: $id, sku: $sku) {
    id sku name vendor deviceArchitecture memoryGb memoryBandwidthGbps peakBf16Tflops peakFp8Tflops
    computeCapability tdpWatts releaseYear origin
  }
}
"""

PRICES = """
query ($filter: HardwarePriceFilter, $orderBy: HardwarePriceOrder) {
  hardwarePrices(filter: $filter, orderBy: $orderBy) {
    totalCount nodes { onDemandPerHour spotPerHour currency asOf hardware { sku } provider { slug } }
  }
}
"""

PRICE_DETAILS = """
query ($filter: HardwarePriceFilter) {
  hardwarePrices(filter: $filter) {
    nodes {
      instanceType devicesPerInstance region onDemandPerHour spotPerHour currency asOf instanceOnDemandPerHour
      origin editedFields
    }
  }
}
"""

SKU_PRICES = """
query ($sku: String!, $region: String, $currency: String! = "USD") {
  hardwareSku(sku: $sku) {
    prices(filter: {providerSlugs: ["aws"], regions: ["us-east-1"]}, orderBy: {field: AS_OF, direction: DESC}) {
      totalCount nodes { onDemandPerHour asOf }
    }
    cheapestPrice(region: $region, currency: $currency) {
      onDemandPerHour currency region instanceType provider { slug }
    }
  }
}
"""

NODES = """
query ($ids: [ID!]!) {
  nodes(ids: $ids) {
    __typename
    ... on Hardware { sku }
    ... on HardwarePrice { onDemandPerHour hardware { sku } }
  }
}
"""

CREATE_HARDWARE = """
mutation ($input: CreateHardwareInput!) {
  createHardware(input: $input) {
    sku name vendor deviceArchitecture memoryGb memoryBandwidthGbps peakBf16Tflops peakFp8Tflops
    computeCapability tdpWatts releaseYear origin editedFields
  }
}
"""

UPDATE_HARDWARE = """
mutation ($id: ID!, $input: UpdateHardwareInput!) {
  updateHardware(id: $id, input: $input) { sku memoryGb computeCapability origin editedFields }
}
"""

SET_PRICE = """
mutation ($input: SetHardwarePriceInput!) {
  setHardwarePrice(input: $input) {
    id instanceType devicesPerInstance region onDemandPerHour spotPerHour currency asOf instanceOnDemandPerHour
    origin editedFields hardware { sku } provider { slug }
  }
}
"""

UPDATE_PRICE = """
mutation ($id: ID!, $input: UpdateHardwarePriceInput!) {
  updateHardwarePrice(id: $id, input: $input) {
    onDemandPerHour spotPerHour currency instanceOnDemandPerHour editedFields
  }
}
"""

REGISTRY_VERSION = "{ registryVersion }"

NESTED = """
{
  hardware(first: 100) {
    nodes {
      sku
      prices(first: 10) { totalCount nodes { onDemandPerHour hardware { sku } provider { slug } } }
      cheapestPrice { onDemandPerHour provider { name } }
    }
  }
  hardwarePrices(first: 100) { nodes { hardware { name } provider { name } } }
}
"""

SPECS: dict[str, dict[str, Any]] = {
    "nvidia-h100": {
        "name": "NVIDIA H100 SXM",
        "memory_gb": 80,
        "memory_bandwidth_gbps": 3350,
        "peak_bf16_tflops": "989.4",
        "compute_capability": "9.0",
        "release_year": 2022,
    },
    "nvidia-b200": {
        "name": "NVIDIA B200",
        "memory_gb": 180,
        "memory_bandwidth_gbps": 8000,
        "peak_bf16_tflops": 2250,
        "compute_capability": "10.0",
        "release_year": 2024,
    },
    "nvidia-l40s": {
        "name": "NVIDIA L40S",
        "memory_gb": 48,
        "memory_bandwidth_gbps": 864,
        "peak_bf16_tflops": "362.05",
        "compute_capability": "8.9",
        "release_year": 2022,
    },
    "nvidia-a10g": {
        "name": "NVIDIA A10G",
        "memory_gb": 24,
        "memory_bandwidth_gbps": 600,
        "peak_bf16_tflops": 70,
        "compute_capability": "8.6",
        "release_year": 2021,
    },
    "nvidia-t4": {
        "name": "NVIDIA T4",
        "memory_gb": 16,
        "memory_bandwidth_gbps": 320,
        "compute_capability": "7.5",
        "release_year": 2018,
    },
    "amd-mi300x": {
        "name": "AMD Instinct MI300X",
        "memory_gb": 192,
        "memory_bandwidth_gbps": 5300,
        "peak_bf16_tflops": "1307.4",
        "release_year": 2023,
        "device": "ROCM",
        "vendor": "amd",
    },
    "amd-epyc-9654": {
        "name": "AMD EPYC 9654",
        "memory_bandwidth_gbps": "460.8",
        "release_year": 2022,
        "device": "CPU",
        "vendor": "amd",
    },
}


async def _fleet(session: RequestSession) -> dict[str, db.Hardware]:
    fleet = {}
    for sku, spec in SPECS.items():
        values = {
            key: Decimal(str(value)) if key.startswith(("memory_", "peak_")) else value
            for key, value in spec.items()
        }
        fleet[sku] = await factories.hardware(session, sku, **values)
    await session.commit()
    return fleet


async def _priced_fleet(session: RequestSession) -> dict[str, db.Hardware]:
    fleet = await _fleet(session)
    aws = await factories.provider(session, "aws", kind="compute_cloud", name="AWS")
    gcp = await factories.provider(session, "gcp", kind="compute_cloud", name="Google Cloud")
    lambda_ = await factories.provider(session, "lambda", kind="compute_cloud", name="Lambda")
    h100, l40s, a10g = fleet["nvidia-h100"], fleet["nvidia-l40s"], fleet["nvidia-a10g"]
    # the same AWS offer priced twice: the old, lower price is superseded by the newer one
    await factories.hardware_price(
        session, h100, aws, "2", instance_type="p5.48xlarge", devices_per_instance=8, as_of="2024-01-01"
    )
    await factories.hardware_price(
        session, h100, aws, "6.88", instance_type="p5.48xlarge", devices_per_instance=8, as_of="2025-06-01"
    )
    await factories.hardware_price(
        session,
        h100,
        lambda_,
        "2.99",
        instance_type="gpu_8x_h100",
        devices_per_instance=8,
        as_of="2025-06-01",
    )
    await factories.hardware_price(
        session,
        h100,
        gcp,
        "11.06",
        region="us-central1",
        instance_type="a3-highgpu-8g",
        devices_per_instance=8,
        spot_per_hour=Decimal("3.5"),
        as_of="2025-05-01",
    )
    await factories.hardware_price(
        session,
        h100,
        gcp,
        "1.5",
        region="europe-west4",
        instance_type="a3-highgpu-8g",
        devices_per_instance=8,
        currency="EUR",
        as_of="2025-05-01",
    )
    await factories.hardware_price(
        session,
        l40s,
        aws,
        "1.861",
        instance_type="g6e.xlarge",
        spot_per_hour=Decimal("0.75"),
        as_of="2025-03-01",
    )
    await factories.hardware_price(
        session,
        a10g,
        aws,
        "1.006",
        instance_type="g5.xlarge",
        spot_per_hour=Decimal("0.45"),
        as_of="2025-02-01",
    )
    await session.commit()
    return fleet


async def _skus(client: GraphQLClient, variables: dict[str, Any]) -> list[str]:
    data = await client.data(HARDWARE, variables)
    return [node["sku"] for node in data["hardware"]["nodes"]]


async def _prices(client: GraphQLClient, variables: dict[str, Any]) -> list[tuple[str, str, str]]:
    data = await client.data(PRICES, variables)
    return [
        (node["hardware"]["sku"], node["provider"]["slug"], node["onDemandPerHour"])
        for node in data["hardwarePrices"]["nodes"]
    ]


async def test_hardware_filters(session: RequestSession, client: GraphQLClient) -> None:
    # given
    await _fleet(session)

    # when / then: by name by default
    assert await _skus(client, {}) == [
        "amd-epyc-9654",
        "amd-mi300x",
        "nvidia-a10g",
        "nvidia-b200",
        "nvidia-h100",
        "nvidia-l40s",
        "nvidia-t4",
    ]
    # compute capability compares as numbers: 10.0 and 9.0 are above 8.9, 8.6 and 7.5 below
    assert await _skus(client, {"filter": {"minComputeCapability": "8.9"}}) == [
        "nvidia-b200",
        "nvidia-h100",
        "nvidia-l40s",
    ]
    assert await _skus(client, {"filter": {"minComputeCapability": "10.0"}}) == ["nvidia-b200"]
    assert await _skus(client, {"filter": {"vendors": ["AMD"]}}) == ["amd-epyc-9654", "amd-mi300x"]
    assert await _skus(client, {"filter": {"deviceArchitectures": ["ROCM", "CPU"]}}) == [
        "amd-epyc-9654",
        "amd-mi300x",
    ]
    assert await _skus(client, {"filter": {"minMemoryGb": "80"}}) == [
        "amd-mi300x",
        "nvidia-b200",
        "nvidia-h100",
    ]
    assert await _skus(client, {"filter": {"minBf16Tflops": "989.41"}}) == ["amd-mi300x", "nvidia-b200"]
    assert await _skus(client, {"filter": {"search": "h100"}}) == ["nvidia-h100"]
    assert await _skus(client, {"filter": {"search": "Instinct"}}) == ["amd-mi300x"]
    assert await _skus(
        client, {"filter": {"vendors": ["nvidia"], "minMemoryGb": 40, "minComputeCapability": "9.0"}}
    ) == ["nvidia-b200", "nvidia-h100"]
    for bad in ["9", "nine.0", "8.9.1", ""]:
        assert await client.error_codes(HARDWARE, {"filter": {"minComputeCapability": bad}}) == [
            "BAD_USER_INPUT"
        ]


async def test_hardware_ordering_and_pagination(session: RequestSession, client: GraphQLClient) -> None:
    # given
    await _fleet(session)

    # when / then: unknown values sort last either way, ties by name
    assert await _skus(client, {"orderBy": {"field": "MEMORY", "direction": "DESC"}}) == [
        "amd-mi300x",
        "nvidia-b200",
        "nvidia-h100",
        "nvidia-l40s",
        "nvidia-a10g",
        "nvidia-t4",
        "amd-epyc-9654",
    ]
    assert await _skus(client, {"orderBy": {"field": "BF16_TFLOPS"}}) == [
        "nvidia-a10g",
        "nvidia-l40s",
        "nvidia-h100",
        "amd-mi300x",
        "nvidia-b200",
        "amd-epyc-9654",
        "nvidia-t4",
    ]
    assert await _skus(client, {"orderBy": {"field": "BANDWIDTH"}}) == [
        "nvidia-t4",
        "amd-epyc-9654",
        "nvidia-a10g",
        "nvidia-l40s",
        "nvidia-h100",
        "amd-mi300x",
        "nvidia-b200",
    ]
    assert await _skus(client, {"orderBy": {"field": "RELEASE_YEAR", "direction": "DESC"}}) == [
        "nvidia-b200",
        "amd-mi300x",
        "amd-epyc-9654",
        "nvidia-h100",
        "nvidia-l40s",
        "nvidia-a10g",
        "nvidia-t4",
    ]
    assert await _skus(client, {"orderBy": {"field": "NAME", "direction": "DESC"}}) == [
        "nvidia-t4",
        "nvidia-l40s",
        "nvidia-h100",
        "nvidia-b200",
        "nvidia-a10g",
        "amd-mi300x",
        "amd-epyc-9654",
    ]

    # when / then: pages of three
    first = (await client.data(HARDWARE, {"first": 3}))["hardware"]
    second = (await client.data(HARDWARE, {"first": 3, "after": first["pageInfo"]["endCursor"]}))["hardware"]
    third = (await client.data(HARDWARE, {"first": 3, "after": second["pageInfo"]["endCursor"]}))["hardware"]
    assert [[n["sku"] for n in page["nodes"]] for page in (first, second, third)] == [
        ["amd-epyc-9654", "amd-mi300x", "nvidia-a10g"],
        ["nvidia-b200", "nvidia-h100", "nvidia-l40s"],
        ["nvidia-t4"],
    ]
    assert [page["pageInfo"]["hasNextPage"] for page in (first, second, third)] == [True, True, False]
    assert [page["pageInfo"]["hasPreviousPage"] for page in (first, second, third)] == [False, True, True]
    assert {page["totalCount"] for page in (first, second, third)} == {7}
    assert await client.error_codes(HARDWARE, {"after": "bm9wZQ=="}) == ["INVALID_CURSOR"]


async def test_hardware_prices_filters_and_ordering(session: RequestSession, client: GraphQLClient) -> None:
    # given
    await _priced_fleet(session)

    # when / then: cheapest on-demand price per device-hour first by default
    assert await _prices(client, {}) == [
        ("nvidia-a10g", "aws", "1.006"),
        ("nvidia-h100", "gcp", "1.5"),
        ("nvidia-l40s", "aws", "1.861"),
        ("nvidia-h100", "aws", "2"),
        ("nvidia-h100", "lambda", "2.99"),
        ("nvidia-h100", "aws", "6.88"),
        ("nvidia-h100", "gcp", "11.06"),
    ]
    # a price range, both ends inclusive
    assert await _prices(client, {"filter": {"minOnDemandPerHour": "1.5", "maxOnDemandPerHour": "2.99"}}) == [
        ("nvidia-h100", "gcp", "1.5"),
        ("nvidia-l40s", "aws", "1.861"),
        ("nvidia-h100", "aws", "2"),
        ("nvidia-h100", "lambda", "2.99"),
    ]
    assert await _prices(client, {"filter": {"maxOnDemandPerHour": "1.005999"}}) == []
    assert await _prices(client, {"filter": {"providerSlugs": ["gcp"], "regions": ["us-central1"]}}) == [
        ("nvidia-h100", "gcp", "11.06")
    ]
    assert await _prices(client, {"filter": {"skus": ["nvidia-l40s", "nvidia-a10g"]}}) == [
        ("nvidia-a10g", "aws", "1.006"),
        ("nvidia-l40s", "aws", "1.861"),
    ]
    assert await _prices(client, {"filter": {"deviceArchitectures": ["ROCM"]}}) == []
    # spot prices: unknown ones last either way
    data = await client.data(PRICES, {"orderBy": {"field": "SPOT", "direction": "DESC"}})
    assert [n["spotPerHour"] for n in data["hardwarePrices"]["nodes"]] == [
        "3.5",
        "0.75",
        "0.45",
        None,
        None,
        None,
        None,
    ]
    data = await client.data(PRICES, {"orderBy": {"field": "AS_OF", "direction": "DESC"}})
    assert [n["asOf"] for n in data["hardwarePrices"]["nodes"]] == [
        "2025-06-01",
        "2025-06-01",
        "2025-05-01",
        "2025-05-01",
        "2025-03-01",
        "2025-02-01",
        "2024-01-01",
    ]
    data = await client.data(PRICE_DETAILS, {"filter": {"providerSlugs": ["lambda"]}})
    assert data["hardwarePrices"]["nodes"] == [
        {
            "instanceType": "gpu_8x_h100",
            "devicesPerInstance": 8,
            "region": "us-east-1",
            "onDemandPerHour": "2.99",
            "spotPerHour": None,
            "currency": "USD",
            "asOf": "2025-06-01",
            "instanceOnDemandPerHour": "23.92",
            "origin": "SEED",
            "editedFields": [],
        }
    ]


async def test_sku_prices_and_cheapest_current_price(session: RequestSession, client: GraphQLClient) -> None:
    # given
    await _priced_fleet(session)

    # when
    h100 = (await client.data(SKU_PRICES, {"sku": "nvidia-h100"}))["hardwareSku"]
    central = (await client.data(SKU_PRICES, {"sku": "nvidia-h100", "region": "us-central1"}))["hardwareSku"]
    euro = (await client.data(SKU_PRICES, {"sku": "nvidia-h100", "currency": "EUR"}))["hardwareSku"]
    nowhere = (await client.data(SKU_PRICES, {"sku": "nvidia-h100", "region": "mars-1"}))["hardwareSku"]
    t4 = (await client.data(SKU_PRICES, {"sku": "nvidia-t4"}))["hardwareSku"]

    # then: the superseded AWS price of 2 is history, not the cheapest offer
    assert h100["prices"] == {
        "totalCount": 2,
        "nodes": [
            {"onDemandPerHour": "6.88", "asOf": "2025-06-01"},
            {"onDemandPerHour": "2", "asOf": "2024-01-01"},
        ],
    }
    assert h100["cheapestPrice"] == {
        "onDemandPerHour": "2.99",
        "currency": "USD",
        "region": "us-east-1",
        "instanceType": "gpu_8x_h100",
        "provider": {"slug": "lambda"},
    }
    assert central["cheapestPrice"]["onDemandPerHour"] == "11.06"
    assert euro["cheapestPrice"] == {
        "onDemandPerHour": "1.5",
        "currency": "EUR",
        "region": "europe-west4",
        "instanceType": "a3-highgpu-8g",
        "provider": {"slug": "gcp"},
    }
    assert nowhere["cheapestPrice"] is None
    assert t4 == {"prices": {"totalCount": 0, "nodes": []}, "cheapestPrice": None}


async def test_lookups_by_id_sku_and_node(session: RequestSession, client: GraphQLClient) -> None:
    # given
    fleet = await _priced_fleet(session)
    h100 = fleet["nvidia-h100"]
    price = await session.scalar(select(db.HardwarePrice).where(db.HardwarePrice.region == "us-central1"))
    assert price is not None
    hardware_id, price_id = to_global_id("Hardware", h100.id), to_global_id("HardwarePrice", price.id)

    # when
    by_sku = await client.data(HARDWARE_SKU, {"sku": "nvidia-h100"})
    by_id = await client.data(HARDWARE_SKU, {"id": hardware_id})
    nodes = await client.data(
        NODES, {"ids": [hardware_id, price_id, to_global_id("HardwarePrice", price.id + 999)]}
    )

    # then
    assert (
        by_sku
        == by_id
        == {
            "hardwareSku": {
                "id": hardware_id,
                "sku": "nvidia-h100",
                "name": "NVIDIA H100 SXM",
                "vendor": "nvidia",
                "deviceArchitecture": "CUDA",
                "memoryGb": "80",
                "memoryBandwidthGbps": "3350",
                "peakBf16Tflops": "989.4",
                "peakFp8Tflops": None,
                "computeCapability": "9.0",
                "tdpWatts": None,
                "releaseYear": 2022,
                "origin": "SEED",
            }
        }
    )
    assert nodes["nodes"] == [
        {"__typename": "Hardware", "sku": "nvidia-h100"},
        {"__typename": "HardwarePrice", "onDemandPerHour": "11.06", "hardware": {"sku": "nvidia-h100"}},
        None,
    ]
    assert (await client.data(HARDWARE_SKU, {"sku": "nope"})) == {"hardwareSku": None}
    assert await client.error_codes(HARDWARE_SKU, {}) == ["BAD_USER_INPUT"]
    assert await client.error_codes(HARDWARE_SKU, {"id": price_id}) == ["INVALID_ID"]


async def _counts(session: RequestSession) -> tuple[int, int]:
    hardware = await session.scalar(select(func.count()).select_from(db.Hardware))
    prices = await session.scalar(select(func.count()).select_from(db.HardwarePrice))
    return int(hardware or 0), int(prices or 0)


async def test_create_and_update_hardware(
    session: RequestSession, client: GraphQLClient, writer_token: str
) -> None:
    # given
    new = {
        "sku": "NVIDIA-GH200",
        "name": "NVIDIA GH200",
        "vendor": " NVIDIA ",
        "deviceArchitecture": "CUDA",
        "memoryGb": "96.00",
        "memoryBandwidthGbps": "4000.5",
        "peakBf16Tflops": 989.45,
        "peakFp8Tflops": "1979",
        "computeCapability": "9.0",
        "tdpWatts": 1000,
        "releaseYear": 2024,
    }

    # when / then
    assert await client.error_codes(CREATE_HARDWARE, {"input": new}) == ["UNAUTHENTICATED"]
    created = (await client.data(CREATE_HARDWARE, {"input": new}, token=writer_token))["createHardware"]
    assert created == {
        "sku": "nvidia-gh200",
        "name": "NVIDIA GH200",
        "vendor": "nvidia",
        "deviceArchitecture": "CUDA",
        "memoryGb": "96",
        "memoryBandwidthGbps": "4000.5",
        "peakBf16Tflops": "989.45",
        "peakFp8Tflops": "1979",
        "computeCapability": "9.0",
        "tdpWatts": 1000,
        "releaseYear": 2024,
        "origin": "API",
        "editedFields": [],
    }

    # when / then: an operator edit records what changed, not what was restated
    row = await session.scalar(select(db.Hardware).where(db.Hardware.sku == "nvidia-gh200"))
    assert row is not None
    update = {
        "id": to_global_id("Hardware", row.id),
        "input": {"memoryGb": "144", "computeCapability": "9.0"},
    }
    assert await client.error_codes(UPDATE_HARDWARE, update) == ["UNAUTHENTICATED"]
    assert (await client.data(UPDATE_HARDWARE, update, token=writer_token))["updateHardware"] == {
        "sku": "nvidia-gh200",
        "memoryGb": "144",
        "computeCapability": "9.0",
        "origin": "API",
        "editedFields": ["memory_gb"],
    }


async def test_hardware_mutations_refuse_bad_input_and_change_nothing(
    session: RequestSession, client: GraphQLClient, writer_token: str
) -> None:
    # given
    fleet = await _fleet(session)
    h100_id = to_global_id("Hardware", fleet["nvidia-h100"].id)
    version = await client.data(REGISTRY_VERSION)
    counts = await _counts(session)
    good = {"sku": "nvidia-gh200", "name": "GH200", "vendor": "nvidia", "deviceArchitecture": "CUDA"}

    # when / then
    for bad, code in [
        ({**good, "memoryGb": "-1"}, "BAD_USER_INPUT"),
        ({**good, "peakBf16Tflops": "-0.01"}, "BAD_USER_INPUT"),
        ({**good, "memoryGb": "80.125"}, "BAD_USER_INPUT"),
        ({**good, "memoryBandwidthGbps": "100000000"}, "BAD_USER_INPUT"),
        ({**good, "memoryGb": "NaN"}, "BAD_USER_INPUT"),
        ({**good, "computeCapability": "9"}, "BAD_USER_INPUT"),
        ({**good, "computeCapability": "sm_90"}, "BAD_USER_INPUT"),
        ({**good, "sku": "gh 200"}, "BAD_USER_INPUT"),
        ({**good, "vendor": " "}, "BAD_USER_INPUT"),
        ({**good, "tdpWatts": 0}, "BAD_USER_INPUT"),
        ({**good, "releaseYear": 1800}, "BAD_USER_INPUT"),
        ({**good, "sku": "NVIDIA-H100"}, "CONFLICT"),
    ]:
        assert await client.error_codes(CREATE_HARDWARE, {"input": bad}, token=writer_token) == [code], bad
    for bad_update, code in [
        ({"memoryGb": "-80"}, "BAD_USER_INPUT"),
        ({"computeCapability": "9.0.1"}, "BAD_USER_INPUT"),
        ({"name": None}, "BAD_USER_INPUT"),
    ]:
        variables = {"id": h100_id, "input": bad_update}
        assert await client.error_codes(UPDATE_HARDWARE, variables, token=writer_token) == [code], bad_update

    # then
    assert await _counts(session) == counts
    assert await client.data(REGISTRY_VERSION) == version
    h100 = (await client.data(HARDWARE_SKU, {"sku": "nvidia-h100"}))["hardwareSku"]
    assert (h100["name"], h100["memoryGb"], h100["computeCapability"]) == ("NVIDIA H100 SXM", "80", "9.0")


async def test_set_hardware_price_creates_then_edits_and_keeps_decimals_exact(
    session: RequestSession, client: GraphQLClient, writer_token: str
) -> None:
    # given
    fleet = await _fleet(session)
    await factories.provider(session, "coreweave", kind="compute_cloud")
    await session.commit()
    new = {
        "sku": "nvidia-h100",
        "providerSlug": "coreweave",
        "region": "us-east-04",
        "instanceType": "gd-8xh100ib",
        "onDemandPerHour": "12345678.123456",
        "devicesPerInstance": 8,
        "currency": "usd",
        "asOf": "2025-07-01",
    }

    # when
    assert await client.error_codes(SET_PRICE, {"input": new}) == ["UNAUTHENTICATED"]
    created = (await client.data(SET_PRICE, {"input": new}, token=writer_token))["setHardwarePrice"]

    # then
    assert {k: v for k, v in created.items() if k != "id"} == {
        "instanceType": "gd-8xh100ib",
        "devicesPerInstance": 8,
        "region": "us-east-04",
        "onDemandPerHour": "12345678.123456",
        "spotPerHour": None,
        "currency": "USD",
        "asOf": "2025-07-01",
        "instanceOnDemandPerHour": "98765424.987648",
        "origin": "API",
        "editedFields": [],
        "hardware": {"sku": "nvidia-h100"},
        "provider": {"slug": "coreweave"},
    }

    # when: the same offer and date again, with a new price
    again = (
        await client.data(
            SET_PRICE,
            {"input": {**new, "onDemandPerHour": "6.155", "spotPerHour": "0.000001"}},
            token=writer_token,
        )
    )["setHardwarePrice"]

    # then: the same row, edited
    assert again["id"] == created["id"]
    assert (again["onDemandPerHour"], again["spotPerHour"], again["instanceOnDemandPerHour"]) == (
        "6.155",
        "0.000001",
        "49.24",
    )
    assert again["editedFields"] == ["on_demand_per_hour", "spot_per_hour"]
    assert await _counts(session) == (len(fleet), 1)

    # when: an operator corrects it later
    update = {"id": created["id"], "input": {"currency": "EUR", "devicesPerInstance": 8}}
    assert await client.error_codes(UPDATE_PRICE, update) == ["UNAUTHENTICATED"]
    updated = (await client.data(UPDATE_PRICE, update, token=writer_token))["updateHardwarePrice"]

    # then
    assert updated == {
        "onDemandPerHour": "6.155",
        "spotPerHour": "0.000001",
        "currency": "EUR",
        "instanceOnDemandPerHour": "49.24",
        "editedFields": ["currency", "on_demand_per_hour", "spot_per_hour"],
    }


async def test_set_hardware_price_on_a_seeded_price_is_an_operator_edit(
    session: RequestSession, client: GraphQLClient, writer_token: str
) -> None:
    # given
    await _priced_fleet(session)
    restated = {
        "sku": "nvidia-h100",
        "providerSlug": "lambda",
        "region": "us-east-1",
        "instanceType": "gpu_8x_h100",
        "onDemandPerHour": "2.49",
        "devicesPerInstance": 8,
        "asOf": "2025-06-01",
    }

    # when
    price = (await client.data(SET_PRICE, {"input": restated}, token=writer_token))["setHardwarePrice"]

    # then
    assert (price["origin"], price["onDemandPerHour"], price["editedFields"]) == (
        "SEED",
        "2.49",
        ["on_demand_per_hour"],
    )
    assert (await _counts(session))[1] == 7


async def test_price_mutations_refuse_bad_input_and_change_nothing(
    session: RequestSession, client: GraphQLClient, writer_token: str
) -> None:
    # given
    await _priced_fleet(session)
    price = await session.scalar(
        select(db.HardwarePrice).where(db.HardwarePrice.instance_type == "g5.xlarge")
    )
    assert price is not None
    price_id = to_global_id("HardwarePrice", price.id)
    version = await client.data(REGISTRY_VERSION)
    counts = await _counts(session)
    good = {
        "sku": "nvidia-h100",
        "providerSlug": "aws",
        "region": "us-west-2",
        "instanceType": "p5.48xlarge",
        "onDemandPerHour": "6.88",
    }

    # when / then
    for bad, code in [
        ({**good, "onDemandPerHour": "-6.88"}, "BAD_USER_INPUT"),
        ({**good, "onDemandPerHour": "6.8812345"}, "BAD_USER_INPUT"),
        ({**good, "onDemandPerHour": "100000000"}, "BAD_USER_INPUT"),
        ({**good, "spotPerHour": "-1"}, "BAD_USER_INPUT"),
        ({**good, "currency": "US$"}, "BAD_USER_INPUT"),
        ({**good, "currency": "EURO"}, "BAD_USER_INPUT"),
        ({**good, "devicesPerInstance": 0}, "BAD_USER_INPUT"),
        ({**good, "region": " "}, "BAD_USER_INPUT"),
        ({**good, "sku": "nvidia-h200"}, "NOT_FOUND"),
        ({**good, "providerSlug": "azure"}, "NOT_FOUND"),
    ]:
        assert await client.error_codes(SET_PRICE, {"input": bad}, token=writer_token) == [code], bad
    for bad_update, code in [
        ({"onDemandPerHour": "-1"}, "BAD_USER_INPUT"),
        ({"onDemandPerHour": None}, "BAD_USER_INPUT"),
        ({"currency": "dollars"}, "BAD_USER_INPUT"),
        ({"devicesPerInstance": -8}, "BAD_USER_INPUT"),
    ]:
        variables = {"id": price_id, "input": bad_update}
        assert await client.error_codes(UPDATE_PRICE, variables, token=writer_token) == [code], bad_update
    unknown = {"id": to_global_id("HardwarePrice", price.id + 999), "input": {"currency": "EUR"}}
    assert await client.error_codes(UPDATE_PRICE, unknown, token=writer_token) == ["NOT_FOUND"]

    # then
    assert await _counts(session) == counts
    assert await client.data(REGISTRY_VERSION) == version
    data = await client.data(PRICE_DETAILS, {"filter": {"skus": ["nvidia-a10g"]}})
    assert [
        (n["onDemandPerHour"], n["currency"], n["editedFields"]) for n in data["hardwarePrices"]["nodes"]
    ] == [("1.006", "USD", [])]


async def _grow(session: RequestSession, start: int, stop: int) -> None:
    """Hardware SKUs ``start..stop``, each priced at two providers."""
    providers = list((await session.scalars(select(db.Provider).order_by(db.Provider.slug))).all())
    if not providers:
        providers = [await factories.provider(session, slug, kind="compute_cloud") for slug in ("aws", "gcp")]
    for i in range(start, stop):
        sku = await factories.hardware(session, f"gpu-{i:03}", memory_gb=Decimal(i))
        for n, provider in enumerate(providers):
            await factories.hardware_price(session, sku, provider, f"{i}.{n}")
    await session.commit()


async def _nested_statements(client: GraphQLClient, statements: StatementCounter, rows: int) -> int:
    statements.reset()
    data = await client.data(NESTED)
    assert len(data["hardware"]["nodes"]) == rows
    assert all(h["prices"]["totalCount"] == 2 for h in data["hardware"]["nodes"])
    assert all(h["cheapestPrice"] is not None for h in data["hardware"]["nodes"])
    assert len(data["hardwarePrices"]["nodes"]) == min(2 * rows, 100)
    return statements.count


async def test_statement_count_does_not_grow_with_hardware(
    session: RequestSession, client: GraphQLClient, statements: StatementCounter
) -> None:
    # given / when
    await _grow(session, 0, 5)
    with_5 = await _nested_statements(client, statements, 5)
    await _grow(session, 5, 50)
    with_50 = await _nested_statements(client, statements, 50)

    # then: a page of hardware and one of hardwarePrices (neither counted: no totalCount asked), one
    # page of prices for all SKUs and one count of them, one cheapest-price batch, one hardware and
    # one provider batch; plus the test transaction's savepoint
    assert with_5 == with_50
    assert with_5 == 7 + 2, statements.statements
