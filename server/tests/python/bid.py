"""A team owner's bot, written only from docs/protocol.md.

Usage: bid.py URL USER PASSWORD. Logs in, bids the next valid amount for its
own team on the player on the block, prints the answer, exits 0 if accepted.
"""
import asyncio, json, sys
import websockets


def next_bid(state):
    lot = state["lot"]
    if not lot["bids"]:
        return next(p for p in state["players"] if p["id"] == lot["player"])["base"]
    current = lot["bids"][-1]["amount"]
    step = [r["step"] for r in state["rules"]["ladder"] if r["from"] <= current][-1]
    return current + step


async def main(url, user, password):
    async with websockets.connect(url) as ws:
        await ws.send(json.dumps({"type": "login", "v": 1, "user": user, "password": password}))
        welcome = json.loads(await ws.recv())
        assert welcome["type"] == "welcome", welcome
        state = welcome["snapshot"]["state"]
        team = welcome["access"]["team"]
        command = {"cmd": "bid", "team": team, "amount": next_bid(state)}
        await ws.send(json.dumps({"type": "command", "id": "py-1", "command": command}))
        while True:
            msg = json.loads(await ws.recv())
            if msg["type"] in ("accepted", "rejected") and msg["id"] == "py-1":
                print(json.dumps(msg))
                return 0 if msg["type"] == "accepted" else 1


sys.exit(asyncio.run(main(*sys.argv[1:4])))
