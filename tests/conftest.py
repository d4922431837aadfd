pytest_plugins = ["tests.fixtures.platform", "tests.fixtures.cassandra"]
