pytest_plugins = ["tests.fixtures.platform"]
