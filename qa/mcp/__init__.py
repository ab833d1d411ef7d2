"""The documents as tools for agents, over the Model Context Protocol (the official ``mcp`` SDK).

``qa mcp`` serves them over stdio (desktop agents start it); ``python app.py`` and ``qa serve``
serve them over streamable HTTP at ``/mcp``, behind the app's host guard and login.
Tools: ``search``, ``ask``, ``list_documents``, ``read_passage``, ``read_page``.
"""
