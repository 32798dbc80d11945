"""Properties of the evaluator over generated grants and actions."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from policies.evaluator import _RANK, DENY, ActiveGrant, evaluate
from policies.grants import parse_grants
from policies.windows import NoState
from tests.policy.helpers import (
    BOB,
    CAROL,
    EVE,
    FACTS,
    START,
    USDC,
    YOCTO,
    Clock,
    Prices,
    Quotes,
    ft_transfer,
    grants_doc,
    near_transfer,
)

PEOPLE = [BOB, CAROL, EVE]

grant_specs = st.fixed_dictionaries(
    {
        "recipients": st.lists(st.sampled_from(PEOPLE), unique=True),
        "tokens": st.lists(st.sampled_from(["NEAR", "USDC"]), unique=True),
        "near_cap": st.one_of(st.none(), st.integers(0, 10)),
        "usdc_cap": st.one_of(st.none(), st.integers(0, 100)),
        "usd_cap": st.one_of(st.none(), st.integers(0, 100)),
        "confirm_near": st.one_of(st.none(), st.integers(0, 10)),
        "hours": st.one_of(st.none(), st.tuples(st.integers(0, 22), st.integers(1, 23))),
        "expires_h": st.integers(1, 1000),
    }
)

actions = st.one_of(
    st.builds(
        lambda to, n: near_transfer(to, n * YOCTO // 2), st.sampled_from(PEOPLE), st.integers(1, 30)
    ),
    st.builds(
        lambda to, n: ft_transfer(USDC, to, n * 10**6), st.sampled_from(PEOPLE), st.integers(1, 200)
    ),
)


def _grant(spec: dict, **tighter) -> ActiveGrant:
    s = {**spec, **tighter}
    per_action = {}
    # A limit on a token outside the allowlist never applies (and grants refuse it): leave it out.
    if s["near_cap"] is not None and "NEAR" in s["tokens"]:
        per_action["NEAR"] = str(s["near_cap"])
    if s["usdc_cap"] is not None and "USDC" in s["tokens"]:
        per_action["USDC"] = str(s["usdc_cap"])
    g = {
        "id": "g",
        "kinds": ["transfer"],
        "recipients": s["recipients"],
        "tokens": s["tokens"],
        "per_action": per_action,
        "expires_at": (START + timedelta(hours=s["expires_h"])).isoformat(),
    }
    if s["usd_cap"] is not None:
        g["per_action_usd"] = str(s["usd_cap"])
    if s["confirm_near"] is not None and "NEAR" in s["tokens"]:
        g["confirm"] = {"above": {"NEAR": str(s["confirm_near"])}}
    if s["hours"] is not None:
        a, b = sorted(s["hours"])
        g["hours_utc"] = [f"{a:02d}:00-{max(b, a + 1):02d}:00"]
    doc = grants_doc(g)
    doc["grants"][0]["expires_at"] = g["expires_at"]
    return ActiveGrant(parse_grants(doc).grants[0], 1)


def _decide(action, grant: ActiveGrant, revoked: bool = False, now=START) -> str:
    prices = Prices(Clock(now))
    if revoked:
        grant = ActiveGrant(grant.grant, grant.version, revoked=True)
    return evaluate(
        action, [grant], now=now, state=NoState(), facts=FACTS, prices=prices, quotes=Quotes(prices)
    ).outcome


def _tighten(spec: dict, data) -> dict:
    t = dict(spec)
    t["recipients"] = data.draw(
        st.lists(st.sampled_from(spec["recipients"]), unique=True)
        if spec["recipients"]
        else st.just([])
    )
    t["tokens"] = data.draw(
        st.lists(st.sampled_from(spec["tokens"]), unique=True) if spec["tokens"] else st.just([])
    )
    # No cap on a token means "no authority" unless a USD cap covers it, so a tighter grant may
    # lower any cap, and add a base-unit cap only where a USD cap already applies.
    t["usd_cap"] = None if spec["usd_cap"] is None else data.draw(st.integers(0, spec["usd_cap"]))
    for key in ("near_cap", "usdc_cap"):
        if spec[key] is not None:
            t[key] = data.draw(st.integers(0, spec[key]))
        elif spec["usd_cap"] is not None:
            t[key] = data.draw(st.one_of(st.none(), st.integers(0, 100)))
    if spec["confirm_near"] is not None:
        t["confirm_near"] = data.draw(st.integers(0, spec["confirm_near"]))
    else:
        t["confirm_near"] = data.draw(st.one_of(st.none(), st.integers(0, 10)))
    t["expires_h"] = data.draw(st.integers(1, spec["expires_h"]))
    if spec["hours"] is None:
        t["hours"] = data.draw(
            st.one_of(st.none(), st.tuples(st.integers(0, 22), st.integers(1, 23)))
        )
    return t


@settings(max_examples=400, deadline=None)
@given(grant_specs, actions, st.data(), st.integers(0, 30 * 24))
def test_tightening_a_grant_never_turns_deny_into_allow(spec, action, data, hours) -> None:
    now = START + timedelta(hours=hours)
    before = _decide(action, _grant(spec), now=now)
    after = _decide(action, _grant(_tighten(spec, data)), now=now)
    # at least as strict: DENY stays DENY and CONFIRM never becomes ALLOW
    if before == DENY:
        assert after == DENY
    assert _RANK[after] >= _RANK[before]


@settings(max_examples=200, deadline=None)
@given(grant_specs, actions, st.integers(0, 2000), st.booleans())
def test_revoked_or_expired_grants_always_deny(spec, action, hours, revoke) -> None:
    grant = _grant(spec)
    now = START + timedelta(hours=hours)
    if not revoke and now < grant.grant.expires_at:
        now = grant.grant.expires_at + timedelta(seconds=hours)
    assert _decide(action, grant, revoked=revoke, now=now) == DENY
