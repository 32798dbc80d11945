"""Typed errors of the action layer.

Every error carries a stable ``code`` (machine-readable, for the planner, the policy engine and the
audit log) and a message a user can act on. Nothing here holds key material.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class UnusableFile(Exception):
    """A file the agent needs is missing, damaged or invalid; nothing was done with it.

    Not a ToolError: no step can work around it, so it is never reported as one step's failure
    but stops the command, which the CLI renders once (the file, what is wrong, what to do) and
    exits 2. Declared here, the lowest layer, so that tools/ (the nonce ledger) and memory/
    (databases, user files) raise the same class.
    """

    def __init__(self, path: Path | str, problem: str, remedy: str) -> None:
        super().__init__(f"{path}: {problem}\n{remedy}")
        self.path = str(path)
        self.problem = problem
        self.remedy = remedy


class ToolError(Exception):
    """Base class: something the user (or the planner) asked for cannot be done as asked."""

    code = "tool_error"
    result: Any = None  # the partial ToolResult when a step of an execution failed

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **_jsonable(self.details)}


def _jsonable(details: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (v if isinstance(v, str | int | bool | list | dict | None) else str(v))
        for k, v in details.items()
    }


class AmountError(ToolError, ValueError):
    """An amount text is not a valid amount for this token; ``text`` is what was given."""

    code = "invalid_amount"

    def __init__(self, message: str, text: Any) -> None:
        super().__init__(message, text=repr(text))
        self.text = text


class UnknownTokenError(ToolError):
    code = "unknown_token"


class UnknownAccountError(ToolError):
    code = "unknown_account"


class InvalidAccountIdError(ToolError):
    code = "invalid_account_id"


class InsufficientBalanceError(ToolError):
    code = "insufficient_balance"


class CredentialsError(ToolError):
    """A key file is missing, unreadable or for another account. Never includes the key."""

    code = "credentials"


class NetworkConfigError(ToolError):
    code = "network_config"


class NotConfiguredError(ToolError):
    """The network has no contract for this tool (no exchange, no tasks contract, ...)."""

    code = "not_configured"


class RpcError(ToolError):
    """The node answered with an error that is not about the transaction's content."""

    code = "rpc_error"


class TransientRpcError(RpcError):
    """Connection refused/reset, HTTP 5xx, node timeout: retrying may succeed."""

    code = "rpc_unavailable"


class ViewCallError(ToolError):
    """A view call failed inside the contract (panic, missing method, bad arguments)."""

    code = "view_failed"


class ContractAnswerError(ViewCallError):
    """A view answered with a value its standard does not allow (a NEP-141 balance of ``-5``)."""

    code = "bad_contract_answer"


class InvalidTransactionError(ToolError):
    """The node refused the transaction before executing it (nothing happened on chain)."""

    code = "invalid_transaction"


class UnknownAccessKeyError(InvalidTransactionError):
    """The key is not (or no longer) an access key of the account: nothing it signs can land."""

    code = "unknown_access_key"


class TransactionFailedError(ToolError):
    """The transaction or one of its receipts failed. ``outcome`` is the parsed final outcome."""

    code = "transaction_failed"

    def __init__(self, message: str, outcome: Any = None, **details: Any) -> None:
        super().__init__(message, **details)
        self.outcome = outcome


class OutcomeUnknownError(ToolError):
    """A signed transaction was sent but its fate could not be learned; do not resend blindly."""

    code = "outcome_unknown"


class SwapFailedError(ToolError):
    """The swap did not happen (e.g. slippage: the input was refunded); only gas was spent."""

    code = "swap_failed"


class NoRouteError(ToolError):
    code = "no_route"


class AlreadyLabelledError(ToolError):
    code = "already_labelled"


class NothingToClaimError(ToolError):
    code = "nothing_to_claim"


class TaskError(ToolError):
    code = "task_error"
