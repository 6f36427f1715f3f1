"""Run the slowest tests first, so that the workers finish together (pytest-xdist hands out tests
in collection order) rather than one waiting on a long test picked up at the end."""


def pytest_collection_modifyitems(session, config, items):
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
