"""The one error shape: refusals raised anywhere are answered by gateway/errors.py, the 405 and 500 too."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import gateway.core
from gateway.errors import DeliveryFailed, InvalidContact, Refused, UnsupportedMethod, ValidationFailed, problem
from gateway.web.app import create_app


def test_the_core_raises_refusals_that_know_no_http_status():
    for info in pkgutil.walk_packages(gateway.core.__path__, "gateway.core."):
        module = importlib.import_module(info.name)
        for name, kind in inspect.getmembers(module, inspect.isclass):
            if issubclass(kind, Exception) and kind.__module__ == info.name:
                assert not hasattr(kind, "status"), f"{info.name}.{name} carries an HTTP status"
    assert problem(UnsupportedMethod("no push yet", method="push")) == (422, {"error": {
        "code": "UNSUPPORTED_METHOD", "message": "no push yet", "details": {"method": "push"}}})
    assert problem(DeliveryFailed(reason="no contact"))[0] == 422
    assert problem(InvalidContact(invalid_contacts=[7]))[1]["error"]["message"] == "One or more contact IDs are invalid"
    assert problem(ValidationFailed("x must not be blank.", field="x"))[0] == 422
    assert problem(Refused())[0] == 400


async def test_an_unexpected_failure_is_a_500_naming_only_its_trace_id(aiohttp_client, config, clock):
    app = create_app(config, clock=clock, run_loops=False)

    async def broken(request):
        raise RuntimeError("a detail no caller should read")

    app.router.add_get("/broken", broken)
    client = await aiohttp_client(app)
    resp = await client.get("/broken", headers={"x-partner-trace-id": "trace-500"})
    assert resp.status == 500 and await resp.json() == {"error": {
        "code": "INTERNAL", "message": "Internal error; it is logged.", "details": {"trace_id": "trace-500"}}}


async def test_a_wrong_method_is_405_with_the_allowed_ones(client):
    resp = await client.delete("/ext/v1/events")
    assert resp.status == 405 and resp.headers["Allow"] == "POST"
    assert await resp.json() == {"error": {"code": "METHOD_NOT_ALLOWED", "message": "DELETE is not allowed here.",
                                           "details": {}}}
