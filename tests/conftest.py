"""Run the slowest tests first, so that the workers finish together (pytest-xdist hands out tests
in collection order) rather than one waiting on a long test picked up at the end.

No app a test makes, nor a server it starts, runs a webhook delivery thread unless the test asks
for one: such a thread would outlive its test and its database (tests deliver by hand).
"""

import os

os.environ["OPENSPACES_WEBHOOK_DELIVERY"] = "0"


def pytest_collection_modifyitems(session, config, items):
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
