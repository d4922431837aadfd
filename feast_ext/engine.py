"""Feast's local compute engine, handing Arrow batches to online stores that write them (Feast 0.67.0).

Feast's local engine turns every materialized batch into protos (`_convert_arrow_to_proto`) before it calls
the online store, which cost 70 % of materialization. This subclass differs in its output node only: when the
online store can write an Arrow batch itself (`ArrowOnlineWriter`, our SQLite store), the batch goes there,
and the store builds its rows column by column (feast_ext/arrow_rows.py). When the store cannot, or declines
a batch whose columns it does not encode, the node converts and writes as Feast does. The offline write, the
source read, filters and dedup are Feast's.

Named in feature_store.yaml as `batch_engine: {type: feast_ext.engine.ArrowLocalComputeEngine}`.
"""

from collections.abc import Callable
from typing import Any, Literal, Protocol, runtime_checkable

import pyarrow as pa
from feast.feature_view import FeatureView
from feast.infra.common.materialization_job import MaterializationJobStatus, MaterializationTask
from feast.infra.compute_engines.dag.context import ExecutionContext
from feast.infra.compute_engines.local.arrow_table_value import ArrowTableValue
from feast.infra.compute_engines.local.compute import LocalComputeEngine, LocalComputeEngineConfig
from feast.infra.compute_engines.local.feature_builder import LocalFeatureBuilder
from feast.infra.compute_engines.local.job import LocalMaterializationJob
from feast.infra.compute_engines.local.nodes import LocalOutputNode
from feast.infra.registry.base_registry import BaseRegistry
from feast.repo_config import RepoConfig
from feast.utils import _convert_arrow_to_proto, _validate_vector_field_lengths
from feast.value_type import ValueType


@runtime_checkable
class ArrowOnlineWriter(Protocol):
    def online_write_arrow(
        self, config: RepoConfig, table: FeatureView, batch: pa.RecordBatch, join_keys: dict[str, ValueType]
    ) -> bool:
        """Write `batch` as Feast's conversion would have; False (nothing written) if it cannot."""
        ...

    def online_write_batch(self, config: RepoConfig, table: FeatureView, data: list[Any],
                           progress: Callable[[int], Any] | None) -> None: ...


class ArrowLocalComputeEngineConfig(LocalComputeEngineConfig):
    type: Literal["feast_ext.engine.ArrowLocalComputeEngine"] = "feast_ext.engine.ArrowLocalComputeEngine"  # type: ignore[assignment]


class ArrowLocalComputeEngine(LocalComputeEngine):
    def _materialize_one(
        self, registry: BaseRegistry, task: MaterializationTask, **kwargs: object
    ) -> LocalMaterializationJob:
        job_id = f"{task.feature_view.name}-{task.start_time}-{task.end_time}"
        context = self.get_execution_context(registry, task)
        try:
            ArrowFeatureBuilder(registry, task, backend=self._get_backend(context)).build().execute(context)
        except Exception as error:  # as Feast's engine: the provider raises the job's error
            return LocalMaterializationJob(job_id=job_id, status=MaterializationJobStatus.ERROR, error=error)
        return LocalMaterializationJob(job_id=job_id, status=MaterializationJobStatus.SUCCEEDED)


class ArrowFeatureBuilder(LocalFeatureBuilder):
    def build_output_nodes(self, view: object, input_node: object) -> "ArrowOutputNode":
        # as Feast's builder: a plain FeatureView reaches the output node too
        node = ArrowOutputNode("output", self.dag_root.view, inputs=[input_node])  # type: ignore[arg-type]
        self.nodes.append(node)
        return node


class ArrowOutputNode(LocalOutputNode):
    def execute(self, context: ExecutionContext) -> ArrowTableValue:
        store = context.online_store
        if not (self.feature_view.online and isinstance(store, ArrowOnlineWriter)):
            return super().execute(context)
        table = self.get_single_table(context).data
        output = ArrowTableValue(data=table)
        context.node_outputs[self.name] = output
        if table.num_rows == 0:
            return output
        config = context.repo_config
        write_online(store, config, self.feature_view, table)
        if self.feature_view.offline:
            context.offline_store.offline_write_batch(
                config=config, feature_view=self.feature_view, table=table, progress=lambda _: None
            )
        return output


def write_online(store: ArrowOnlineWriter, config: RepoConfig, view: FeatureView, table: pa.Table) -> None:
    """Write `table` to the online store in Arrow batches; a batch the store declines goes through Feast's protos."""
    join_keys = {entity.name: entity.dtype.to_value_type() for entity in view.entity_columns}
    for batch in table.combine_chunks().to_batches(config.materialization_config.online_write_batch_size):
        _validate_vector_field_lengths(batch, view)
        if not store.online_write_arrow(config, view, batch, join_keys):
            rows = _convert_arrow_to_proto(batch, view, join_keys)
            store.online_write_batch(config=config, table=view, data=rows, progress=None)
