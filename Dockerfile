# One image for every spamops process (the services, feast serve and the one-shot init); see docker-compose.yml.
FROM python:3.11-slim
# Optimised, as ops/topology.py runs every process (OPTIMISED_ENV: Feast's typeguard checks off); pip then
# writes the optimised bytecode those processes load.
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PYTHONOPTIMIZE=1
RUN apt-get update && apt-get install -y --no-install-recommends make && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.lock pyproject.toml ./
RUN pip install -r requirements.lock
COPY . .
RUN pip install --no-deps -e .
