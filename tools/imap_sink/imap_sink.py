#!/usr/bin/python3
"""An IMAP4rev1 server (RFC 3501) over one mailbox, for the tests of the
interaction service's mailbox poller and for scripts/up: the messages are
the files <dir>/<uid>.eml (their modification time is the INTERNALDATE),
read afresh on every command, so a test adds mail by writing a file.
<dir>/UIDVALIDITY holds the mailbox's UIDVALIDITY (1 when absent).

It speaks what a mail client needs to read a mailbox: CAPABILITY, LOGIN,
STATUS, SELECT, EXAMINE, UID SEARCH (ALL, UID ranges, SINCE), UID FETCH
BODY[] / BODY.PEEK[] (the former marks the message \\Seen), NOOP, LOGOUT.
Every command is appended to <dir>.commands (passwords masked). It can
misbehave on purpose: --drop_first N closes the first N connections
after the greeting.

  imap_sink.py --port P --dir D --user U (--password W | --password_file F)
               [--mailbox INBOX] [--drop_first N]
"""
import argparse
import datetime
import os
import re
import signal
import socketserver
import threading

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun",
          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def words(text):
    """IMAP arguments: atoms, "quoted strings" and (lists) as strings."""
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == " ":
            i += 1
        elif c == '"':
            i += 1
            word = []
            while i < len(text) and text[i] != '"':
                if text[i] == "\\" and i + 1 < len(text):
                    i += 1
                word.append(text[i])
                i += 1
            out.append("".join(word))
            i += 1
        elif c == "(":
            end = text.find(")", i)
            end = len(text) if end < 0 else end
            out.append(text[i:end + 1])
            i = end + 1
        else:
            end = text.find(" ", i)
            end = len(text) if end < 0 else end
            out.append(text[i:end])
            i = end
    return out


class Mailbox:
    def __init__(self, directory, name):
        self.directory = directory
        self.name = name
        self.seen = set()
        self.lock = threading.Lock()

    def uid_validity(self):
        try:
            with open(os.path.join(self.directory, "UIDVALIDITY")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return 1

    def messages(self):
        """(uid, path) ascending."""
        found = []
        for n in os.listdir(self.directory):
            m = re.fullmatch(r"(\d+)\.eml", n)
            if m:
                found.append((int(m.group(1)), os.path.join(self.directory, n)))
        return sorted(found)

    def uid_next(self, messages):
        return (messages[-1][0] + 1) if messages else 1


def in_set(uid, spec, largest):
    for part in spec.split(","):
        lo, _, hi = part.partition(":")
        lo = largest if lo == "*" else int(lo)
        hi = lo if hi == "" else (largest if hi == "*" else int(hi))
        if min(lo, hi) <= uid <= max(lo, hi):
            return True
    return False


class Handler(socketserver.StreamRequestHandler):
    def send(self, text):
        self.wfile.write(text.encode() + b"\r\n")

    def handle(self):
        server = self.server
        with server.lock:
            server.connections += 1
            drop = server.connections <= server.drop_first
        self.send("* OK IMAP4rev1 imap sink ready")
        if drop:
            return
        logged_in = False
        box = server.mailbox
        while True:
            line = self.rfile.readline()
            if not line:
                return
            line = line.decode("utf-8", "replace").rstrip("\r\n")
            tag, _, rest = line.partition(" ")
            command, _, args = rest.partition(" ")
            command = command.upper()
            if command == "UID":
                sub, _, args = args.partition(" ")
                command = "UID " + sub.upper()
            shown = f"{tag} LOGIN ..." if command == "LOGIN" else line
            with server.lock, open(server.command_log, "a") as log:
                log.write(shown + "\n")
            if command == "CAPABILITY":
                self.send("* CAPABILITY IMAP4rev1")
                self.send(f"{tag} OK CAPABILITY completed")
            elif command == "NOOP":
                self.send(f"{tag} OK NOOP completed")
            elif command == "LOGOUT":
                self.send("* BYE logging out")
                self.send(f"{tag} OK LOGOUT completed")
                return
            elif command == "LOGIN":
                w = words(args)
                if len(w) == 2 and w[0] == server.user and w[1] == server.password:
                    logged_in = True
                    self.send(f"{tag} OK LOGIN completed")
                else:
                    self.send(f"{tag} NO [AUTHENTICATIONFAILED] invalid credentials")
            elif not logged_in:
                self.send(f"{tag} BAD log in first")
            elif command in ("STATUS", "SELECT", "EXAMINE"):
                w = words(args)
                if not w or w[0] != box.name:
                    self.send(f"{tag} NO [NONEXISTENT] no such mailbox")
                    continue
                messages = box.messages()
                if command == "STATUS":
                    self.send(f'* STATUS "{box.name}" (UIDVALIDITY {box.uid_validity()} '
                              f"UIDNEXT {box.uid_next(messages)} MESSAGES {len(messages)})")
                    self.send(f"{tag} OK STATUS completed")
                else:
                    self.send("* FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft)")
                    self.send(f"* {len(messages)} EXISTS")
                    self.send("* 0 RECENT")
                    self.send(f"* OK [UIDVALIDITY {box.uid_validity()}] UIDs valid")
                    self.send(f"* OK [UIDNEXT {box.uid_next(messages)}] predicted next UID")
                    mode = "READ-ONLY" if command == "EXAMINE" else "READ-WRITE"
                    self.send(f"{tag} OK [{mode}] {command} completed")
            elif command == "UID SEARCH":
                messages = box.messages()
                largest = messages[-1][0] if messages else 0
                w = words(args)
                found = []
                for uid, path in messages:
                    ok, i = True, 0
                    while i < len(w):
                        key = w[i].upper()
                        if key == "ALL":
                            i += 1
                        elif key == "UID" and i + 1 < len(w):
                            ok = ok and in_set(uid, w[i + 1], largest)
                            i += 2
                        elif key == "SINCE" and i + 1 < len(w):
                            d, mon, y = w[i + 1].split("-")
                            since = datetime.date(int(y), MONTHS.index(mon) + 1, int(d))
                            mtime = datetime.datetime.utcfromtimestamp(os.path.getmtime(path))
                            ok = ok and mtime.date() >= since
                            i += 2
                        else:
                            ok = False
                            i = len(w)
                    if ok:
                        found.append(str(uid))
                self.send("* SEARCH" + "".join(" " + u for u in found))
                self.send(f"{tag} OK SEARCH completed")
            elif command == "UID FETCH":
                w = words(args)
                messages = box.messages()
                largest = messages[-1][0] if messages else 0
                peek = len(w) > 1 and "PEEK" in w[1].upper()
                for seq, (uid, path) in enumerate(messages, start=1):
                    if len(w) < 2 or not in_set(uid, w[0], largest):
                        continue
                    with open(path, "rb") as f:
                        data = f.read()
                    if not peek:
                        box.seen.add(uid)
                    self.wfile.write(f"* {seq} FETCH (UID {uid} BODY[] {{{len(data)}}}\r\n"
                                     .encode())
                    self.wfile.write(data)
                    self.wfile.write(b")\r\n")
                self.send(f"{tag} OK FETCH completed")
            else:
                self.send(f"{tag} BAD unknown command {command}")


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--dir", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password", help="the login's password")
    p.add_argument("--password_file", help="a file holding the password instead")
    p.add_argument("--mailbox", default="INBOX")
    p.add_argument("--drop_first", type=int, default=0)
    a = p.parse_args()
    if a.password_file:
        with open(a.password_file) as f:
            a.password = f.read().strip()
    if a.password is None:
        p.error("--password or --password_file is required")
    os.makedirs(a.dir, exist_ok=True)
    server = Server((a.host, a.port), Handler)
    server.mailbox = Mailbox(a.dir, a.mailbox)
    server.user = a.user
    server.password = a.password
    server.drop_first = a.drop_first
    server.connections = 0
    server.lock = threading.Lock()
    server.command_log = a.dir.rstrip("/") + ".commands"
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print(f"imap sink on {a.host}:{a.port}, mailbox {a.mailbox} in {a.dir}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
