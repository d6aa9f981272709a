"""Workers: each consumer's window, threads, delivery, retries and supervision."""
