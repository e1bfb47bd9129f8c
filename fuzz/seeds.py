#!/usr/bin/env python3
"""Writes the committed seed corpus (fuzz/seeds/<target>/) from
docs/protocol.md and a scripted auction. Run from the repository root;
an argument writes the corpus there instead (a test compares the two)."""
import json, os, re, hashlib, sys

doc = open("docs/protocol.md").read()
blocks = re.findall(r"```json (\w+)\n(.*?)```", doc, re.S)
out = sys.argv[1] if len(sys.argv) > 1 else "fuzz/seeds"

def write(target, data: bytes):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    open(os.path.join(d, name), "wb").write(data)

# Every client and server message of the protocol document.
for kind, text in blocks:
    if kind in ("client", "server"):
        write("protocol", text.strip().encode())
for amount in ["2.2cr", "75l", "1.25 Cr", "₹2 Cr", "120", "0.05cr"]:
    write("protocol", amount.encode())

# Commands: actor byte (0 admin, 1 presenter, 2 viewer, 3.. teams in league
# order: CSK MI RCB KKR DC RR PBKS SRH GT LSG) then the command's JSON.
ADMIN, PRESENTER, VIEWER, CSK, MI, RCB = 0, 1, 2, 3, 4, 5
def line(actor, cmd):
    return bytes([actor]) + json.dumps(cmd).encode()
commands = [json.loads(t) for k, t in blocks if k == "command"]
for cmd in commands:
    for actor in (ADMIN, PRESENTER, VIEWER, MI):
        write("commands", line(actor, cmd))
script = [
    (PRESENTER, {"cmd": "start", "seed": 7}),
    (PRESENTER, {"cmd": "nominate", "player": 1}),
    (MI, {"cmd": "raise", "team": "MI"}),
    (CSK, {"cmd": "raise", "team": "CSK"}),
    (MI, {"cmd": "bid", "team": "MI", "amount": "2.5cr"}),
    (CSK, {"cmd": "raise", "team": "MI"}),
    (PRESENTER, {"cmd": "going_once"}),
    (PRESENTER, {"cmd": "going_twice"}),
    (PRESENTER, {"cmd": "sold"}),
    (PRESENTER, {"cmd": "next"}),
    (RCB, {"cmd": "raise", "team": "RCB"}),
    (PRESENTER, {"cmd": "undo_bid"}),
    (PRESENTER, {"cmd": "unsold"}),
    (PRESENTER, {"cmd": "undo_sale"}),
    (ADMIN, {"cmd": "adjust_purse", "team": "MI", "delta": -100, "reason": "fine"}),
    (PRESENTER, {"cmd": "open_accelerated"}),
]
write("commands", b"\n".join(line(a, c) for a, c in script))

# A whole night in the fuzz target's league (the bundled one with two Right
# to Match cards a team), so that every command is accepted at least once:
# player edits, a Right to Match all the way to a match, the clock's ticks,
# undos, every set called, an accelerated round, and a reset.
KKR, DC, RR = 6, 7, 8
SYSTEM = 13  # the engine's own clock; five seconds pass before its lines
doc_cmd = {c["cmd"]: c for c in commands}
night = [
    (ADMIN, doc_cmd["add_player"]),
    (ADMIN, doc_cmd["import_players"]),
    (ADMIN, dict(doc_cmd["edit_player"], player=dict(doc_cmd["edit_player"]["player"], id=3))),
    (ADMIN, doc_cmd["withdraw_player"]),
    (PRESENTER, {"cmd": "start", "seed": 7}),
    (PRESENTER, {"cmd": "pause"}),
    (PRESENTER, {"cmd": "resume"}),
    # Rishabh Pant was DC's: MI wins him, DC uses its card, MI raises once,
    # DC matches.
    (PRESENTER, {"cmd": "nominate", "player": 1}),
    (MI, {"cmd": "raise", "team": "MI"}),
    (PRESENTER, {"cmd": "going_once"}),
    (PRESENTER, {"cmd": "going_twice"}),
    (PRESENTER, {"cmd": "sold"}),
    (DC, {"cmd": "rtm", "team": "DC", "action": "use_card"}),
    (MI, {"cmd": "rtm_raise", "team": "MI", "amount": 260}),
    (DC, {"cmd": "rtm", "team": "DC", "action": "match_price"}),
    # Bids undone, a lot reset, the clock run out by ticks.
    (PRESENTER, {"cmd": "next"}),
    (MI, {"cmd": "raise", "team": "MI"}),
    (CSK, {"cmd": "raise", "team": "CSK"}),
    (PRESENTER, {"cmd": "undo_bid"}),
    (ADMIN, {"cmd": "adjust_purse", "team": "MI", "delta": -50, "reason": "fine"}),
    (PRESENTER, {"cmd": "reset_lot"}),
    # Player 9 was RR's, so that RR is offered its card.
    (PRESENTER, {"cmd": "nominate", "player": 9}),
    (CSK, {"cmd": "bid", "team": "CSK", "amount": "2cr"}),
] + [(SYSTEM, {"cmd": "tick"})] * 12 + [
    # The clock called the stages and the hammer; RR lets its player go.
    (RR, {"cmd": "rtm", "team": "RR", "action": "decline"}),
    (PRESENTER, {"cmd": "undo_sale"}),
    (PRESENTER, {"cmd": "undo_bid"}),
    (PRESENTER, {"cmd": "unsold"}),
]
# Every set called: the rest of the pool goes unsold.
night += [(PRESENTER, {"cmd": "next"}), (PRESENTER, {"cmd": "unsold"})] * 310
night += [
    (MI, {"cmd": "request_accelerated", "team": "MI", "players": [14, 52, 77]}),
    (PRESENTER, {"cmd": "open_accelerated"}),
    (PRESENTER, {"cmd": "next"}),
    (KKR, {"cmd": "raise", "team": "KKR"}),
    (PRESENTER, {"cmd": "sold"}),
    (ADMIN, {"cmd": "reset_auction"}),
]
write("commands", b"\n".join(line(a, c) for a, c in night))

# Proxy bids: ceilings set before and on the lot, answered, raised past,
# equal, cancelled, undone, paused, and ended by the hammer.
def ceiling(player, amount=None):
    msg = {"type": "set_ceiling", "id": "c", "player": player}
    if amount is not None:
        msg["amount"] = amount
    return msg
proxy = [
    (PRESENTER, {"cmd": "start", "seed": 7}),
    (MI, ceiling(1, 300)),
    (CSK, ceiling(1, 260)),
    (RCB, ceiling(1, 300)),
    (PRESENTER, {"cmd": "nominate", "player": 1}),
    (KKR, {"cmd": "raise", "team": "KKR"}),
    (PRESENTER, {"cmd": "undo_bid"}),
    (PRESENTER, {"cmd": "pause"}),
    (CSK, ceiling(1, 500)),
    (PRESENTER, {"cmd": "resume"}),
    (MI, ceiling(1)),
    (KKR, {"cmd": "bid", "team": "KKR", "amount": "9cr"}),
    (VIEWER, ceiling(1, 2000)),
    (PRESENTER, {"cmd": "sold"}),
    (MI, ceiling(1, 900)),
    (PRESENTER, {"cmd": "undo_sale"}),
    (PRESENTER, {"cmd": "next"}),
    (MI, ceiling(2, 120000)),
    (CSK, {"cmd": "raise", "team": "CSK"}),
    (PRESENTER, {"cmd": "reset_lot"}),
    (ADMIN, {"cmd": "reset_auction"}),
]
write("commands", b"\n".join(line(a, c) for a, c in proxy))

# SSH input: keys, arrows, function keys, paste, split UTF-8, garbage.
for s in [b"\x00q", b"\x01\x1b[A\x1b[B\x1b[C\x1b[D", b"\x03\x1bOP\x1b[15~\x1b[1;5C",
          b"\x02\r\n\x7f\t\x1b", b"\x07\xe2\x82\xb9 2.2cr\r", b"\x04\x1b[200~paste\x1b[201~",
          b"\x05\x1b[" + b"9" * 40 + b"m", b"\x0f\xff\xfe\xc3"]:
    write("ssh_input", s)
