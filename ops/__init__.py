"""Operations: the platform's topology (ops.topology) and the processes that run it (ops.processes,
ops.supervisor). `scripts/launch.py`, the benchmarks and the end-to-end tests all start services from here."""
