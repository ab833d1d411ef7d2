"""The HTTP surface: one server for the OpenAI-compatible API and the chat page.

hosts.py       the DNS-rebinding guard: 403 for a foreign Host or Origin
api.py         the OpenAI-compatible /v1 API (chat completions, models = collections)
server.py      the one server: host guard, login, /v1 API, the chat page mounted at /
"""
