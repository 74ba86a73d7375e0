"""graphql-core 3.2 and 3.3 build, run and subscribe an operation's execution context differently, and only 3.3
executes @defer and @stream. Both ways live here; the installed version's is chosen once, at import.

`bind_operation` and `run_operation` are the Executor's `bind` and `run` methods themselves, not wrapped: on 3.2
binding and running cost exactly what they did before 3.3 was supported (no version check, no extra call).
"""

from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from graphql import ExecutionResult, FragmentDefinitionNode, GraphQLDirective, GraphQLError, version_info
from graphql.execution.middleware import MiddlewareManager

from livegql.engine.prepared import BoundOperation, PreparedOperation, RequestError
from livegql.engine.variables import coerce_simple_variables

if TYPE_CHECKING:
    from livegql.engine.executor import Executor

INCREMENTAL_DELIVERY: bool = version_info >= (3, 3)
"""The installed graphql-core executes @defer and @stream (3.3 and later)."""

if INCREMENTAL_DELIVERY:
    # mypy checks this project against graphql-core 3.2, which lacks these names.
    from graphql import (  # type: ignore[attr-defined]
        ExperimentalIncrementalExecutionResults,
        GraphQLDeferDirective,
        GraphQLStreamDirective,
    )
    from graphql.execution.execute import execute_subscription as execute_subscription_33  # type: ignore[attr-defined]
    from graphql.execution.executor import CollectedErrors as CollectedErrors33  # type: ignore[import-not-found]
    from graphql.execution.executor import Executor as Executor33
    from graphql.execution.incremental.incremental_executor import (  # type: ignore[import-not-found]
        IncrementalExecutor,
    )
else:
    from graphql import ExecutionContext
    from graphql.execution.execute import CollectedErrors, default_field_resolver, default_type_resolver
    from graphql.execution.subscribe import execute_subscription


class IncrementalExecution(NamedTuple):
    """An execution that deferred work: its initial result, the subsequent results, and how to cancel the rest."""

    initial: Any  # graphql-core 3.3's InitialIncrementalExecutionResult
    subsequent: AsyncGenerator[Any, None]  # of SubsequentIncrementalExecutionResult
    cancel: Callable[[], Awaitable[None]]


# --- graphql-core 3.2: one ExecutionContext per bound operation, reset for each run -------------------------------


def _bind_32(
    executor: "Executor",
    prepared: PreparedOperation,
    variables: dict[str, Any] | None,
    *,
    middleware: list[Any] | None = None,
) -> BoundOperation:
    """Coerce the variables once (a wrong type is a request error: 4xx, or an `error` message) and keep
    graphql-core's execution context, which every later execution of the operation reuses."""
    coerced = coerce_simple_variables(executor.schema, prepared.operation.variable_definitions or (), variables)
    if coerced is None:
        built = ExecutionContext.build(
            executor.schema,
            prepared.document,
            raw_variable_values=variables,
            operation_name=prepared.operation_name,
            middleware=middleware,
            hide_suggestions=executor.hide_suggestions,
        )
        if isinstance(built, list):
            raise RequestError(built)
        return BoundOperation(prepared, built)
    # What ExecutionContext.build makes, with the variables already coerced.
    fragments = {
        definition.name.value: definition
        for definition in prepared.document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    execution = ExecutionContext(
        executor.schema,
        fragments,
        None,
        None,
        prepared.operation,
        coerced,
        default_field_resolver,
        default_type_resolver,
        default_field_resolver,
        CollectedErrors(),
        MiddlewareManager(*middleware) if middleware else None,
        None,
    )
    return BoundOperation(prepared, execution)


async def _run_32(_executor: object, bound: BoundOperation, context: Any, root_value: Any = None) -> ExecutionResult:
    """Execute a bound operation once, as graphql-core's `execute` does after building its context.

    Runs of one bound operation must not overlap (a subscription's events are executed one at a time).
    """
    execution = bound.execution
    execution.context_value = context
    execution.root_value = root_value
    errors = execution.collected_errors = CollectedErrors()
    try:
        data: Any = execution.execute_operation(execution.operation, root_value)
        if execution.is_awaitable(data):
            data = await data
    except GraphQLError as error:
        errors.add(error, None)
        data = None
    return execution.build_response(data, errors.errors)


async def _open_source_stream_32(bound: BoundOperation, context: Any) -> Any:
    execution = bound.execution
    execution.context_value = context
    execution.collected_errors = CollectedErrors()
    return await execute_subscription(execution)


async def _execute_incrementally_32(
    bound: BoundOperation, context: Any, root_value: Any
) -> ExecutionResult | IncrementalExecution:
    # Documents using @defer or @stream never validate on 3.2 (see incremental_rules): one result, as `run`.
    return await _run_32(None, bound, context, root_value)


# --- graphql-core 3.3: its Executor, copied for each run; a fresh IncrementalExecutor for each incremental run -----


def _bind_33(
    executor: "Executor",
    prepared: PreparedOperation,
    variables: dict[str, Any] | None,
    *,
    middleware: list[Any] | None = None,
) -> BoundOperation:
    """Coerce the variables once (a wrong type is a request error) and keep graphql-core's executor for the runs."""
    built = Executor33.build(
        executor.schema,
        prepared.document,
        raw_variable_values=variables,
        operation_name=prepared.operation_name,
        middleware=middleware,
        hide_suggestions=executor.hide_suggestions,
    )
    if isinstance(built, list):
        raise RequestError(built)
    return BoundOperation(prepared, built)


async def _run_33(_executor: object, bound: BoundOperation, context: Any, root_value: Any = None) -> ExecutionResult:
    """Execute a bound operation once (ignoring @defer and @stream: one complete result)."""
    # A per-run copy shares the bound executor's coerced variables and field plans, with errors of its own.
    bound_execution: Any = bound.execution  # typed as 3.2's ExecutionContext (see prepared.py)
    execution = bound_execution.build_per_event_executor(root_value)
    execution.context_value = context
    result: Any = execution.execute_operation()
    if execution.is_awaitable(result):
        result = await result
    return result  # type: ignore[no-any-return]


async def _open_source_stream_33(bound: BoundOperation, context: Any) -> Any:
    execution: Any = bound.execution
    execution.context_value = context
    execution.collected_errors = CollectedErrors33()
    source = execute_subscription_33(execution)
    return await source if execution.is_awaitable(source) else source


async def _execute_incrementally_33(
    bound: BoundOperation, context: Any, root_value: Any
) -> ExecutionResult | IncrementalExecution:
    bound_execution: Any = bound.execution
    # A fresh executor: an incremental executor keeps its deferred work, so reusing one would leak it into the
    # next run. The bound executor's coerced variables and fragments are reused as they are.
    execution = IncrementalExecutor(
        bound_execution.schema,
        bound_execution.fragment_definitions,
        bound_execution.fragments,
        root_value,
        context,
        bound_execution.operation,
        bound_execution.variable_values,
        bound_execution.field_resolver,
        bound_execution.type_resolver,
        bound_execution.subscribe_field_resolver,
        bound_execution.enable_early_execution,
        bound_execution.middleware_manager,
    )
    try:
        result = execution.execute_operation()
        if execution.is_awaitable(result):
            result = await result
    except BaseException:
        # Cancelled (or failed) while the initial result was computed: a stream's source may already be open.
        await execution.cancel_incremental_work()
        raise
    if isinstance(result, ExperimentalIncrementalExecutionResults):
        return IncrementalExecution(result.initial_result, result.subsequent_results, execution.cancel_incremental_work)
    return result  # type: ignore[no-any-return]


if INCREMENTAL_DELIVERY:
    bind_operation = _bind_33
    run_operation = _run_33
    open_source_stream = _open_source_stream_33
    execute_incrementally = _execute_incrementally_33
    INCREMENTAL_DIRECTIVES: tuple[GraphQLDirective, ...] = (GraphQLDeferDirective, GraphQLStreamDirective)
else:
    bind_operation = _bind_32
    run_operation = _run_32
    open_source_stream = _open_source_stream_32
    execute_incrementally = _execute_incrementally_32
    INCREMENTAL_DIRECTIVES = ()
