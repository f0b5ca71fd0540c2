"""Phase 2 end to end over real HTTP: our async engine vs a thread pool, at C = 100..1000.

A loopback simulator (`agents.simulated.server`, its own process so CPU time can be attributed)
answers every chat request L seconds after it arrived (its own work on the answer included,
as a real endpoint's latency includes its work) and plays each episode's script
(`send_scenario`). For each concurrency C, in a fresh process each:
  * ours: `trajectories` (the conversation protocol over the retail task file, as many trials per
    task as fit in `--slots` x C episodes) through the engine, the gateway and
    `provider: openai`;
  * threads: the same scripted episodes driven by a ThreadPoolExecutor of C threads, each a
    plain synchronous loop on one shared `openai.OpenAI` client (the way tau-bench runs).
Prints episodes/s, model calls/s, the ideal bound C / (calls per episode x L) and the ratio
achieved / ideal (over the whole run and over the window where all C slots are busy), peak
RSS, RSS per live episode, client CPU per model call, the CPU-bound ceiling (1 / CPU per
call) and which bound binds; then ours / threads. Goals: ratio >= 0.9 at C = 1000, CPU per
call < 1 ms, RSS per live episode beyond its messages < 50 KB (messages are measured as
the finished conversations' JSON, which undercounts their objects in memory). Each line
ends with the machine's load average: above the benchmark's own ~2, other processes took
CPU time from it, and CPU per call (cache contention) and the ratios read worse than they
are; compare implementations measured under the same load only.

    python benchmarks/end_to_end.py [--latency-s 1.0] [--concurrency 100,500,1000]
                                    [--slots 3] [--no-threads] [--quick]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[1]
TASKS_FILE = ROOT / "playbooks" / "data" / "retail_tasks.json"
STOP = "###STOP###"
TASKS = 9  # in TASKS_FILE
MAX_TRIALS = 1000  # a playbook's bound on trials per task
GOAL_RATIO = 0.9
GOAL_CPU_MS = 1.0
GOAL_RSS_KB = 50.0
OWN_LOAD = 2.5
"""The load average this benchmark makes by itself (a worker and the simulator)."""


@dataclass
class Measurement:
    """What one worker process measured for one (implementation, C)."""

    impl: str
    concurrency: int
    episodes: int
    accepted: int
    calls: int
    wall_s: float
    busy_window_s: float
    busy_calls: int
    cpu_s: float
    base_rss: int
    peak_rss: int
    messages_kb: float = float("nan")

    @property
    def calls_per_episode(self) -> float:
        return self.calls / self.episodes

    @property
    def episodes_per_s(self) -> float:
        return self.episodes / self.wall_s

    @property
    def calls_per_s(self) -> float:
        return self.calls / self.wall_s

    def ideal_episodes_per_s(self, latency_s: float) -> float:
        """C / (model calls per episode x L): every slot always waiting on the model."""
        return self.concurrency / (self.calls_per_episode * latency_s)

    def ratio(self, latency_s: float) -> float:
        return self.episodes_per_s / self.ideal_episodes_per_s(latency_s)

    def busy_ratio(self, latency_s: float) -> float:
        """Calls completed while all C slots were busy vs C / L in that window."""
        if self.busy_window_s <= 0:
            return float("nan")
        return self.busy_calls / (self.concurrency * self.busy_window_s / latency_s)

    @property
    def cpu_per_call_ms(self) -> float:
        return 1000 * self.cpu_s / self.calls

    @property
    def cpu_ceiling_calls_per_s(self) -> float:
        """Calls/s this client could drive on one core if the model answered at once."""
        return self.calls / self.cpu_s

    @property
    def rss_per_episode_kb(self) -> float:
        return (self.peak_rss - self.base_rss) / self.concurrency / 1024

    @property
    def beyond_messages_kb(self) -> float:
        """RSS per live episode less its finished conversation's messages (as JSON)."""
        return self.rss_per_episode_kb - self.messages_kb


# -- workers (each in its own process) --------------------------------------------------


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _busy_window(
    first_calls: list[float], finished: list[float], call_times: list[float], c: int
) -> tuple[float, int]:
    """The window in which all C slots hold an episode, and the calls completed in it.

    It opens when the C-th episode sends its first request (before that, slots are still
    being filled) and closes when the (E - C + 1)-th episode finishes (after that, slots
    run dry): episodes start in order as slots free up.
    """
    if len(finished) <= c or len(first_calls) < c:
        return 0.0, 0
    begin = sorted(first_calls)[c - 1]
    end = sorted(finished)[len(finished) - c]
    return end - begin, sum(1 for t in call_times if begin <= t <= end)


def _playbook(
    base_url: str,
    concurrency: int,
    trials: int,
    store: Path,
    name: str,
    executor: str = "local",
    tasks: tuple[Path, int] = (TASKS_FILE, TASKS),
) -> str:
    tasks_file, task_count = tasks
    return textwrap.dedent(
        f"""
        name: {name}
        seed: 1
        concurrency: {concurrency}
        store: {store}
        executor: {{kind: {executor}, workers: 2, episodes_per_worker: {max(1, concurrency // 2)}}}
        domain: {{name: retail, options: {{data: {{seed: 0}}}}}}
        models:
          default:
            provider: openai
            model: sim-remote
            base_url: {base_url}
            send_scenario: true
            max_concurrency: {concurrency}
            timeout_s: 120
            max_retries: 0
        agents:
          human: {{model: default}}
          assistant: {{model: default}}
        phases:
          - name: tasks
            episodes: {task_count}
            steps: [{{kind: load_task, path: {tasks_file}}}]
          - name: trajectories
            input: {{phase: tasks}}
            trials: {trials}
            steps:
              - {{kind: protocol, use: conversation}}
        """
    )


def worker_ray(base_url: str, concurrency: int, episodes: int) -> Measurement:
    """The same playbook through the Ray executor (2 workers); CPU is the driver's only."""
    return worker_ours(base_url, concurrency, episodes, executor="ray")


def worker_ours(
    base_url: str, concurrency: int, episodes: int, executor: str = "local"
) -> Measurement:
    """Run the trajectories playbook in this process and measure it."""
    from runtime.api import load_playbook, run_playbook
    from runtime.log import configure_logging
    from runtime.loop import run as run_on_loop

    configure_logging(level="warning")
    # a phase plays each task at most MAX_TRIALS times: past that, the task file repeats
    copies = math.ceil(episodes / TASKS / MAX_TRIALS)
    trials = episodes // (TASKS * copies)
    with tempfile.TemporaryDirectory(prefix="e2e-ours-") as tmp:
        tmp_path = Path(tmp)
        repeated = tmp_path / "tasks.json"
        repeated.write_text(json.dumps(json.loads(TASKS_FILE.read_text()) * copies))

        def run(name: str, c: int, k: int) -> str:
            path = tmp_path / f"{name}.yaml"
            tasks = (repeated, TASKS * copies) if name == "measured" else (TASKS_FILE, TASKS)
            path.write_text(_playbook(base_url, c, k, tmp_path / name, name, executor, tasks))
            summary = run_on_loop(run_playbook, load_playbook(path))
            return summary.store_path

        run("warmup", TASKS, 1)
        base_rss = psutil.Process().memory_info().rss
        cpu0, wall0 = _cpu(), time.perf_counter()
        store = run("measured", concurrency, trials)
        wall = time.perf_counter() - wall0
        cpu = _cpu() - cpu0
        peak = _peak_rss()
        with sqlite3.connect(store) as db:
            done = [
                row[0]
                for row in db.execute(
                    "SELECT committed_at FROM work_items WHERE phase='trajectories'"
                )
            ]
            accepted = db.execute(
                "SELECT COUNT(*) FROM work_items WHERE phase='trajectories' AND status='accepted'"
            ).fetchone()[0]
            call_times = [
                row[0] for row in db.execute("SELECT created_at FROM model_calls WHERE status='ok'")
            ]
            first_calls = [
                row[0]
                for row in db.execute(
                    "SELECT MIN(created_at - latency_s) FROM model_calls"
                    " WHERE phase='trajectories' GROUP BY item_key"
                )
            ]
            sizes = [
                len(json.dumps(json.loads(row[0])["messages"]))
                for row in db.execute(
                    "SELECT payload_json FROM results WHERE phase='trajectories'"
                    " AND kind='trajectory'"
                )
            ]
        db.close()
    window, busy_calls = _busy_window(first_calls, done, call_times, concurrency)
    impl = "ours" if executor == "local" else executor
    return Measurement(
        impl, concurrency, len(done), accepted, len(call_times), wall, window, busy_calls,
        cpu, base_rss, peak, sum(sizes) / max(1, len(sizes)) / 1024,
    )  # fmt: skip


class _ThreadEpisodes:
    """tau-bench style: a synchronous loop per episode on one shared `openai.OpenAI` client."""

    def __init__(self, base_url: str, concurrency: int) -> None:
        import openai

        from agents.blueprints.blueprint import Blueprint, Provenance
        from agents.dialogue.assistant import tool_schemas
        from agents.dialogue.human import OPENING
        from domains.base import Task
        from domains.registry import resolve_domain

        self.client = openai.OpenAI(
            base_url=base_url, api_key="sk-loopback-no-key", max_retries=0, timeout=120
        )
        domain = resolve_domain("retail")
        self.base = domain.environment({"data": {"seed": 0}})
        self.writes = set(domain.write_tools())
        self.tools = [{"type": "function", "function": dict(t)} for t in tool_schemas(domain)]
        self.assistant_system = (
            f"You are a {domain.name} customer service agent.\n\n{domain.policy}"
        )
        tasks = [Task.model_validate(t) for t in json.loads(TASKS_FILE.read_text())]
        self.blueprints = [
            Blueprint(**t.model_dump(), provenance=Provenance(model="file")) for t in tasks
        ]
        self.opening = OPENING
        self.concurrency = concurrency
        self.calls = 0
        self.call_times: list[float] = []
        self._lock = threading.Lock()

    def _create(self, **kwargs: Any) -> Any:
        response = self.client.chat.completions.create(model="sim-remote", **kwargs)
        with self._lock:
            self.calls += 1
            self.call_times.append(time.time())
        return response.choices[0].message

    def episode(self, index: int) -> tuple[bool, float, float]:
        """Play one scripted conversation, run its tool calls, check the final state.

        Returns whether it passed, when it sent its first request and when it finished.
        """
        from agents.simulated.dialogue_scripts import assistant_script, human_script
        from agents.simulated.scenario import SCENARIO_ARG

        blueprint = self.blueprints[index % len(self.blueprints)]
        seed = 1_000_003 * index + 17
        human = human_script(blueprint, self.writes, seed, STOP).model_dump(mode="json")
        agent = assistant_script(blueprint, self.writes, seed).model_dump(mode="json")
        env = self.base.fork()
        human_view: list[dict[str, Any]] = [
            {"role": "system", "content": f"You are a customer. {blueprint.instruction}"},
            {"role": "user", "content": self.opening},
        ]
        agent_view: list[dict[str, Any]] = [{"role": "system", "content": self.assistant_system}]
        said: list[str] = []
        first_call = time.time()
        for _turn in range(20):
            text = self._create(messages=human_view, extra_body={SCENARIO_ARG: human}).content
            human_view.append({"role": "assistant", "content": text})
            agent_view.append({"role": "user", "content": text})
            if STOP in text:
                break
            for _step in range(10):
                reply = self._create(
                    messages=agent_view, tools=self.tools, extra_body={SCENARIO_ARG: agent}
                )
                if not reply.tool_calls:
                    said.append(reply.content or "")
                    agent_view.append({"role": "assistant", "content": reply.content})
                    human_view.append({"role": "user", "content": reply.content})
                    break
                agent_view.append(reply.model_dump(exclude_none=True))
                for call in reply.tool_calls:
                    result = env.call(call.function.name, json.loads(call.function.arguments))
                    agent_view.append(
                        {"role": "tool", "tool_call_id": call.id, "content": result.output}
                    )
        truth = self.base.fork()
        truth.run([a.model_dump() for a in blueprint.actions])
        outputs_ok = all(any(o in s for s in said) for o in blueprint.outputs)
        return truth.fingerprint() == env.fingerprint() and outputs_ok, first_call, time.time()

    def run(self, episodes: int, threads: int) -> list[tuple[bool, float, float]]:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            return list(pool.map(self.episode, range(episodes)))


def whole_trials(episodes: int) -> int:
    """At most `episodes`, every task played the same number of times.

    Rounding up instead would add a last wave of a few episodes that holds the run open
    for a whole episode's length with almost every slot idle.
    """
    return max(1, episodes // TASKS) * TASKS


def worker_threads(base_url: str, concurrency: int, episodes: int) -> Measurement:
    """Run the thread-pool baseline in this process and measure it."""
    driver = _ThreadEpisodes(base_url, concurrency)
    driver.run(TASKS, TASKS)  # warm-up: imports, connections, code paths
    driver.calls, driver.call_times = 0, []
    base_rss = psutil.Process().memory_info().rss
    cpu0, wall0 = _cpu(), time.perf_counter()
    results = driver.run(episodes, concurrency)
    wall = time.perf_counter() - wall0
    cpu = _cpu() - cpu0
    peak = _peak_rss()
    first_calls = [first for _, first, _ in results]
    done = [finished for _, _, finished in results]
    window, busy_calls = _busy_window(first_calls, done, driver.call_times, concurrency)
    accepted = sum(ok for ok, _, _ in results)
    return Measurement(
        "threads", concurrency, episodes, accepted, driver.calls, wall, window, busy_calls,
        cpu, base_rss, peak,
    )  # fmt: skip


# -- orchestration ------------------------------------------------------------------------


@dataclass
class ServerLoad:
    """The simulator's CPU time and requests over one measurement, and the machine's load
    average at its end (other processes competing for the CPUs inflate CPU per call)."""

    cpu_s: float
    requests: int
    machine_load: float = 0.0

    @property
    def cpu_per_request_ms(self) -> float:
        return 1000 * self.cpu_s / max(1, self.requests)


class Server:
    """The loopback simulator as a child process."""

    def __init__(self, latency_s: float) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "agents.simulated.server", "--port", "0",
             "--latency-ms", str(latency_s * 1000)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if not line:
            self.stop()
            raise RuntimeError("the simulator did not start")
        self.base_url = line.rsplit(" ", 1)[-1]
        self.ps = psutil.Process(self.process.pid)

    def requests(self) -> int:
        import urllib.request

        url = self.base_url.removesuffix("/v1") + "/stats"
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(json.load(response)["total"])

    def cpu(self) -> float:
        times = self.ps.cpu_times()
        return float(times.user + times.system)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)


def measure(
    server: Server, impl: str, concurrency: int, episodes: int
) -> tuple[Measurement, ServerLoad]:
    """One worker process for (impl, C); returns its measurement and the server's load."""
    cpu0, requests0 = server.cpu(), server.requests()
    out = subprocess.run(
        [sys.executable, __file__, "--worker", impl, "--base-url", server.base_url,
         "--concurrency", str(concurrency), "--episodes", str(episodes)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if out.returncode != 0:
        raise RuntimeError(f"{impl} worker at C={concurrency} failed:\n{out.stderr[-3000:]}")
    data = json.loads(out.stdout.strip().splitlines()[-1])
    load = ServerLoad(server.cpu() - cpu0, server.requests() - requests0, os.getloadavg()[0])
    return Measurement(**data), load


def report(m: Measurement, load: ServerLoad, latency_s: float) -> None:
    ideal = m.ideal_episodes_per_s(latency_s)
    latency_bound = m.concurrency / latency_s
    binds = "latency (C/L)" if latency_bound <= m.cpu_ceiling_calls_per_s else "client CPU"
    print(
        f"  {m.impl:7s} C={m.concurrency:<5d} episodes {m.episodes} ({m.accepted} accepted) in"
        f" {m.wall_s:.1f}s: {m.episodes_per_s:.1f} episodes/s, {m.calls_per_s:.0f} calls/s"
        f" ({m.calls_per_episode:.2f} calls/episode)\n"
        f"          ideal {ideal:.1f} episodes/s -> ratio {m.ratio(latency_s):.3f} overall,"
        f" {m.busy_ratio(latency_s):.3f} while all C slots busy ({m.busy_window_s:.1f}s)\n"
        f"          client CPU {m.cpu_s:.2f}s = {m.cpu_per_call_ms:.3f} ms/call"
        f" (ceiling {m.cpu_ceiling_calls_per_s:.0f} calls/s vs C/L {latency_bound:.0f}:"
        f" {binds} binds)\n"
        f"          RSS peak {m.peak_rss / 2**20:.0f} MiB (base {m.base_rss / 2**20:.0f} MiB):"
        f" {m.rss_per_episode_kb:.1f} KB per live episode"
        + (
            f" ({m.beyond_messages_kb:.1f} KB beyond its {m.messages_kb:.1f} KB of messages);"
            if not math.isnan(m.messages_kb)
            else ";"
        )
        + f" server {load.cpu_per_request_ms:.3f} ms CPU/request"
        f" ({load.cpu_s / m.wall_s:.0%} of a core); machine load {load.machine_load:.1f}"
        f" on {os.cpu_count()} CPUs"
        + (" (busy: others compete for the CPUs)" if load.machine_load > OWN_LOAD else "")
    )


def _goal(ok: bool) -> str:
    return "met" if ok else "MISSED"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency-s", type=float, default=1.0, help="injected latency L")
    parser.add_argument("--concurrency", default="100,500,1000", help="C values, comma-separated")
    parser.add_argument("--slots", type=float, default=3.0, help="episodes = slots x C")
    parser.add_argument("--episodes", type=int, help="episodes per run (overrides --slots)")
    parser.add_argument("--no-threads", action="store_true", help="skip the thread-pool baseline")
    parser.add_argument("--quick", action="store_true", help="~30 s smoke run")
    parser.add_argument(
        "--ray", action="store_true", help="also run through the Ray executor (2 workers)"
    )
    parser.add_argument("--worker", choices=["ours", "threads", "ray"], help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        work = {"ours": worker_ours, "threads": worker_threads, "ray": worker_ray}[args.worker]
        result = work(args.base_url, int(args.concurrency), int(args.episodes))
        print(json.dumps(asdict(result)))
        return
    if args.quick:
        args.latency_s, args.concurrency, args.slots = 0.25, "20,100", 2.0
    levels = [int(c) for c in args.concurrency.split(",")]
    server = Server(args.latency_s)
    print(f"phase 2 over HTTP, L = {args.latency_s}s, simulator at {server.base_url}"
          f" (pid {server.process.pid}); {os.cpu_count()} CPUs")  # fmt: skip
    results: dict[int, dict[str, Measurement]] = {}
    try:
        for c in levels:
            episodes = whole_trials(args.episodes or int(args.slots * c))
            impls = ["ours"] if args.no_threads else ["ours", "threads"]
            if args.ray:
                impls.append("ray")
            for impl in impls:
                m, load = measure(server, impl, c, episodes)
                results.setdefault(c, {})[impl] = m
                report(m, load, args.latency_s)
            if "threads" in results[c]:
                ours, threads = results[c]["ours"], results[c]["threads"]
                speed = ours.episodes_per_s / threads.episodes_per_s
                cpu = ours.cpu_per_call_ms / threads.cpu_per_call_ms
                rss = ours.rss_per_episode_kb / max(threads.rss_per_episode_kb, 1e-9)
                print(
                    f"  ours/threads C={c}: throughput x{speed:.2f}, CPU per call x{cpu:.2f},"
                    f" RSS per live episode x{rss:.2f}"
                )
            if "ray" in results[c]:
                ray, ours = results[c]["ray"], results[c]["ours"]
                print(
                    f"  ray/local C={c}: efficiency {ray.ratio(args.latency_s):.3f} vs"
                    f" {ours.ratio(args.latency_s):.3f} (throughput x"
                    f"{ray.episodes_per_s / ours.episodes_per_s:.2f}; ray CPU is the driver's)"
                )
    finally:
        server.stop()
    top = results[max(levels)]["ours"]
    busy, overall = top.busy_ratio(args.latency_s), top.ratio(args.latency_s)
    cpu_ms, rss_kb = top.cpu_per_call_ms, top.beyond_messages_kb
    print(
        f"goals at C={top.concurrency}: ratio {busy:.3f} (busy window), {overall:.3f} (overall)"
        f" >= {GOAL_RATIO}: {_goal(busy >= GOAL_RATIO)}; CPU/call {cpu_ms:.3f} ms"
        f" < {GOAL_CPU_MS}: {_goal(cpu_ms < GOAL_CPU_MS)}; RSS/episode beyond messages"
        f" {rss_kb:.1f} KB < {GOAL_RSS_KB}: {_goal(rss_kb < GOAL_RSS_KB)}"
    )


if __name__ == "__main__":
    main()
