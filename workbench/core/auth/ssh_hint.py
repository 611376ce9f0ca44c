"""The ``ssh -L`` command that lets a browser on another machine reach the loopback
listener of a login running here (over SSH): the browser's redirect to
``127.0.0.1:PORT`` on the laptop is forwarded to ``127.0.0.1:PORT`` on this machine.

The host part is this machine as the SSH client saw it (``SSH_CONNECTION``'s server
address) or else its host name; the port is the listener's (fixed by a profile's
``redirect_uri`` such as ``http://127.0.0.1:8400/callback``, or the ephemeral one of this
login).
"""

from __future__ import annotations

import getpass
import os
import socket


def this_host() -> str:
    """How another machine may name this one: the SSH server address, else the host name."""
    conn = os.environ.get("SSH_CONNECTION", "").split()
    host = conn[2] if len(conn) >= 4 else socket.gethostname() or "this-host"
    try:
        user = getpass.getuser()
    except Exception:  # no user name in the environment or the password database
        user = ""
    return f"{user}@{host}" if user else host


def ssh_forward_command(port: int, host: str | None = None) -> str:
    """``ssh -N -L PORT:127.0.0.1:PORT user@host``."""
    return f"ssh -N -L {port}:127.0.0.1:{port} {host or this_host()}"
