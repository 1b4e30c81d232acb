"""A real SMTP server (aiosmtpd) for the mail tests: stores every message it accepts as a JSON
file in the directory given as argv[1], prints its port, and exits when stdin closes (so it
never outlives the test that started it)."""

import json
import os
import socket
import sys
import uuid

from aiosmtpd.controller import Controller


class Store:
    def __init__(self, out):
        self.out = out

    async def handle_DATA(self, server, session, envelope):
        message = {"from": envelope.mail_from, "to": envelope.rcpt_tos,
                   "data": envelope.content.decode("utf-8", "replace")}
        path = os.path.join(self.out, f"{uuid.uuid4()}.json")
        with open(path + ".tmp", "w") as f:
            json.dump(message, f)
        os.rename(path + ".tmp", path)
        return "250 Message accepted"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    port = int(sys.argv[2]) if len(sys.argv) > 2 else free_port()
    controller = Controller(Store(sys.argv[1]), hostname="127.0.0.1", port=port)
    controller.start()
    print(port, flush=True)
    sys.stdin.read()
    controller.stop()
