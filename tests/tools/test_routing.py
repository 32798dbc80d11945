from hypothesis import given
from hypothesis import strategies as st

from tools.pools import Pool
from tools.pools import constant_product_out as amount_out
from tools.routing import candidate_routes, min_out

W, U, R = "wrap.test.near", "usdc.test.near", "ref.test.near"


def test_amount_out_matches_ref_formula() -> None:
    # 1 in, reserves 100/200, 0.3% fee: 1*9970*200 // (100*10000 + 9970) = 1994000//1009970 = 1
    assert amount_out(10**6, 10**8, 2 * 10**8, 30) == 10**6 * 9970 * 2 * 10**8 // (
        10**8 * 10_000 + 10**6 * 9970
    )
    assert amount_out(0, 10, 10, 30) == 0


@given(st.integers(1, 10**30), st.integers(1, 10**30), st.integers(1, 10**30), st.integers(0, 100))
def test_amount_out_never_drains_the_pool(amount: int, r_in: int, r_out: int, fee: int) -> None:
    out = amount_out(amount, r_in, r_out, fee)
    assert 0 <= out < r_out
    assert amount_out(amount * 2, r_in, r_out, fee) >= out


def test_min_out() -> None:
    assert min_out(10_000, 50) == 9_950
    assert min_out(1, 50) == 1


def test_two_hop_route_through_wnear_when_no_direct_pool() -> None:
    pools = [Pool(0, (W, U), (10**27, 5 * 10**9), 30), Pool(1, (W, R), (10**27, 10**21), 30)]
    routes = candidate_routes(pools, U, R, 10**6, via=W)
    assert routes and routes[0].pool_ids == (0, 1)
    actions = routes[0].swap_actions(123)
    assert actions[0] == {
        "pool_id": 0,
        "token_in": U,
        "token_out": W,
        "amount_in": "1000000",
        "min_amount_out": "0",
    }
    assert actions[1] == {"pool_id": 1, "token_in": W, "token_out": R, "min_amount_out": "123"}


def test_best_route_prefers_better_price() -> None:
    thin = Pool(0, (U, R), (10**6, 10**18), 30)
    deep = Pool(1, (U, R), (10**12, 10**24), 30)
    routes = candidate_routes([thin, deep], U, R, 10**6, via=None)
    assert routes[0].pool_ids == (1,)


def test_fetch_pools_reads_every_page_in_order() -> None:
    import asyncio
    from typing import Any

    from tools.routing import fetch_pools

    class Chain:
        async def view(self, contract: str, method: str, args: dict[str, Any]) -> Any:
            if method == "get_number_of_pools":
                return 250
            start, limit = args["from_index"], args["limit"]
            return [
                {
                    "pool_kind": "SIMPLE_POOL",
                    "token_account_ids": [W, U],
                    "amounts": [str(i + 1), "1"],
                    "total_fee": 30,
                }
                for i in range(start, min(start + limit, 250))
            ]

    pools = asyncio.run(fetch_pools(Chain(), "ex"))  # type: ignore[arg-type]
    assert [p.pool_id for p in pools] == list(range(250))
    assert all(p.reserve(W) == p.pool_id + 1 for p in pools)


def test_a_page_over_the_nodes_view_gas_is_read_again_in_halves() -> None:
    """Each node sets its own view gas limit: a page it refuses is split, never skipped."""
    import asyncio
    from typing import Any

    from tools.errors import ViewCallError
    from tools.pool_index import read_pool_range

    asked: list[int] = []

    class Chain:
        async def view(self, contract: str, method: str, args: dict[str, Any]) -> Any:
            start, limit = args["from_index"], args["limit"]
            asked.append(limit)
            if limit > 130:
                raise ViewCallError("Exceeded the maximum amount of gas allowed to burn per view")
            return [
                {"pool_kind": "SIMPLE_POOL", "token_account_ids": [W, U], "amounts": ["1", "1"]}
                for _ in range(start, min(start + limit, 700))
            ]

    pools = asyncio.run(read_pool_range(Chain(), "ex", 0, 700, 500))  # type: ignore[arg-type]
    assert [p.pool_id for p in pools] == list(range(700))
    assert max(a for a in asked if a <= 130) == 125


def test_an_exchange_without_detail_views_is_read_the_older_way() -> None:
    """Ref before get_pool_detail_info_by_ids: simple pools by id, stable ones by their view;
    with it, one request and each pool's kind from its tag."""
    import asyncio
    from typing import Any

    from tools.errors import ViewCallError
    from tools.market import read_pools
    from tools.pool_index import IndexedPool

    simple = {"token_account_ids": [W, U], "amounts": ["10", "20"], "total_fee": 30}
    stable = {
        "token_account_ids": [U, R],
        "amounts": ["5", "5"],
        "c_amounts": ["5000000000000", "5"],
        "decimals": [6, 18],
        "total_fee": 5,
        "amp": 240,
    }

    class Chain:
        def __init__(self, detail: bool) -> None:
            self.detail, self.calls = detail, []  # type: ignore[var-annotated]

        async def view(self, contract: str, method: str, args: dict[str, Any]) -> Any:
            self.calls.append(method)
            if method == "get_pool_detail_info_by_ids":
                if not self.detail:
                    raise ViewCallError("MethodResolveError(MethodNotFound)")
                return [{"SimplePoolInfo": simple}, {"StablePoolInfo": stable}]
            if method == "get_pool_by_ids":
                return [{**simple, "pool_kind": "SIMPLE_POOL", "amp": 0}]
            assert method == "get_stable_pool"
            return stable

    chosen = [
        IndexedPool(0, "SIMPLE_POOL", (W, U), 30, 0, (), (10, 20)),
        IndexedPool(1, "STABLE_SWAP", (U, R), 5, 240, (6, 18), (5, 5)),
    ]
    for detail, calls in (
        (True, ["get_pool_detail_info_by_ids"]),
        (False, ["get_pool_detail_info_by_ids", "get_pool_by_ids", "get_stable_pool"]),
    ):
        chain = Chain(detail)
        pools = asyncio.run(read_pools(chain, "ex", chosen))  # type: ignore[arg-type]
        assert sorted(chain.calls) == sorted(calls)
        assert [(p.pool_id, p.kind, p.amp) for p in pools] == [
            (0, "SIMPLE_POOL", 0),
            (1, "STABLE_SWAP", 240),
        ]
        assert pools[1].decimals == (6, 18)
