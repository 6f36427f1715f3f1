"""Run the slowest tests first, so that the workers finish together (pytest-xdist hands out tests
in collection order) rather than one waiting on a long test picked up at the end.

No app a test makes, nor a server it starts, runs a webhook delivery thread unless the test asks
for one: such a thread would outlive its test and its database (tests deliver by hand).
"""

import os
import signal

os.environ["OPENSPACES_WEBHOOK_DELIVERY"] = "0"

# A run that a shell started in the background ignores Ctrl+C (SIGINT), and so would every server
# the tests start, and stop with Ctrl+C: each would wait out its stop's timeout and be killed.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_collection_modifyitems(session, config, items):
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
