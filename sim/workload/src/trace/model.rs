//! A recorded trace in memory: open-loop requests or closed-loop sessions, whatever file
//! format they came from.

use std::ops::Range;

/// Trace file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Azure,
    Mooncake,
    ClaudeCode,
}

impl Format {
    pub fn parse(name: &str) -> Option<Format> {
        match name {
            "azure" => Some(Format::Azure),
            "mooncake" => Some(Format::Mooncake),
            "claude-code" => Some(Format::ClaudeCode),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Format::Azure => "azure",
            Format::Mooncake => "mooncake",
            Format::ClaudeCode => "claude-code",
        }
    }
}

/// One recorded request of a request trace.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Request {
    /// Seconds since the trace's first request.
    pub at: f64,
    pub input: u32,
    pub output: u32,
    /// Leading input tokens shared with the chain's previous request.
    pub reusable: u32,
    /// The prefix chain (its own for requests that share nothing).
    pub chain: u32,
}

/// A step of a session context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    /// Send request `calls[k]`.
    Call(u32),
    /// Start the sub-agent contexts `children[first..first + count]` and wait for them.
    Spawn { first: u32, count: u32 },
}

/// One request of a session.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SessionCall {
    pub input: u32,
    pub output: u32,
    pub reusable: u32,
    /// Seconds between the previous answer (or the context's start) and this request.
    pub think: f64,
}

/// A context: the session itself or a sub-agent, with its own prefix cache entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Context {
    /// Its items in `Session::items`.
    pub items: Range<u32>,
    pub parent: Option<u32>,
}

/// A recorded agent session (context 0 is the session itself).
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub name: String,
    pub contexts: Vec<Context>,
    pub items: Vec<Item>,
    pub children: Vec<u32>,
    pub calls: Vec<SessionCall>,
    /// Recorded length in seconds (last request's time plus its API time).
    pub span: f64,
}

/// A parsed trace.
#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    pub format: Format,
    pub file: String,
    /// Request traces: sorted by time.
    pub requests: Vec<Request>,
    /// Request traces: requests of chain c are `chain_reqs[chain_start[c]..chain_start[c+1]]`.
    pub chain_start: Vec<u32>,
    pub chain_reqs: Vec<u32>,
    /// Session traces.
    pub sessions: Vec<Session>,
    /// Requests in the file: the calls one copy makes.
    pub rows: u64,
}

impl Trace {
    pub fn from_requests(format: Format, file: String, requests: Vec<Request>) -> Trace {
        let chains = requests.iter().map(|r| r.chain + 1).max().unwrap_or(0) as usize;
        let mut count = vec![0u32; chains + 1];
        for r in &requests {
            count[r.chain as usize + 1] += 1;
        }
        for c in 0..chains {
            count[c + 1] += count[c];
        }
        let mut fill = count.clone();
        let mut chain_reqs = vec![0u32; requests.len()];
        for (i, r) in requests.iter().enumerate() {
            chain_reqs[fill[r.chain as usize] as usize] = i as u32;
            fill[r.chain as usize] += 1;
        }
        Trace {
            format,
            file,
            rows: requests.len() as u64,
            requests,
            chain_start: count,
            chain_reqs,
            sessions: Vec::new(),
        }
    }

    pub fn from_sessions(format: Format, file: String, sessions: Vec<Session>) -> Trace {
        Trace {
            format,
            file,
            rows: sessions.iter().map(|s| s.calls.len() as u64).sum(),
            requests: Vec::new(),
            chain_start: vec![0],
            chain_reqs: Vec::new(),
            sessions,
        }
    }

    /// Units of one copy: prefix chains (request traces) or sessions.
    pub fn units(&self) -> u64 {
        if self.sessions.is_empty() {
            (self.chain_start.len() - 1) as u64
        } else {
            self.sessions.len() as u64
        }
    }

    /// Recorded length in seconds.
    pub fn span(&self) -> f64 {
        let r = self.requests.last().map_or(0.0, |r| r.at);
        let s = self.sessions.iter().map(|s| s.span).fold(0.0, f64::max);
        r.max(s)
    }

    /// Input tokens a prefix cache could serve, over all input (the trace's prefix reuse).
    pub fn reusable_share(&self) -> f64 {
        let (mut reuse, mut input) = (0u64, 0u64);
        for r in &self.requests {
            reuse += r.reusable as u64;
            input += r.input as u64;
        }
        for c in self.sessions.iter().flat_map(|s| &s.calls) {
            reuse += c.reusable as u64;
            input += c.input as u64;
        }
        if input == 0 {
            0.0
        } else {
            reuse as f64 / input as f64
        }
    }
}
