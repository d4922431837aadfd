"""Model-serving API (:8000): one router per model version, built by `router_factory`."""
