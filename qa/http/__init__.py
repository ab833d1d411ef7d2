"""The HTTP surface: one server for the OpenAI-compatible API and the chat page.

hosts.py       the DNS-rebinding guard: 403 for a foreign Host or Origin
api.py         the OpenAI-compatible /v1 API (chat completions, models = collections)
tied.py        answers whose model calls are cut when their client hangs up
server.py      the one server: host guard, login, /v1 API, the chat page mounted at /
"""
