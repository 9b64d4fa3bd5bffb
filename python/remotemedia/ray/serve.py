"""Many live streams on Ray Serve: the pipelines of some manifests as a Serve application that
speaks docs/protocol.md, the protocol of ``remotemedia-runtime serve``, so that the same clients
(``remotemedia.client``, browsers, anything) work against one machine or a cluster.

Each replica hosts the server itself (the extension's ``HostedServer``: the binary's routes, token
check, limits and session logic); this module only relays requests and WebSocket frames between
Serve's ASGI interface and it. A WebSocket connection is one session, pinned to the replica that
accepted it for its whole life.

```python
from ray import serve
from remotemedia.ray import serve_app

serve.start(http_options={"host": "127.0.0.1", "port": 8000})
serve.run(serve_app(["manifests/voice_activity.yaml"]), route_prefix="/")
# ws://127.0.0.1:8000/v1/pipelines/voice-activity/stream?format=s16le&sample_rate=16000
```
"""

# No `from __future__ import annotations` here: FastAPI reads the handlers' annotations as objects
# (the deployment class travels to the replicas by value, without this module's globals).
import asyncio
import ipaddress
import os
from typing import Any, Optional, Union

from ray import serve

try:  # FastAPI (with Starlette) comes with `ray[serve]`; FastAPI reads the handlers' annotations.
    from fastapi import FastAPI, Request, WebSocket
    from fastapi.responses import Response
    from starlette.websockets import WebSocketDisconnect
except ImportError:
    raise ImportError('remotemedia.ray.serve_app needs Ray Serve: pip install "remotemedia[ray]"') from None

from .. import _contract

__all__ = ["serve_app"]

TOKEN_ENV = _contract.TOKEN_ENV
#: ``remotemedia-runtime serve``'s defaults, which the app shares.
_SERVER = _contract.SERVER_DEFAULTS
_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


def _uri(scope: dict[str, Any]) -> str:
    """The request's path as the client sent it (still percent-encoded, without Serve's route
    prefix), with its query."""
    raw = scope.get("raw_path")
    path = raw.decode("latin-1") if raw else scope.get("path", "/")
    root = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :] or "/"
    query = scope.get("query_string", b"").decode("latin-1")
    return path + (f"?{query}" if query else "")


def _loopback(scope: dict[str, Any]) -> bool:
    """Whether the connection reached Serve's proxy on a loopback address (the local end of the
    socket: a proxy bound to 0.0.0.0 and reached from outside is not)."""
    server = scope.get("server")
    if not server:
        return False
    try:
        return ipaddress.ip_address(server[0]).is_loopback
    except ValueError:
        return server[0] == "localhost"


_EXPOSED = (
    b'{"error":"unauthorized","message":"this application has no token and is reached on a '
    b"non-loopback address: give serve_app a token (token_file, REMOTEMEDIA_TOKEN) or "
    b'insecure=True"}'
)


def _headers(scope: dict[str, Any]) -> list[tuple[str, bytes]]:
    return [(name.decode("latin-1"), value) for name, value in scope.get("headers", [])]


def _token(token: Optional[str], token_file: Optional[Union[str, os.PathLike]]) -> Optional[str]:
    if token is not None and token_file is not None:
        raise ValueError("give `token` or `token_file`, not both")
    if token_file is not None:
        with open(token_file, encoding="utf-8") as f:
            return f.read().rstrip()  # as the binary reads it: trailing whitespace is not the token
    return token if token is not None else os.environ.get(TOKEN_ENV)


def _build_ingress() -> Any:
    """The FastAPI app and the deployment class."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @serve.ingress(app)
    class RemotemediaServer:
        """One replica: the hosted server for the manifests, and the relay of its frames."""

        def __init__(self, manifests: list[str], token: Optional[str], insecure: bool, limits: dict[str, Any]) -> None:
            from ..runtime import get_rust_runtime, unavailable_reason
            from .resources import cap_engine_threads

            module = get_rust_runtime()
            if module is None:
                raise RuntimeError(
                    "the Serve application runs on the engine, which cannot be loaded here "
                    f"({unavailable_reason()}): install the extension `remotemedia_runtime` on every node"
                )
            cap_engine_threads()  # from `cpus_per_replica`
            self.server = module.HostedServer(manifests, token=token, **limits)
            self.open_to_all = token is None and not insecure

        def _refuse_exposed(self, scope: dict[str, Any]) -> Optional[Response]:
            """Safe by default, as the binary: no token is fine on loopback only."""
            if self.open_to_all and not _loopback(scope):
                return Response(content=_EXPOSED, status_code=401, media_type="application/json")
            return None

        @app.websocket("/v1/pipelines/{name}/stream")
        async def stream(self, websocket: WebSocket, name: str) -> None:
            exposed = self._refuse_exposed(websocket.scope)
            if exposed is not None:
                await websocket.send_denial_response(exposed)
                return
            opened = await self.server.connect(_uri(websocket.scope), _headers(websocket.scope))
            if isinstance(opened, tuple):  # refused before the upgrade, as the binary refuses
                status, headers, body = opened
                refusal = Response(
                    content=body, status_code=status, headers={k: v.decode("latin-1") for k, v in headers}
                )
                try:
                    await websocket.send_denial_response(refusal)
                except RuntimeError:  # the ASGI server cannot answer a handshake with HTTP
                    await websocket.close(code=1008, reason=body.decode("utf-8", "replace")[:120])
                return
            session = opened
            await websocket.accept()

            async def relay_in() -> None:
                while True:
                    message = await websocket.receive()
                    if message["type"] == "websocket.disconnect":
                        session.disconnect()
                        return
                    data, text = message.get("bytes"), message.get("text")
                    taken = await (session.send_bytes(data) if data is not None else session.send_text(text or ""))
                    if not taken:
                        return

            reader = asyncio.create_task(relay_in())
            closed = False
            try:
                while (frame := await session.recv()) is not None:
                    if frame[0] == "text":
                        await websocket.send_text(frame[1])
                    elif frame[0] == "binary":
                        await websocket.send_bytes(frame[1])
                    else:
                        closed = True
                        await websocket.close(code=frame[1], reason=frame[2])
                        break
                if not closed:  # the session ended without a close frame: never a normal end
                    closed = True
                    await websocket.close(code=1011, reason="internal")
            except (WebSocketDisconnect, RuntimeError, OSError):  # the client went away mid-send
                pass
            finally:
                # Whatever ended the relay (the client, a cancellation, an error), the session
                # ends with it and frees its place; repeating it is harmless.
                session.disconnect()
                reader.cancel()

        @app.api_route("/{path:path}", methods=_METHODS)
        async def http(self, request: Request, path: str) -> Response:
            exposed = self._refuse_exposed(request.scope)
            if exposed is not None:
                return exposed
            # The token first, then the body, read within the server's limit (413 past it).
            headers = _headers(request.scope)
            refused = await self.server.authorize(_uri(request.scope), headers)
            if refused is not None:
                return _response(*refused)
            limit = self.server.max_message_bytes
            declared = request.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                return Response(content=b"length limit exceeded", status_code=413)
            chunks, size = [], 0
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    return Response(content=b"length limit exceeded", status_code=413)
                chunks.append(chunk)
            return _response(*await self.server.request(request.method, _uri(request.scope), headers, b"".join(chunks)))

        def __del__(self) -> None:
            # Serve calls it after its graceful-shutdown wait: sessions still open are flushed if
            # the process lives long enough, else cut.
            server = getattr(self, "server", None)
            if server is not None:
                server.shutdown()

    return RemotemediaServer


def _response(status: int, headers: list[tuple[str, bytes]], body: bytes) -> Response:
    response = Response(content=body, status_code=status)
    for key, value in headers:
        if key.lower() != "content-length":
            response.headers.append(key, value.decode("latin-1"))
    return response


def serve_app(
    manifests: Union[list[Union[str, os.PathLike]], str, os.PathLike],
    *,
    name: str = "remotemedia",
    token: Optional[str] = None,
    token_file: Optional[Union[str, os.PathLike]] = None,
    num_replicas: Optional[Union[int, str]] = None,
    autoscaling_config: Optional[dict[str, Any]] = None,
    max_ongoing_requests: Optional[int] = None,
    max_queued_requests: int = 64,
    insecure: bool = False,
    cpus_per_replica: float = 1.0,
    max_sessions: int = _SERVER["max_sessions"],
    max_message_bytes: int = _SERVER["max_message_bytes"],
    idle_timeout: float = _SERVER["idle_timeout_s"],
    output_queue: int = _SERVER["output_queue"],
    slow_consumer_timeout: float = _SERVER["slow_consumer_timeout_s"],
    run_timeout: float = _SERVER["run_timeout_s"],
) -> serve.Application:
    """The pipelines of ``manifests`` as a Ray Serve application (``serve.run(app, route_prefix="/")``)
    with the routes of docs/protocol.md: ``GET /v1/pipelines``, ``POST /v1/pipelines/{name}/run``,
    the WebSocket ``/v1/pipelines/{name}/stream``, ``/healthz`` and ``/metrics`` (per replica).

    Every manifest is planned by each replica as it starts (a bad one fails the deployment, with
    the engine's message); clients can only name them. The token (``token``, ``token_file``, else
    ``REMOTEMEDIA_TOKEN``) is required on every route but ``/healthz`` when set. Without a token,
    only connections that reach Serve's proxy on a loopback address are served (the binary's
    rule); ``insecure=True`` serves everyone without one.

    Replicas: ``num_replicas`` (a number, or ``"auto"``), or Serve's ``autoscaling_config`` (e.g.
    ``{"min_replicas": 1, "max_replicas": 8, "target_ongoing_requests": 64}``: a live session
    counts as one ongoing request for its whole life). ``max_sessions`` caps a replica's sessions
    (one more gets the binary's 503); ``max_ongoing_requests`` (default ``max_sessions`` + 16, room
    for runs and lists beside full sessions) is Serve's cap per replica, and ``max_queued_requests``
    how many wait in Serve's queue beyond it before Serve answers 503. Each replica reserves
    ``cpus_per_replica`` CPUs and caps its engine threads to them.
    """
    if isinstance(manifests, (str, os.PathLike)):
        manifests = [manifests]
    paths = [os.path.abspath(os.fspath(m)) for m in manifests]
    if not paths:
        raise ValueError(_contract.MESSAGES["no_pipeline_to_serve"])
    for path in paths:
        if not os.path.isfile(path):
            raise FileNotFoundError(f"`{path}`: no such manifest")
    secret = _token(token, token_file)
    if secret is not None and not secret.strip():
        raise ValueError("the token is empty")
    if cpus_per_replica <= 0:
        raise ValueError(f"cpus_per_replica must be positive, found {cpus_per_replica}")
    options: dict[str, Any] = {
        "name": name,
        "max_ongoing_requests": max_ongoing_requests if max_ongoing_requests is not None else max_sessions + 16,
        "max_queued_requests": max_queued_requests,
        "ray_actor_options": {"num_cpus": cpus_per_replica},
    }
    if autoscaling_config is not None:
        options["autoscaling_config"] = autoscaling_config
    elif num_replicas is not None:
        options["num_replicas"] = num_replicas
    limits = {
        "max_sessions": max_sessions,
        "max_message_bytes": max_message_bytes,
        "idle_timeout": idle_timeout,
        "output_queue": output_queue,
        "slow_consumer_timeout": slow_consumer_timeout,
        "run_timeout": run_timeout,
    }
    deployment = serve.deployment(_build_ingress()).options(**options)
    return deployment.bind(paths, secret, insecure, limits)
