//! `nnc serve`: the page that shows the program training live (`nnc-serve`).

use super::Context;
use crate::output::Output;
use nnc_diagnostics::{Diagnostic, Span, codes};
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};

pub fn serve(context: &Context, host: Option<IpAddr>, port: u16, open: bool) -> Result<Output, Vec<Diagnostic>> {
    let address = host.unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let server = nnc_serve::Server::bind(context.file, address, port).map_err(|message| {
        vec![
            Diagnostic::error(codes::WRITE_FAILED, message, Span::new(0, 0), "")
                .with_help("choose another `--port`, or leave it out for a free one"),
        ]
    })?;
    if !address.is_loopback() {
        crate::output::stderr(&format!(
            "warning: listening on {address}: anyone who can reach this machine and has the URL's token can edit and run `{}`\n",
            context.file.display()
        ));
    }
    let url = server.url();
    // The URL alone on its line, first: scripts and tests read it.
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{url}").and_then(|()| out.flush());
    drop(out);
    crate::output::stderr("serving until Ctrl-C\n");
    if open && let Err(e) = open::that_detached(&url) {
        crate::output::stderr(&format!("could not open a browser ({e}): open the URL above\n"));
    }
    server.serve(crate::interrupt::flag());
    Ok(Output::new("stopped\n".to_string(), serde_json::json!({ "url": url, "stopped": true })))
}
