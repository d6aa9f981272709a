"""Built-in consumer plugins: small, real consumers for the demo, tests and operators.

Each runs on its own worker threads like any plugin (see ``hub.consumer``).
"""
