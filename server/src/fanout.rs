//! Fan-out: every published event reaches every logged-in WebSocket session
//! from one thread.
//!
//! Each event is framed once (one WebSocket text frame for viewers, one for
//! the room) and the same bytes are written to every session's socket with a
//! non-blocking write, in one pass. A session's own task is not woken for
//! events at all; it is woken only when a socket could not take everything,
//! to write the rest when the client catches up (under the write deadline).
//!
//! Order on the wire: every write to a session's socket (the fan-out's and
//! the session task's own replies) goes through that session's [`Outbox`]
//! under its lock, whole frames at a time, and bytes already queued go out
//! before anything new. Under TLS the fan-out cannot write the socket itself:
//! it queues the frames and the session task writes them through TLS.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, ready};

use futures_util::task::AtomicWaker;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{broadcast, mpsc};
use tokio_tungstenite::tungstenite::protocol::frame::FrameHeader;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};

use crate::engine::Published;

/// Messages above this (snapshots, history pages, a large import) go out as
/// several frames of one message, as they did before the fan-out: no frame
/// is larger than 8 KiB (docs/protocol.md).
pub const FRAME_BYTES: usize = 8 * 1024;

/// Appends `text` to `out` as one WebSocket text message (server to client,
/// unmasked) in frames of at most [`FRAME_BYTES`].
pub fn encode_text(text: &[u8], out: &mut Vec<u8>) {
    let mut at = 0;
    loop {
        let end = (at + FRAME_BYTES).min(text.len());
        let header = FrameHeader {
            is_final: end == text.len(),
            opcode: OpCode::Data(if at == 0 { Data::Text } else { Data::Continue }),
            ..FrameHeader::default()
        };
        out.reserve(header.len((end - at) as u64) + end - at);
        header
            .format((end - at) as u64, out)
            .expect("writing to a Vec cannot fail");
        out.extend_from_slice(&text[at..end]);
        if end == text.len() {
            return;
        }
        at = end;
    }
}

/// What is waiting to be written to one session, shared by the session's
/// task and the fan-out thread.
pub struct Outbox {
    state: Mutex<Queue>,
    /// Set when the fan-out left bytes for the session's task to write, or
    /// found the session too far behind.
    wanted: AtomicBool,
    waker: AtomicWaker,
    /// Most bytes queued for a client that does not read fast enough.
    limit: usize,
}

struct Queue {
    bytes: Vec<u8>,
    /// How much of `bytes` is already written.
    written: usize,
    /// The plain socket below, written at once by the fan-out when nothing is
    /// queued. `None` under TLS and once the session has ended.
    socket: Option<Arc<TcpStream>>,
    /// The current membership of the fan-out: a join takes the next one, and
    /// leaving moves it on, so older memberships no longer match.
    ticket: u64,
    /// More than `limit` bytes were queued: the session must reconnect.
    behind: bool,
}

impl Queue {
    fn pending(&self) -> &[u8] {
        &self.bytes[self.written..]
    }

    fn is_empty(&self) -> bool {
        self.written == self.bytes.len()
    }

    fn consumed(&mut self, n: usize) {
        self.written += n;
        if self.is_empty() {
            self.written = 0;
            if self.bytes.capacity() > 64 * 1024 {
                self.bytes = Vec::new();
            } else {
                self.bytes.clear();
            }
        }
    }
}

/// What the fan-out did with a push.
enum Pushed {
    /// Written, or queued for the session's task.
    Kept,
    /// The membership ended (the session left, ended or fell behind).
    Dropped,
}

impl Outbox {
    /// `socket` is the plain TCP socket under the session, if there is one
    /// the fan-out may write directly.
    pub fn new(socket: Option<Arc<TcpStream>>, limit: usize) -> Arc<Outbox> {
        Arc::new(Outbox {
            state: Mutex::new(Queue {
                bytes: Vec::new(),
                written: 0,
                socket,
                ticket: 0,
                behind: false,
            }),
            wanted: AtomicBool::new(false),
            waker: AtomicWaker::new(),
            limit,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn signal(&self) {
        self.wanted.store(true, Ordering::Release);
        self.waker.wake();
    }

    /// Resolves when the fan-out queued bytes the session's task must write
    /// (by flushing), or found the session too far behind.
    pub fn wanted(&self) -> impl Future<Output = ()> + '_ {
        std::future::poll_fn(|cx| {
            self.waker.register(cx.waker());
            if self.wanted.swap(false, Ordering::AcqRel) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
    }

    /// More was queued for this session than it could take in time.
    pub fn is_behind(&self) -> bool {
        self.lock().behind
    }

    /// Stops the fan-out writing to this session, at once (before a
    /// snapshot replaces the feed, or a close frame ends it).
    pub fn leave(&self) {
        self.enter();
    }

    /// Starts a membership; the fan-out writes only while it is current.
    fn enter(&self) -> u64 {
        let mut q = self.lock();
        q.ticket += 1;
        q.ticket
    }

    /// The session missed events the fan-out can no longer give it.
    fn fall_behind(&self) {
        self.lock().behind = true;
        self.signal();
    }

    /// Writes (or queues) whole frames from the fan-out thread.
    fn push(&self, ticket: u64, frames: &[u8]) -> Pushed {
        let mut q = self.lock();
        if q.ticket != ticket || q.behind {
            return Pushed::Dropped;
        }
        let mut rest = frames;
        if q.is_empty()
            && let Some(socket) = &q.socket
        {
            while !rest.is_empty() {
                match socket.try_write(rest) {
                    Ok(0) => break,
                    Ok(n) => rest = &rest[n..],
                    // Would block, or broken: the session's task finds out
                    // when it writes the rest.
                    Err(_) => break,
                }
            }
            if rest.is_empty() {
                return Pushed::Kept;
            }
        }
        if q.pending().len() + rest.len() > self.limit {
            drop(q);
            self.fall_behind();
            return Pushed::Dropped;
        }
        q.bytes.extend_from_slice(rest);
        drop(q);
        self.signal();
        Pushed::Kept
    }
}

/// A plain TCP socket shared between the session's task (reads and its own
/// writes) and the fan-out thread (event writes, through [`Outbox`]).
pub struct Plain(pub Arc<TcpStream>);

impl AsyncRead for Plain {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            ready!(self.0.poll_read_ready(cx))?;
            let unfilled = buf.initialize_unfilled();
            match self.0.try_read(unfilled) {
                Ok(n) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl AsyncWrite for Plain {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            ready!(self.0.poll_write_ready(cx))?;
            match self.0.try_write(buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                r => return Poll::Ready(r),
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// The socket closes when the session drops it.
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// The stream a session's WebSocket runs over: `S` below, the session's
/// [`Outbox`] in between. A write is always taken whole (queued if the socket
/// is full), so frames are never split by someone else's; a flush writes
/// what is queued, and waits (under `S`'s own deadline) until it is written.
pub struct Queued<S> {
    inner: S,
    outbox: Arc<Outbox>,
}

impl<S> Queued<S> {
    pub fn new(inner: S, outbox: Arc<Outbox>) -> Queued<S> {
        Queued { inner, outbox }
    }

    pub fn outbox(&self) -> &Arc<Outbox> {
        &self.outbox
    }
}

impl<S> Drop for Queued<S> {
    fn drop(&mut self) {
        // The fan-out must not hold the socket open after the session.
        self.outbox.leave();
        self.outbox.lock().socket = None;
    }
}

/// Writes what is queued to `inner`; `Pending` until all of it is written.
fn drain<S: AsyncWrite + Unpin>(
    inner: &mut S,
    q: &mut Queue,
    cx: &mut Context<'_>,
) -> Poll<io::Result<()>> {
    while !q.is_empty() {
        match ready!(Pin::new(&mut *inner).poll_write(cx, q.pending()))? {
            0 => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
            n => q.consumed(n),
        }
    }
    Poll::Ready(Ok(()))
}

impl<S: AsyncRead + Unpin> AsyncRead for Queued<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Queued<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let Queued { inner, outbox } = &mut *self;
        let mut q = outbox.lock();
        let mut rest = buf;
        if q.is_empty() {
            while !rest.is_empty() {
                match Pin::new(&mut *inner).poll_write(cx, rest) {
                    Poll::Ready(Ok(0)) => {
                        return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                    }
                    Poll::Ready(Ok(n)) => rest = &rest[n..],
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => break,
                }
            }
        }
        q.bytes.extend_from_slice(rest);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let Queued { inner, outbox } = &mut *self;
        ready!(drain(inner, &mut outbox.lock(), cx))?;
        Pin::new(inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.as_mut().poll_flush(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A session joining the fan-out: its outbox, what it may see, the seq it
/// has everything up to, and the engine subscription made at that seq (so no
/// event falls between the two).
pub struct Join {
    pub outbox: Arc<Outbox>,
    pub public: bool,
    pub after: u64,
    pub events: broadcast::Receiver<Arc<Published>>,
}

/// The handle sessions join the fan-out through.
pub struct Fanout {
    /// Each join with its membership ticket.
    joins: mpsc::UnboundedSender<(Join, u64)>,
}

impl Fanout {
    /// Starts the fan-out thread on `events` (the engine's feed). The thread
    /// ends when the feed closes or the handle is dropped.
    pub fn start(events: broadcast::Receiver<Arc<Published>>) -> io::Result<Fanout> {
        let (joins, rx) = mpsc::unbounded_channel();
        let runtime = tokio::runtime::Builder::new_current_thread().build()?;
        std::thread::Builder::new()
            .name("fanout".into())
            .spawn(move || runtime.block_on(run(events, rx)))?;
        Ok(Fanout { joins })
    }

    /// Adds a session: from now on it gets every event after `join.after`.
    /// The membership starts here, not when the fan-out thread gets to it:
    /// a `leave` in between (a snapshot asked for at once) cancels it.
    pub fn join(&self, join: Join) {
        let ticket = join.outbox.enter();
        // Sent only if the fan-out is running; if it is not, the engine has
        // stopped and the session ends with it.
        let _ = self.joins.send((join, ticket));
    }
}

struct Member {
    outbox: Arc<Outbox>,
    ticket: u64,
    public: bool,
    after: u64,
}

/// Most events framed and written together when they arrive in a burst.
const MAX_BATCH: usize = 256;

/// One burst of consecutive events, framed once for each audience.
#[derive(Default)]
struct Batch {
    first: u64,
    seqs: usize,
    public: Vec<u8>,
    full: Vec<u8>,
    /// Where each event starts in `public` and in `full`.
    starts: Vec<(usize, usize)>,
}

impl Batch {
    fn clear(&mut self) {
        self.seqs = 0;
        self.public.clear();
        self.full.clear();
        self.starts.clear();
    }

    fn add(&mut self, p: &Published) {
        if self.seqs == 0 {
            self.first = p.entry.seq;
        }
        self.starts.push((self.public.len(), self.full.len()));
        encode_text(p.public.as_bytes(), &mut self.public);
        encode_text(p.full.as_bytes(), &mut self.full);
        self.seqs += 1;
    }

    /// The seq of the batch's last event.
    fn last(&self) -> u64 {
        self.first + self.seqs as u64 - 1
    }

    /// The frames of the events after `after`, for one audience.
    fn after(&self, after: u64, public: bool) -> &[u8] {
        let skip = after.saturating_add(1).saturating_sub(self.first) as usize;
        if skip >= self.seqs {
            return &[];
        }
        let (p, f) = self.starts[skip];
        if public {
            &self.public[p..]
        } else {
            &self.full[f..]
        }
    }
}

async fn run(
    mut events: broadcast::Receiver<Arc<Published>>,
    mut joins: mpsc::UnboundedReceiver<(Join, u64)>,
) {
    let mut members: Vec<Member> = Vec::new();
    let mut batch = Batch::default();
    let mut one = Batch::default();
    loop {
        // Unbiased: a stream of events must not keep joins waiting, nor a
        // crowd of joins the events.
        tokio::select! {
            join = joins.recv() => {
                let Some((join, ticket)) = join else { return };
                if let Some(m) = admit(join, ticket, &mut one) {
                    members.push(m);
                }
            }
            first = events.recv() => {
                let first = match first {
                    Ok(p) => p,
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, sessions = members.len(), "fan-out fell behind the engine; every session resumes");
                        for m in members.drain(..) {
                            m.outbox.fall_behind();
                        }
                        continue;
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                batch.clear();
                batch.add(&first);
                while batch.seqs < MAX_BATCH {
                    match events.try_recv() {
                        Ok(p) => batch.add(&p),
                        // A lag is reported by the next recv.
                        Err(_) => break,
                    }
                }
                let last = batch.last();
                members.retain_mut(|m| {
                    let frames = batch.after(m.after, m.public);
                    m.after = m.after.max(last);
                    frames.is_empty() || matches!(m.outbox.push(m.ticket, frames), Pushed::Kept)
                });
            }
        }
    }
}

/// Catches a joining session up from its own subscription (which holds
/// every event since its snapshot) and makes it a member. Events the
/// fan-out delivers later are skipped up to `after`.
fn admit(join: Join, ticket: u64, frames: &mut Batch) -> Option<Member> {
    let Join {
        outbox,
        public,
        mut after,
        mut events,
    } = join;
    loop {
        frames.clear();
        while frames.seqs < MAX_BATCH {
            match events.try_recv() {
                Ok(p) if p.entry.seq <= after => {}
                Ok(p) => frames.add(&p),
                Err(broadcast::error::TryRecvError::Lagged(_)) => {
                    outbox.fall_behind();
                    return None;
                }
                Err(_) => break,
            }
        }
        if frames.seqs == 0 {
            break;
        }
        let bytes = frames.after(after, public);
        after = frames.last();
        if let Pushed::Dropped = outbox.push(ticket, bytes) {
            return None;
        }
    }
    Some(Member {
        outbox,
        ticket,
        public,
        after,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;
    use std::time::Duration;

    fn decode(mut bytes: &[u8]) -> Vec<(bool, OpCode, Vec<u8>)> {
        let mut frames = Vec::new();
        while !bytes.is_empty() {
            let mut cursor = Cursor::new(bytes);
            let (header, len) = FrameHeader::parse(&mut cursor).unwrap().unwrap();
            let at = cursor.position() as usize;
            assert!(header.mask.is_none());
            frames.push((
                header.is_final,
                header.opcode,
                bytes[at..at + len as usize].to_vec(),
            ));
            bytes = &bytes[at + len as usize..];
        }
        frames
    }

    #[test]
    fn a_large_message_goes_out_in_small_frames_that_rebuild_the_text() {
        let text = "₹2.2 Cr ".repeat(5000);
        let mut out = Vec::new();
        encode_text(text.as_bytes(), &mut out);
        let frames = decode(&out);
        assert!(frames.len() > 1);
        let mut rebuilt = Vec::new();
        for (i, (fin, opcode, payload)) in frames.iter().enumerate() {
            assert!(payload.len() <= FRAME_BYTES);
            assert_eq!(*fin, i == frames.len() - 1);
            let want = if i == 0 { Data::Text } else { Data::Continue };
            assert_eq!(*opcode, OpCode::Data(want));
            rebuilt.extend_from_slice(payload);
        }
        assert_eq!(String::from_utf8(rebuilt).unwrap(), text);

        let mut small = Vec::new();
        encode_text(b"{}", &mut small);
        assert_eq!(small, b"\x81\x02{}");
        let mut empty = Vec::new();
        encode_text(b"", &mut empty);
        assert_eq!(empty, b"\x81\x00");
    }

    #[test]
    fn a_member_gets_only_the_events_after_its_seq() {
        let mut batch = Batch::default();
        for seq in 5..8 {
            let entry = auction_proto::Entry {
                seq,
                ..test_entry()
            };
            batch.add(&Published::new(entry));
        }
        let all = decode(batch.after(4, true));
        assert_eq!(all.len(), 3);
        let last_two = decode(batch.after(5, false));
        assert_eq!(last_two.len(), 2);
        assert!(String::from_utf8_lossy(&last_two[0].2).contains("\"seq\":6"));
        assert!(batch.after(7, true).is_empty());
        assert!(batch.after(100, true).is_empty());
    }

    fn published(seq: u64) -> Arc<Published> {
        Arc::new(Published::new(auction_proto::Entry {
            seq,
            ..test_entry()
        }))
    }

    /// A connected pair on loopback: the server's end with a small send
    /// buffer and the client's with a small receive window, so that a client
    /// that does not read fills them quickly.
    async fn pair() -> (Arc<TcpStream>, TcpStream) {
        let listening = tokio::net::TcpSocket::new_v4().unwrap();
        listening.set_recv_buffer_size(4096).unwrap();
        listening.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let listener = listening.listen(1).unwrap();
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_send_buffer_size(4096).unwrap();
        let server = socket
            .connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (client, _) = listener.accept().await.unwrap();
        (Arc::new(server), client)
    }

    /// The seqs of the events in `bytes` (whole frames).
    fn seqs(bytes: &[u8]) -> Vec<u64> {
        decode(bytes)
            .into_iter()
            .map(|(_, _, payload)| {
                let v: serde_json::Value = serde_json::from_slice(&payload).unwrap();
                v["seq"].as_u64().unwrap()
            })
            .collect()
    }

    async fn read_for(client: &mut TcpStream, ms: u64) -> Vec<u8> {
        use tokio::io::AsyncReadExt;
        let mut got = Vec::new();
        let mut buf = [0u8; 8192];
        while let Ok(Ok(n)) =
            tokio::time::timeout(Duration::from_millis(ms), client.read(&mut buf)).await
        {
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        got
    }

    async fn until(what: &str, f: impl Fn() -> bool) {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !f() {
            assert!(std::time::Instant::now() < deadline, "never: {what}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_slow_client_is_queued_in_order_and_cut_off_past_the_limit() {
        let (server, mut client) = pair().await;
        let outbox = Outbox::new(Some(server.clone()), 16 * 1024);
        let (bus, feed) = broadcast::channel(100_000);
        let fanout = Fanout::start(feed).unwrap();
        // Joins having seen seq 2; seq 1 and 2 are in its subscription and
        // are skipped, 3 is caught up from it.
        let events = bus.subscribe();
        for seq in 1..=3 {
            bus.send(published(seq)).unwrap();
        }
        fanout.join(Join {
            outbox: outbox.clone(),
            public: true,
            after: 2,
            events,
        });
        bus.send(published(4)).unwrap();
        assert_eq!(seqs(&read_for(&mut client, 300).await), [3, 4]);
        assert!(!outbox.wanted.load(Ordering::Acquire), "written directly");

        // The client stops reading: the sockets fill, then the queue, then
        // the fan-out gives up on it.
        let mut seq = 4;
        while !outbox.is_behind() {
            assert!(seq < 50_000, "never cut off");
            seq += 1;
            bus.send(published(seq)).unwrap();
            if seq % 100 == 0 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        let cut = seq;
        bus.send(published(cut + 1)).unwrap();

        // What was queued goes out when the session's task flushes it, after
        // what the socket already had, in order; nothing after the cut.
        let mut session = Queued::new(Plain(server), outbox.clone());
        let flushing = tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            session.flush().await.unwrap();
        });
        let got = seqs(&read_for(&mut client, 500).await);
        flushing.await.unwrap();
        let last = *got.last().unwrap();
        assert_eq!(got, (5..=last).collect::<Vec<_>>());
        assert!(last < cut, "{last} delivered of {cut}");
    }

    #[tokio::test]
    async fn a_join_overtaken_by_a_leave_writes_nothing() {
        let (server, mut client) = pair().await;
        let outbox = Outbox::new(Some(server), 1 << 20);
        let (bus, _feed) = broadcast::channel(16);
        let events = bus.subscribe();
        bus.send(published(1)).unwrap();
        let join = Join {
            outbox: outbox.clone(),
            public: true,
            after: 0,
            events,
        };
        // As `Fanout::join` does; then the session leaves (to send a
        // snapshot) before the fan-out thread got to the join.
        let ticket = outbox.enter();
        outbox.leave();
        assert!(admit(join, ticket, &mut Batch::default()).is_none());
        assert!(read_for(&mut client, 200).await.is_empty());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_session_that_left_gets_nothing_more_and_its_socket_is_let_go() {
        let (server, mut client) = pair().await;
        let outbox = Outbox::new(Some(server.clone()), 1 << 20);
        let (bus, feed) = broadcast::channel(16);
        let fanout = Fanout::start(feed).unwrap();
        fanout.join(Join {
            outbox: outbox.clone(),
            public: false,
            after: 0,
            events: bus.subscribe(),
        });
        bus.send(published(1)).unwrap();
        assert_eq!(seqs(&read_for(&mut client, 300).await), [1]);
        outbox.leave();
        bus.send(published(2)).unwrap();
        assert!(read_for(&mut client, 200).await.is_empty());

        // Once the session's stream is dropped, the fan-out no longer holds
        // the socket: the client sees the connection end.
        let session = Queued::new(Plain(server), outbox.clone());
        drop(session);
        until("the outbox lets the socket go", || {
            outbox.lock().socket.is_none()
        })
        .await;
        use tokio::io::AsyncReadExt;
        let mut buf = [0u8; 16];
        let n = tokio::time::timeout(Duration::from_secs(5), client.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(n, 0);
    }

    fn test_entry() -> auction_proto::Entry {
        auction_proto::Entry {
            seq: 1,
            at_ms: 0,
            actor: auction_proto::Actor::new("presenter", auction_proto::Access::Presenter),
            request_id: None,
            event: auction_proto::Event::Paused { remaining_ms: None },
            prev: None,
        }
    }
}
