// The spectators' page: a viewer client of docs/protocol.md, in plain
// JavaScript. It logs in as `viewer`, folds every event into its copy of
// the state by seq (the fold is State::apply in proto/src/state.rs), and on
// a dropped connection resumes from its last seq with backoff.
"use strict";

const $ = (id) => document.getElementById(id);

let state = null; // the auction, as folded so far
let seq = 0; // the last event applied
let token = null; // the session, for resume
let password = ""; // the viewer account's, when the league sets one
let ws = null;
let backoff = 500; // ms before the next reconnect; doubles to 10 s
let offset = 0; // the server's clock minus ours, from the events' times
let banner = null; // the last lot's outcome, shown for a while
let index = new Map(); // player id -> entry

// ---- Money, rules: the same arithmetic as proto ----

/** `₹75 L` below a crore, `₹1.25 Cr` / `₹2 Cr` from a crore up. */
function money(lakh) {
  if (lakh < 100) return `₹${lakh} L`;
  const cr = Math.floor(lakh / 100);
  const rest = lakh % 100;
  if (rest === 0) return `₹${cr} Cr`;
  if (rest % 10 === 0) return `₹${cr}.${rest / 10} Cr`;
  return `₹${cr}.${String(rest).padStart(2, "0")} Cr`;
}

const player = (id) => index.get(id);
const team = (code) => state.teams.find((t) => t.code === code);
const leader = () => (state.lot && state.lot.bids.length ? state.lot.bids[state.lot.bids.length - 1] : null);

function stepAt(amount) {
  let step = state.rules.ladder.length ? state.rules.ladder[0].step : 1;
  for (const rung of state.rules.ladder) if (rung.from <= amount) step = rung.step;
  return step;
}

function nextBid() {
  if (!state.lot) return null;
  const lead = leader();
  if (lead) return lead.amount + stepAt(lead.amount);
  const p = player(state.lot.player);
  return p ? p.base : null;
}

function cheapestBase() {
  let min = null;
  for (const p of state.players) {
    if (p.status.kind !== "withdrawn" && (min === null || p.base < min)) min = p.base;
  }
  return min || 0;
}

function maxBid(t) {
  const needed = Math.max(0, state.rules.squad_min - t.squad.length - 1);
  return Math.max(0, t.purse - needed * cheapestBase());
}

const overseas = (t) => t.squad.filter((id) => player(id) && player(id).overseas).length;

function reindex() {
  index = new Map(state.players.map((p) => [p.id, p]));
}

// ---- The fold ----

function addPlayer(p) {
  const entry = Object.assign({}, p, { status: { kind: "available" } });
  state.players.push(entry);
  state.players.sort((a, b) => a.id - b.id);
  index.set(entry.id, entry);
  if (state.phase !== "not_started") state.queue.push(entry.id);
}

function setStatus(id, status) {
  const p = player(id);
  if (p) p.status = status;
}

const running = (deadline) => (deadline == null ? null : { timer: "running", deadline_ms: deadline });

function apply(e) {
  const lot = state.lot;
  switch (e.kind) {
    case "auction_started":
      Object.assign(state, { phase: "running", seed: e.seed, round: 0, queue: e.queue.slice() });
      break;
    case "paused":
      state.phase = "paused";
      if (lot) lot.timer = e.remaining_ms == null ? null : { timer: "frozen", remaining_ms: e.remaining_ms };
      break;
    case "resumed":
      state.phase = "running";
      if (lot) lot.timer = running(e.deadline_ms);
      break;
    case "lot_opened":
      setStatus(e.player, { kind: "on_block" });
      state.lot = { player: e.player, opened_at_ms: e.at_ms, stage: "open", bids: [], timer: running(e.deadline_ms), rtm: null };
      banner = null;
      break;
    case "bid_placed":
      if (lot) {
        lot.bids.push({ team: e.team, amount: e.amount, at_ms: e.at_ms, prev_stage: lot.stage, auto: !!e.auto });
        lot.stage = "open";
        lot.timer = running(e.deadline_ms);
      }
      break;
    case "stage_changed":
      if (lot) {
        lot.stage = e.stage;
        lot.timer = running(e.deadline_ms);
      }
      break;
    case "bid_undone":
      if (lot && lot.bids.length) {
        lot.stage = lot.bids.pop().prev_stage;
        lot.timer = e.timer;
      }
      break;
    case "rtm_offered":
      if (lot) {
        lot.timer = null;
        lot.rtm = { holder: e.holder, winner: e.winner, price: e.price, step: "offered" };
      }
      break;
    case "rtm_used":
      if (lot && lot.rtm) lot.rtm.step = "raising";
      break;
    case "rtm_raised":
      if (lot && lot.rtm) Object.assign(lot.rtm, { step: "matching", price: e.price });
      break;
    case "player_sold": {
      if (lot) {
        lot.rtm = null;
        state.closed.push({ lot, outcome: "sold", team: e.team, price: e.price, rtm: !!e.rtm });
        state.lot = null;
      }
      const t = team(e.team);
      if (t && e.rtm) t.rtm_left = Math.max(0, t.rtm_left - 1);
      setStatus(e.player, { kind: "sold", team: e.team, price: e.price });
      if (t) {
        t.purse = Math.max(0, t.purse - e.price);
        t.squad.push(e.player);
      }
      banner = { kind: "sold", player: e.player, team: e.team, price: e.price, at: Date.now() };
      break;
    }
    case "player_unsold":
      if (lot) {
        state.closed.push({ lot, outcome: "unsold" });
        state.lot = null;
      }
      setStatus(e.player, { kind: "unsold" });
      banner = { kind: "unsold", player: e.player, at: Date.now() };
      break;
    case "lot_reopened": {
      const closed = state.closed.pop();
      if (!closed) break;
      const t = closed.outcome === "sold" ? team(closed.team) : null;
      if (t) {
        t.purse += closed.price;
        if (closed.rtm) t.rtm_left += 1;
        const at = t.squad.lastIndexOf(e.player);
        if (at >= 0) t.squad.splice(at, 1);
      }
      closed.lot.timer = e.timer;
      closed.lot.rtm = null;
      setStatus(e.player, { kind: "on_block" });
      state.lot = closed.lot;
      banner = null;
      break;
    }
    case "purse_adjusted": {
      const t = team(e.team);
      if (t && t.purse + e.delta >= 0) {
        t.purse += e.delta;
        t.adjusted += e.delta;
      }
      break;
    }
    case "player_added":
      addPlayer(e.player);
      break;
    case "players_imported":
      e.players.forEach(addPlayer);
      break;
    case "player_edited": {
      const p = player(e.player.id);
      if (p) Object.assign(p, e.player);
      break;
    }
    case "player_withdrawn":
      setStatus(e.player, { kind: "withdrawn" });
      break;
    case "player_restored":
      if (player(e.player) && player(e.player).status.kind === "withdrawn") setStatus(e.player, { kind: "available" });
      break;
    case "lot_reset":
      state.lot = null;
      setStatus(e.player, { kind: "available" });
      break;
    case "auction_reset":
      for (const t of state.teams) Object.assign(t, { purse: state.rules.purse, squad: [], adjusted: 0, rtm_left: state.rules.rtm_cards });
      for (const p of state.players) if (p.status.kind !== "withdrawn") p.status = { kind: "available" };
      Object.assign(state, { phase: "not_started", seed: null, accelerated_requests: {}, round: 0, queue: [], lot: null, closed: [] });
      banner = null;
      break;
    case "accelerated_requested":
      if (e.players.length) state.accelerated_requests[e.team] = e.players.slice();
      else delete state.accelerated_requests[e.team];
      break;
    case "accelerated_round_opened":
      state.round = e.round;
      state.queue = e.players.slice();
      state.accelerated_requests = {};
      for (const id of e.players) {
        const p = player(id);
        if (p && p.status.kind === "unsold") p.status = { kind: "available" };
      }
      break;
    default:
      // A kind this page does not know: a newer server. Start afresh.
      send({ type: "snapshot" });
  }
}

/** The wire's closed lots carry their outcome nested; keep one flat shape. */
function load(snapshot) {
  state = snapshot.state;
  seq = snapshot.seq;
  state.closed = state.closed.map((c) => ({
    lot: c.lot,
    outcome: c.outcome.outcome,
    team: c.outcome.team,
    price: c.outcome.price,
    rtm: !!c.outcome.rtm,
  }));
  state.accelerated_requests = state.accelerated_requests || {};
  reindex();
  render();
}

function onEntry(entry) {
  if (!state || entry.seq <= seq) return; // already applied (a resume repeats nothing, but be safe)
  if (entry.seq !== seq + 1) {
    send({ type: "snapshot" }); // a gap: start from a fresh state
    return;
  }
  offset = entry.at_ms - Date.now();
  apply(entry.event);
  seq = entry.seq;
  render();
}

// ---- The connection ----

function send(msg) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  ws = new WebSocket(`${scheme}//${location.host}/ws`);
  ws.onopen = () => {
    if (token && state) send({ type: "resume", v: 1, token, last_seq: seq });
    else send({ type: "login", v: 1, user: "viewer", password });
  };
  ws.onmessage = (m) => handle(JSON.parse(m.data));
  ws.onclose = () => {
    setConnection(false, `reconnecting in ${Math.round(backoff / 100) / 10} s…`);
    setTimeout(connect, backoff);
    backoff = Math.min(backoff * 2, 10000);
  };
}

function handle(msg) {
  switch (msg.type) {
    case "welcome":
      backoff = 500;
      token = msg.token;
      if (msg.snapshot) load(msg.snapshot);
      setConnection(true, "live");
      break;
    case "snapshot":
      load(msg);
      break;
    case "event":
      onEntry(msg);
      break;
    case "error":
      if (msg.code === "bad_credentials") askPassword(password ? "Wrong password." : "");
      else if (msg.code === "bad_token") {
        token = null; // expired or revoked: log in afresh
        send({ type: "login", v: 1, user: "viewer", password });
      } else setConnection(false, msg.message);
      break;
    default:
      break; // pong and the like
  }
}

function askPassword(error) {
  $("login-error").textContent = error;
  const dialog = $("login");
  if (!dialog.open) dialog.showModal();
}

function setConnection(on, text) {
  const c = $("conn");
  c.textContent = on ? "● live" : `○ ${text}`;
  c.className = `conn ${on ? "on" : "off"}`;
}

// ---- Drawing ----

/** A team's code on its own colour, readable on it. */
function chip(code) {
  const t = team(code);
  const el = document.createElement("span");
  el.className = "team-chip";
  el.textContent = code;
  if (t) {
    el.style.background = t.colour;
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(t.colour.slice(i, i + 2), 16));
    el.style.color = 0.299 * r + 0.587 * g + 0.114 * b > 150 ? "#000" : "#fff";
    el.title = t.name;
  }
  return el;
}

function text(id, value) {
  $(id).textContent = value;
}

function roleLabel(role) {
  return { batter: "Batter", bowler: "Bowler", all_rounder: "All-rounder", wicket_keeper: "Wicket-keeper" }[role] || role;
}

function renderPlayer(p) {
  text("player", p ? p.name : "—");
  if (!p) {
    ["tags", "meta", "stats"].forEach((id) => text(id, ""));
    return;
  }
  const hand = p.batting_hand ? `${p.batting_hand}-hand bat` : "";
  const tags = [roleLabel(p.role), p.country, p.capped ? "capped" : "uncapped", p.overseas ? "overseas" : "", hand, p.bowling_style || ""];
  text("tags", tags.filter(Boolean).join(" · "));
  text("meta", `${p.set} · base ${money(p.base)}${p.previous_team ? ` · last season ${p.previous_team}` : ""}`);
  const s = p.stats || {};
  const parts = [];
  if (s.matches) parts.push(`${s.matches} matches`);
  if (s.runs) parts.push(`${s.runs} runs`);
  if (s.wickets) parts.push(`${s.wickets} wkts`);
  if (s.strike_rate) parts.push(`SR ${s.strike_rate}`);
  if (s.economy) parts.push(`econ ${s.economy}`);
  text("stats", parts.join(" · "));
}

function clockText() {
  const timer = state.lot && state.lot.timer;
  if (!timer) return ["", false];
  const left = timer.timer === "frozen" ? timer.remaining_ms : Math.max(0, timer.deadline_ms - (Date.now() + offset));
  const secs = Math.ceil(left / 1000);
  return [`${Math.floor(secs / 60)}:${String(secs % 60).padStart(2, "0")}`, secs <= 10];
}

/** Who `next` would bring to the block. */
function nextUp() {
  const id = state.queue.find((id) => player(id) && player(id).status.kind === "available");
  return id === undefined ? null : player(id);
}

function renderLot() {
  const lot = state.lot;
  const lead = leader();
  const up = lot || state.phase === "not_started" ? null : nextUp();
  text("lot-label", lot ? "On the block" : up ? "Next up" : state.phase === "not_started" ? "Not started yet" : "On the block");
  renderPlayer(lot ? player(lot.player) : up);
  text("bid", lead ? money(lead.amount) : lot ? "no bid yet" : "—");
  const leaderEl = $("leader");
  leaderEl.replaceChildren();
  if (lead) {
    leaderEl.append(chip(lead.team), ` ${team(lead.team) ? team(lead.team).name : ""}${lead.auto ? " (proxy)" : ""}`);
  }
  const next = nextBid();
  text("next", lot && next != null ? `next valid bid ${money(next)}` : "");
  const [clock, late] = clockText();
  text("clock", clock);
  $("clock").className = late ? "clock late" : "clock";
  let phase = "";
  if (state.phase === "paused") phase = "PAUSED";
  else if (lot && lot.rtm) phase = `RIGHT TO MATCH: ${lot.rtm.holder} may match ${lot.rtm.winner}'s ${money(lot.rtm.price)}`;
  else if (lot && lot.stage === "going_once") phase = "GOING ONCE";
  else if (lot && lot.stage === "going_twice") phase = "GOING TWICE";
  text("phase", phase);
}

function renderBanner() {
  const el = $("banner");
  if (!banner || state.lot) {
    el.hidden = true;
    return;
  }
  const p = player(banner.player);
  el.hidden = false;
  el.className = `banner ${banner.kind}`;
  el.replaceChildren();
  if (banner.kind === "sold") el.append(`SOLD: ${p ? p.name : "?"} to `, chip(banner.team), ` for ${money(banner.price)}`);
  else el.append(`UNSOLD: ${p ? p.name : "?"}`);
}

function renderBoard() {
  const body = $("board").tBodies[0];
  body.replaceChildren(
    ...state.teams.map((t) => {
      const tr = document.createElement("tr");
      tr.dataset.team = t.code;
      const cells = [money(t.purse), money(maxBid(t)), `${t.squad.length}/${state.rules.squad_max}`, `${overseas(t)}/${state.rules.overseas_max}`];
      const first = document.createElement("td");
      first.append(chip(t.code));
      tr.append(first, ...cells.map((c) => Object.assign(document.createElement("td"), { textContent: c })));
      return tr;
    }),
  );
}

function renderSales() {
  const sales = state.closed.filter((c) => c.outcome === "sold").slice(-8).reverse();
  $("sales").replaceChildren(
    ...sales.map((c) => {
      const li = document.createElement("li");
      const p = player(c.lot.player);
      li.append(`${p ? p.name : "?"} `, chip(c.team), ` ${money(c.price)}`);
      return li;
    }),
  );
}

/** After the last lot of a round: every squad, the top buys, what is left. */
function renderComplete() {
  const queued = state.queue.some((id) => player(id) && player(id).status.kind === "available");
  const done = state.phase !== "not_started" && !state.lot && !queued && state.closed.length > 0;
  $("complete").hidden = !done;
  $("lot").hidden = done;
  if (!done) return;
  const unsold = state.players.filter((p) => p.status.kind === "unsold").length;
  text("complete-title", unsold && state.round === 0 ? "Round complete: accelerated round next" : "Auction complete");
  const sold = state.closed.filter((c) => c.outcome === "sold");
  const top = sold.slice().sort((a, b) => b.price - a.price).slice(0, 3);
  text("complete-summary", `${sold.length} sold · ${unsold} unsold · top buys: ${top.map((c) => `${player(c.lot.player).name} ${money(c.price)}`).join(", ")}`);
  $("squads").replaceChildren(
    ...state.teams.map((t) => {
      const box = document.createElement("div");
      box.className = "card squad";
      const h = document.createElement("h3");
      h.append(chip(t.code), ` ${money(t.purse)} left`);
      const list = document.createElement("ol");
      for (const id of t.squad) {
        const p = player(id);
        const li = document.createElement("li");
        li.textContent = `${p.name} ${money(p.status.price)}`;
        list.append(li);
      }
      box.append(h, list);
      return box;
    }),
  );
}

function render() {
  if (!state) return;
  text("league", state.league_name);
  document.title = state.league_name;
  renderLot();
  renderBanner();
  renderBoard();
  renderSales();
  renderComplete();
}

// The clock counts down between events.
setInterval(() => {
  if (state && state.lot && state.lot.timer) renderLot();
}, 250);

document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", () => {
    password = $("password").value;
    send({ type: "login", v: 1, user: "viewer", password });
  });
  connect();
});
