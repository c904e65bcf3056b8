#!/usr/bin/python3
"""deploy/mailsink.py: an SMTP server on loopback that keeps every message.

`make run` (deploy/devstack.sh) starts it when EVENTBOX_SMTP_URL is unset
and points `eventbox mailer` at it, so the emails a developer causes land as
readable files: DIR/<time>-<n>.eml, the message exactly as received, with
X-Envelope-From / X-Envelope-To lines on top.  Files appear whole (written
under a dot name, then renamed).  It never relays anything anywhere.

Usage: /usr/bin/python3 deploy/mailsink.py PORT DIR   (Debian's
python3-aiosmtpd; SIGTERM stops it)
"""
import asyncio
import itertools
import os
import signal
import sys
import time

from aiosmtpd.smtp import SMTP


class Keep:
    def __init__(self, directory):
        self.dir = directory
        self.seq = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        name = "%s-%d-%06d.eml" % (time.strftime("%Y%m%d-%H%M%S"),
                                   os.getpid(), next(self.seq))
        head = "X-Envelope-From: <%s>\r\n" % envelope.mail_from
        for rcpt in envelope.rcpt_tos:
            head += "X-Envelope-To: <%s>\r\n" % rcpt
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        tmp = os.path.join(self.dir, "." + name)
        with open(tmp, "wb") as f:
            f.write(head.encode("utf-8", "surrogateescape") + data)
        os.rename(tmp, os.path.join(self.dir, name))
        return "250 OK kept as " + name


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: mailsink.py PORT DIR")
    port, directory = int(sys.argv[1]), sys.argv[2]
    os.makedirs(directory, exist_ok=True)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    handler = Keep(directory)
    server = loop.run_until_complete(loop.create_server(
        lambda: SMTP(handler, enable_SMTPUTF8=True, loop=loop),
        "127.0.0.1", port))
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, loop.stop)
    print("mailsink: keeping mail for 127.0.0.1:%d in %s" % (port, directory),
          file=sys.stderr, flush=True)
    loop.run_forever()
    server.close()


if __name__ == "__main__":
    main()
