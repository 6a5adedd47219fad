//! `syscall_64.tbl`: Linux's x86_64 syscall numbers, names and entry points,
//! in Linux's own format so that the table can be checked against Linux's
//! line by line.

use crate::{is_identifier, lines, Error, X32_FIRST};

/// Which of the two x86_64 syscall ABIs a row belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Abi {
    /// `common`: the same number in the x64 and the x32 table.
    Common,
    /// `64`: the x64 table only.
    X64,
    /// `x32`: the x32 table only, numbered from [`X32_FIRST`].
    X32,
}

impl Abi {
    fn parse(s: &str) -> Option<Abi> {
        match s {
            "common" => Some(Abi::Common),
            "64" => Some(Abi::X64),
            "x32" => Some(Abi::X32),
            _ => None,
        }
    }

    /// Whether a row of this ABI is in the x64 table.
    pub fn in_x64(self) -> bool {
        matches!(self, Abi::Common | Abi::X64)
    }

    /// Whether a row of this ABI is in the x32 table.
    pub fn in_x32(self) -> bool {
        matches!(self, Abi::Common | Abi::X32)
    }
}

/// One line of `syscall_64.tbl`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// 1-based line in the file, for messages.
    pub line: usize,
    /// The number in `rax`; for an x32 call, without the x32 bit.
    pub number: u32,
    pub abi: Abi,
    pub name: String,
    /// The Linux entry-point symbol, which also names Lstar's kernel handler
    /// when the call is routed to the kernel. `None` when Linux reserves the
    /// number but implements nothing there: such a row is never routable.
    pub entry: Option<String>,
    /// The compat entry point, kept because the format has the column;
    /// Lstar does not use it.
    pub compat_entry: Option<String>,
}

/// The rows of the x64 table: `common` and `64`.
pub fn x64_view(table: &[Row]) -> impl Iterator<Item = &Row> {
    table.iter().filter(|row| row.abi.in_x64())
}

/// The rows of the x32 table: `common` and `x32`.
pub fn x32_view(table: &[Row]) -> impl Iterator<Item = &Row> {
    table.iter().filter(|row| row.abi.in_x32())
}

/// Parses `syscall_64.tbl`. `file` is the name used in error messages.
pub fn parse_table(src: &str, file: &str) -> Result<Vec<Row>, Error> {
    let mut rows: Vec<Row> = Vec::new();
    for (line, fields) in lines(src) {
        let row = parse_row(line, &fields).map_err(|message| Error::new(file, line, message))?;
        // Two rows clash when they would share a slot, or a name, in one of
        // the tables. A 64 row and an x32 row never share a table, which is
        // how `readv` can be both 19 (64) and 515 (x32).
        for prior in &rows {
            let view = if prior.abi.in_x64() && row.abi.in_x64() {
                "x64"
            } else if prior.abi.in_x32() && row.abi.in_x32() {
                "x32"
            } else {
                continue;
            };
            let message = if prior.number == row.number {
                format!(
                    "number {} is taken by {:?} (line {}) in the {view} table",
                    row.number, prior.name, prior.line
                )
            } else if prior.name == row.name {
                format!(
                    "name {:?} is taken by number {} (line {}) in the {view} table",
                    row.name, prior.number, prior.line
                )
            } else {
                continue;
            };
            return Err(Error::new(file, line, message));
        }
        rows.push(row);
    }
    Ok(rows)
}

fn parse_row(line: usize, fields: &[&str]) -> Result<Row, String> {
    if !(3..=5).contains(&fields.len()) {
        return Err(format!(
            "expected `<number> <abi> <name> [<entry point> [<compat entry point>]]`, found {} columns",
            fields.len()
        ));
    }
    let number: u32 = fields[0]
        .parse()
        .map_err(|_| format!("bad syscall number {:?}", fields[0]))?;
    let abi = Abi::parse(fields[1]).ok_or_else(|| {
        format!(
            "unknown ABI {:?}: this table takes common, 64 or x32",
            fields[1]
        )
    })?;
    let name = fields[2];
    if !is_identifier(name) {
        return Err(format!("bad syscall name {name:?}"));
    }
    match abi {
        Abi::X32 if number < X32_FIRST => {
            return Err(format!(
                "x32 row {name:?} is numbered {number}, below the x32 range ({X32_FIRST} and up)"
            ));
        }
        Abi::Common | Abi::X64 if number >= X32_FIRST => {
            return Err(format!("{name:?} is numbered {number}, in the x32 range ({X32_FIRST} and up), but is not an x32 row"));
        }
        _ => {}
    }
    Ok(Row {
        line,
        number,
        abi,
        name: name.to_owned(),
        entry: entry_point(fields.get(3))?,
        compat_entry: entry_point(fields.get(4))?,
    })
}

/// An entry-point column: absent, or `-` as Linux writes a skipped column,
/// means none.
fn entry_point(field: Option<&&str>) -> Result<Option<String>, String> {
    match field {
        None | Some(&"-") => Ok(None),
        Some(&entry) if is_identifier(entry) => Ok(Some(entry.to_owned())),
        Some(entry) => Err(format!("bad entry point {entry:?}")),
    }
}
