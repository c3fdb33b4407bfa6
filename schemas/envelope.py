"""The CloudEvents 1.0 structured-mode envelope every userbus message body is."""

from __future__ import annotations

from typing import Final, Generic, Literal, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from schemas.base import Timestamp

DataT = TypeVar("DataT")

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/cloudevents+json"
DATA_CONTENT_TYPE: Final = "application/json"


class CloudEvent(BaseModel, Generic[DataT]):
    """A CloudEvents 1.0 envelope around one event's payload.

    Extension attributes a host adds (lower-case names, per the CloudEvents spec) are kept.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    specversion: Literal["1.0"]
    id: UUID
    source: str = Field(min_length=1, description="URI-reference naming the chat host.")
    type: str = Field(min_length=1, description="Which userbus event this is.")
    time: Timestamp | None = Field(default=None, description="When the event happened.")
    datacontenttype: Literal["application/json"] = DATA_CONTENT_TYPE
    subject: str | None = Field(default=None, description="The id of the user concerned.")
    data: DataT
