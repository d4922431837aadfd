"""What the rooms agree on: where things are (`contract.paths`) and the feature-store names and schemas
(`contract.feature_store`). Standard library and pyarrow only, so anything may import it cheaply:
`feast apply`, the inbox and the batch jobs get these names without loading scikit-learn."""
