//! Independent OSLC clients from the package registries, unmodified, against `st2-oslc --demo` (issue "Real OSLC
//! clients find it, read it and write it"): the OSLC organisation's npm `oslc-client` 1.0.7 and PyPI
//! `oslc4py-client` 0.1.4, installed by `scripts/interop.sh` (which `scripts/test.sh` runs) into `interop/`.
//!
//! - `oslc-client`: `/rootservices` → catalog → `use("StackStorm rules")` (a title lookup that needs
//!   `rdf:XMLLiteral` titles) → query → create → read → update (`If-Match`) → delete, all in RDF/XML with
//!   `OSLC-Core-Version: 2.0`. It answers the 401 challenge with HTTP Basic (the token as password) and then writes on
//!   the session cookie it was given, as it does against a Jazz server.
//! - `oslc4py-client`: `/.well-known/oslc/sp-catalog` → provider → the query capability and creation factory of
//!   `st2:Rule` → query → create → read → query again, in RDF/XML, with Basic credentials from a netrc file.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TOKEN: &str = "interop-token-5f2c";

fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../interop")
}

/// `st2-oslc --demo` with the token protecting reads and writes, and its address.
fn demo() -> (support::Running, String) {
    support::spawn_st2_oslc(&["--demo", "--listen", "127.0.0.1:0", "--protect-reads"], TOKEN)
}

/// Runs a client to completion (killed after two minutes): its exit success and its standard output.
fn run(command: &mut Command) -> (bool, String) {
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap_or_else(|e| {
        panic!(
            "{command:?} could not start ({e}); run scripts/interop.sh (scripts/test.sh does) to install the clients"
        )
    });
    let (mut stdout, mut stderr) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let (out, err) = (out.join().unwrap(), err.join().unwrap());
    eprintln!("{command:?}\n{out}{err}");
    (status.is_some_and(|s| s.success()), out)
}

fn assert_steps(out: &str, steps: &[&str]) {
    for step in steps {
        assert!(out.lines().any(|l| l.starts_with(&format!("ok {step}:"))), "step {step:?} did not pass:\n{out}");
    }
}

#[test]
fn npm_oslc_client_finds_queries_creates_updates_and_deletes_with_basic_and_a_session() {
    let node_modules = interop_dir().join("node_modules/oslc-client");
    assert!(node_modules.is_dir(), "{} is missing: run scripts/interop.sh", node_modules.display());
    let (_server, addr) = demo();
    let (ok, out) =
        run(Command::new("node").current_dir(interop_dir()).args(["oslc-client.js", &format!("http://{addr}"), TOKEN]));
    assert!(ok, "oslc-client failed:\n{out}");
    assert_steps(
        &out,
        &["connect", "use", "queryBase", "query", "create", "read", "update", "delete", "query after delete"],
    );

    // The same client with a wrong password gets no session and cannot even read rootservices (the client then
    // gives up without calling back, so its exit status says nothing).
    let (_, out) = run(Command::new("node").current_dir(interop_dir()).args([
        "oslc-client.js",
        &format!("http://{addr}"),
        "not-the-token",
    ]));
    assert!(!out.contains("ok "), "a wrong token must not connect:\n{out}");
}

#[test]
fn pypi_oslc4py_client_walks_discovery_queries_and_creates_in_rdf_xml() {
    let python = interop_dir().join(".venv/bin/python");
    assert!(python.is_file(), "{} is missing: run scripts/interop.sh", python.display());
    let (_server, addr) = demo();
    let (host, port) = addr.rsplit_once(':').unwrap();
    let netrc = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(netrc.path(), format!("machine {host}\nlogin oslc4py\npassword {TOKEN}\n")).unwrap();
    let walk = |netrc: &Path| {
        run(Command::new(&python)
            .current_dir(interop_dir())
            .env("NETRC", netrc)
            .env("OSLC4PY_ACTIVE_INSTALLED_DOMAINS", "oslc_st2_domain")
            .args(["oslc4py_walk.py", &format!("http://{host}"), port]))
    };
    let (ok, out) = walk(netrc.path());
    assert!(ok, "oslc4py-client failed:\n{out}");
    assert_steps(
        &out,
        &["catalog", "provider", "query capability", "creation factory", "query", "create", "read", "query finds it"],
    );

    // Without the credentials, nothing is read.
    let empty = tempfile::NamedTempFile::new().unwrap();
    let (ok, out) = walk(empty.path());
    assert!(!ok && !out.contains("ok catalog"), "no credentials must not read the catalog:\n{out}");
}
