"""WebSocket client for the interop tests, on the Python websockets library.

Usage: ws_client.py URL deflate|none

It exchanges text, binary, fragmented and ping messages with an echo
endpoint, closes with code 4001, and prints one JSON object describing what
happened. The Go test judges the result; this script only reports.
"""

import asyncio
import json
import random
import sys

import websockets


def text_payload(n):
    runes = "aé€😀"
    out = []
    size = 0
    i = 0
    while size < n:
        r = runes[i % len(runes)]
        b = len(r.encode("utf-8"))
        if size + b > n:
            r, b = "z", 1
        out.append(r)
        size += b
        i += 1
    return "".join(out)


async def main(url, mode):
    compression = "deflate" if mode == "deflate" else None
    rng = random.Random(7)
    messages = [
        ("text short", "hello from python"),
        ("text 64KiB", text_payload(64 << 10)),
        ("binary repeated 100KiB", bytes(range(256)) * 400),
        ("binary random 256KiB", bytes(rng.getrandbits(8) for _ in range(256 << 10))),
        ("text empty", ""),
    ]
    report = {"messages": [], "pings": []}
    async with websockets.connect(
        url, compression=compression, max_size=2 << 20, ping_interval=None
    ) as ws:
        report["extensions"] = ws.response_headers.get("Sec-WebSocket-Extensions", "")
        for name, data in messages:
            await ws.send(data)
            got = await ws.recv()
            report["messages"].append(
                {
                    "name": name,
                    "sent_type": type(data).__name__,
                    "got_type": type(got).__name__,
                    "sent_len": len(data),
                    "got_len": len(got),
                    "equal": got == data,
                }
            )

        # Fragmented messages: websockets sends each item of an iterable
        # as one frame of the same message.
        parts = [text_payload(1000)[i : i + 97] for i in range(0, 1000, 97)]
        await ws.send(iter(parts))
        got = await ws.recv()
        report["messages"].append(
            {
                "name": "text fragmented",
                "sent_type": "str",
                "got_type": type(got).__name__,
                "sent_len": len("".join(parts)),
                "got_len": len(got),
                "equal": got == "".join(parts),
            }
        )
        chunks = [bytes([i]) * 3000 for i in range(20)]
        await ws.send(iter(chunks))
        got = await ws.recv()
        report["messages"].append(
            {
                "name": "binary fragmented",
                "sent_type": "bytes",
                "got_type": type(got).__name__,
                "sent_len": len(b"".join(chunks)),
                "got_len": len(got),
                "equal": got == b"".join(chunks),
            }
        )

        for payload in [b"", b"ping payload", bytes(125)]:
            waiter = await ws.ping(payload)
            await asyncio.wait_for(waiter, 20)
            report["pings"].append(len(payload))

        await ws.close(code=4001, reason="bye")
        report["close_code"] = ws.close_code
        report["close_reason"] = ws.close_reason
    print(json.dumps(report))


if __name__ == "__main__":
    asyncio.run(asyncio.wait_for(main(sys.argv[1], sys.argv[2]), 60))
