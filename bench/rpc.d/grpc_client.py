"""grpcio peer of bench/rpc: an asyncio client calling unary echo (100 bytes) over mutual TLS.

    grpc_client.py STUBS_DIR CERTS_DIR PORT CONCURRENCY DURATION_S MAX_CALLS WARMUP_S

Runs CONCURRENCY callers on one channel; prints one JSON line like kp-bench-rpc drive.
"""

import asyncio
import json
import math
import sys
import time

import grpc


def percentile(sorted_ns: list, fraction: float) -> float:
    if not sorted_ns:
        return 0.0
    index = min(len(sorted_ns) - 1, max(0, math.ceil(len(sorted_ns) * fraction) - 1))
    return sorted_ns[index] / 1000.0


async def main() -> None:
    stubs, certs = sys.argv[1], sys.argv[2]
    port, concurrency = int(sys.argv[3]), int(sys.argv[4])
    duration, max_calls, warmup = float(sys.argv[5]), int(sys.argv[6]), float(sys.argv[7])
    sys.path.insert(0, stubs)
    import echo_pb2
    import echo_pb2_grpc

    def read(name: str) -> bytes:
        with open(f"{certs}/{name}", "rb") as handle:
            return handle.read()

    credentials = grpc.ssl_channel_credentials(
        root_certificates=read("ca.pem"),
        private_key=read("load.key"),
        certificate_chain=read("load.pem"),
    )
    request = echo_pb2.EchoRequest(payload=bytes((i * 7 + 1) & 0xFF for i in range(100)))
    async with grpc.aio.secure_channel(f"127.0.0.1:{port}", credentials) as channel:
        stub = echo_pb2_grpc.EchoStub(channel)
        await stub.Echo(request)

        async def phase(seconds: float, limit: int):
            end = time.monotonic_ns() + int(seconds * 1e9)
            issued = 0
            latencies, errors = [], 0

            async def worker():
                nonlocal issued, errors
                while issued < limit:
                    issued += 1
                    start = time.monotonic_ns()
                    if start >= end:
                        break
                    try:
                        response = await stub.Echo(request)
                        if len(response.payload) != len(request.payload):
                            errors += 1
                    except grpc.RpcError:
                        errors += 1
                    latencies.append(time.monotonic_ns() - start)

            begin = time.monotonic_ns()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            return latencies, errors, (time.monotonic_ns() - begin) / 1e9

        if warmup > 0:
            await phase(warmup, 1 << 62)
        latencies, errors, seconds = await phase(duration, max_calls)
    latencies.sort()
    print(
        json.dumps(
            {
                "concurrency": concurrency,
                "calls": len(latencies),
                "seconds": round(seconds, 3),
                "calls_per_s": round((len(latencies) - errors) / seconds, 1),
                "p50_us": round(percentile(latencies, 0.5), 1),
                "p99_us": round(percentile(latencies, 0.99), 1),
                "errors": errors,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    asyncio.run(main())
