"""A directly dispatched endpoint must be exactly what the direct dispatch can serve: its router's
transactional route, taking session, principal and data, with nothing FastAPI would solve besides."""

from __future__ import annotations

import asyncio

import pytest
from fastapi import APIRouter, Depends, FastAPI, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel

from omniretail.api.deps import SessionDep, require
from omniretail.api.direct import DirectDispatch, DirectEndpoint
from omniretail.api.routing import TransactionalRoute


class Body(BaseModel):
    n: int


async def _nothing() -> None:
    return None


def _first_request(router: APIRouter, endpoint) -> None:
    app = FastAPI()
    app.include_router(router)
    declared = DirectEndpoint(router, "POST", "/things", Body, "orders:write", endpoint)
    dispatch = DirectDispatch(app, fastapi=app, endpoints=[declared])
    scope = {"type": "http", "method": "GET", "path": "/elsewhere", "headers": []}

    async def passed_on(scope, receive, send):
        return None

    dispatch.app = passed_on
    asyncio.run(dispatch(scope, None, None))


async def fitting(session: SessionDep, principal=require("orders:write"), data: Body = None) -> Response:
    return Response()


async def with_a_page(session: SessionDep, principal=require("orders:write"), data: Body = None,
                      page: int = 1) -> Response:
    return Response()


def _router(endpoint, *, route_class=TransactionalRoute, dependencies=None) -> APIRouter:
    router = APIRouter(route_class=route_class)
    router.post("/things", dependencies=dependencies)(endpoint)
    return router


def test_a_fitting_endpoint_is_accepted():
    _first_request(_router(fitting), fitting)


@pytest.mark.parametrize(("router", "declared"), [
    pytest.param(_router(with_a_page), with_a_page, id="another parameter"),
    pytest.param(_router(fitting, dependencies=[Depends(_nothing)]), fitting, id="a route dependency"),
    pytest.param(_router(fitting, route_class=APIRoute), fitting, id="a route outside the transaction"),
    pytest.param(_router(fitting), with_a_page, id="another function than the route's"),
])
def test_an_endpoint_the_dispatch_cannot_serve_as_its_route_would_is_refused(router, declared):
    with pytest.raises(RuntimeError, match="POST /things"):
        _first_request(router, declared)
