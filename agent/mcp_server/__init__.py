"""``near-agent mcp``: the agent's policy-guarded tools for any MCP client.

Parts, one concept each: ``tool_table`` (what is offered, schemas derived from the tools' own
argument models), ``calls`` (every call through the executor's prepare -> policy ->
confirmation -> execute -> settle -> audit path), ``approval`` (a CONFIRM asked through MCP
elicitation, else filed in the approval inbox), ``client_audit`` (each audit entry tagged with
the client), ``resources`` (grants with budget left, recent audit entries), ``server`` (the
SDK's low-level server wired to them) and ``transports`` (stdio; streamable HTTP on 127.0.0.1
behind a bearer token). Nothing here imports the SDK at module level of ``agent.cli``.
"""
