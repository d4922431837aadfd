"""Request and response bodies of the feature proxy.

`OnlineFeaturesRequest` is the subset of Feast's `/get-online-features` body that the proxy accepts.
Unknown keys are a 422 (extra="forbid"), except `features`, which the route refuses with a 403 first:
naming raw features is a policy refusal, not a malformed request, and the client should be told so.
"""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints, model_validator

MAX_ENTITY_KEYS = 4
MAX_ENTITY_ROWS = 100
MAX_ENTITY_VALUE_LENGTH = 200

JoinKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")]
EntityValue = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ENTITY_VALUE_LENGTH)] | StrictInt
EntityValues = Annotated[list[EntityValue], Field(min_length=1, max_length=MAX_ENTITY_ROWS)]


class OnlineFeaturesRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    feature_service: str = Field(min_length=1, max_length=200, description="An allow-listed feature service.")
    entities: dict[JoinKey, EntityValues] = Field(
        min_length=1,
        max_length=MAX_ENTITY_KEYS,
        description=f'Join key → values, e.g. {{"sms_id": ["sms10001"]}}; at most {MAX_ENTITY_ROWS} rows.',
    )
    full_feature_names: bool = False

    @model_validator(mode="after")
    def _rows_line_up(self) -> "OnlineFeaturesRequest":
        # Feast zips the lists into rows; unequal lengths would fail upstream with a 500.
        if len({len(values) for values in self.entities.values()}) > 1:
            raise ValueError("every entity list must have the same length")
        return self
