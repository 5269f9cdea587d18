"""The Kafka Connect routes of the agent app (seed 002 and the kcctl-style additions), under
`/api/kafka-connect/`; HQ serves them at `…/environments/{environment}/proxy/api/kafka-connect/`.

Every error of these routes is a `ConnectErrorBody` (the agent app's handlers render them, see
backend/connect/errors.py); what each route can answer is listed on it for the OpenAPI."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from backend.agent.context import Context
from backend.bodies.dependencies import Validated
from backend.bodies.policy import BodyPolicy
from backend.connect.errors import error_responses
from backend.connect.live_routes import ConnectorFeedPositionDep
from backend.connect.models import (
    MAX_FILTERS,
    MAX_LOGGER,
    MAX_NAME,
    ActionResult,
    ConfigUpsertResult,
    ConnectInfo,
    ConnectorConfig,
    ConnectorDetails,
    ConnectorList,
    ConnectorStateAction,
    ConnectorStatusAnswer,
    LoggerLevel,
    LoggerLevelChange,
    NewConnector,
    OffsetsAnswer,
    OffsetsChange,
    OffsetsChanged,
    PluginConfigField,
    PluginList,
    ValidateConnector,
    ValidationResponse,
)
from backend.connect.offsets import ConnectOffsets
from backend.connect.service import ConnectService

# A configuration is at most 1000 keys of 64 KiB (backend/connect/models.py); a body over a MiB
# is not one anybody writes by hand.
BODY_POLICY = BodyPolicy(1024 * 1024, ("application/json",), unsupported_media_status=415,
                         error_schema={"$ref": "#/components/schemas/ConnectErrorBody"})
MAX_TASK = 100_000


def connect_service(context: Context) -> ConnectService:
    return ConnectService(context)


Service = Annotated[ConnectService, Depends(connect_service)]


def connect_offsets(context: Context) -> ConnectOffsets:
    return ConnectOffsets(context)


Offsets = Annotated[ConnectOffsets, Depends(connect_offsets)]
Cluster = Annotated[str, Path(min_length=1, max_length=MAX_NAME, description="A Connect cluster of the environment.")]
Connector = Annotated[str, Path(min_length=1, max_length=MAX_NAME)]
Filter = Annotated[str, Query(min_length=1, max_length=MAX_NAME)]

new_connector = Validated(BODY_POLICY, NewConnector)
validate_connector = Validated(BODY_POLICY, ValidateConnector)
connector_config = Validated(BODY_POLICY, ConnectorConfig)
offsets_change = Validated(BODY_POLICY, OffsetsChange)
logger_change = Validated(BODY_POLICY, LoggerLevelChange)

UPSTREAM = error_responses(502, 504)
ONE = error_responses(400, 404, 502, 504)  # a route about one cluster or connector
router = APIRouter(prefix="/api/kafka-connect", tags=["Kafka Connect"])
CONNECTOR_PATH = "/clusters/{cluster}/connectors/{connector}"


@router.get("/connectors", response_model=ConnectorList, summary="List all connectors",
            description="Every connector of the environment's Connect clusters (one expanded call per cluster, "
                        "all at once); a cluster that does not answer is left out and named in `warnings`.",
            responses=error_responses(400, 404))
async def list_connectors(service: Service, position: ConnectorFeedPositionDep,
                          cluster: Annotated[list[Filter], Query(max_length=MAX_FILTERS)] = [],  # noqa: B006
                          className: Annotated[list[Filter], Query(max_length=MAX_FILTERS)] = []  # noqa: B006
                          ) -> Response:
    answer = await service.list_connectors(cluster, className)
    # The fleet's hot path: serialised once, rather than validated again against response_model
    # (which still documents it), a third of the agent's own time on 200 connectors.
    response = Response(answer.model_dump_json(by_alias=True), media_type="application/json")
    return position.stamp(response)  # where the live feed resumes from: read before the clusters were


@router.post("/connectors", response_model=ConnectorDetails, status_code=201, summary="Create a new connector",
             description="Validated by the worker first: a rejection is a 400 whose `fields` name each bad key. "
                         "`initialState` (KIP-980) creates it RUNNING, PAUSED or STOPPED.",
             responses={**error_responses(400, 404, 409, 502, 504)}, openapi_extra=new_connector.openapi)
async def create_connector(service: Service, body: Annotated[NewConnector, Depends(new_connector)]) -> ConnectorDetails:
    return await service.create(body)


@router.get(CONNECTOR_PATH, response_model=ConnectorDetails, response_model_by_alias=True,
            summary="Get connector details", description="State, tasks (with a FAILED one's trace), masked config.",
            responses=ONE)
async def get_connector(service: Service, cluster: Cluster, connector: Connector) -> ConnectorDetails:
    return await service.details(cluster, connector)


@router.delete(CONNECTOR_PATH, response_model=ActionResult, summary="Delete a connector", responses=ONE)
async def delete_connector(service: Service, cluster: Cluster, connector: Connector) -> ActionResult:
    return await service.delete(cluster, connector)


@router.get(f"{CONNECTOR_PATH}/status", response_model=ConnectorStatusAnswer, summary="Get connector status",
            description="Addition to the seed: the state and tasks without the configuration.", responses=ONE)
async def get_connector_status(service: Service, cluster: Cluster, connector: Connector) -> ConnectorStatusAnswer:
    return await service.status(cluster, connector)


@router.put(f"{CONNECTOR_PATH}/config", response_model=ConfigUpsertResult, summary="Create or update a connector",
            description="Addition to the seed: validated first like a create; a value of \"***\" keeps the stored "
                        "one. 201 when it created the connector, 200 when it updated it.",
            responses={201: {"model": ConfigUpsertResult, "description": "Created"}, **ONE},
            openapi_extra=connector_config.openapi)
async def put_connector_config(service: Service, cluster: Cluster, connector: Connector, response: Response,
                               body: Annotated[ConnectorConfig, Depends(connector_config)]) -> ConfigUpsertResult:
    result = await service.put_config(cluster, connector, body.root)
    response.status_code = 201 if result.created else 200
    return result


@router.put(f"{CONNECTOR_PATH}/tasks/{{task}}/restart", response_model=ActionResult, summary="Restart a task",
            responses=ONE)
async def restart_task(service: Service, cluster: Cluster, connector: Connector,
                       task: Annotated[int, Path(ge=0, le=MAX_TASK)]) -> ActionResult:
    return await service.restart_task(cluster, connector, task)


@router.put(f"{CONNECTOR_PATH}/{{action}}", response_model=ActionResult, summary="Change a connector's state",
            description="`start` (from STOPPED or PAUSED), `stop`, `pause`, `resume`, or `restart` with "
                        "`includeTasks` / `onlyFailed` (KIP-745); `inProgress` says the worker is still restarting.",
            responses=ONE)
async def change_connector_state(service: Service, cluster: Cluster, connector: Connector,
                                 action: ConnectorStateAction,
                                 includeTasks: bool = False, onlyFailed: bool = False
                                 ) -> ActionResult:
    return await service.act(cluster, connector, action, include_tasks=includeTasks, only_failed=onlyFailed)


@router.get(f"{CONNECTOR_PATH}/topics", response_model=list[str], summary="Get connector topics",
            description="The topics the connector has used since its topics were last reset.", responses=ONE)
async def get_connector_topics(service: Service, cluster: Cluster, connector: Connector) -> list[str]:
    return await service.topics(cluster, connector)


@router.get(f"{CONNECTOR_PATH}/offsets", response_model=OffsetsAnswer, summary="Get connector offsets",
            responses=ONE)
async def get_connector_offsets(offsets: Offsets, cluster: Cluster, connector: Connector) -> OffsetsAnswer:
    return await offsets.offsets(cluster, connector)


@router.patch(f"{CONNECTOR_PATH}/offsets", response_model=OffsetsChanged, summary="Alter connector offsets",
              description="Only on a STOPPED connector (KIP-875); otherwise a 400 saying to stop it first.",
              responses=ONE, openapi_extra=offsets_change.openapi)
async def alter_connector_offsets(offsets: Offsets, cluster: Cluster, connector: Connector,
                                  body: Annotated[OffsetsChange, Depends(offsets_change)]) -> OffsetsChanged:
    return await offsets.alter_offsets(cluster, connector, body)


@router.delete(f"{CONNECTOR_PATH}/offsets", response_model=OffsetsChanged, summary="Reset connector offsets",
               description="Only on a STOPPED connector (KIP-875): it starts over when it runs again.",
               responses=ONE)
async def reset_connector_offsets(offsets: Offsets, cluster: Cluster, connector: Connector) -> OffsetsChanged:
    return await offsets.reset_offsets(cluster, connector)


@router.get("/plugins", response_model=PluginList, response_model_by_alias=True, summary="List connector plugins",
            responses=error_responses(400, 404))
async def list_plugins(service: Service,
                       cluster: Annotated[list[Filter], Query(max_length=MAX_FILTERS)] = []  # noqa: B006
                       ) -> PluginList:
    return await service.plugins(cluster)


@router.get("/clusters/{cluster}/connector-plugins/{plugin}/config", response_model=list[PluginConfigField],
            summary="Get a plugin's configuration keys", description="Addition to the seed: each key's definition.",
            responses=ONE)
async def get_plugin_config(service: Service, cluster: Cluster,
                            plugin: Annotated[str, Path(min_length=1, max_length=MAX_NAME)]) -> list[PluginConfigField]:
    return await service.plugin_config(cluster, plugin)


@router.post("/validate", response_model=ValidationResponse, response_model_by_alias=True,
             summary="Validate a connector configuration",
             description="Each key with its errors; secret values masked. \"***\" validates the stored value.",
             responses=ONE, openapi_extra=validate_connector.openapi)
async def validate_connector_config(service: Service, body: Annotated[ValidateConnector, Depends(validate_connector)]
                                    ) -> ValidationResponse:
    return await service.validate(body)


@router.get("/clusters/{cluster}/info", response_model=ConnectInfo, summary="Get Connect cluster info",
            responses=ONE)
async def get_cluster_info(service: Service, cluster: Cluster) -> ConnectInfo:
    return await service.info(cluster)


Logger = Annotated[str, Path(min_length=1, max_length=MAX_LOGGER)]


@router.get("/clusters/{cluster}/loggers", response_model=list[LoggerLevel], summary="List a worker's loggers",
            description="Addition to the seed (KIP-495).", responses=ONE)
async def list_loggers(service: Service, cluster: Cluster) -> list[LoggerLevel]:
    return await service.loggers(cluster)


@router.get("/clusters/{cluster}/loggers/{logger}", response_model=LoggerLevel, summary="Get a logger's level",
            description="Addition to the seed (KIP-495).", responses=ONE)
async def get_logger(service: Service, cluster: Cluster, logger: Logger) -> LoggerLevel:
    return await service.logger(cluster, logger)


@router.put("/clusters/{cluster}/loggers/{logger}", response_model=list[LoggerLevel], summary="Set a logger's level",
            description="Addition to the seed (KIP-495): the loggers whose level changed.", responses=ONE,
            openapi_extra=logger_change.openapi)
async def set_logger(service: Service, cluster: Cluster, logger: Logger,
                     body: Annotated[LoggerLevelChange, Depends(logger_change)]) -> list[LoggerLevel]:
    return await service.set_logger(cluster, logger, body.level)
