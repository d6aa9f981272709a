"""Workers: each consumer's window, threads, delivery, retries and supervision.

No code here; each module's docstring names the thread(s) its code runs on.
"""
