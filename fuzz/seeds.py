#!/usr/bin/env python3
"""Writes the committed seed corpus (fuzz/seeds/<target>/) from
docs/protocol.md and a scripted auction. Run from the repository root."""
import json, os, re, hashlib

doc = open("docs/protocol.md").read()
blocks = re.findall(r"```json (\w+)\n(.*?)```", doc, re.S)
out = "fuzz/seeds"

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

# SSH input: keys, arrows, function keys, paste, split UTF-8, garbage.
for s in [b"\x00q", b"\x01\x1b[A\x1b[B\x1b[C\x1b[D", b"\x03\x1bOP\x1b[15~\x1b[1;5C",
          b"\x02\r\n\x7f\t\x1b", b"\x07\xe2\x82\xb9 2.2cr\r", b"\x04\x1b[200~paste\x1b[201~",
          b"\x05\x1b[" + b"9" * 40 + b"m", b"\x0f\xff\xfe\xc3"]:
    write("ssh_input", s)
