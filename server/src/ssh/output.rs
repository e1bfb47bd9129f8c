//! The terminal's output to one SSH channel, through a bounded queue.
//!
//! ratatui writes a frame and flushes; each flush is one chunk in the queue.
//! When the client reads too slowly and the queue is full, chunks are
//! dropped (all of them, so no half-applied diff goes out) until the queue
//! has drained; then the session is asked to repaint everything once. A slow
//! connection never grows the server's memory, and never costs more than
//! one full repaint per drain.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use auction_screens::link::Input;
use tokio::sync::mpsc;

/// Chunks waiting for one channel.
pub const QUEUE: usize = 8;

/// Bytes sent to this channel so far (for the benchmarks).
#[derive(Default)]
pub struct Counters {
    pub bytes: AtomicU64,
    pub dropped: AtomicU64,
}

pub struct ChannelWriter {
    buf: Vec<u8>,
    tx: mpsc::Sender<Vec<u8>>,
    /// Set when a chunk was dropped; cleared by the sender once drained.
    lost: Arc<AtomicBool>,
    counters: Arc<Counters>,
}

impl ChannelWriter {
    pub fn new(
        tx: mpsc::Sender<Vec<u8>>,
        lost: Arc<AtomicBool>,
        counters: Arc<Counters>,
    ) -> ChannelWriter {
        ChannelWriter {
            buf: Vec::new(),
            tx,
            lost,
            counters,
        }
    }
}

/// Sends queued chunks to the channel; after a loss, once the queue is empty,
/// asks the session for a full repaint.
pub async fn send_chunks(
    mut rx: mpsc::Receiver<Vec<u8>>,
    lost: Arc<AtomicBool>,
    redraw: mpsc::Sender<Input>,
    mut send: impl AsyncFnMut(Vec<u8>) -> bool,
) {
    while let Some(chunk) = rx.recv().await {
        if !send(chunk).await {
            return;
        }
        if rx.is_empty() && lost.swap(false, Ordering::AcqRel) {
            let _ = redraw.send(Input::Redraw).await;
        }
    }
}

impl io::Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::take(&mut self.buf);
        let len = chunk.len() as u64;
        if self.lost.load(Ordering::Acquire) {
            // Waiting for the queue to drain; a repaint follows.
            self.counters.dropped.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        match self.tx.try_send(chunk) {
            Ok(()) => {
                self.counters.bytes.fetch_add(len, Ordering::Relaxed);
                Ok(())
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.counters.dropped.fetch_add(1, Ordering::Relaxed);
                self.lost.store(true, Ordering::Release);
                Ok(())
            }
            Err(mpsc::error::TrySendError::Closed(_)) => Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the SSH channel is closed",
            )),
        }
    }
}
