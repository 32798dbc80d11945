"""Property: whatever a model answers, no fund-moving step survives that the user did not ask for.

Sentences are generated from a small grammar of their own (random recipients, amounts, tokens,
phrasings in English, Japanese and Chinese, one to three clauses, optionally negated, asked, made
hypothetical or quoted), so the expected payments and swaps are known without the planner's help.
Model answers start from the honest plan and are mutated the ways a confused or hostile model
would: fields exchanged between clauses, an amount, token, recipient or direction changed, steps
added, repeated, dropped or reordered, a contact put where a token goes. Each answer goes through
``LLMPlanner.check``, the code every model plan passes; what survives must be an in-order
selection of the sentence's own clauses, equal in every fund-moving field, and nothing at all
from a sentence that is not an instruction. The honest plan (or a narrower one) must pass.
Nothing acts from a message with a part the grammar cannot read, whatever that part says.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from agent.planner import OfflinePlanner
from agent.planner.llm import LLMPlanner
from agent.planner.text import fold_width

PROPERTY = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CONTACTS = {"bob": "bob.test.near", "carol": "carol.test.near", "ref": "ref-friend.test.near"}
RECIPIENTS = ["bob", "carol", "ref", "dave.test.near", "x.near"]
TOKENS = ["NEAR", "USDC", "REF", "wNEAR"]
SAME_ASSET = {frozenset({"NEAR", "wNEAR"})}
AMOUNTS = st.one_of(
    st.sampled_from(["1", "2", "3", "0.5", "10", "2.5"]),
    st.decimals(min_value=Decimal("0.001"), max_value=Decimal(10**6), places=3).map(
        lambda d: f"{d.normalize():f}"
    ),
)
CHECKER = LLMPlanner(
    base_url="http://127.0.0.1:9/v1",
    model="scripted",
    api_key="sk-test",
    max_slippage_bps=100,
    resolve_contact=CONTACTS.get,
)


@dataclass(frozen=True)
class Step:
    """A fund-moving call: for a transfer (recipient, amount, token), for a swap (sold, amount,
    bought)."""

    tool: str
    a: str
    amount: str
    b: str

    def call(self) -> dict[str, Any]:
        if self.tool == "transfer":
            args = {"receiver_id": self.a, "amount": self.amount, "token": self.b}
        else:
            args = {"token_in": self.a, "amount_in": self.amount, "token_out": self.b}
        return {"name": self.tool, "args": args, "id": "c"}

    @staticmethod
    def of(tool: str, args: dict[str, Any]) -> Step:
        if tool == "transfer":
            return Step(tool, args["receiver_id"], args["amount"], args["token"])
        return Step(tool, args["token_in"], args["amount_in"], args["token_out"])

    def same(self, other: Step) -> bool:
        return (self.tool, self.a, self.b) == (other.tool, other.a, other.b) and Decimal(
            self.amount
        ) == Decimal(other.amount)


# How each clause is said: (language, tool) -> templates over {r} {a} {t} / {a} {i} {o}.
TEMPLATES = {
    ("en", "transfer"): ["send {a} {t} to {r}", "pay {r} {a} {t}", "transfer {a} {t} to {r}"],
    ("en", "swap"): [
        "swap {a} {i} to {o}",
        "sell {a} {i} for {o}",
        "buy {o} with {a} {i}",
        "buy {a} {i} worth of {o}",
        "convert {a} {i} into {o}",
    ],
    ("ja", "transfer"): ["{a} {t}を{r}に送って", "{r}に{a} {t}を送って"],
    ("ja", "swap"): ["{a} {i}を{o}に交換して", "{a} {i}で{o}を買って"],
    ("zh", "transfer"): ["给 {r} 转 {a} {t}", "转{a}个{t}给{r}"],
    ("zh", "swap"): ["把 {a} {i} 换成 {o}", "用 {a} {i} 买 {o}"],
}
JOIN = {"en": " and then ", "ja": "から、", "zh": " 然后 "}
MOODS = {
    "en": {
        "negated": ["do not {s}", "don't {s}", "never {s}"],
        "question": ["{s}?", "should I {s}?"],
        "hypothetical": ["if the price drops, {s}", "what if I {s}"],
        "quoted": ['bob wrote "{s}"', "label task 3 as '{s}'"],
    },
    "ja": {
        "negated": ["{s}ないで"],  # the last verb's て is dropped below: 送らないで, 交換しないで
        "question": ["{s}もいいですか"],
        "hypothetical": ["もし価格が上がったら{s}"],
        "quoted": ["bobが「{s}」と言った", "タスク3に「{s}」とラベル付けして"],
    },
    "zh": {
        "negated": ["不要{s}"],
        "question": ["{s}吗", "我能{s}吗？"],
        "hypothetical": ["如果价格涨了就{s}"],
        "quoted": ["bob说“{s}”", "给任务3标注“{s}”"],
    },
}
_JA_NEGATIVE_STEM = {"送って": "送ら", "交換して": "交換し", "買って": "買わ"}


@st.composite
def clause(draw: st.DrawFn, language: str) -> tuple[str, Step]:
    tool = draw(st.sampled_from(["transfer", "swap"]))
    amount = draw(AMOUNTS)
    template = draw(st.sampled_from(TEMPLATES[(language, tool)]))
    if tool == "transfer":
        name, token = draw(st.sampled_from(RECIPIENTS)), draw(st.sampled_from(TOKENS))
        text = template.format(r=name, a=amount, t=token)
        return text, Step(tool, CONTACTS.get(name, name), amount, token)
    sold = draw(st.sampled_from(TOKENS))
    bought = draw(
        st.sampled_from([t for t in TOKENS if t != sold and frozenset({t, sold}) not in SAME_ASSET])
    )
    return template.format(a=amount, i=sold, o=bought), Step(tool, sold, amount, bought)


@st.composite
def sentence(draw: st.DrawFn) -> tuple[str, list[Step], str | None]:
    language = draw(st.sampled_from(["en", "ja", "zh"]))
    clauses = draw(st.lists(clause(language), min_size=1, max_size=3))
    text = JOIN[language].join(c for c, _ in clauses)
    mood = draw(st.sampled_from([None, None, "negated", "question", "hypothetical", "quoted"]))
    if mood is not None:
        template = draw(st.sampled_from(MOODS[language][mood]))
        if language == "ja" and mood == "negated":
            verb = next(v for v in _JA_NEGATIVE_STEM if text.endswith(v))
            text = text[: -len(verb)] + _JA_NEGATIVE_STEM[verb]
        text = template.format(s=text)
    return text, [s for _, s in clauses], mood


def mutate(draw: st.DrawFn, steps: list[Step], truth: list[Step]) -> list[Step]:
    """One change a confused or hostile model might make to a plan."""
    kind = draw(
        st.sampled_from(
            [
                "amount",
                "token",
                "recipient",
                "direction",
                "exchange",
                "add",
                "repeat",
                "contact_for_token",
                "token_for_recipient",
                "tool",
                "drop",
                "reorder",
            ]
        )
    )
    if not steps:
        return [draw(st.sampled_from(truth))]
    i = draw(st.integers(0, len(steps) - 1))
    step = steps[i]
    out = list(steps)
    if kind == "amount":
        out[i] = replace(
            step, amount=draw(AMOUNTS.filter(lambda a: Decimal(a) != Decimal(step.amount)))
        )
    elif kind == "token":
        field = "b" if step.tool == "transfer" else draw(st.sampled_from(["a", "b"]))
        out[i] = replace(step, **{field: draw(st.sampled_from(TOKENS))})
    elif kind == "recipient" and step.tool == "transfer":
        name = draw(st.sampled_from(RECIPIENTS))
        out[i] = replace(step, a=CONTACTS.get(name, name))
    elif kind == "direction" and step.tool == "swap":
        out[i] = replace(step, a=step.b, b=step.a)
    elif kind == "exchange":
        other = steps[draw(st.integers(0, len(steps) - 1))]
        field = draw(st.sampled_from(["a", "amount", "b"]))
        out[i] = replace(step, **{field: getattr(other, field)})
    elif kind == "add":
        extra = draw(st.sampled_from(truth))
        out.insert(draw(st.integers(0, len(out))), extra)
    elif kind == "repeat":
        out.insert(i, step)
    elif kind == "contact_for_token":
        if step.tool == "swap":  # a token's place taken by a contact's name
            out[i] = replace(step, b=draw(st.sampled_from(["bob", "carol", "ref"])))
        else:  # "swap 2 NEAR to REF" paid to the contact named ref
            out[i] = replace(step, a=CONTACTS["ref"])
    elif kind == "token_for_recipient" and step.tool == "swap":
        out[i] = Step("transfer", CONTACTS["ref"], step.amount, step.a)
    elif kind == "tool":
        if step.tool == "swap":
            out[i] = Step("transfer", "bob.test.near", step.amount, step.a)
        else:
            out[i] = Step("swap", step.b, step.amount, "NEAR" if step.b == "USDC" else "USDC")
    elif kind == "drop":
        del out[i]
    elif kind == "reorder" and len(out) > 1:
        out.insert(0, out.pop())
    return out


@st.composite
def answer(draw: st.DrawFn, truth: list[Step]) -> list[Step]:
    steps = list(truth)
    for _ in range(draw(st.integers(0, 3))):
        steps = mutate(draw, steps, truth)
    return steps


def in_order_selection(proposed: list[Step], truth: list[Step]) -> bool:
    """Each proposed step equals a distinct clause of the truth, in the truth's order."""
    position = 0
    for step in proposed:
        while position < len(truth) and not step.same(truth[position]):
            position += 1
        if position == len(truth):
            return False
        position += 1
    return True


@PROPERTY
@given(st.data())
def test_no_ungrounded_fund_moving_step_survives(data: st.DataObject) -> None:
    text, truth, mood = data.draw(sentence())
    proposed = data.draw(answer(truth))
    result = CHECKER.check(text, [s.call() for s in proposed], [], None)
    event("refused" if result.error else f"accepted {len(result.steps)} step(s)")
    survived = [Step.of(s.tool, s.args) for s in result.steps if s.tool in ("transfer", "swap")]
    assert in_order_selection(survived, truth), (text, proposed, result)
    if mood is not None:
        assert survived == [], (text, proposed, result)
        assert result.error, (text, proposed, result)
    elif proposed and in_order_selection(proposed, truth):
        # The honest plan, or a narrower one, is what the user asked: it must pass.
        assert result.error is None, (text, proposed, result.error)
        assert all(s.same(p) for s, p in zip(survived, proposed, strict=True))


# Fail closed: words the grammar cannot read may take back or bound the rest ("just kidding",
# "冗談です", "Bitte nicht."), and no word list can know them all. So whatever follows a request,
# a step acts only when the grammar reads every clause of the message; reading stays free.
READER = OfflinePlanner(contacts=CONTACTS.get)
AFTERTHOUGHTS = st.one_of(
    st.sampled_from(
        ["just kidding", "Nope", "scratch that", "Bitte nicht", "Ne le fais pas", "冗談です",
         "嘘です", "开个玩笑", "lol", "wait", "thanks", "what's my balance", "send 1 NEAR to bob"]
    ),
    st.text(alphabet=st.sampled_from("abcdefgnoptuwxyz 冗談开玩笑です!?"), min_size=1, max_size=20),
)  # fmt: skip
SEPARATORS = {"en": ". ", "ja": "。", "zh": "。"}


@PROPERTY
@given(st.data())
def test_nothing_acts_from_a_message_the_grammar_cannot_read_in_full(data: st.DataObject) -> None:
    language = data.draw(st.sampled_from(["en", "ja", "zh"]))
    head, truth = data.draw(clause(language))
    text = head + SEPARATORS[language] + data.draw(AFTERTHOUGHTS)
    reading = READER.read(text, ellipsis=True)
    fully_read = reading.refusal is None and all(c.refusal is None for c in reading.clauses)
    honest = [truth.call(), {"name": "balance", "args": {}, "id": "b"}]
    result = CHECKER.check(text, honest, [], None)
    event("fully read" if fully_read else "partly unread")
    acting = [s for s in result.steps if s.tool != "balance"]
    if not fully_read:
        assert acting == [] and result.error is not None, (text, result)
        read_only = CHECKER.check(text, honest[1:], [], None)
        assert [s.tool for s in read_only.steps] == ["balance"], (text, read_only.error)


@given(st.characters())
def test_only_width_forms_fold_into_digits(ch: str) -> None:
    """The grammar reads a digit only where the user typed one: ASCII or full-width."""
    folded = fold_width(ch)
    if any("0" <= c <= "9" for c in folded):
        assert ch.isdigit() and (ch.isascii() or ch in "０１２３４５６７８９"), repr(ch)
