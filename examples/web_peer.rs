//! A native participant in a browser call, and the loopback delivery service that joins
//! them: browser clients (the wasm build, `bindings/web`) and this Rust process share one
//! MLS group, and frames sealed on either side open on the other.
//!
//! ```sh
//! cargo run --example web_peer -- --port 8765 --creator alice
//! ```
//!
//! The relay is a mailbox per participant over plain HTTP on 127.0.0.1 (CORS open, so a
//! page served from another local port can use it):
//! - `POST /send?from=A&to=B&kind=K[&codec=C]`: queue the body for B.
//! - `GET /poll?for=B`: the oldest message for B (headers `x-from`, `x-kind`, `x-codec`),
//!   or 204 when there is none.
//! - `GET /status`: the native participant's state, one `key=value` per line.
//! - `POST /quit`: exit the process.
//!
//! The native participant, named `native`, sends its key package to the creator on start,
//! joins from the welcome it is sent, follows every commit, and answers each `frame`
//! message: it opens the frame with the codec framing named by `codec`, then seals
//! `"native:" || plaintext` with the same framing on its own stream (context 0) and sends it
//! back to the sender. Nothing here is a real signalling protocol: it is the least that
//! lets a browser test check both directions.

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use mlsframe::media::Codec;
use mlsframe::mls::identity::{Identity, MemberIdentity};
use mlsframe::mls::media::{Decryptor, Encryptor, MediaConfig};
use mlsframe::mls::policy::AdmitAll;
use mlsframe::mls::session::{Outcome, Session};

/// Largest request body the relay takes (a welcome for a few members, a video frame).
const MAX_BODY: usize = 4 << 20;
/// What the native participant is called in the relay.
const NATIVE: &str = "native";
/// The prefix the native participant puts before every plaintext it echoes.
const ECHO_PREFIX: &[u8] = b"native:";

/// One queued message.
struct Message {
    from: String,
    kind: String,
    codec: u32,
    body: Vec<u8>,
}

/// Mailboxes, by recipient.
#[derive(Default)]
struct Relay {
    boxes: Mutex<HashMap<String, VecDeque<Message>>>,
}

impl Relay {
    fn push(&self, to: &str, message: Message) {
        lock(&self.boxes)
            .entry(to.to_owned())
            .or_default()
            .push_back(message);
    }

    fn pop(&self, recipient: &str) -> Option<Message> {
        lock(&self.boxes).get_mut(recipient)?.pop_front()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What the native participant did, for `/status`.
#[derive(Default)]
struct Status {
    joined: bool,
    removed: bool,
    epoch: Option<u64>,
    opened: u64,
    failed: u64,
    sealed: u64,
    last_error: Option<String>,
}

/// The native participant: its session and media handles.
struct Native {
    session: Session,
    decryptor: Decryptor,
    encryptors: HashMap<u32, Encryptor>,
}

impl Native {
    fn new() -> Result<Self, Box<dyn std::error::Error>> {
        let member = MemberIdentity::new(NATIVE.as_bytes().to_vec(), b"rust".to_vec())?;
        let session = Session::new(
            Identity::generate(member)?,
            Arc::new(AdmitAll),
            MediaConfig::default(),
        )?;
        let decryptor = session.media().decryptor();
        Ok(Native {
            session,
            decryptor,
            encryptors: HashMap::new(),
        })
    }

    /// Handles one message addressed to the native participant; may answer via `relay`.
    fn handle(&mut self, message: Message, relay: &Relay, status: &Mutex<Status>) {
        let result = match message.kind.as_str() {
            "welcome" => self.session.join(&message.body).map(|epoch| {
                let mut s = lock(status);
                s.joined = true;
                s.epoch = Some(epoch);
            }),
            "commit" => self.session.process(&message.body).map(|outcome| {
                let mut s = lock(status);
                match outcome {
                    Outcome::EpochChanged { epoch, .. } => {
                        s.epoch = Some(epoch);
                        // Every member follows commits at once here; senders may switch.
                        self.session.media().receivers_ready();
                    }
                    Outcome::Removed => s.removed = true,
                    _ => {}
                }
            }),
            "frame" => {
                self.echo(&message, relay, status);
                Ok(())
            }
            _ => Ok(()),
        };
        if let Err(e) = result {
            lock(status).last_error = Some(format!("{} from {}: {e}", message.kind, message.from));
        }
    }

    /// Opens a frame and seals `"native:" || plaintext` back to its sender.
    fn echo(&mut self, message: &Message, relay: &Relay, status: &Mutex<Status>) {
        let codec = match Codec::from_id(message.codec) {
            Ok(codec) => codec,
            Err(e) => {
                let mut s = lock(status);
                s.failed += 1;
                s.last_error = Some(e.to_string());
                return;
            }
        };
        let mut plain = vec![0u8; ECHO_PREFIX.len() + message.body.len()];
        plain[..ECHO_PREFIX.len()].copy_from_slice(ECHO_PREFIX);
        let opened = self.decryptor.decrypt_codec(
            codec,
            b"",
            &message.body,
            &mut plain[ECHO_PREFIX.len()..],
        );
        let len = match opened {
            Ok(opened) => opened.len,
            Err(e) => {
                let mut s = lock(status);
                s.failed += 1;
                s.last_error = Some(format!("open from {}: {e}", message.from));
                return;
            }
        };
        lock(status).opened += 1;
        plain.truncate(ECHO_PREFIX.len() + len);
        let media = self.session.media();
        let encryptor = match self.encryptors.entry(message.codec) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => {
                // One stream (context) per codec: context = codec id.
                match media.encryptor_with_codec(u64::from(message.codec), codec) {
                    Ok(enc) => v.insert(enc),
                    Err(e) => {
                        lock(status).last_error = Some(format!("encryptor: {e}"));
                        return;
                    }
                }
            }
        };
        let Some(cap) = encryptor.max_ciphertext_len(plain.len()) else {
            return;
        };
        let mut sealed = vec![0u8; cap];
        match encryptor.encrypt(b"", &plain, &mut sealed) {
            Ok(n) => {
                sealed.truncate(n);
                lock(status).sealed += 1;
                relay.push(
                    &message.from,
                    Message {
                        from: NATIVE.to_owned(),
                        kind: "frame".to_owned(),
                        codec: message.codec,
                        body: sealed,
                    },
                );
            }
            Err(e) => lock(status).last_error = Some(format!("seal: {e}")),
        }
    }
}

/// A parsed request: method, path, query pairs, body.
struct Request {
    method: String,
    path: String,
    query: HashMap<String, String>,
    body: Vec<u8>,
}

fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 {
            return None;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
    }
    if length > MAX_BODY {
        return None;
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).ok()?;
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let query = query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    Some(Request {
        method,
        path: path.to_owned(),
        query,
        body,
    })
}

fn respond(stream: &mut TcpStream, status: &str, headers: &[(&str, String)], body: &[u8]) {
    let mut head = format!(
        "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\
         access-control-allow-origin: *\r\naccess-control-allow-methods: GET, POST, OPTIONS\r\n\
         access-control-allow-headers: content-type\r\n\
         access-control-expose-headers: x-from, x-kind, x-codec\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
}

fn serve(mut stream: TcpStream, relay: &Relay, status: &Mutex<Status>) {
    let Some(request) = read_request(&mut stream) else {
        respond(&mut stream, "400 Bad Request", &[], b"");
        return;
    };
    let param = |name: &str| request.query.get(name).cloned();
    match (request.method.as_str(), request.path.as_str()) {
        ("OPTIONS", _) => respond(&mut stream, "204 No Content", &[], b""),
        ("POST", "/send") => {
            let (Some(from), Some(to), Some(kind)) = (param("from"), param("to"), param("kind"))
            else {
                respond(&mut stream, "400 Bad Request", &[], b"from, to and kind");
                return;
            };
            let codec = param("codec").and_then(|c| c.parse().ok()).unwrap_or(0);
            relay.push(
                &to,
                Message {
                    from,
                    kind,
                    codec,
                    body: request.body,
                },
            );
            respond(&mut stream, "200 OK", &[], b"");
        }
        ("GET", "/poll") => {
            let Some(recipient) = param("for") else {
                respond(&mut stream, "400 Bad Request", &[], b"for");
                return;
            };
            match relay.pop(&recipient) {
                Some(m) => respond(
                    &mut stream,
                    "200 OK",
                    &[
                        ("x-from", m.from),
                        ("x-kind", m.kind),
                        ("x-codec", m.codec.to_string()),
                        ("content-type", "application/octet-stream".to_owned()),
                    ],
                    &m.body,
                ),
                None => respond(&mut stream, "204 No Content", &[], b""),
            }
        }
        ("GET", "/status") => {
            let s = lock(status);
            let text = format!(
                "joined={}\nremoved={}\nepoch={}\nopened={}\nfailed={}\nsealed={}\nlast_error={}\n",
                s.joined,
                s.removed,
                s.epoch.map_or("none".to_owned(), |e| e.to_string()),
                s.opened,
                s.failed,
                s.sealed,
                s.last_error.as_deref().unwrap_or("none"),
            );
            respond(&mut stream, "200 OK", &[], text.as_bytes());
        }
        ("POST", "/quit") => {
            respond(&mut stream, "200 OK", &[], b"");
            let _ = stream.flush();
            std::process::exit(0);
        }
        _ => respond(&mut stream, "404 Not Found", &[], b""),
    }
}

fn main() -> ExitCode {
    let mut port = 8765u16;
    let mut creator = "alice".to_owned();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next();
        match (flag.as_str(), value) {
            ("--port", Some(v)) => match v.parse() {
                Ok(p) => port = p,
                Err(_) => {
                    eprintln!("--port: not a port: {v}");
                    return ExitCode::from(2);
                }
            },
            ("--creator", Some(v)) => creator = v,
            _ => {
                eprintln!("usage: web_peer [--port N (0: any)] [--creator NAME]");
                return ExitCode::from(2);
            }
        }
    }
    let listener = match TcpListener::bind(("127.0.0.1", port)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("cannot listen on 127.0.0.1:{port}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut native = match Native::new() {
        Ok(n) => n,
        Err(e) => {
            eprintln!("cannot create the native session: {e}");
            return ExitCode::FAILURE;
        }
    };
    let relay = Arc::new(Relay::default());
    let status = Arc::new(Mutex::new(Status::default()));
    match native.session.key_package() {
        Ok(kp) => relay.push(
            &creator,
            Message {
                from: NATIVE.to_owned(),
                kind: "key_package".to_owned(),
                codec: 0,
                body: kp,
            },
        ),
        Err(e) => {
            eprintln!("cannot make a key package: {e}");
            return ExitCode::FAILURE;
        }
    }
    {
        let (relay, status) = (Arc::clone(&relay), Arc::clone(&status));
        thread::spawn(move || {
            loop {
                match relay.pop(NATIVE) {
                    Some(message) => native.handle(message, &relay, &status),
                    None => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
    }
    match listener.local_addr() {
        Ok(addr) => println!("web_peer: relay on http://{addr}, key package sent to {creator}"),
        Err(e) => eprintln!("web_peer: {e}"),
    }
    let _ = std::io::stdout().flush();
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let (relay, status) = (Arc::clone(&relay), Arc::clone(&status));
        thread::spawn(move || serve(stream, &relay, &status));
    }
    ExitCode::SUCCESS
}
