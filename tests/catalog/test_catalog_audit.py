"""Every ``audit_event`` in the catalog really fires when its entry is called.

Each entry with an audit event has a trigger below that calls it for real, against files in
a temporary folder and small servers on 127.0.0.1; a child interpreter runs every trigger
under a ``sys.addaudithook`` hook and reports the events each one raised.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from unstall.catalog import default_catalog

# entry name -> the code that calls it; `t` is a scratch folder, FTP/SMTP/POP/IMAP/TCP/UDP are ports
TRIGGERS: dict[str, str] = {
    "time.sleep": "time.sleep(0)",
    "builtins.open": "open(t / 'f.txt', 'w').close()",
    "os.open": "os.close(os.open(t / 'f.txt', os.O_RDONLY))",
    "os.listdir": "os.listdir(t)",
    "os.scandir": "list(os.scandir(t))",
    "os.walk": "list(os.walk(t))",
    "os.mkdir": "os.mkdir(t / 'd1')",
    "os.makedirs": "os.makedirs(t / 'd2' / 'x')",
    "os.rename": "os.rename(t / 'd1', t / 'd3')",
    "os.replace": "os.replace(t / 'd3', t / 'd4')",
    "os.rmdir": "os.rmdir(t / 'd4')",
    "os.removedirs": "os.removedirs(t / 'd2' / 'x')",
    "os.remove": "open(t / 'r.txt', 'w').close(); os.remove(t / 'r.txt')",
    "os.truncate": "os.truncate(t / 'f.txt', 0)",
    "os.chmod": "os.chmod(t / 'f.txt', 0o644)",
    "os.utime": "os.utime(t / 'f.txt')",
    "os.link": "os.link(t / 'f.txt', t / 'hard.txt')",
    "os.symlink": "os.symlink(t / 'f.txt', t / 'soft.txt')",
    "shutil.copyfile": "shutil.copyfile(t / 'f.txt', t / 'c1.txt')",
    "shutil.copy": "shutil.copy(t / 'f.txt', t / 'c2.txt')",
    "shutil.copy2": "shutil.copy2(t / 'f.txt', t / 'c3.txt')",
    "shutil.copytree": "os.mkdir(t / 'tree'); shutil.copytree(t / 'tree', t / 'tree2')",
    "shutil.move": "shutil.move(t / 'c1.txt', t / 'moved.txt')",
    "shutil.rmtree": "shutil.rmtree(t / 'tree2')",
    "shutil.make_archive": "shutil.make_archive(str(t / 'arch'), 'zip', t / 'tree')",
    "shutil.unpack_archive": "shutil.unpack_archive(t / 'arch.zip', t / 'unpacked')",
    "glob.glob": "glob.glob(str(t / '*'))",
    "glob.iglob": "glob.iglob(str(t / '*'))",
    "tempfile.mkstemp": "os.close(tempfile.mkstemp(dir=t)[0])",
    "tempfile.NamedTemporaryFile": "tempfile.NamedTemporaryFile(dir=t).close()",
    "tempfile.mkdtemp": "tempfile.mkdtemp(dir=t)",
    "tempfile.TemporaryDirectory": "tempfile.TemporaryDirectory(dir=t).cleanup()",
    "builtins.input": "input()",
    "socket.getaddrinfo": "socket.getaddrinfo('127.0.0.1', 80)",
    "socket.gethostbyname": "socket.gethostbyname('127.0.0.1')",
    "socket.gethostbyname_ex": "socket.gethostbyname_ex('127.0.0.1')",
    "socket.gethostbyaddr": "socket.gethostbyaddr('127.0.0.1')",
    "socket.getfqdn": "socket.getfqdn('127.0.0.1')",
    "socket.getnameinfo": "socket.getnameinfo(('127.0.0.1', 80), 0)",
    "socket.socket.connect": "socket.socket().connect(('127.0.0.1', TCP))",
    "socket.socket.connect_ex": "socket.socket().connect_ex(('127.0.0.1', TCP))",
    "socket.socket.sendto": "socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', ('127.0.0.1', UDP))",
    "socket.socket.sendmsg": "socket.create_connection(('127.0.0.1', TCP)).sendmsg([b'x\\r\\n'])",
    "subprocess.Popen": "subprocess.Popen([sys.executable, '-c', '']).wait()",
    "subprocess.run": "subprocess.run([sys.executable, '-c', ''])",
    "subprocess.call": "subprocess.call([sys.executable, '-c', ''])",
    "subprocess.check_call": "subprocess.check_call([sys.executable, '-c', ''])",
    "subprocess.check_output": "subprocess.check_output([sys.executable, '-c', ''])",
    "subprocess.getoutput": "subprocess.getoutput('exit 0')",
    "subprocess.getstatusoutput": "subprocess.getstatusoutput('exit 0')",
    "os.popen": "os.popen('exit 0').close()",
    "os.posix_spawn": "os.waitpid(os.posix_spawn(sys.executable, [sys.executable, '-c', ''], os.environ), 0)",
    "os.posix_spawnp": "os.waitpid(os.posix_spawnp('true', ['true'], os.environ), 0)",
    "os.system": "os.system('exit 0')",
    "sqlite3.connect": "sqlite3.connect(':memory:').close()",
    "builtins.__import__": "sys.modules.pop('colorsys', None); __import__('colorsys')",
    "urllib.request.urlopen": "urllib.request.urlopen(f'http://127.0.0.1:{TCP}/', timeout=5)",
    "urllib.request.urlretrieve": "urllib.request.urlretrieve(f'http://127.0.0.1:{TCP}/', t / 'page')",
    "urllib.request.OpenerDirector.open": "urllib.request.build_opener().open(f'http://127.0.0.1:{TCP}/', timeout=5)",
    "http.client.HTTPConnection.connect": "http.client.HTTPConnection('127.0.0.1', TCP, timeout=5).connect()",
    "http.client.HTTPConnection.request": "http.client.HTTPConnection('127.0.0.1', TCP, timeout=5).request('GET', '/')",
    "ftplib.FTP": "ftplib.FTP.port = FTP; ftplib.FTP('127.0.0.1', timeout=5)",
    "ftplib.FTP.connect": "ftplib.FTP().connect('127.0.0.1', FTP, timeout=5)",
    "ftplib.FTP.login": "ftp().login('user', 'secret')",
    "ftplib.FTP.retrbinary": "ftp().retrbinary('RETR x', print)",
    "ftplib.FTP.retrlines": "ftp().retrlines('LIST')",
    "ftplib.FTP.storbinary": "ftp().storbinary('STOR x', open(t / 'f.txt', 'rb'))",
    "ftplib.FTP.nlst": "ftp().nlst()",
    "ftplib.FTP.sendcmd": "ftp().sendcmd('NOOP')",
    "smtplib.SMTP": "smtplib.SMTP('127.0.0.1', SMTP, timeout=5)",
    "smtplib.SMTP_SSL": "smtplib.SMTP_SSL('127.0.0.1', SMTP, timeout=5)",
    "smtplib.SMTP.connect": "smtplib.SMTP(timeout=5).connect('127.0.0.1', SMTP)",
    "smtplib.SMTP.login": "smtp().login('user', 'secret')",
    "smtplib.SMTP.starttls": "smtp().starttls()",
    "smtplib.SMTP.sendmail": "smtp().sendmail('a@example.com', ['b@example.com'], 'hi')",
    "smtplib.SMTP.send_message": "smtp().send_message(message())",
    "poplib.POP3": "poplib.POP3('127.0.0.1', POP, timeout=5)",
    "poplib.POP3.user": "poplib.POP3('127.0.0.1', POP, timeout=5).user('user')",
    "poplib.POP3.retr": "poplib.POP3('127.0.0.1', POP, timeout=5).retr(1)",
    "imaplib.IMAP4": "imaplib.IMAP4('127.0.0.1', IMAP, timeout=5)",
    "imaplib.IMAP4.login": "imaplib.IMAP4('127.0.0.1', IMAP, timeout=5).login('user', 'secret')",
    "imaplib.IMAP4.fetch": "imaplib.IMAP4('127.0.0.1', IMAP, timeout=5).fetch('1', '(RFC822)')",
}

_RUNNER = r'''
import email.message, ftplib, glob, http.client, imaplib, json, os, pathlib, poplib, shutil, smtplib
import socket, sqlite3, subprocess, sys, tempfile, threading, time, urllib.request

t = pathlib.Path(sys.argv[1])
triggers = json.loads(sys.argv[2])


def serve(greeting, answer):
    """A line server on 127.0.0.1: greets each client, answers each line; returns its port."""
    listener = socket.create_server(("127.0.0.1", 0))

    def client(conn):
        with conn:
            if greeting:
                conn.sendall(greeting)
            stream = conn.makefile("rb")
            for line in stream:
                conn.sendall(answer(line))

    def accept():
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=client, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return listener.getsockname()[1]


TCP = serve(b"", lambda line: b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")
FTP = serve(b"220 ready\r\n", lambda line: b"250 ok\r\n")
SMTP = serve(b"220 ready\r\n", lambda line: b"250 ok\r\n")
POP = serve(b"+OK ready\r\n", lambda line: b"+OK\r\n.\r\n")
IMAP = serve(b"* OK ready\r\n", lambda line: b"* CAPABILITY IMAP4rev1\r\n" + line.split(b" ")[0] + b" OK done\r\n")
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.bind(("127.0.0.1", 0))
UDP = udp.getsockname()[1]


def ftp():
    client = ftplib.FTP(timeout=5)
    client.connect("127.0.0.1", FTP)
    return client


def smtp():
    return smtplib.SMTP("127.0.0.1", SMTP, timeout=5)


def message():
    msg = email.message.EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "a@example.com", "b@example.com", "hi"
    return msg


events = []
sys.addaudithook(lambda event, args: events.append(event))
seen = {}
for name, code in triggers.items():
    del events[:]
    try:
        exec(code)
    except Exception:
        pass  # servers answer loosely: the call may fail after its event was raised
    seen[name] = sorted(set(events))
print(json.dumps(seen))
'''

# events CPython added after 3.11 (the oldest supported version)
_SINCE = {"time.sleep": (3, 13)}


def test_every_audit_event_fires_for_its_entry(tmp_path: Path) -> None:
    catalog = default_catalog()
    expected = {entry.name: entry.audit_event for entry in catalog if entry.audit_event}
    assert set(TRIGGERS) == set(expected), (
        "each entry with an audit_event needs exactly one trigger here"
    )
    runnable = {
        name: code
        for name, code in TRIGGERS.items()
        if sys.version_info >= _SINCE.get(str(expected[name]), (3, 11))
    }
    assert len(runnable) >= len(TRIGGERS) - len(_SINCE)
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_RUNNER), str(tmp_path), json.dumps(runnable)],
        input="typed by a person\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    seen: dict[str, list[str]] = json.loads(done.stdout)
    missing = {name: expected[name] for name in runnable if expected[name] not in seen[name]}
    assert not missing, f"these entries did not raise their audit event: {missing}; raised: " + str(
        {name: seen[name] for name in missing}
    )
