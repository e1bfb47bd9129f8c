//! The single writer: one task owns the state, takes commands over a channel,
//! appends the resulting events to the store, flushes once per batch (group
//! commit), and only then answers and broadcasts them.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use auction_proto::msg::ServerMsg;
use auction_proto::{Actor, Command, Entry, RejectCode, Rejection, Snapshot, State};
use auction_proto::{Money, PlayerId, TeamCode};
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio_tungstenite::tungstenite::Utf8Bytes;

use super::ceiling_tree::CeilingTree;
use super::proxy::Ceilings;
use super::rules::{downtime_pause, next_tick_ms};
use super::step::{Step, set_ceiling, step};
use crate::store::{Store, StoreError};

/// Milliseconds since the Unix epoch, from the system clock.
pub fn system_now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A clock the engine reads time from (the system clock outside tests).
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

#[derive(Clone)]
pub struct EngineConfig {
    /// Write a snapshot every this many events.
    pub snapshot_every: u64,
    /// The most commands sharing one flush.
    pub max_batch: usize,
    /// Request ids remembered per account (for idempotent retries).
    pub remembered_per_account: usize,
    /// How far back the log is read at start to remember them again.
    pub remembered_from_log: u64,
    /// A resume further behind than this gets a snapshot instead of events.
    pub resume_window: u64,
    /// Broadcast buffer: a subscriber further behind is told it lagged.
    pub broadcast_capacity: usize,
    pub clock: Clock,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            snapshot_every: 1000,
            max_batch: 512,
            remembered_per_account: 10_000,
            remembered_from_log: 100_000,
            resume_window: 5000,
            broadcast_capacity: 4096,
            clock: Arc::new(system_now_ms),
        }
    }
}

/// An accepted event, serialized once for everybody who receives it.
#[derive(Debug)]
pub struct Published {
    pub entry: Entry,
    /// `ServerMsg::Event` for accounts that see everything.
    pub full: Utf8Bytes,
    /// `ServerMsg::Event` with public fields only, for viewers.
    pub public: Utf8Bytes,
}

impl Published {
    pub(crate) fn new(entry: Entry) -> Published {
        let full = ServerMsg::Event(entry.clone()).to_json().into();
        let public = ServerMsg::Event(entry.public()).to_json().into();
        Published {
            entry,
            full,
            public,
        }
    }
}

/// Where a subscriber starts: the missed events, or a whole snapshot.
pub enum Catchup {
    Events(Vec<Entry>),
    Snapshot(Box<Snapshot>),
}

pub struct Subscription {
    pub catchup: Catchup,
    /// Every event after the catch-up, in order.
    pub events: broadcast::Receiver<Arc<Published>>,
}

/// What the engine task answers a subscription with: where the feed
/// starts. The missed events themselves are read by the caller, from the
/// store, so that a resume never waits in line with the bids.
struct Joined {
    start: Start,
    events: broadcast::Receiver<Arc<Published>>,
}

enum Start {
    /// The events after `since`, up to and including `upto`, are durable
    /// in the store; the feed carries the ones after `upto`.
    After {
        since: u64,
        upto: u64,
    },
    Snapshot(Box<Snapshot>),
}

/// The proxy-bid ceilings as of the last commit, for the sessions: each
/// team's sessions show their own, the room sees only a count.
#[derive(Debug, Default)]
pub struct Book {
    pub ceilings: Ceilings,
    /// The player on the block and how many teams hold a ceiling on him.
    pub on_block: Option<(PlayerId, usize)>,
    /// The league shows that count to the room (`proxy_bids = "counted"`).
    pub counted: bool,
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("the auction engine has stopped")]
pub struct EngineGone;

#[allow(
    clippy::large_enum_variant,
    reason = "commands are the hot path and stay unboxed; reads are rare"
)]
enum Request {
    Command {
        actor: Actor,
        request_id: Option<String>,
        command: Command,
        reply: oneshot::Sender<Result<u64, Rejection>>,
    },
    /// A team sets or cancels its ceiling on a player.
    Ceiling {
        team: TeamCode,
        player: PlayerId,
        amount: Option<Money>,
        reply: oneshot::Sender<Result<u64, Rejection>>,
    },
    Read(Read),
}

/// Requests that read the state or the log.
enum Read {
    Subscribe {
        since: Option<u64>,
        reply: oneshot::Sender<Joined>,
    },
}

/// A cheap handle to the engine task.
#[derive(Clone)]
pub struct EngineHandle {
    tx: mpsc::Sender<Request>,
    seq: Arc<AtomicU64>,
    /// For reads that need not wait in line with commands (history).
    store: Store,
    /// Reads the engine task has served (subscriptions, catch-ups).
    reads: Arc<AtomicU64>,
    book: watch::Receiver<Arc<Book>>,
}

impl EngineHandle {
    /// The seq of the last durable event.
    pub fn seq(&self) -> u64 {
        self.seq.load(Ordering::Acquire)
    }

    /// Submits a command; returns its seq once it is durable, or why not.
    pub async fn submit(
        &self,
        actor: Actor,
        request_id: Option<String>,
        command: Command,
    ) -> Result<u64, Rejection> {
        self.ask(|reply| Request::Command {
            actor,
            request_id,
            command,
            reply,
        })
        .await
    }

    /// Sets (`Some`) or cancels (`None`) `team`'s proxy-bid ceiling on
    /// `player`; returns the seq once it and the bids it made due are
    /// durable, or why not.
    pub async fn set_ceiling(
        &self,
        team: TeamCode,
        player: PlayerId,
        amount: Option<Money>,
    ) -> Result<u64, Rejection> {
        self.ask(|reply| Request::Ceiling {
            team,
            player,
            amount,
            reply,
        })
        .await
    }

    /// Sends a request that changes the auction and waits for its answer.
    async fn ask(
        &self,
        request: impl FnOnce(oneshot::Sender<Result<u64, Rejection>>) -> Request,
    ) -> Result<u64, Rejection> {
        let (reply, rx) = oneshot::channel();
        let gone = || Rejection::new(RejectCode::Unavailable, "the auction engine is not running");
        self.tx.send(request(reply)).await.map_err(|_| gone())?;
        rx.await.map_err(|_| gone())?
    }

    /// The ceilings as of the last commit, and their changes.
    pub fn book(&self) -> watch::Receiver<Arc<Book>> {
        self.book.clone()
    }

    /// Subscribes to events. With `since`, the catch-up holds the events
    /// after it (a snapshot if too far behind or ahead); without, a snapshot.
    pub async fn subscribe(&self, since: Option<u64>) -> Result<Subscription, EngineGone> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Request::Read(Read::Subscribe { since, reply }))
            .await
            .map_err(|_| EngineGone)?;
        let Joined { start, events } = rx.await.map_err(|_| EngineGone)?;
        let catchup = match start {
            Start::Snapshot(snapshot) => Catchup::Snapshot(snapshot),
            Start::After { since, upto } => {
                let store = self.store.clone();
                let read = move || store.entries_after(since, (upto - since) as usize);
                Catchup::Events(
                    tokio::task::spawn_blocking(read)
                        .await
                        .map_err(|_| EngineGone)?
                        .map_err(|_| EngineGone)?,
                )
            }
        };
        Ok(Subscription { catchup, events })
    }

    /// A snapshot and the feed of every event after it.
    pub async fn subscribe_fresh(
        &self,
    ) -> Result<(Snapshot, broadcast::Receiver<Arc<Published>>), EngineGone> {
        let sub = self.subscribe(None).await?;
        match sub.catchup {
            Catchup::Snapshot(s) => Ok((*s, sub.events)),
            // `subscribe(None)` always answers with a snapshot.
            Catchup::Events(_) => Err(EngineGone),
        }
    }

    pub async fn snapshot(&self) -> Result<Snapshot, EngineGone> {
        Ok(self.subscribe_fresh().await?.0)
    }

    /// Up to `limit` recorded entries after `since`.
    /// Up to `limit` durable entries after `since`, read from the store on
    /// a blocking thread: never in line with the bids on the engine task.
    /// Only what was acknowledged is read (an entry written but not yet
    /// flushed is left out).
    pub async fn history(&self, since: u64, limit: usize) -> Result<Vec<Entry>, EngineGone> {
        let (store, durable) = (self.store.clone(), self.seq());
        let mut entries = tokio::task::spawn_blocking(move || store.entries_after(since, limit))
            .await
            .map_err(|_| EngineGone)?
            .map_err(|_| EngineGone)?;
        entries.retain(|e| e.seq <= durable);
        Ok(entries)
    }

    /// Reads the engine task has served so far (subscriptions and
    /// catch-ups; history is read beside it).
    pub fn reads_served(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }

    /// True once the engine task has ended.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}

type Pending = Vec<(
    oneshot::Sender<Result<u64, Rejection>>,
    Result<u64, Rejection>,
)>;

struct Engine {
    state: State,
    ceilings: Ceilings,
    ceiling_tree: CeilingTree,
    /// The ceilings changed in this batch (published after the flush).
    book_changed: bool,
    book: watch::Sender<Arc<Book>>,
    seq: u64,
    store: Store,
    config: EngineConfig,
    bus: broadcast::Sender<Arc<Published>>,
    requests: super::requests::Requests,
    /// Unflushed entries of the current batch.
    fresh: Vec<Entry>,
    /// The last durable seq, shared with the handles.
    durable: Arc<AtomicU64>,
    /// Reads served, for [`EngineHandle::reads_served`].
    reads: Arc<AtomicU64>,
    last_snapshot: u64,
    /// The snapshot being stored on a blocking thread, if one is.
    snapshotting: Option<tokio::task::JoinHandle<()>>,
    /// A clock tick refused at this seq is not retried until the state moves.
    tick_refused_at: Option<u64>,
}

/// Recovers the state from `store` and starts the engine task. The task ends
/// when every handle is dropped (after a last flush) or on a storage error.
pub fn spawn(
    store: Store,
    league: &auction_proto::League,
    config: EngineConfig,
) -> Result<
    (
        EngineHandle,
        tokio::task::JoinHandle<Result<(), StoreError>>,
    ),
    StoreError,
> {
    let recovered = store.recover(league)?;
    let ceiling_tree = CeilingTree::open(&store)?;
    let ceilings = ceiling_tree.load(&recovered.state)?;
    let (book, book_rx) = watch::channel(Arc::new(Book::new(&recovered.state, &ceilings)));
    let (bus, _) = broadcast::channel(config.broadcast_capacity);
    let durable = Arc::new(AtomicU64::new(recovered.seq));
    let reads = Arc::new(AtomicU64::new(0));
    let mut engine = Engine {
        durable: durable.clone(),
        reads: reads.clone(),
        state: recovered.state,
        ceilings,
        ceiling_tree,
        book_changed: false,
        book,
        seq: recovered.seq,
        store,
        bus,
        requests: super::requests::Requests::new(config.remembered_per_account),
        fresh: Vec::new(),
        last_snapshot: recovered.seq,
        snapshotting: None,
        tick_refused_at: None,
        config,
    };
    let last_at = engine.remember_from_log()?;
    engine.pause_after_crash(last_at)?;
    tracing::info!(
        seq = engine.seq,
        replayed = recovered.replayed,
        "event log recovered"
    );
    let (tx, rx) = mpsc::channel(engine.config.max_batch * 4);
    let handle = EngineHandle {
        tx,
        seq: durable,
        store: engine.store.clone(),
        reads,
        book: book_rx,
    };
    let task = tokio::spawn(engine.run(rx));
    Ok((handle, task))
}

/// The player on the block and how many ceilings he has.
fn on_block(state: &State, ceilings: &Ceilings) -> Option<(PlayerId, usize)> {
    let player = state.lot.as_ref()?.player;
    Some((player, ceilings.on(player).len()))
}

impl Book {
    fn new(state: &State, ceilings: &Ceilings) -> Book {
        Book {
            ceilings: ceilings.clone(),
            on_block: on_block(state, ceilings),
            counted: state.rules.proxy_bids == auction_proto::ProxyBids::Counted,
        }
    }
}

impl Engine {
    /// Rebuilds the request-id memory from the tail of the log, so a retry
    /// after a restart is still answered with its first result.
    /// Returns the time of the last entry (the crash check needs it; the
    /// tail read here includes it).
    fn remember_from_log(&mut self) -> Result<Option<u64>, StoreError> {
        let keep = self.config.remembered_from_log.max(1);
        let since = self.seq.saturating_sub(keep);
        let mut last_at = None;
        for entry in self.store.entries_after(since, keep as usize)? {
            if let Some(id) = &entry.request_id {
                self.requests.remember(&entry.actor, id, Ok(entry.seq));
            }
            last_at = Some(entry.at_ms);
        }
        Ok(last_at)
    }

    /// A log that ends with a lot clock running was not stopped cleanly
    /// (a clean stop pauses it): the lot comes back paused with the time it
    /// had at the last recorded event, for the presenter to resume. Nobody
    /// loses a lot to the downtime.
    fn pause_after_crash(&mut self, last_at: Option<u64>) -> Result<(), StoreError> {
        if let Some(pause) = last_at.and_then(|at| downtime_pause(&self.state, at)) {
            self.state.apply(&pause);
            let now = (self.config.clock)();
            self.record(Actor::system(), None, pause, now)?;
            self.fresh.clear();
            self.store.flush_blocking()?;
            self.durable.store(self.seq, Ordering::Release);
            tracing::info!(
                seq = self.seq,
                "a lot clock was running at the crash: the auction is paused"
            );
        }
        Ok(())
    }

    /// A clean stop pauses a running lot clock with the time it has left.
    fn pause_at_stop(&mut self) -> Result<(), StoreError> {
        let now = (self.config.clock)();
        if let Some(pause) = downtime_pause(&self.state, now) {
            self.state.apply(&pause);
            self.record(Actor::system(), None, pause, now)?;
            tracing::info!(
                seq = self.seq,
                "stopping with a lot clock running: the auction is paused"
            );
        }
        Ok(())
    }

    async fn run(mut self, mut rx: mpsc::Receiver<Request>) -> Result<(), StoreError> {
        let mut result = self.serve(&mut rx).await;
        if result.is_ok() {
            result = self.pause_at_stop();
        }
        if let Err(e) = &result {
            tracing::error!(error = %e, "engine stopped on a storage error");
        }
        // Refuse whatever is still queued rather than leave callers hanging.
        rx.close();
        // The store is not let go while a snapshot is still being written.
        if let Some(writing) = self.snapshotting.take() {
            let _ = writing.await;
        }
        result?;
        self.store.flush().await
    }

    async fn serve(&mut self, rx: &mut mpsc::Receiver<Request>) -> Result<(), StoreError> {
        loop {
            let tick_at =
                next_tick_ms(&self.state).filter(|_| self.tick_refused_at != Some(self.seq));
            let first = match tick_at {
                Some(at) => {
                    let wait = Duration::from_millis(at.saturating_sub((self.config.clock)()));
                    tokio::select! {
                        r = rx.recv() => r,
                        () = tokio::time::sleep(wait) => {
                            self.tick().await?;
                            continue;
                        }
                    }
                }
                None => rx.recv().await,
            };
            let Some(first) = first else {
                return Ok(());
            };
            let mut pending: Pending = Vec::new();
            let mut next = Some(first);
            while let Some(req) = next {
                match req {
                    Request::Command {
                        actor,
                        request_id,
                        command,
                        reply,
                    } => {
                        let result = self.execute(actor, request_id, command)?;
                        pending.push((reply, result));
                    }
                    Request::Ceiling {
                        team,
                        player,
                        amount,
                        reply,
                    } => {
                        let result = self.ceiling(&team, player, amount)?;
                        pending.push((reply, result));
                    }
                    Request::Read(read) => {
                        // Reads see only durable state: commit what is pending first.
                        self.commit(&mut pending).await?;
                        self.answer(read)?;
                    }
                }
                next = if pending.len() < self.config.max_batch {
                    rx.try_recv().ok()
                } else {
                    None
                };
            }
            self.commit(&mut pending).await?;
        }
    }

    async fn tick(&mut self) -> Result<(), StoreError> {
        let mut pending = Vec::new();
        let (reply, _) = oneshot::channel();
        let result = self.execute(Actor::system(), None, Command::Tick)?;
        if let Err(r) = &result {
            tracing::debug!(code = %r.code, "clock tick refused");
            self.tick_refused_at = Some(self.seq);
        }
        pending.push((reply, result));
        self.commit(&mut pending).await
    }

    fn execute(
        &mut self,
        actor: Actor,
        request_id: Option<String>,
        mut command: Command,
    ) -> Result<Result<u64, Rejection>, StoreError> {
        if let Some(first) = request_id
            .as_ref()
            .and_then(|id| self.requests.answered(&actor, id))
        {
            return Ok(first.clone());
        }
        if let Command::Start { seed: seed @ None } = &mut command {
            *seed = Some(rand::random());
        }
        let now = (self.config.clock)();
        let result = match step(&mut self.state, &mut self.ceilings, &command, &actor, now) {
            Ok(Step { event, auto }) => {
                if let Some(id) = &request_id {
                    self.requests.remember(&actor, id, Ok(self.seq + 1));
                }
                let seq = self.record(actor, request_id, event, now)?;
                self.record_auto(auto, now)?;
                Ok(seq)
            }
            Err(rejection) => {
                if let Some(id) = &request_id {
                    self.requests.remember(&actor, id, Err(rejection.clone()));
                }
                Err(rejection)
            }
        };
        Ok(result)
    }

    /// Sets or cancels a ceiling: the change and the proxy bids it made due
    /// go into this batch. Answers with the seq of the last event (nothing
    /// new when no bid was due).
    fn ceiling(
        &mut self,
        team: &TeamCode,
        player: PlayerId,
        amount: Option<Money>,
    ) -> Result<Result<u64, Rejection>, StoreError> {
        let now = (self.config.clock)();
        let auto = match set_ceiling(
            &mut self.state,
            &mut self.ceilings,
            team,
            player,
            amount,
            now,
        ) {
            Ok(auto) => auto,
            Err(rejection) => return Ok(Err(rejection)),
        };
        self.record_auto(auto, now)?;
        Ok(Ok(self.seq))
    }

    /// Appends an event (already applied to the state) to the batch.
    fn record(
        &mut self,
        actor: Actor,
        request_id: Option<String>,
        event: auction_proto::Event,
        now: u64,
    ) -> Result<u64, StoreError> {
        let mut entry = Entry {
            seq: self.seq + 1,
            at_ms: now,
            actor,
            request_id,
            event,
            prev: None,
        };
        self.store.append(&mut entry)?;
        self.seq = entry.seq;
        self.fresh.push(entry);
        Ok(self.seq)
    }

    /// Appends the proxy bids a step made (recorded as the server's), and
    /// stores whatever it changed in the ceilings.
    fn record_auto(&mut self, auto: Vec<auction_proto::Event>, now: u64) -> Result<(), StoreError> {
        for event in auto {
            self.record(Actor::system(), None, event, now)?;
        }
        if self.ceiling_tree.save(&mut self.ceilings)? {
            self.book_changed = true;
        }
        Ok(())
    }

    /// Tells the sessions the ceilings changed (after they are durable), or
    /// that the lot on the block has a different count of them.
    fn publish_book(&mut self) {
        if self.book_changed || self.book.borrow().on_block != on_block(&self.state, &self.ceilings)
        {
            self.book_changed = false;
            self.book
                .send_replace(Arc::new(Book::new(&self.state, &self.ceilings)));
        }
    }

    /// Flushes the batch, then answers every caller and broadcasts the events.
    async fn commit(&mut self, pending: &mut Pending) -> Result<(), StoreError> {
        // A ceiling change may come with no event: it is flushed all the same.
        if !self.fresh.is_empty() || self.book_changed {
            let due = self.seq / self.config.snapshot_every
                > self.last_snapshot / self.config.snapshot_every;
            // One at a time: while one is written, the next waits its turn
            // (the following commit tries again).
            let writing = self.snapshotting.as_ref().is_some_and(|w| !w.is_finished());
            if due && !writing {
                // Serialized here, at this seq; stored on a blocking thread.
                // A large state goes to its own file in sled (fsynced), which
                // held every command behind it for up to 100 ms. A snapshot
                // only shortens recovery: one that fails is logged, and the
                // log still holds everything.
                let snapshot = serde_json::to_vec(&self.state).expect("a state serializes");
                let (store, seq) = (self.store.clone(), self.seq);
                self.snapshotting = Some(tokio::task::spawn_blocking(move || {
                    if let Err(e) = store.put_snapshot(seq, snapshot) {
                        tracing::warn!(seq, error = %e, "could not store a snapshot");
                    }
                }));
                self.last_snapshot = self.seq;
            }
            if let Err(e) = self.store.flush().await {
                for (reply, _) in pending.drain(..) {
                    let _ = reply.send(Err(Rejection::new(
                        RejectCode::Unavailable,
                        "the server could not store this command",
                    )));
                }
                return Err(e);
            }
            self.durable.store(self.seq, Ordering::Release);
        }
        // Answers first: the events' fan-out to every screen takes the
        // machine for milliseconds, and the bidder's answer should not wait
        // behind it.
        for (reply, result) in pending.drain(..) {
            let _ = reply.send(result);
        }
        for entry in self.fresh.drain(..) {
            // No subscriber is not an error: events are in the log.
            let _ = self.bus.send(Arc::new(Published::new(entry)));
        }
        self.publish_book();
        Ok(())
    }

    fn answer(&mut self, read: Read) -> Result<(), StoreError> {
        match read {
            Read::Subscribe { since, reply } => {
                self.reads.fetch_add(1, Ordering::Relaxed);
                let events = self.bus.subscribe();
                let start = match since {
                    Some(since)
                        if since <= self.seq && self.seq - since <= self.config.resume_window =>
                    {
                        Start::After {
                            since,
                            upto: self.seq,
                        }
                    }
                    _ => Start::Snapshot(Box::new(Snapshot {
                        seq: self.seq,
                        state: self.state.clone(),
                    })),
                };
                let _ = reply.send(Joined { start, events });
            }
        }
        Ok(())
    }
}
