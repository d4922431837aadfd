import os

# Before any settings module is imported: the suite never reads a developer's .env (see training/settings.py);
# service processes the tests start inherit this.
os.environ["SPAMOPS_ENV_FILE"] = ""

pytest_plugins = ["tests.fixtures.platform", "tests.fixtures.cassandra"]
