//! The bench's receiving side: many sockets read by a few threads with
//! epoll (mio), the way a load generator reads, so that the figures are the
//! server's and not the bench's own task scheduling. The same readers take
//! the WebSocket viewers and the raw-TCP floor's sockets.

use std::io::{self, Read};
use std::net::TcpStream;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use tokio_tungstenite::tungstenite::{self, Message, WebSocket};

/// Threads reading the sockets. Two, as the machine has two cores: more
/// would only take turns.
pub const READER_THREADS: usize = 2;

/// Per event seq: how many readers got it and when the last one did.
pub struct Tally {
    count: Vec<AtomicU64>,
    last_us: Vec<AtomicU64>,
    out_of_order: AtomicU64,
    start: Instant,
}

impl Tally {
    /// Room for seqs `0..seqs`; times are counted from now.
    pub fn new(seqs: usize) -> Arc<Tally> {
        Arc::new(Tally {
            count: (0..seqs).map(|_| AtomicU64::new(0)).collect(),
            last_us: (0..seqs).map(|_| AtomicU64::new(0)).collect(),
            out_of_order: AtomicU64::new(0),
            start: Instant::now(),
        })
    }

    /// Microseconds since the tally was made.
    pub fn now_us(&self) -> u64 {
        self.start.elapsed().as_micros() as u64
    }

    fn record(&self, seq: u64, at_us: u64) {
        if let (Some(c), Some(l)) = (self.count.get(seq as usize), self.last_us.get(seq as usize)) {
            c.fetch_add(1, Ordering::Relaxed);
            l.fetch_max(at_us, Ordering::Relaxed);
        }
    }

    /// How many readers got `seq`.
    pub fn count(&self, seq: u64) -> u64 {
        self.count
            .get(seq as usize)
            .map_or(0, |c| c.load(Ordering::Relaxed))
    }

    /// When the last reader got `seq`.
    pub fn last_us(&self, seq: u64) -> u64 {
        self.last_us
            .get(seq as usize)
            .map_or(0, |c| c.load(Ordering::Relaxed))
    }

    /// Events a reader got with a seq other than the one after its last.
    pub fn out_of_order(&self) -> u64 {
        self.out_of_order.load(Ordering::Relaxed)
    }

    /// Waits (polling) until `readers` readers got `seq`, or `timeout` passes.
    pub fn wait_for(&self, seq: u64, readers: u64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while self.count(seq) < readers {
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        true
    }
}

/// A socket a reader thread drains when it is readable.
pub trait Source: Send {
    fn fd(&self) -> RawFd;
    /// Reads everything there is, calling `got` with each event's seq.
    /// Returns false once the connection is closed.
    fn drain(&mut self, got: &mut dyn FnMut(u64)) -> bool;
}

/// A logged-in WebSocket viewer on a non-blocking socket.
pub struct Viewer(pub WebSocket<TcpStream>);

/// The seq in an event message, without parsing the whole message.
pub fn event_seq(text: &str) -> Option<u64> {
    let rest = text.strip_prefix("{\"type\":\"event\",\"seq\":")?;
    let end = rest.find(|c: char| !c.is_ascii_digit())?;
    rest[..end].parse().ok()
}

impl Source for Viewer {
    fn fd(&self) -> RawFd {
        self.0.get_ref().as_raw_fd()
    }

    fn drain(&mut self, got: &mut dyn FnMut(u64)) -> bool {
        loop {
            match self.0.read() {
                Ok(Message::Text(t)) => {
                    if let Some(seq) = event_seq(&t) {
                        got(seq);
                    }
                }
                Ok(_) => {}
                Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {
                    return true;
                }
                Err(_) => return false,
            }
        }
    }
}

/// The floor's receiving end: messages of a fixed size, numbered from 1.
pub struct Fixed {
    stream: TcpStream,
    len: usize,
    partial: usize,
    seq: u64,
    buf: Vec<u8>,
}

impl Fixed {
    pub fn new(stream: TcpStream, len: usize) -> io::Result<Fixed> {
        stream.set_nonblocking(true)?;
        Ok(Fixed {
            stream,
            len,
            partial: 0,
            seq: 0,
            buf: vec![0; 4096],
        })
    }
}

impl Source for Fixed {
    fn fd(&self) -> RawFd {
        self.stream.as_raw_fd()
    }

    fn drain(&mut self, got: &mut dyn FnMut(u64)) -> bool {
        loop {
            match self.stream.read(&mut self.buf) {
                Ok(0) => return false,
                Ok(n) => {
                    self.partial += n;
                    while self.partial >= self.len {
                        self.partial -= self.len;
                        self.seq += 1;
                        got(self.seq);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
    }
}

/// Reader threads, each with its share of the sources. Dropping them stops
/// the threads and closes the sockets.
pub struct Readers {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

/// Starts `threads` reader threads over `sources`, each given with the seq it
/// has everything up to (an event with any other next seq counts as out of
/// order).
pub fn spawn(
    sources: Vec<(Box<dyn Source>, u64)>,
    threads: usize,
    tally: Arc<Tally>,
) -> io::Result<Readers> {
    let stop = Arc::new(AtomicBool::new(false));
    let mut shares: Vec<Vec<(Box<dyn Source>, u64)>> = (0..threads).map(|_| Vec::new()).collect();
    for (i, s) in sources.into_iter().enumerate() {
        shares[i % threads].push(s);
    }
    let mut handles = Vec::new();
    for share in shares {
        let poll = Poll::new()?;
        for (i, (source, _)) in share.iter().enumerate() {
            poll.registry()
                .register(&mut SourceFd(&source.fd()), Token(i), Interest::READABLE)?;
        }
        let stop = stop.clone();
        let tally = tally.clone();
        handles.push(
            std::thread::Builder::new()
                .name("bench-reader".into())
                .spawn(move || read(poll, share, &stop, &tally))?,
        );
    }
    Ok(Readers {
        stop,
        threads: handles,
    })
}

/// Drains one source, checking its order; false once it is closed.
fn drain(source: &mut dyn Source, last: &mut u64, tally: &Tally) -> bool {
    source.drain(&mut |seq: u64| {
        if seq != *last + 1 {
            tally.out_of_order.fetch_add(1, Ordering::Relaxed);
        }
        *last = seq;
        tally.record(seq, tally.now_us());
    })
}

fn read(mut poll: Poll, mut share: Vec<(Box<dyn Source>, u64)>, stop: &AtomicBool, tally: &Tally) {
    // Whatever arrived before the socket was registered (or sits in a
    // WebSocket's buffer already) raises no edge: read it now.
    let mut open: Vec<bool> = share
        .iter_mut()
        .map(|(source, last)| drain(source.as_mut(), last, tally))
        .collect();
    let mut events = Events::with_capacity(1024);
    while !stop.load(Ordering::Relaxed) {
        if let Err(e) = poll.poll(&mut events, Some(Duration::from_millis(50))) {
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return;
        }
        for event in &events {
            let i = event.token().0;
            let (source, last) = &mut share[i];
            if open[i] && !drain(source.as_mut(), last, tally) {
                open[i] = false;
                let _ = poll.registry().deregister(&mut SourceFd(&source.fd()));
            }
        }
    }
}

impl Drop for Readers {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}
