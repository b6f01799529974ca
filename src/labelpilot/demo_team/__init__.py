"""The demo's simulated annotators: the effort model's workflows worked live through the HTTP API.

Top layer (beside ``cli`` and ``web``): it talks to a running server over HTTP only, never to the
services or the store, so what it does is exactly what a browser could do.
"""
