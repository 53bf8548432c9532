"""A directly dispatched route must be exactly what the direct dispatch can serve as FastAPI would: a
transactional route whose function takes session, principal (``require``) and data, with nothing else for
FastAPI to solve; its permission and body model are read from the route."""

from __future__ import annotations

import asyncio

import pytest
from fastapi import APIRouter, Depends, FastAPI, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel

from omniretail.api.deps import CurrentPrincipal, SessionDep, require
from omniretail.api.direct import DirectDispatch, DirectEndpoint
from omniretail.api.routing import TransactionalRoute
from omniretail.orders.endpoints import DIRECT


class Body(BaseModel):
    n: int


Maker = require("orders:write")


async def _nothing() -> None:
    return None


async def fitting(session: SessionDep, principal=Maker, data: Body = None) -> Response:
    return Response()


async def with_a_page(session: SessionDep, principal=Maker, data: Body = None, page: int = 1) -> Response:
    return Response()


async def without_a_permission(session: SessionDep, principal: CurrentPrincipal, data: Body = None) -> Response:
    return Response()


async def with_a_dict(session: SessionDep, principal=Maker, data: dict = None) -> Response:
    return Response()


def _router(endpoint, *, route_class=TransactionalRoute, dependencies=None) -> APIRouter:
    router = APIRouter(route_class=route_class)
    router.post("/things", dependencies=dependencies)(endpoint)
    return router


def _prepared(router: APIRouter) -> DirectDispatch:
    app = FastAPI()
    app.include_router(router)

    async def passed_on(scope, receive, send):
        return None

    dispatch = DirectDispatch(passed_on, fastapi=app, endpoints=[DirectEndpoint(router, "POST", "/things")])
    asyncio.run(dispatch({"type": "http", "method": "GET", "path": "/elsewhere", "headers": []}, None, None))
    return dispatch


def test_the_permission_and_the_model_are_the_routes():
    entry = _prepared(_router(fitting)).table[("POST", "/things")]
    assert (entry.permission, entry.body) == ("orders:write", Body)


def test_order_placement_is_served_as_its_route_says():
    (declared,) = DIRECT
    app = FastAPI()
    dispatch = DirectDispatch(None, fastapi=app, endpoints=DIRECT, prefix="/api/v1")
    dispatch._prepare()
    entry = dispatch.table[("POST", "/api/v1/orders")]
    assert (entry.permission, entry.body.__name__, entry.route.status_code) == ("orders:write", "OrderCreate", 201)


@pytest.mark.parametrize("router", [
    pytest.param(_router(with_a_page), id="another parameter"),
    pytest.param(_router(without_a_permission), id="a principal without require"),
    pytest.param(_router(with_a_dict), id="a body that is no model"),
    pytest.param(_router(fitting, dependencies=[Depends(_nothing)]), id="a route dependency"),
    pytest.param(_router(fitting, route_class=APIRoute), id="a route outside the transaction"),
])
def test_a_route_the_dispatch_cannot_serve_as_fastapi_would_is_refused(router):
    with pytest.raises(RuntimeError, match="POST /things"):
        _prepared(router)
