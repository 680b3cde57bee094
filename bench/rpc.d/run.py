"""The driver of bench/rpc: runs the project, grpcio and the C floor in turn, repeats, and
prints the table and the JSON result (last line).

Every process talks to 127.0.0.1 only and runs under a timeout.
"""

import argparse
import json
import os
import select
import statistics
import subprocess
import sys
import time


def log(message: str) -> None:
    print(f"bench/rpc: {message}", file=sys.stderr, flush=True)


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


class Server:
    """A server process that prints `ready <port>` and stops when its stdin closes."""

    def __init__(self, command: list, name: str):
        self.name = name
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        line = read_line(self.process, 30, name)
        parts = line.split()
        if len(parts) < 2 or parts[0] != "ready":
            self.stop()
            raise RuntimeError(f"{name}: unexpected first line {line!r}")
        self.port = int(parts[1])

    def rss_mb(self) -> float:
        return rss_kb(self.process.pid) / 1024.0

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        try:
            self.process.stdin.close()
            self.process.wait(timeout=5)
        except (subprocess.TimeoutExpired, BrokenPipeError):
            self.process.kill()
            self.process.wait()


def read_line(process: subprocess.Popen, timeout: float, name: str) -> str:
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    if not ready:
        process.kill()
        raise RuntimeError(f"{name}: no output within {timeout} s")
    line = process.stdout.readline()
    if not line:
        raise RuntimeError(f"{name}: exited with {process.wait()}")
    return line.strip()


def run_json(command: list, timeout: float) -> dict:
    completed = subprocess.run(
        command, stdout=subprocess.PIPE, text=True, timeout=timeout, check=True
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def median(values: list) -> float:
    return statistics.median(values) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--swift", required=True)
    parser.add_argument("--floor", required=True)
    parser.add_argument("--certs", required=True)
    parser.add_argument("--stubs", required=True)
    parser.add_argument("--grpc-dir", required=True)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--idle", type=int, default=1000)
    parser.add_argument("--busy-poll-us", type=int, default=50)
    parser.add_argument("--c1-pairs", type=int, default=2)
    parser.add_argument("--swift-dynamic", default=None,
                        help="the same program linked against the Swift runtime's shared "
                             "libraries, measured at c1 beside the default build")
    args = parser.parse_args()

    seconds, warmup = args.seconds, 1.0
    c64_args = os.environ.get("KP_BENCH_C64_ARGS", "--connections 2 --pin 1").split()
    c1_args = os.environ.get("KP_BENCH_C1_ARGS", "--connections 1 --pin 1").split()
    timeout = seconds + warmup + 30

    def swift_drive(port: int, concurrency: int, extra: list, binary: str = args.swift) -> dict:
        return run_json(
            [binary, "drive", "--port", str(port), "--concurrency", str(concurrency),
             "--duration", str(seconds), "--max-calls", str(400_000), "--warmup", str(warmup),
             "--certs", args.certs, *extra],
            timeout,
        )

    def grpc_drive(port: int, concurrency: int) -> dict:
        return run_json(
            [sys.executable, f"{args.grpc_dir}/grpc_client.py", args.stubs, args.certs,
             str(port), str(concurrency), str(seconds), str(400_000), str(warmup)],
            timeout,
        )

    runs = {key: [] for key in ("floor", "tcp", "kp_c1", "grpc_c1", "kp_c64", "grpc_c64")}
    # The runtime's opt-in busy polling (EventLoop.busyPoll), measured beside the default on a
    # server of its own; it is not the default, so no target is judged on it.
    busy_poll_us = args.busy_poll_us
    if busy_poll_us > 0:
        runs.update({"kp_c1_busy_poll": [], "kp_c64_busy_poll": []})
    busy_args = ["--busy-poll-us", str(busy_poll_us)]
    if args.swift_dynamic:
        runs["kp_c1_dynamic"] = []
    kp = Server([args.swift, "serve", "--port", "0", "--certs", args.certs], "kp-bench-rpc serve")
    grpc_server = None
    kp_busy = None
    kp_dynamic = None
    try:
        if args.swift_dynamic:
            kp_dynamic = Server(
                [args.swift_dynamic, "serve", "--port", "0", "--certs", args.certs],
                "kp-bench-rpc serve (runtime linked dynamically)")
        if busy_poll_us > 0:
            kp_busy = Server(
                [args.swift, "serve", "--port", "0", "--certs", args.certs, *busy_args],
                "kp-bench-rpc serve (busy polling)")
        grpc_server = Server(
            [sys.executable, f"{args.grpc_dir}/grpc_server.py", args.stubs, args.certs],
            "grpc_server.py",
        )
        rounds = max(2_000, int(seconds * 5_000))
        for repeat in range(1, args.repeats + 1):
            log(f"round {repeat}/{args.repeats}: floor, concurrency 1, concurrency 64")
            # The c1 comparison is a pair of runs back to back, several pairs a round: the
            # machine's latency drifts by tens of percent within minutes, and each pair's ratio
            # sees the same conditions.
            for _ in range(args.c1_pairs):
                runs["floor"].append(
                    run_json([args.floor, args.certs, str(rounds), str(rounds // 10)], timeout))
                runs["kp_c1"].append(swift_drive(kp.port, 1, c1_args))
            # The same exchange without TLS: the kernel's part, mostly waking the other side.
            runs["tcp"].append(
                run_json([args.floor, args.certs, str(rounds), str(rounds // 10), "plain"],
                         timeout))
            if kp_dynamic:
                runs["kp_c1_dynamic"].append(
                    swift_drive(kp_dynamic.port, 1, c1_args, binary=args.swift_dynamic))
            runs["grpc_c1"].append(grpc_drive(grpc_server.port, 1))
            runs["kp_c64"].append(swift_drive(kp.port, 64, c64_args))
            runs["grpc_c64"].append(grpc_drive(grpc_server.port, 64))
            if kp_busy:
                runs["kp_c1_busy_poll"].append(
                    swift_drive(kp_busy.port, 1, c1_args + busy_args))
                runs["kp_c64_busy_poll"].append(
                    swift_drive(kp_busy.port, 64, c64_args + busy_args))
        kp_rss_loaded = kp.rss_mb()
        grpc_rss_loaded = grpc_server.rss_mb()
    finally:
        kp.stop()
        if grpc_server:
            grpc_server.stop()
        if kp_busy:
            kp_busy.stop()
        if kp_dynamic:
            kp_dynamic.stop()

    idle_runs = []
    for repeat in range(1, args.repeats + 1):
        log(f"idle round {repeat}/{args.repeats}: {args.idle} connections to a fresh server")
        server = Server(
            [args.swift, "serve", "--port", "0", "--certs", args.certs], "kp-bench-rpc serve")
        holder = None
        try:
            fresh = server.rss_mb()
            began = time.monotonic()
            holder = subprocess.Popen(
                [args.swift, "idle", "--port", str(server.port), "--connections",
                 str(args.idle), "--certs", args.certs],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            line = read_line(holder, 120, "kp-bench-rpc idle").split()
            opened = int(line[1]) if len(line) > 1 and line[0] == "ready" else 0
            took = time.monotonic() - began
            time.sleep(1.0)
            idle_runs.append(
                {"fresh_mb": fresh, "idle_mb": server.rss_mb(), "opened": opened,
                 "open_seconds": took})
        finally:
            if holder and holder.poll() is None:
                holder.stdin.close()
                try:
                    holder.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    holder.kill()
            server.stop()

    def med(key: str, field: str) -> float:
        return median([run[field] for run in runs[key]])

    def per_round_ratio(numerator: str, denominator: str, field: str) -> float:
        return median([
            a[field] / b[field] if b[field] else float("inf")
            for a, b in zip(runs[numerator], runs[denominator])
        ])

    figures = {
        "repeats": args.repeats,
        "seconds_per_run": seconds,
        "c1_pairs": args.repeats * args.c1_pairs,
        "kp_c1": {f: med("kp_c1", f) for f in ("calls_per_s", "p50_us", "p99_us")},
        "kp_c64": {f: med("kp_c64", f) for f in ("calls_per_s", "p50_us", "p99_us")},
        "grpcio_c1": {f: med("grpc_c1", f) for f in ("calls_per_s", "p50_us", "p99_us")},
        "grpcio_c64": {f: med("grpc_c64", f) for f in ("calls_per_s", "p50_us", "p99_us")},
        "floor_c1": {
            "round_trips_per_s": med("floor", "round_trips_per_s"),
            "p50_us": med("floor", "p50_us"), "p99_us": med("floor", "p99_us"),
        },
        "tcp_c1": {
            "round_trips_per_s": med("tcp", "round_trips_per_s"),
            "p50_us": med("tcp", "p50_us"), "p99_us": med("tcp", "p99_us"),
        },
        "errors": {
            key: sum(run.get("errors", 0) for run in values)
            for key, values in runs.items() if key not in ("floor", "tcp")
        },
        "kp_server_rss_after_load_mb": round(kp_rss_loaded, 1),
        "grpcio_server_rss_after_load_mb": round(grpc_rss_loaded, 1),
        "kp_server_rss_fresh_mb": round(median([r["fresh_mb"] for r in idle_runs]), 1),
        "kp_server_rss_idle_mb": round(median([r["idle_mb"] for r in idle_runs]), 1),
        "idle_connections_opened": min(r["opened"] for r in idle_runs),
        "idle_open_seconds": round(median([r["open_seconds"] for r in idle_runs]), 2),
        "client_args": {"c1": " ".join(c1_args), "c64": " ".join(c64_args)},
        "busy_poll_us": busy_poll_us,
        "runs": runs,
    }

    if args.swift_dynamic:
        figures["kp_c1_dynamic"] = {
            f: med("kp_c1_dynamic", f) for f in ("calls_per_s", "p50_us", "p99_us")}
    if busy_poll_us > 0:
        for key in ("kp_c1_busy_poll", "kp_c64_busy_poll"):
            figures[key] = {f: med(key, f) for f in ("calls_per_s", "p50_us", "p99_us")}
        figures["busy_poll_c1_vs_floor"] = {
            "p50": round(med("kp_c1_busy_poll", "p50_us") / med("floor", "p50_us"), 2),
            "p99": round(med("kp_c1_busy_poll", "p99_us") / med("floor", "p99_us"), 2),
        }

    throughput_ratio = per_round_ratio("kp_c64", "grpc_c64", "calls_per_s")
    p50_ratio = per_round_ratio("kp_c1", "floor", "p50_us")
    p99_ratio = per_round_ratio("kp_c1", "floor", "p99_us")
    idle_mb = figures["kp_server_rss_idle_mb"]
    idle_ok = figures["idle_connections_opened"] >= args.idle
    targets = [
        {"name": "calls_per_s_c64_vs_grpcio", "value": round(throughput_ratio, 2), "peer": 1.0,
         "goal": ">= 10", "met": throughput_ratio >= 10},
        {"name": "p50_c1_vs_floor", "value": round(p50_ratio, 2), "peer": 1.0,
         "goal": "<= 1.5", "met": p50_ratio <= 1.5},
        {"name": "p99_c1_vs_floor", "value": round(p99_ratio, 2), "peer": 1.0,
         "goal": "<= 2", "met": p99_ratio <= 2},
        {"name": "server_rss_1000_idle_mb", "value": idle_mb, "peer": None,
         "goal": "< 50", "met": idle_ok and idle_mb < 50},
    ]

    def row(name, c1, c64):
        def cells(d):
            if d is None:
                return ["-", "-", "-"]
            rate = d.get("calls_per_s", d.get("round_trips_per_s"))
            return [f"{rate:,.0f}", f"{d['p50_us']:,.0f}", f"{d['p99_us']:,.0f}"]
        values = [name] + cells(c1) + cells(c64)
        print("| " + " | ".join(values) + " |")

    print()
    print("kp/1 is built as for deployment: release, Swift runtime linked statically.")
    print(f"RPC unary echo, 100-byte payload, mutual TLS, loopback; median of {args.repeats}"
          f" runs of {seconds:g} s ({args.repeats * args.c1_pairs} for kp/1 and the floor at"
          f" c1, each ratio taken within a back-to-back pair)")
    print()
    print("| system | c1 calls/s | c1 p50 us | c1 p99 us | c64 calls/s | c64 p50 us | c64 p99 us |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    row("KnowledgePlane kp/1", figures["kp_c1"], figures["kp_c64"])
    row("grpcio (aio, Python)", figures["grpcio_c1"], figures["grpcio_c64"])
    row("C floor (OpenSSL TLS 1.3)", figures["floor_c1"], None)
    row("C ping-pong over bare TCP (no TLS)", figures["tcp_c1"], None)
    if args.swift_dynamic:
        row("kp/1, Swift runtime as shared libraries", figures["kp_c1_dynamic"], None)
    if busy_poll_us > 0:
        row(f"kp/1 with busy polling {busy_poll_us} us (opt-in)", figures["kp_c1_busy_poll"],
            figures["kp_c64_busy_poll"])
        ratios = figures["busy_poll_c1_vs_floor"]
        print()
        print(f"Busy polling is opt-in (EventLoop.busyPoll, --busy-poll-microseconds): the loops"
              f" poll for {busy_poll_us} us after work instead of sleeping, so the next frame"
              f" costs no wake-up. At c1 it is {ratios['p50']}x the floor at p50 and"
              f" {ratios['p99']}x at p99; the targets below are judged on the default (off).")
    print()
    print(f"server RSS: fresh {figures['kp_server_rss_fresh_mb']} MB; with "
          f"{figures['idle_connections_opened']} idle connections {idle_mb} MB (opened in "
          f"{figures['idle_open_seconds']} s); after the load runs "
          f"{figures['kp_server_rss_after_load_mb']} MB (grpcio server "
          f"{figures['grpcio_server_rss_after_load_mb']} MB)")
    print(f"errors: {figures['errors']}")
    print()
    print("| target | value | goal | met |")
    print("| --- | --- | --- | --- |")
    for target in targets:
        print(f"| {target['name']} | {target['value']} | {target['goal']} | "
              f"{'yes' if target['met'] else 'MISSED'} |")
    print()
    print(json.dumps({"bench": "rpc", "figures": figures, "targets": targets}))


if __name__ == "__main__":
    main()
