"""A small MCP server on the official Python SDK 2.x, for Switchboard's tester tests.

Run: python py_server.py  (stdio). It offers a tool with structured output, a resource, a
resource template and a prompt, and speaks whatever revision the SDK negotiates (2026-07-28
with a client that sends server/discover).
"""

from pydantic import BaseModel

from mcp.server.mcpserver import Context, MCPServer

server = MCPServer("py-fixture", instructions="A Python SDK 2.x fixture for Switchboard's tests.")


class Sum(BaseModel):
    total: int
    terms: list[int]


@server.tool(description="Add two integers")
def add(a: int, b: int) -> Sum:
    return Sum(total=a + b, terms=[a, b])


@server.tool(description="Greet someone")
def greet(name: str, excited: bool = False) -> str:
    return f"Hello, {name}{'!' if excited else '.'}"


@server.tool(description="Logs a message to the client, then answers")
async def noisy(ctx: Context) -> str:
    await ctx.info("working on it")
    return "done"


@server.resource("notes://today", mime_type="text/plain", description="Today's note")
def today() -> str:
    return "Water the plants."


@server.resource("notes://day/{day}", mime_type="text/plain", description="A day's note")
def day(day: str) -> str:
    return f"Note for {day}."


@server.prompt(description="Summarise a topic")
def summarise(topic: str) -> str:
    return f"Please summarise {topic} in three sentences."


if __name__ == "__main__":
    server.run()
