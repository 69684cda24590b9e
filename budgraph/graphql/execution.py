"""Running one GraphQL operation, whatever carried it (HTTP or the WebSocket).

``Executor.run`` is the one path from a request to an answer:

1. prepare the document (bounded parse, shape limits, validation; ``limits.py``);
2. pick the operation and refuse what this transport may not run;
3. check every input against its limits (``input_limits.py``);
4. check the caller's scope for the root fields (declared with ``needs(...)``);
5. compute the cost (``cost.py``) and refuse what is over the maximum;
6. charge the cost to the caller's rate-limit budget;
7. execute in a unit of work, under a deadline that cancels the work when it passes;
8. encode the answer (refusing one over the size cap) and commit before it leaves.

A refusal before execution changes nothing; so does any failed execution (rolled back).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import orjson
from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
)
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from budgraph import db
from budgraph.auth.permissions import scope_needed
from budgraph.graphql.compiled import TableShape
from budgraph.graphql.compiled_roots import CompiledRoot
from budgraph.graphql.context import Context, Operation, running
from budgraph.graphql.cost import CostRules, operation_cost
from budgraph.graphql.direct import DirectField, NotDirect, Planner, Prefetched, Writer
from budgraph.graphql.errors import classify
from budgraph.graphql.input_limits import check_inputs
from budgraph.graphql.limits import DocumentPreparer, PreparedDocument, QueryLimits, QueryRefused
from budgraph.graphql.persisted import PersistedQueries
from budgraph.graphql.response_cache import ResponseCache, cache_key, entity_tag, is_cacheable
from budgraph.kit.availability import DatabaseAvailability
from budgraph.kit.direct_reads import DirectReads
from budgraph.kit.errors import BudgraphError, ErrorCode, Forbidden, Unauthenticated, from_integrity_error
from budgraph.kit.unit_of_work import UnitOfWork, read_now
from budgraph.registry.position import PositionReader
from budgraph.registry.repository import RegistryPosition, current_position
from budgraph.settings import Settings

log = logging.getLogger("budgraph.execution")

UNAVAILABLE = "the registry is temporarily unavailable; try again shortly"


@dataclass(frozen=True)
class GraphQLRequest:
    query: str
    variables: dict[str, Any] | None = None
    operation_name: str | None = None
    if_none_match: str | None = None  # a GET's If-None-Match: the answer's ETag it already holds
    get: bool = False  # sent with GET: a registry-versioned answer carries an ETag, cache or not
    persisted_hash: str | None = None  # an automatic persisted query's sha256 (the query may be "")


@dataclass
class Outcome:
    """An answer: its JSON body, and whether it was refused before execution (and why)."""

    body: dict[str, Any]
    encoded: bytes | None = None
    refused: BudgraphError | None = None  # a refusal before or instead of execution
    request_error: bool = False  # a GraphQL request error (parse, validation): no `data`
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None  # of a registry-versioned answer
    not_modified: bool = False  # the client holds this answer already (its ETag matched)

    def encode(self) -> bytes:
        if self.encoded is None:
            self.encoded = encode(self.body)
        return self.encoded


@dataclass
class Executed:
    """What running an operation gave, before it becomes an ``Outcome``."""

    outcome: Outcome
    data: bytes | None = None  # the encoded `data` of an answer without errors
    position: RegistryPosition | None = None  # the snapshot it was computed at


def encode(body: dict[str, Any]) -> bytes:
    return orjson.dumps(body, default=str)


def assemble(data: bytes, extensions: dict[str, Any]) -> bytes:
    """An answer's JSON from its already-encoded `data` (cached answers are stored that way)."""
    return b'{"data":' + data + b',"extensions":' + orjson.dumps(extensions, default=str) + b"}"


def error_body(errors: list[GraphQLError], extensions: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"errors": [classify(error).formatted for error in errors]}
    if extensions:
        body["extensions"] = extensions
    return body


def as_graphql(error: BudgraphError) -> GraphQLError:
    return GraphQLError(error.message, extensions=error.extensions, original_error=error)


def refused(error: BudgraphError, extensions: dict[str, Any] | None = None) -> Outcome:
    return Outcome(body=error_body([as_graphql(error)], extensions), refused=error)


# A hook that charges an operation's cost and says what the caller has left: (identity, cost) ->
# (allowed, headers, extensions). The rate limiter provides it; None means no limit.
Charge = Callable[[Context, int], Awaitable[tuple[BudgraphError | None, dict[str, str], dict[str, Any]]]]


@dataclass(frozen=True)
class Admission:
    """An operation that passed every check before execution."""

    request: GraphQLRequest
    prepared: PreparedDocument
    operation: OperationDefinitionNode
    extensions: dict[str, Any]
    headers: dict[str, str]
    cacheable: bool = False  # its answer is made only of registry-versioned data (cache on or off)


def _root_fields(
    selection_set: SelectionSetNode, prepared: PreparedDocument, seen: frozenset[str] = frozenset()
) -> list[FieldNode]:
    fields: list[FieldNode] = []
    fragments = prepared.fragments()
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            fields.append(selection)
        elif isinstance(selection, InlineFragmentNode):
            fields.extend(_root_fields(selection.selection_set, prepared, seen))
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                fields.extend(_root_fields(fragment.selection_set, prepared, seen | {selection.name.value}))
    return fields


ADMISSIONS_KEPT = 1024  # requests (document, operation, variables) whose input check and cost are kept


class Executor:
    def __init__(
        self,
        schema: Any,
        settings: Settings,
        charge: Charge | None = None,
        availability: DatabaseAvailability | None = None,
        answers: ResponseCache | None = None,
        persisted: PersistedQueries | None = None,
        positions: PositionReader | None = None,
        direct: dict[str, DirectField] | None = None,
        reads: DirectReads | None = None,
        compiled: Mapping[str, CompiledRoot] | None = None,
        shapes: Mapping[str, TableShape] | None = None,
    ) -> None:
        self.schema = schema
        self.reads = reads
        self.answered_directly = 0
        self.positions = positions
        self.answers = answers
        self.persisted = persisted or PersistedQueries()
        self.planner = Planner(schema._schema, direct, compiled, shapes, settings) if direct else None
        self._cacheable: dict[tuple[str, str | None], bool] = {}
        self._admissions: dict[tuple[str, str | None, bytes], tuple[list[BudgraphError], int | None]] = {}
        self.availability = availability or DatabaseAvailability()
        self.graphql_schema: GraphQLSchema = schema._schema
        self.settings = settings
        self.limits = QueryLimits.from_settings(settings)
        self.preparer = DocumentPreparer(self.graphql_schema, self.limits)
        self.cost_rules = CostRules(settings.default_page_size, settings.max_page_size)
        self.charge = charge

    def _scope_refusal(
        self, context: Context, operation: OperationDefinitionNode, prepared: PreparedDocument
    ) -> BudgraphError | None:
        root = self.graphql_schema.get_root_type(operation.operation)
        if root is None:
            return None
        for node in _root_fields(operation.selection_set, prepared):
            definition = root.fields.get(node.name.value)
            strawberry_field = (
                (definition.extensions or {}).get("strawberry-definition") if definition else None
            )
            scope = scope_needed(list(getattr(strawberry_field, "extensions", []) or []))
            if scope is None:
                continue
            try:
                context.require(scope)
            except (Unauthenticated, Forbidden) as error:
                return error
        return None

    async def admit(
        self,
        context: Context,
        request: GraphQLRequest,
        allowed: frozenset[OperationType] = frozenset(OperationType),
        refuse_other: Callable[[OperationType], BudgraphError] | None = None,
    ) -> Admission | Outcome:
        """Everything before execution: an ``Admission`` to run, or the ``Outcome`` that refuses it."""
        if request.persisted_hash is not None:
            known = await self.persisted.resolve(request.persisted_hash, request.query)
            if isinstance(known, BudgraphError):
                return refused(known)
            request = replace(request, query=known)
        prepared = await self.preparer.prepare(request.query)
        operation = prepared.operation(request.operation_name)
        checked: tuple[list[BudgraphError], int | None] | None = None
        if operation is not None and prepared.document is not None:
            # Inputs first (the walk is defensive, so an invalid document is fine): a bad value gets
            # a BAD_USER_INPUT naming its field, not a generic validation message.
            checked = self._checked(request, operation, prepared)
            bad = checked[0]
            if bad:
                return Outcome(
                    body=error_body([as_graphql(e) for e in bad]), refused=bad[0], request_error=True
                )
        if prepared.errors:
            outcome = Outcome(body=error_body(list(prepared.errors)), request_error=True)
            first = prepared.errors[0].original_error
            if isinstance(first, BudgraphError):
                outcome.refused = first
            return outcome
        if operation is None:
            name = request.operation_name
            message = (
                f"the document has no operation named {name!r}"
                if name
                else "the document has several operations: say which with `operationName`"
            )
            return refused(BudgraphError(message, code=ErrorCode.BAD_REQUEST, field="operationName"))
        if operation.operation not in allowed:
            assert refuse_other is not None
            return refused(refuse_other(operation.operation))
        input_errors, cost = checked if checked is not None else self._checked(request, operation, prepared)
        if input_errors:
            errors = [
                GraphQLError(e.message, extensions=e.extensions, original_error=e) for e in input_errors
            ]
            return Outcome(body=error_body(errors), refused=input_errors[0], request_error=True)
        scope_error = self._scope_refusal(context, operation, prepared)
        if scope_error is not None:
            return refused(scope_error)
        assert cost is not None
        extensions: dict[str, Any] = {"cost": {"requested": cost, "maximum": self.limits.max_cost}}
        if cost > self.limits.max_cost:
            error = QueryRefused(
                f"the query could return {cost} objects; at most {self.limits.max_cost} are allowed"
                " (ask for smaller pages, or fewer nested lists)",
                "cost",
                cost,
                self.limits.max_cost,
            )
            outcome = refused(error, extensions)
            outcome.request_error = True
            return outcome
        headers: dict[str, str] = {}
        if self.charge is not None:
            limited, headers, budget = await self.charge(context, cost)
            extensions["rateLimit"] = budget
            if limited is not None:
                outcome = refused(limited, extensions)
                outcome.headers = headers
                return outcome
        cacheable = self._is_cacheable(request, prepared, operation)
        return Admission(request, prepared, operation, extensions, headers, cacheable)

    def _checked(
        self, request: GraphQLRequest, operation: OperationDefinitionNode, prepared: PreparedDocument
    ) -> tuple[list[BudgraphError], int | None]:
        """The request's input errors and, without them, its cost: both depend only on the document,
        the operation and the variables, so those of a good request are kept for when it repeats
        (bounded: the oldest go first)."""
        try:
            key = (
                request.query,
                request.operation_name,
                orjson.dumps(request.variables, option=orjson.OPT_SORT_KEYS),
            )
        except TypeError:
            key = None
        known = self._admissions.get(key) if key is not None else None
        if known is not None:
            return known
        fragments = prepared.fragments()
        errors = check_inputs(self.graphql_schema, operation, fragments, request.variables)
        cost = (
            None
            if errors
            else operation_cost(self.graphql_schema, operation, fragments, request.variables, self.cost_rules)
        )
        if key is not None and not errors:  # a bad request is refused anew each time
            self._admissions[key] = (errors, cost)
            if len(self._admissions) > ADMISSIONS_KEPT:
                self._admissions.pop(next(iter(self._admissions)))
        return errors, cost

    def _is_cacheable(
        self, request: GraphQLRequest, prepared: PreparedDocument, operation: OperationDefinitionNode
    ) -> bool:
        if self.answers is None and not request.get:
            return False  # neither kept nor revalidated: no need to know
        key = (request.query, request.operation_name)
        known = self._cacheable.get(key)
        if known is None:
            known = self._cacheable[key] = is_cacheable(self.graphql_schema, operation, prepared.fragments())
            if len(self._cacheable) > 1024:
                self._cacheable.pop(next(iter(self._cacheable)))
        return known

    async def run(
        self,
        context: Context,
        request: GraphQLRequest,
        allowed: frozenset[OperationType] = frozenset(OperationType),
        refuse_other: Callable[[OperationType], BudgraphError] | None = None,
    ) -> Outcome:
        """Admit and execute one query or mutation."""
        admission = await self.admit(context, request, allowed, refuse_other)
        if isinstance(admission, Outcome):
            return admission
        return await self.perform(context, admission)

    async def perform(self, context: Context, admission: Admission) -> Outcome:
        """Execute an admitted query or mutation (or answer it from the cache, or with a 304)."""
        if admission.cacheable and (self.answers is not None or admission.request.get):
            outcome = await self._answer(context, admission, self.answers)
        else:
            outcome = (await self._execute(context, admission)).outcome
        outcome.headers.update(admission.headers)
        return outcome

    async def _answer(self, context: Context, admission: Admission, answers: ResponseCache | None) -> Outcome:
        """A registry-versioned answer: a 304 when the client holds the one for the registry's current
        version, else the cached one for that version, else the one computed now (in one snapshot),
        kept for the version it was computed at. Its ETag is derived from the cache key, so it names
        the same (version, scope, document, operation, variables) whether the cache is on or off.

        Without the cache and without If-None-Match the version is not read first: the answer's
        snapshot says which version it belongs to."""
        request, scope = admission.request, context.principal.scope.value if context.principal else "-"
        position: RegistryPosition | None = None
        key = ""
        if answers is not None or request.if_none_match is not None:
            try:
                position = await self.position(context)
            except (DBAPIError, PoolTimeout, OSError):
                return (await self._execute(context, admission)).outcome  # answers 503 the usual way
            key = cache_key(position, scope, request.query, request.operation_name, request.variables)
            if request.if_none_match is not None and entity_tag(key) in _etags(request.if_none_match):
                return Outcome(body={"data": {}}, etag=entity_tag(key), not_modified=True)
            stored = await answers.get(key) if answers is not None else None
            if stored is not None:
                encoded = assemble(stored, admission.extensions)
                return Outcome(body={"data": {}}, encoded=encoded, etag=entity_tag(key))
        executed = await self._execute(context, admission, snapshot=True)
        if executed.data is not None and executed.position is not None:
            if executed.position != position:  # a write landed between: keep it under its own version
                key = cache_key(
                    executed.position, scope, request.query, request.operation_name, request.variables
                )
            if answers is not None:
                await answers.put(key, executed.data)
            executed.outcome.etag = entity_tag(key)
        return executed.outcome

    async def position(self, context: Context) -> RegistryPosition:
        """The registry's position now (on the version reader's own connection, when there is one)."""
        if self.positions is not None:
            return await self.positions.read()
        state = db.RegistryState
        row = await read_now(context.sessions, select(state.version, state.epoch))
        return RegistryPosition(version=int(row.version), epoch=str(row.epoch))

    async def _execute(self, context: Context, admission: Admission, snapshot: bool = False) -> Executed:
        """Execute, unless the database is known to be unreachable (then a 503 at once)."""
        if not self.availability.admit():
            unavailable = BudgraphError(UNAVAILABLE, code=ErrorCode.SERVICE_UNAVAILABLE)
            return Executed(refused(unavailable, admission.extensions))
        try:
            directly = await self._answer_directly(context, admission)
            executed = directly or await self._execute_admitted(context, admission, snapshot)
        finally:
            self.availability.settle()
        outcome = executed.outcome
        errors = outcome.body.get("errors") or []
        if any(
            (e.get("extensions") or {}).get("code") == ErrorCode.SERVICE_UNAVAILABLE.value for e in errors
        ):
            self.availability.failed()
        else:
            self.availability.succeeded()
        return executed

    async def _answer_directly(self, context: Context, admission: Admission) -> Executed | None:
        """The direct answer (budgraph/graphql/direct.py) when the document allows one, else None."""
        reads = self.reads
        if self.planner is None or reads is None:
            return None
        prepared, request = admission.prepared, admission.request
        plan = self.planner.plan(admission.operation, prepared.fragments(), request.variables)
        if plan is None:
            return None
        prefetched = Prefetched()
        try:
            async with asyncio.timeout(self.settings.request_timeout_seconds):
                values = {}
                for root in plan.roots:
                    prefetched.cursors = root.cursors
                    values[id(root.node)] = await root.direct.fetch(
                        reads, context, root.arguments, prefetched
                    )
            data = encode(Writer(self.graphql_schema, plan, prefetched).data(values))
        except TimeoutError:
            deadline = self.settings.request_timeout_seconds
            late = BudgraphError(
                f"the operation did not finish within {deadline:g} s and was stopped", code=ErrorCode.TIMEOUT
            )
            return Executed(refused(late, admission.extensions))
        except (DBAPIError, PoolTimeout, OSError) as error:
            log.error("the database failed during an operation: %s: %s", type(error).__name__, error)
            unavailable = BudgraphError(UNAVAILABLE, code=ErrorCode.SERVICE_UNAVAILABLE)
            return Executed(refused(unavailable, admission.extensions))
        except (NotDirect, BudgraphError) as reason:
            # The ordinary executor answers it (with the same data, or the typed error).
            log.debug("not answered directly: %s: %s", type(reason).__name__, reason)
            return None
        except Exception:
            # A bug of the direct answer must not cost the client its answer: the executor gives it.
            log.exception("a direct answer failed; answered by the executor instead")
            return None
        if len(data) > self.settings.max_response_bytes:
            return None  # the ordinary executor refuses it with the error that says so
        outcome = Outcome(body={"data": {}}, encoded=assemble(data, admission.extensions))
        self.answered_directly += 1
        return Executed(outcome, data, prefetched.position)

    async def _execute_admitted(self, context: Context, admission: Admission, snapshot: bool) -> Executed:
        request, prepared, extensions = admission.request, admission.prepared, admission.extensions
        deadline = self.settings.request_timeout_seconds
        position: RegistryPosition | None = None
        try:
            async with UnitOfWork(context.sessions, actor=context.actor) as uow:
                if admission.operation.operation is OperationType.QUERY:
                    # One snapshot for the whole answer: a row deleted while the answer is read
                    # is either in all of it or in none (an edge is never read without its version).
                    await uow.consistent_snapshot()
                if snapshot:  # and the registry version it belongs to
                    position = await current_position(uow.session)
                with running(Operation(uow, document=prepared.document)):
                    try:
                        async with asyncio.timeout(deadline):
                            result = await self.schema.execute(
                                request.query,
                                variable_values=request.variables,
                                context_value=context,
                                operation_name=request.operation_name,
                            )
                    except TimeoutError:
                        await uow.rollback()
                        error = BudgraphError(
                            f"the operation did not finish within {deadline:g} s and was stopped",
                            code=ErrorCode.TIMEOUT,
                        )
                        return Executed(refused(error, extensions))
                body: dict[str, Any] = {"data": result.data}
                data: bytes | None = None
                if result.errors:
                    body["errors"] = [error.formatted for error in result.errors]
                body["extensions"] = {**(result.extensions or {}), **extensions}
                if result.errors or result.extensions:
                    outcome = Outcome(body=body)
                    encoded = outcome.encode()
                else:
                    data = encode(result.data or {})
                    encoded = assemble(data, extensions)
                    outcome = Outcome(body=body, encoded=encoded)
                if len(encoded) > self.settings.max_response_bytes:
                    await uow.rollback()
                    error = BudgraphError(
                        f"the answer is {len(encoded)} bytes; at most {self.settings.max_response_bytes} are"
                        " sent (ask for fewer or smaller pages)",
                        code=ErrorCode.RESPONSE_TOO_LARGE,
                        size=len(encoded),
                        maximum=self.settings.max_response_bytes,
                    )
                    return Executed(refused(error, extensions))
                failure = await finish(uow, bool(result.errors))
        except (DBAPIError, PoolTimeout, OSError) as error:
            # The database is unreachable (or stalled past the pool's timeout): retryable.
            log.error("the database failed during an operation: %s: %s", type(error).__name__, error)
            unavailable = BudgraphError(UNAVAILABLE, code=ErrorCode.SERVICE_UNAVAILABLE)
            return Executed(refused(unavailable, extensions))
        if failure is not None:
            return Executed(refused(failure, extensions))
        return Executed(outcome, data, position)


async def finish(uow: UnitOfWork, failed: bool) -> BudgraphError | None:
    """Commit an operation's unit of work, or roll it back if the operation failed.

    Returns the typed error that replaces the answer when the commit itself fails.
    """
    if failed:
        await uow.rollback()
        return None
    try:
        await uow.commit()
    except BudgraphError as error:
        return error
    except IntegrityError as error:
        return from_integrity_error(error, "the change")
    except (DBAPIError, PoolTimeout, OSError) as error:
        log.error("commit failed: %s: %s", type(error).__name__, error)
        return BudgraphError(UNAVAILABLE, code=ErrorCode.SERVICE_UNAVAILABLE)
    return None


def _etags(header: str) -> set[str]:
    """The entity tags of an If-None-Match header (weak or strong: a GET compares weakly)."""
    tags = {tag.strip() for tag in header.split(",") if tag.strip()}
    return tags | {f"W/{tag}" for tag in tags if not tag.startswith("W/")}
