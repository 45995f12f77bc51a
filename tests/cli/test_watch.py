"""``analyze -`` and ``analyzer watch``: a capture from stdin, a growing file, PCAP-over-IP.

The final verdict of a watch is the verdict ``analyze`` gives on the saved capture.
"""

from __future__ import annotations

import io
import json
import socket
import threading
import time
from pathlib import Path

import pytest

from analyzer.cli import main
from analyzer.cli.status import ExitStatus
from analyzer.cli.watch import RecordSplitter, Window

LAB = Path(__file__).resolve().parents[2] / "captures" / "lab"
RECEIVERS = sorted(LAB.glob("*-receiver.pcap"))


def run(argv: list[str], stdin: bytes | None = None) -> tuple[ExitStatus, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(argv, stdout=out, stderr=err,
                  stdin=io.BytesIO(stdin) if stdin is not None else None)
    return status, out.getvalue(), err.getvalue()


def analyze_text(path: Path, name: str) -> str:
    status, out, _ = run(["analyze", str(path)])
    assert status == ExitStatus.OK
    return out.replace(str(path), name)


@pytest.mark.parametrize("path", RECEIVERS, ids=lambda p: p.stem)
def test_watch_stdin_ends_with_the_analyze_verdict(path: Path) -> None:
    data = path.read_bytes()
    status, out, _ = run(["watch", "-", "--every", "3600"], stdin=data)
    assert status == ExitStatus.OK
    assert out == analyze_text(path, "<stdin>")
    status, piped, _ = run(["analyze", "-"], stdin=data)
    assert status == ExitStatus.OK and piped == out


def test_watch_prints_rolling_status_lines() -> None:
    path = LAB / "periodic-receiver.pcap"
    status, out, _ = run(["watch", "-", "--every", "5"], stdin=path.read_bytes())
    assert status == ExitStatus.OK
    lines = out.splitlines()
    rolling = [ln for ln in lines if ln.startswith("[")]
    assert [ln.split("]")[0] for ln in rolling] == ["[    5.0 s", "[   10.0 s", "[   15.0 s"]
    assert all("call 1" in ln and "kbit/s" in ln and "loss" in ln and "jitter" in ln
               for ln in rolling)
    assert "patterns so far: loss" in rolling[-1]
    assert "\n".join(lines[len(rolling):]) + "\n" == analyze_text(path, "<stdin>")


def _grow(path: Path, data: bytes, pieces: int = 8, pause_s: float = 0.02) -> threading.Thread:
    """Write ``data`` to ``path`` in pieces, as a capture program would."""
    step = -(-len(data) // pieces)

    def work() -> None:
        with open(path, "ab") as f:
            for i in range(0, len(data), step):
                f.write(data[i: i + step])
                f.flush()
                time.sleep(pause_s)
    path.write_bytes(b"")
    return threading.Thread(target=work, daemon=True)


@pytest.mark.parametrize("src", RECEIVERS, ids=lambda p: p.stem)
def test_watch_follows_a_growing_file(src: Path, tmp_path: Path) -> None:
    path = tmp_path / "live.pcap"
    writer = _grow(path, src.read_bytes())
    writer.start()
    status, out, _ = run(["watch", str(path), "--every", "3600", "--idle", "0.4"])
    writer.join()
    assert status == ExitStatus.OK
    assert path.read_bytes() == src.read_bytes()
    status, ref, _ = run(["analyze", str(path)])
    assert out == ref


def test_watch_pcap_over_ip_json_lines(tmp_path: Path) -> None:
    data = (LAB / "loss5-receiver.pcap").read_bytes()
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            for i in range(0, len(data), 4096):  # a live stream arrives in pieces
                conn.sendall(data[i: i + 4096])
        server.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    saved = tmp_path / "kept.pcap"
    status, out, err = run(["watch", f"tcp://127.0.0.1:{port}", "--json", "--every", "5",
                            "--save", str(saved)])
    t.join(5)
    assert status == ExitStatus.OK, err
    docs = [json.loads(ln) for ln in out.splitlines()]
    assert [d["type"] for d in docs[:-1]] == ["status", "status"]
    assert docs[0]["calls"][0]["loss"] > 0
    final = docs[-1]
    assert saved.read_bytes() == data
    _, ref, _ = run(["analyze", "--json", str(saved)])
    expect = json.loads(ref)
    for d in (final, expect):  # only the name differs
        d["input"].pop("path")
        d.pop("file")
    assert final == expect


def test_watch_save_never_overwrites_the_source(tmp_path: Path) -> None:
    path = tmp_path / "c.pcap"
    path.write_bytes((LAB / "clean-receiver.pcap").read_bytes())
    status, _, err = run(["watch", str(path), "--save", str(path), "--idle", "0"])
    assert status == ExitStatus.USAGE and "would overwrite" in err


def test_watch_ctrl_c_gives_the_verdict_so_far() -> None:
    data = (LAB / "loss5-receiver.pcap").read_bytes()

    class Interrupted(io.BytesIO):
        def read1(self, n: int = -1) -> bytes:
            if self.tell() > len(data) // 2:
                raise KeyboardInterrupt
            return super().read1(min(n, 4096))

    out, err = io.StringIO(), io.StringIO()
    status = main(["watch", "-", "--every", "3600"], stdout=out, stderr=err,
                  stdin=Interrupted(data))
    assert status == ExitStatus.OK
    assert out.getvalue().startswith("verdict: ")


def test_watch_of_an_empty_stream_is_not_a_capture() -> None:
    status, _, err = run(["watch", "-"], stdin=b"")
    assert status == ExitStatus.NOT_A_CAPTURE and "<stdin>" in err


def test_splitter_and_window_bound_memory() -> None:
    data = (LAB / "clean60-receiver.pcap").read_bytes()
    split = RecordSplitter()
    win = Window(5.0, max_bytes=20_000)
    n = 0
    for i in range(0, len(data), 777):
        for ts, rec in split.feed(data[i: i + 777]):
            win.add(ts, rec)
            n += 1
            assert win.bytes <= 20_000
    assert split.fmt == "pcap" and n == 506
    assert win.records[-1][0] - win.records[0][0] <= 5e9


def test_watch_tcp_listen_takes_a_sender(tmp_path: Path) -> None:
    """PCAPdroid's TCP exporter connects to a collector and sends its pcap stream."""
    data = (LAB / "loss5-receiver.pcap").read_bytes()
    probe = socket.create_server(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()

    def send() -> None:
        for _ in range(100):  # until the watch listens
            try:
                conn = socket.create_connection(("127.0.0.1", port), timeout=1)
                break
            except OSError:
                time.sleep(0.05)
        with conn:
            conn.sendall(data)

    t = threading.Thread(target=send, daemon=True)
    t.start()
    status, out, err = run(["watch", f"tcp-listen://127.0.0.1:{port}", "--every", "3600"])
    t.join(5)
    assert status == ExitStatus.OK, err
    assert "waiting for a capture stream" in err
    assert out == analyze_text(LAB / "loss5-receiver.pcap", f"tcp-listen://127.0.0.1:{port}")


def test_watch_http_like_pcapdroid_http_server() -> None:
    """PCAPdroid's HTTP server: '/' redirects to the capture, which is sent chunked."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    data = (LAB / "loss5-receiver.pcap").read_bytes()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            if self.path == "/":
                self.send_response(302)
                self.send_header("Location", "/PCAPdroid_live.pcap")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/vnd.tcpdump.pcap")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Connection", "close")
            self.end_headers()
            for i in range(0, len(data), 5000):
                piece = data[i: i + 5000]
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        status, out, err = run(["watch", url, "--every", "3600"])
    finally:
        server.shutdown()
    assert status == ExitStatus.OK, err
    assert out == analyze_text(LAB / "loss5-receiver.pcap", url)
