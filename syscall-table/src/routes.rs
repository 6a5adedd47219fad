//! `routes.tbl`: who handles each syscall, the kernel or a server. Kept apart
//! from `syscall_64.tbl` so that the Linux table stays a plain copy of
//! Linux's and routing is a one-line change in a file of Lstar's own.

use crate::{lines, Abi, Error, Row};

/// Where a routed syscall goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Handler {
    /// The kernel function named by the row's entry point.
    Kernel,
    /// The server of this name (`servers/<name>` in the initrd).
    Server(String),
}

/// Which rows a route names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// `name`: the `common` or `64` row of that name. A common row is in
    /// both tables, so the route holds for x32 callers too.
    Native,
    /// `x32:name`: the `x32` row of that name, and nothing else.
    X32,
}

/// One line of `routes.tbl`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// 1-based line in the file, for messages.
    pub line: usize,
    pub scope: Scope,
    /// The syscall name, without any `x32:` prefix.
    pub name: String,
    pub handler: Handler,
}

impl Route {
    /// Whether this route decides where `row` goes.
    pub fn matches(&self, row: &Row) -> bool {
        self.name == row.name
            && match self.scope {
                Scope::Native => row.abi.in_x64(),
                Scope::X32 => row.abi == Abi::X32,
            }
    }
}

/// Parses `routes.tbl` against the rows of `syscall_64.tbl`. `file` is the
/// name used in error messages.
pub fn parse_routes(src: &str, file: &str, table: &[Row]) -> Result<Vec<Route>, Error> {
    let mut routes: Vec<Route> = Vec::new();
    for (line, fields) in lines(src) {
        let route = parse_route(line, &fields, table, &routes)
            .map_err(|message| Error::new(file, line, message))?;
        routes.push(route);
    }
    Ok(routes)
}

fn parse_route(
    line: usize,
    fields: &[&str],
    table: &[Row],
    earlier: &[Route],
) -> Result<Route, String> {
    let &[key, handler] = fields else {
        return Err(format!(
            "expected `<name> <handler>`, found {} columns",
            fields.len()
        ));
    };
    let (scope, name) = match key.strip_prefix("x32:") {
        Some(name) => (Scope::X32, name),
        None => (Scope::Native, key),
    };
    let handler = match handler {
        "kernel" => Handler::Kernel,
        server if is_server_name(server) => Handler::Server(server.to_owned()),
        _ => {
            return Err(format!(
                "bad handler {handler:?}: expected `kernel` or a server name, [a-z][a-z0-9_]*"
            ));
        }
    };
    let route = Route {
        line,
        scope,
        name: name.to_owned(),
        handler,
    };

    let Some(row) = table.iter().find(|row| route.matches(row)) else {
        return Err(match scope {
            Scope::Native => format!("unknown syscall {name:?}"),
            Scope::X32
                if table
                    .iter()
                    .any(|row| row.name == name && row.abi == Abi::Common) =>
            {
                format!("{name:?} is a common syscall, not x32-only: route it as `{name}`")
            }
            Scope::X32 => format!("unknown x32-only syscall {name:?}"),
        });
    };
    if row.entry.is_none() {
        return Err(format!(
            "syscall {key:?} ({}) has no entry point: Linux does not implement it, so it cannot be routed",
            row.number
        ));
    }
    if let Some(first) = earlier
        .iter()
        .find(|other| other.scope == scope && other.name == name)
    {
        return Err(format!(
            "duplicate route for {key:?} (first at line {})",
            first.line
        ));
    }
    if let Handler::Server(server) = &route.handler {
        // Two names with one Rust spelling would give `ServerId` two equal
        // variants; refuse here, where the line is known.
        let clash = earlier.iter().find_map(|other| match &other.handler {
            Handler::Server(s) if s != server && camel_case(s) == camel_case(server) => Some(s),
            _ => None,
        });
        if let Some(other) = clash {
            return Err(format!(
                "server names {other:?} and {server:?} would both be `ServerId::{}`",
                camel_case(server)
            ));
        }
    }
    Ok(route)
}

/// `[a-z][a-z0-9_]*`: usable as a file name in the initrd and, in camel
/// case, as a Rust identifier.
fn is_server_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// `net_stack` → `NetStack`: the server's `ServerId` variant.
pub(crate) fn camel_case(server: &str) -> String {
    server
        .split('_')
        .flat_map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase())
                .into_iter()
                .chain(chars)
        })
        .collect()
}
