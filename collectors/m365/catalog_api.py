"""The one Graph beta endpoint ClauseWatch reads, described for kiota: the Windows Update catalog.

``GET /beta/admin/windows/updates/catalog/entries`` exists only in beta. Rather than install the
whole generated beta SDK (msgraph-beta-sdk: ~680 MB, tens of thousands of modules) for one call,
this module declares what kiota's generator would have produced for it: a request builder (URL
template, OData query parameters, ``get``, ``with_url`` for ``@odata.nextLink``) and ``Parsable``
models of the fields read (``catalogEntry``, ``qualityUpdateCatalogEntry``, ``productRevision``,
``buildVersionDetails``, ``knowledgeBaseArticle``, ``cveSeverityInformation``). They run on a
msgraph-core ``BaseGraphRequestAdapter`` whose base URL is ``.../beta`` (``clients.graph_beta``),
so the request goes through the same authentication, middleware (bounded retry, body
inspection) and error mapping (``ODataError``) as every v1.0 call. Fields not declared here land
in ``additional_data``; enums are kept as their wire strings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kiota_abstractions.base_request_builder import BaseRequestBuilder
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_abstractions.method import Method
from kiota_abstractions.request_adapter import RequestAdapter
from kiota_abstractions.request_information import RequestInformation
from kiota_abstractions.serialization import (
    AdditionalDataHolder,
    Parsable,
    ParsableFactory,
    ParseNode,
    SerializationWriter,
)
from msgraph.generated.models.o_data_errors.o_data_error import ODataError

Deserializers = dict[str, Callable[[ParseNode], None]]
QUALITY_TYPE = "#microsoft.graph.windowsUpdates.qualityUpdateCatalogEntry"


@dataclass
class KnowledgeBaseArticle(AdditionalDataHolder, Parsable):
    """``microsoft.graph.windowsUpdates.knowledgeBaseArticle``: ``id`` is the KB number."""

    additional_data: dict[str, Any] = field(default_factory=dict)
    id: str | None = None
    url: str | None = None

    @staticmethod
    def create_from_discriminator_value(parse_node: ParseNode) -> KnowledgeBaseArticle:
        return KnowledgeBaseArticle()

    def get_field_deserializers(self) -> Deserializers:
        return {"id": lambda n: setattr(self, "id", n.get_str_value()),
                "url": lambda n: setattr(self, "url", n.get_str_value())}

    def serialize(self, writer: SerializationWriter) -> None:
        writer.write_str_value("id", self.id)
        writer.write_str_value("url", self.url)
        writer.write_additional_data_value(self.additional_data)


@dataclass
class BuildVersionDetails(AdditionalDataHolder, Parsable):
    """``microsoft.graph.windowsUpdates.buildVersionDetails``: 10.0.22631.4317 in parts."""

    additional_data: dict[str, Any] = field(default_factory=dict)
    major_version: int | None = None
    minor_version: int | None = None
    build_number: int | None = None
    update_build_revision: int | None = None

    _WIRE = {"majorVersion": "major_version", "minorVersion": "minor_version",
             "buildNumber": "build_number", "updateBuildRevision": "update_build_revision"}

    @staticmethod
    def create_from_discriminator_value(parse_node: ParseNode) -> BuildVersionDetails:
        return BuildVersionDetails()

    def get_field_deserializers(self) -> Deserializers:
        def setter(attr: str) -> Callable[[ParseNode], None]:
            return lambda n: setattr(self, attr, n.get_int_value())

        return {wire: setter(attr) for wire, attr in self._WIRE.items()}

    def serialize(self, writer: SerializationWriter) -> None:
        for wire, attr in self._WIRE.items():
            writer.write_int_value(wire, getattr(self, attr))
        writer.write_additional_data_value(self.additional_data)


@dataclass
class ProductRevision(AdditionalDataHolder, Parsable):
    """``microsoft.graph.windowsUpdates.productRevision``: one build a quality update produced."""

    additional_data: dict[str, Any] = field(default_factory=dict)
    id: str | None = None  # the full build, e.g. 10.0.22631.4317
    display_name: str | None = None
    release_date_time: datetime | None = None
    product: str | None = None
    version: str | None = None
    os_build: BuildVersionDetails | None = None
    knowledge_base_article: KnowledgeBaseArticle | None = None

    @staticmethod
    def create_from_discriminator_value(parse_node: ParseNode) -> ProductRevision:
        return ProductRevision()

    def get_field_deserializers(self) -> Deserializers:
        return {
            "id": lambda n: setattr(self, "id", n.get_str_value()),
            "displayName": lambda n: setattr(self, "display_name", n.get_str_value()),
            "releaseDateTime": lambda n: setattr(self, "release_date_time",
                                                 n.get_datetime_value()),
            "product": lambda n: setattr(self, "product", n.get_str_value()),
            "version": lambda n: setattr(self, "version", n.get_str_value()),
            "osBuild": lambda n: setattr(self, "os_build",
                                         n.get_object_value(BuildVersionDetails)),
            "knowledgeBaseArticle": lambda n: setattr(self, "knowledge_base_article",
                                                      n.get_object_value(KnowledgeBaseArticle)),
        }

    def serialize(self, writer: SerializationWriter) -> None:
        writer.write_str_value("id", self.id)
        writer.write_str_value("displayName", self.display_name)
        writer.write_datetime_value("releaseDateTime", self.release_date_time)
        writer.write_str_value("product", self.product)
        writer.write_str_value("version", self.version)
        writer.write_object_value("osBuild", self.os_build)
        writer.write_object_value("knowledgeBaseArticle", self.knowledge_base_article)
        writer.write_additional_data_value(self.additional_data)


@dataclass
class CveInformation(AdditionalDataHolder, Parsable):
    """``microsoft.graph.windowsUpdates.cveInformation``."""

    additional_data: dict[str, Any] = field(default_factory=dict)
    number: str | None = None
    url: str | None = None

    @staticmethod
    def create_from_discriminator_value(parse_node: ParseNode) -> CveInformation:
        return CveInformation()

    def get_field_deserializers(self) -> Deserializers:
        return {"number": lambda n: setattr(self, "number", n.get_str_value()),
                "url": lambda n: setattr(self, "url", n.get_str_value())}

    def serialize(self, writer: SerializationWriter) -> None:
        writer.write_str_value("number", self.number)
        writer.write_str_value("url", self.url)
        writer.write_additional_data_value(self.additional_data)


@dataclass
class CveSeverityInformation(AdditionalDataHolder, Parsable):
    """``microsoft.graph.windowsUpdates.cveSeverityInformation``; ``max_severity`` is the wire
    string of ``cveSeverityLevel`` (critical, important, moderate, low, unknownFutureValue)."""

    additional_data: dict[str, Any] = field(default_factory=dict)
    max_severity: str | None = None
    max_base_score: float | None = None
    exploited_cves: list[CveInformation] | None = None

    @staticmethod
    def create_from_discriminator_value(parse_node: ParseNode) -> CveSeverityInformation:
        return CveSeverityInformation()

    def get_field_deserializers(self) -> Deserializers:
        return {
            "maxSeverity": lambda n: setattr(self, "max_severity", n.get_str_value()),
            "maxBaseScore": lambda n: setattr(self, "max_base_score", n.get_float_value()),
            "exploitedCves": lambda n: setattr(
                self, "exploited_cves", n.get_collection_of_object_values(CveInformation)),
        }

    def serialize(self, writer: SerializationWriter) -> None:
        writer.write_str_value("maxSeverity", self.max_severity)
        writer.write_float_value("maxBaseScore", self.max_base_score)
        writer.write_collection_of_object_values("exploitedCves", self.exploited_cves)
        writer.write_additional_data_value(self.additional_data)


@dataclass
class CatalogEntry(AdditionalDataHolder, Parsable):
    """``microsoft.graph.windowsUpdates.catalogEntry``; feature, driver and other entry types
    stay this base class (their own fields in ``additional_data``)."""

    additional_data: dict[str, Any] = field(default_factory=dict)
    id: str | None = None
    odata_type: str | None = None
    display_name: str | None = None
    release_date_time: datetime | None = None
    deployable_until_date_time: datetime | None = None

    @staticmethod
    def create_from_discriminator_value(parse_node: ParseNode) -> CatalogEntry:
        """A ``QualityUpdateCatalogEntry`` when ``@odata.type`` says so, else a ``CatalogEntry``."""
        node = parse_node.get_child_node("@odata.type")
        kind = node.get_str_value() if node else None
        if kind and kind.casefold() == QUALITY_TYPE.casefold():
            return QualityUpdateCatalogEntry()
        return CatalogEntry()

    def get_field_deserializers(self) -> Deserializers:
        return {
            "id": lambda n: setattr(self, "id", n.get_str_value()),
            "@odata.type": lambda n: setattr(self, "odata_type", n.get_str_value()),
            "displayName": lambda n: setattr(self, "display_name", n.get_str_value()),
            "releaseDateTime": lambda n: setattr(self, "release_date_time",
                                                 n.get_datetime_value()),
            "deployableUntilDateTime": lambda n: setattr(self, "deployable_until_date_time",
                                                         n.get_datetime_value()),
        }

    def serialize(self, writer: SerializationWriter) -> None:
        writer.write_str_value("id", self.id)
        writer.write_str_value("@odata.type", self.odata_type)
        writer.write_str_value("displayName", self.display_name)
        writer.write_datetime_value("releaseDateTime", self.release_date_time)
        writer.write_datetime_value("deployableUntilDateTime", self.deployable_until_date_time)
        writer.write_additional_data_value(self.additional_data)


@dataclass
class QualityUpdateCatalogEntry(CatalogEntry):
    """``microsoft.graph.windowsUpdates.qualityUpdateCatalogEntry``; ``quality_update_
    classification`` is the wire string (security, nonSecurity, all, unknownFutureValue)."""

    catalog_name: str | None = None
    short_name: str | None = None
    is_expeditable: bool | None = None
    quality_update_classification: str | None = None
    quality_update_cadence: str | None = None
    cve_severity_information: CveSeverityInformation | None = None
    product_revisions: list[ProductRevision] | None = None

    def get_field_deserializers(self) -> Deserializers:
        return {
            **super().get_field_deserializers(),
            "catalogName": lambda n: setattr(self, "catalog_name", n.get_str_value()),
            "shortName": lambda n: setattr(self, "short_name", n.get_str_value()),
            "isExpeditable": lambda n: setattr(self, "is_expeditable", n.get_bool_value()),
            "qualityUpdateClassification": lambda n: setattr(
                self, "quality_update_classification", n.get_str_value()),
            "qualityUpdateCadence": lambda n: setattr(self, "quality_update_cadence",
                                                      n.get_str_value()),
            "cveSeverityInformation": lambda n: setattr(
                self, "cve_severity_information", n.get_object_value(CveSeverityInformation)),
            "productRevisions": lambda n: setattr(
                self, "product_revisions", n.get_collection_of_object_values(ProductRevision)),
        }

    def serialize(self, writer: SerializationWriter) -> None:
        writer.write_str_value("catalogName", self.catalog_name)
        writer.write_str_value("shortName", self.short_name)
        writer.write_bool_value("isExpeditable", self.is_expeditable)
        writer.write_str_value("qualityUpdateClassification", self.quality_update_classification)
        writer.write_str_value("qualityUpdateCadence", self.quality_update_cadence)
        writer.write_object_value("cveSeverityInformation", self.cve_severity_information)
        writer.write_collection_of_object_values("productRevisions", self.product_revisions)
        super().serialize(writer)


@dataclass
class CatalogEntryCollectionResponse(AdditionalDataHolder, Parsable):
    """One page of catalog entries."""

    additional_data: dict[str, Any] = field(default_factory=dict)
    odata_next_link: str | None = None
    value: list[CatalogEntry] | None = None

    @staticmethod
    def create_from_discriminator_value(parse_node: ParseNode) -> CatalogEntryCollectionResponse:
        return CatalogEntryCollectionResponse()

    def get_field_deserializers(self) -> Deserializers:
        return {
            "@odata.nextLink": lambda n: setattr(self, "odata_next_link", n.get_str_value()),
            "value": lambda n: setattr(self, "value",
                                       n.get_collection_of_object_values(CatalogEntry)),
        }

    def serialize(self, writer: SerializationWriter) -> None:
        writer.write_str_value("@odata.nextLink", self.odata_next_link)
        writer.write_collection_of_object_values("value", self.value)
        writer.write_additional_data_value(self.additional_data)


class CatalogEntriesRequestBuilder(BaseRequestBuilder):
    """``/admin/windows/updates/catalog/entries`` on an adapter whose base URL is ``.../beta``."""

    URL_TEMPLATE = ("{+baseurl}/admin/windows/updates/catalog/entries"
                    "{?%24expand,%24filter,%24orderby,%24select,%24skip,%24top}")

    def __init__(self, request_adapter: RequestAdapter,
                 path_parameters: str | dict[str, Any] | None = None) -> None:
        super().__init__(request_adapter, self.URL_TEMPLATE, path_parameters)

    @dataclass
    class GetQueryParameters:
        """OData query options, named as kiota's generated builders name them."""

        expand: list[str] | None = None
        filter: str | None = None
        orderby: list[str] | None = None
        select: list[str] | None = None
        skip: int | None = None
        top: int | None = None

        def get_query_parameter(self, original_name: str) -> str:
            return f"%24{original_name}"

    async def get(self, request_configuration: RequestConfiguration[GetQueryParameters] | None
                  = None) -> CatalogEntryCollectionResponse | None:
        """One page of entries; a Graph error raises ``ODataError`` (an ``APIError``)."""
        request_info = self.to_get_request_information(request_configuration)
        errors: dict[str, type[ParsableFactory]] = {"XXX": ODataError}
        return await self.request_adapter.send_async(
            request_info, CatalogEntryCollectionResponse, errors)

    def to_get_request_information(
            self, request_configuration: RequestConfiguration[GetQueryParameters] | None = None
    ) -> RequestInformation:
        request_info = RequestInformation(Method.GET, self.url_template, self.path_parameters)
        request_info.configure(request_configuration)
        request_info.headers.try_add("Accept", "application/json")
        return request_info

    def with_url(self, raw_url: str) -> CatalogEntriesRequestBuilder:
        """The same request on an absolute URL (an ``@odata.nextLink``)."""
        return CatalogEntriesRequestBuilder(self.request_adapter, raw_url)
