"""grpcio peer of bench/rpc: an asyncio echo server over mutual TLS on loopback.

    grpc_server.py STUBS_DIR CERTS_DIR

Prints `ready <port>` once listening; serves until stdin closes or SIGTERM.
"""

import asyncio
import sys

import grpc


async def main() -> None:
    stubs, certs = sys.argv[1], sys.argv[2]
    sys.path.insert(0, stubs)
    import echo_pb2
    import echo_pb2_grpc

    class Echo(echo_pb2_grpc.EchoServicer):
        async def Echo(self, request, context):
            return echo_pb2.EchoResponse(payload=request.payload)

    def read(name: str) -> bytes:
        with open(f"{certs}/{name}", "rb") as handle:
            return handle.read()

    credentials = grpc.ssl_server_credentials(
        [(read("knowledge.key"), read("knowledge.pem"))],
        root_certificates=read("ca.pem"),
        require_client_auth=True,
    )
    server = grpc.aio.server()
    echo_pb2_grpc.add_EchoServicer_to_server(Echo(), server)
    port = server.add_secure_port("127.0.0.1:0", credentials)
    await server.start()
    print(f"ready {port}", flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    await server.stop(0.2)


if __name__ == "__main__":
    asyncio.run(main())
