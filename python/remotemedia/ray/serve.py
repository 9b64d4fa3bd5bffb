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
import math
import os
from typing import Any, Optional, Union

from ray import serve

try:  # FastAPI (with Starlette) comes with `ray[serve]`; FastAPI reads the handlers' annotations.
    from fastapi import FastAPI, Request, WebSocket
    from fastapi.responses import Response
    from starlette.websockets import WebSocketDisconnect
except ImportError:
    raise ImportError('remotemedia.ray.serve_app needs Ray Serve: pip install "remotemedia[ray]"') from None

__all__ = ["serve_app"]

TOKEN_ENV = "REMOTEMEDIA_TOKEN"
_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


def _uri(scope: dict[str, Any]) -> str:
    """The request's path under the application (without Serve's route prefix), with its query."""
    path = scope.get("path", "/")
    root = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :] or "/"
    query = scope.get("query_string", b"").decode("latin-1")
    return path + (f"?{query}" if query else "")


def _headers(scope: dict[str, Any]) -> list[tuple[str, bytes]]:
    return [(name.decode("latin-1"), value) for name, value in scope.get("headers", [])]


def _token(token: Optional[str], token_file: Optional[Union[str, os.PathLike]]) -> Optional[str]:
    if token is not None and token_file is not None:
        raise ValueError("give `token` or `token_file`, not both")
    if token_file is not None:
        with open(token_file, encoding="utf-8") as f:
            return f.read().rstrip("\r\n")
    return token if token is not None else os.environ.get(TOKEN_ENV)


def _build_ingress() -> Any:
    """The FastAPI app and the deployment class."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @serve.ingress(app)
    class RemotemediaServer:
        """One replica: the hosted server for the manifests, and the relay of its frames."""

        def __init__(self, manifests: list[str], token: Optional[str], limits: dict[str, Any], threads: int) -> None:
            from ..runtime import get_rust_runtime, set_threads

            module = get_rust_runtime()
            if module is None:
                raise RuntimeError(
                    "the Serve application runs on the engine: "
                    "install the extension `remotemedia_runtime` on every node"
                )
            set_threads(threads)
            self.server = module.HostedServer(manifests, token=token, **limits)

        @app.websocket("/v1/pipelines/{name}/stream")
        async def stream(self, websocket: WebSocket, name: str) -> None:
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
            try:
                while (frame := await session.recv()) is not None:
                    if frame[0] == "text":
                        await websocket.send_text(frame[1])
                    elif frame[0] == "binary":
                        await websocket.send_bytes(frame[1])
                    else:
                        await websocket.close(code=frame[1], reason=frame[2])
                        break
            except (WebSocketDisconnect, RuntimeError):  # the client went away mid-send
                session.disconnect()
            finally:
                reader.cancel()

        @app.api_route("/{path:path}", methods=_METHODS)
        async def http(self, request: Request, path: str) -> Response:
            body = await request.body()
            status, headers, answer = await self.server.request(
                request.method, _uri(request.scope), _headers(request.scope), body
            )
            response = Response(content=answer, status_code=status)
            for key, value in headers:
                if key.lower() != "content-length":
                    response.headers.append(key, value.decode("latin-1"))
            return response

        def __del__(self) -> None:
            server = getattr(self, "server", None)
            if server is not None:
                server.shutdown()

    return RemotemediaServer


def serve_app(
    manifests: Union[list[Union[str, os.PathLike]], str, os.PathLike],
    *,
    name: str = "remotemedia",
    token: Optional[str] = None,
    token_file: Optional[Union[str, os.PathLike]] = None,
    num_replicas: Optional[Union[int, str]] = None,
    autoscaling_config: Optional[dict[str, Any]] = None,
    max_ongoing_requests: int = 256,
    cpus_per_replica: float = 1.0,
    max_sessions: int = 1024,
    max_message_bytes: int = 1 << 20,
    idle_timeout: float = 60.0,
    output_queue: int = 256,
) -> serve.Application:
    """The pipelines of ``manifests`` as a Ray Serve application (``serve.run(app, route_prefix="/")``)
    with the routes of docs/protocol.md: ``GET /v1/pipelines``, ``POST /v1/pipelines/{name}/run``,
    the WebSocket ``/v1/pipelines/{name}/stream``, ``/healthz`` and ``/metrics`` (per replica).

    Every manifest is planned by each replica as it starts (a bad one fails the deployment, with
    the engine's message); clients can only name them. The token (``token``, ``token_file``, else
    ``REMOTEMEDIA_TOKEN``) is required on every route but ``/healthz`` when set; Serve's proxy
    listens on loopback unless ``serve.start(http_options={"host": ...})`` says otherwise, and an
    exposed application needs a token.

    Replicas: ``num_replicas`` (a number, or ``"auto"``), or Serve's ``autoscaling_config`` (e.g.
    ``{"min_replicas": 1, "max_replicas": 8, "target_ongoing_requests": 64}``: a live session
    counts as one ongoing request for its whole life). ``max_ongoing_requests`` caps the sessions
    and runs a replica takes at once (Serve queues or refuses the rest); ``max_sessions`` is the
    server's own cap per replica. Each replica reserves ``cpus_per_replica`` CPUs and caps its
    engine threads to them.
    """
    if isinstance(manifests, (str, os.PathLike)):
        manifests = [manifests]
    paths = [os.path.abspath(os.fspath(m)) for m in manifests]
    if not paths:
        raise ValueError("no pipeline to serve: give at least one manifest")
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
        "max_ongoing_requests": max_ongoing_requests,
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
    }
    deployment = serve.deployment(_build_ingress()).options(**options)
    return deployment.bind(paths, secret, limits, max(1, math.ceil(cpus_per_replica)))
