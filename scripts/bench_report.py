"""Writes bench/REPORT.md and bench/latency.png from the JSON lines `scripts/bench.sh`
collected, and prints the report. Usage: bench_report.py RESULTS OUT_DIR SECONDS [--smoke]

bench/before.json holds the AWS request counts per send measured before issue 11's
change (main d3e5fed), and bench/before-wrk.json the wrk levels measured by the same bench
at main 37877f7, before the store's reads moved; both are shown beside this run's."""

import datetime
import json
import os
import platform
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def cpu():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def commit():
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def ops(counts):
    return ", ".join(f"{op} {n}" for op, n in sorted(counts.items())) or "none"


def main():
    results, out, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    smoke = "--smoke" in sys.argv
    rows = load(results)
    kind = lambda k: [r for r in rows if r["kind"] == k]  # noqa: E731
    os.makedirs(out, exist_ok=True)
    here = os.path.dirname(os.path.abspath(__file__))
    before_path = os.path.join(here, "..", "bench", "before.json")
    before = json.load(open(before_path)) if os.path.exists(before_path) else {}
    before_wrk_path = os.path.join(here, "..", "bench", "before-wrk.json")
    before_wrk = json.load(open(before_wrk_path)) if os.path.exists(before_wrk_path) else {"levels": {}}

    md = ["# Parley benchmark report", ""]
    md.append(
        f"`make bench`{' --smoke (tiny counts, debug builds: not figures)' if smoke else ''} on "
        f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, commit {commit()}, "
        f"{os.cpu_count()} cores ({cpu()}), {seconds} s in all. Every figure below was measured in this run, "
        "beside its reference."
    )
    md.append("")

    sends = kind("send")
    md += ["## Sends over loopback HTTP", ""]
    md.append(
        "The local server (`parley-local`, SQLite, offline model) in the bench process; every client its own "
        "user and session. Latency is the whole exchange (for a streamed send, until its last event); "
        "first byte is when the response began. The offline model pauses 30 ms between words, so a streamed "
        "send lasts about a second by design. Peak RSS: the bench process (server and clients) after the level; "
        "CPU per send: the bench process's user and system time over the level's sends (server and clients, "
        "which share the 2 cores)."
    )
    md.append("")
    md.append(
        table(
            ["mode", "clients", "sends", "sends/s", "p50 ms", "p99 ms", "max ms", "first byte p50 ms", "CPU ms per send",
             "peak RSS MB"],
            [
                [s["mode"], s["clients"], s["sends"], f"{s['per_second']:.0f}", f"{s['p50_ms']:.1f}", f"{s['p99_ms']:.1f}",
                 f"{s['max_ms']:.1f}", f"{s['first_byte_p50_ms']:.1f}",
                 f"{s['cpu_ms_per_send']:.2f}" if "cpu_ms_per_send" in s else "—", f"{s['peak_rss_kb'] / 1024:.0f}"]
                for s in sends
            ],
        )
    )
    md += ["", "![latency against concurrency](latency.png)", ""]
    for s in kind("stream_first_delta"):
        md.append(
            f"Streamed reply through an OpenAI stand-in ({s['reply_chars']} characters in 100 chunks, "
            f"{s['sends']} sends): Parley adds p50 {s['added_p50_ms']:.2f} ms, p99 {s['added_p99_ms']:.2f} ms, "
            f"max {s['added_max_ms']:.2f} ms to the provider's first chunk (reference: the stand-in's own "
            f"first chunk, timed in the same process); the reply's text is written "
            f"{s['saves_min']}–{s['saves_max']} times while it streams."
        )
        md.append("")

    wrks = kind("wrk")
    md += ["## The local store under wrk (issue 11's setup)", ""]
    md.append(
        "`parley` (this build, SQLite on a fresh data directory) in a process of its own; wrk, in another, "
        "keeps the connections sending `POST /session-message`, each send on a session of its own user; the "
        "model is an OpenAI stand-in on loopback that answers at once. Latencies are wrk's. Server CPU is "
        "the `parley` process's user and system time over the level's sends; the stand-in and wrk share the "
        f"same 2 cores and are shown beside it. Before: the same bench at main {before_wrk.get('commit', '?')} "
        f"({before_wrk.get('seconds', '?')} s a level). Targets of issue 11: at least 3,000 sends/s at 16 to 50 "
        "connections, p99 at most 10 ms at 50."
    )
    md.append("")
    bw = lambda w, k: before_wrk["levels"].get(str(w["connections"]), {}).get(k)  # noqa: E731
    fmt = lambda v, f: "—" if v is None else f.format(v)  # noqa: E731
    md.append(
        table(
            ["connections", "sends", "sends/s", "p50 ms", "p99 ms", "max ms", "server CPU ms per send",
             "stand-in + wrk CPU ms per send", "server peak RSS MB", "before: sends/s", "before: p50 / p99 ms",
             "before: server CPU ms"],
            [
                [w["connections"], f"{w['sends']:.0f}", f"{w['per_second']:.0f}", f"{w['p50_ms']:.1f}",
                 f"{w['p99_ms']:.1f}", f"{w['max_ms']:.1f}", f"{w['server_cpu_ms_per_send']:.3f}",
                 f"{w['stand_in_cpu_ms_per_send'] + w['wrk_cpu_ms_per_send']:.3f}",
                 f"{w['server_peak_rss_kb'] / 1024:.0f}", fmt(bw(w, "per_second"), "{:.0f}"),
                 f"{fmt(bw(w, 'p50_ms'), '{:.1f}')} / {fmt(bw(w, 'p99_ms'), '{:.1f}')}",
                 fmt(bw(w, "server_cpu_ms_per_send"), "{:.3f}")]
                for w in wrks
            ],
        )
        if wrks
        else "Not measured in this run."
    )
    md.append("")

    colds = kind("cold_start")
    echo = next((c for c in colds if c["function"] == "lambda-echo"), None)
    md += ["## Cold starts", ""]
    md.append(
        "Process start to the first answered event (`GET /health` in the function's API format; "
        "auth-check: an anonymous authorizer request) through a loopback Lambda Runtime API, "
        f"median of {colds[0]['runs'] if colds else 0} runs, with the process's peak RSS. "
        "The reference is `lambda-echo`, a bare `lambda_runtime` echo built in the same run. "
        "AWS_ENDPOINT_URL points at a closed port: start-up calls no AWS."
    )
    md.append("")
    md.append(
        table(
            ["binary", "median ms", "min ms", "max ms", "over the echo ms", "peak RSS MB"],
            [
                [c["function"], f"{c['median_ms']:.1f}", f"{c['min_ms']:.1f}", f"{c['max_ms']:.1f}",
                 "—" if echo is None or c is echo else f"{c['median_ms'] - echo['median_ms']:+.1f}",
                 f"{c['peak_rss_kb'] / 1024:.1f}"]
                for c in colds
            ],
        )
    )
    md.append("")

    md += ["## AWS requests per warm send", ""]
    md.append(
        "Counted by operation at the local AWS emulator (moto, `PARLEY_EMULATOR_COUNT_REQUESTS=1`), the "
        "second send of each kind through the same functions, with a `clientMessageId`. Before: main d3e5fed, "
        "same test. Target of issue 11: at most 4 for a session send; a streamed send adds only its reply's "
        "progressive writes (UpdateItem)."
    )
    md.append("")
    md.append(
        table(
            ["send", "requests", "by operation", "before", "before, by operation"],
            [
                [r["send"], sum(r["counts"].values()), ops(r["counts"]),
                 sum(before.get(r["send"], {}).values()) or "—", ops(before.get(r["send"], {}))]
                for r in kind("aws_requests")
            ],
        )
    )
    md.append("")

    md.append(
        "What is left of a warm session send is the session (GetItem); one TransactWriteItems that "
        "stores the user message with its client-id marker, charges its quotas and opens the reply "
        "under its writer's lease; the history (Query); and one TransactWriteItems that stores the "
        "reply's end, completes the user message and counts the tokens. A room send reads the room and "
        "the membership in one BatchGetItem instead of the session. A retry whose client id is taken "
        "is refused by the first transaction, and only then looks the stored message up. The store "
        "keeps bot configs and persona texts for 5 s and numbers messages from its last write. "
        "`functions/session-message/tests/round_trips.rs` holds both sends to 4 and a streamed send "
        "to the JSON send's requests plus its progressive UpdateItems."
    )
    md.append("")

    md += ["## Bytes written per message, one conversation", ""]
    md.append(
        "SQLite: bytes the process passed to write(2) per append (WAL frames, page splits and checkpoints), "
        "averaged over the appends up to that message (at most 100: the window column). "
        "DynamoDB: bytes of the append's write request and the item's size as DynamoDB counts it. "
        "The reference is message 1: later messages must not cost more (but their longer number)."
    )
    md.append("")
    byts = kind("bytes_per_message")
    md.append(
        table(
            ["store", "message", "window", "written bytes", "stored item bytes"],
            [[b["store"], b["message"], b.get("window", 1), b["written"], b.get("item", "—")] for b in byts],
        )
    )
    md.append("")
    exchanges = kind("bytes_per_exchange")
    if exchanges:
        md.append(
            "SQLite per exchange (the target: at most 12 KB): everything a JSON send writes (the user message with "
            "its client message id and quota charges, the reply, the statuses, the token count), sent through the "
            "local app's router by a user of someone else's bot, offline model; bytes passed to write(2), "
            "checkpoints included, averaged over each window of one conversation's exchanges."
        )
        md.append("")
        md.append(
            table(
                ["store", "exchanges", "written bytes per exchange"],
                [[e["store"], f"{e['first']}–{e['last']}", e["written"]] for e in exchanges],
            )
        )
        md.append("")
    for h in kind("history_page"):
        extra = f", {h['read']} bytes read" if "read" in h else ""
        extra += f" (median of {h['reads']} reads)" if "reads" in h else ""
        md.append(f"- {h['store']}: a history page of {h['limit']} at message {h['message']}: {h['micros'] / 1000:.2f} ms{extra}.")
    md.append("")

    zips = kind("zip")
    md += ["## Lambda zips (provided.al2023, cargo-lambda release)", ""]
    if zips:
        names = list(dict.fromkeys(z["function"] for z in zips))
        size = lambda arch, name: next((f"{z['bytes'] / 1e6:.2f} MB" for z in zips if z["arch"] == arch and z["function"] == name), "—")  # noqa: E731
        md.append(table(["function", "x86_64", "arm64"], [[n, size("x86_64", n), size("arm64", n)] for n in names]))
    else:
        md.append("Not built in a smoke run.")
    md.append("")

    report = "\n".join(md)
    with open(os.path.join(out, "REPORT.md"), "w") as f:
        f.write(report)

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for mode, colour in (("json", "tab:blue"), ("stream", "tab:orange")):
        pts = sorted((s for s in sends if s["mode"] == mode), key=lambda s: s["clients"])
        if not pts:
            continue
        xs = [p["clients"] for p in pts]
        ax.plot(xs, [p["p50_ms"] for p in pts], "o-", color=colour, label=f"{mode} p50")
        ax.plot(xs, [p["p99_ms"] for p in pts], "s--", color=colour, label=f"{mode} p99")
    pts = sorted(kind("wrk"), key=lambda w: w["connections"])
    if pts:
        xs = [p["connections"] for p in pts]
        ax.plot(xs, [p["p50_ms"] for p in pts], "o-", color="tab:green", label="wrk p50 (own process)")
        ax.plot(xs, [p["p99_ms"] for p in pts], "s--", color="tab:green", label="wrk p99 (own process)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("concurrent clients")
    ax.set_ylabel("latency (ms)")
    ax.set_title("Parley local server: send latency against concurrency")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(out, "latency.png"), dpi=100)

    print(report)
    print(f"\nwritten: {os.path.join(out, 'REPORT.md')} and {os.path.join(out, 'latency.png')}")


if __name__ == "__main__":
    main()
