#!/usr/bin/python3
"""A real SMTP server for the tests and for scripts/up (Debian's
python3-aiosmtpd): stores each accepted message as <dir>/<n>.eml, and can
misbehave on purpose: answer 451 to the first N DATA commands, refuse some
recipients with 550, or wait before answering DATA.

  smtp_sink.py --port P --dir D [--fail_first N] [--reject_rcpt TEXT] [--delay_ms MS]
"""
import argparse
import asyncio
import os
import signal
import threading

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, directory, fail_first, reject_rcpt, delay_ms):
        self.directory = directory
        self.fail_first = fail_first
        self.reject_rcpt = reject_rcpt
        self.delay_ms = delay_ms
        self.data_commands = 0
        self.stored = len([n for n in os.listdir(directory) if n.endswith(".eml")])
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reject_rcpt and self.reject_rcpt in address:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.data_commands += 1
            attempt = self.data_commands
        if attempt <= self.fail_first:
            return "451 4.3.0 Try again later"
        if self.delay_ms:
            await asyncio.sleep(self.delay_ms / 1000.0)
        with self.lock:
            self.stored += 1
            n = self.stored
        path = os.path.join(self.directory, "%06d.eml" % n)
        with open(path + ".tmp", "wb") as f:
            f.write(b"X-Envelope-From: " + envelope.mail_from.encode() + b"\r\n")
            f.write(b"X-Envelope-To: " + ",".join(envelope.rcpt_tos).encode() + b"\r\n")
            f.write(envelope.original_content)
        os.rename(path + ".tmp", path)
        return "250 2.0.0 Stored"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--fail_first", type=int, default=0)
    parser.add_argument("--reject_rcpt", default="")
    parser.add_argument("--delay_ms", type=int, default=0)
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    sink = Sink(args.dir, args.fail_first, args.reject_rcpt, args.delay_ms)
    controller = Controller(sink, hostname="127.0.0.1", port=args.port,
                            data_size_limit=30 * 1024 * 1024)
    controller.start()
    print("READY", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
